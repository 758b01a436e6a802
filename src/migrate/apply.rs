//! Applying and reverting migrations against a live database, recorded in
//! `pgperf.schema_migrations` with each file's checksum.
//!
//! A transactional file runs in one transaction with its tracking row, so it is applied
//! entirely or not at all. A no-transaction file runs one statement per call (as
//! `CREATE INDEX CONCURRENTLY` requires); if a statement fails, its rollback file is run to undo
//! the statements that did succeed, so nothing is left half-migrated.

use std::time::Instant;

use postgres::Client;

use super::{MigrateError, Migration};

/// Session advisory lock key ("pgperf" in ASCII) held while migrating, so two runs never
/// interleave.
const LOCK_KEY: i64 = 0x7067_7065_7266;

const CREATE_TRACKING: &str = "
CREATE SCHEMA IF NOT EXISTS pgperf;
CREATE TABLE IF NOT EXISTS pgperf.schema_migrations (
    version bigint PRIMARY KEY,
    name text NOT NULL,
    checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now(),
    execution_ms double precision NOT NULL
);
COMMENT ON TABLE pgperf.schema_migrations IS 'Migrations applied by pgperf migrate, with the checksum of each file.';";

/// A migration the database has recorded as applied.
#[derive(Debug, Clone, PartialEq)]
pub struct AppliedMigration {
    pub version: i64,
    pub name: String,
    pub checksum: String,
    pub applied_at: chrono::DateTime<chrono::Utc>,
    pub execution_ms: f64,
}

/// Where one migration stands, for `pgperf migrate status`.
#[derive(Debug, Clone, PartialEq)]
pub enum MigrationState {
    Applied(AppliedMigration),
    Pending,
    /// Applied, but the file changed since.
    Changed(AppliedMigration),
    /// Recorded as applied, but no file has its version any more.
    MissingFile(AppliedMigration),
}

/// One row of `pgperf migrate status`.
#[derive(Debug, Clone, PartialEq)]
pub struct MigrationStatus {
    pub version: i64,
    pub name: String,
    pub state: MigrationState,
}

/// Reads what the database has applied (creating the tracking table if needed).
pub fn applied(client: &mut Client) -> Result<Vec<AppliedMigration>, MigrateError> {
    client.batch_execute(CREATE_TRACKING)?;
    let rows = client.query(
        "SELECT version, name, checksum, applied_at, execution_ms
         FROM pgperf.schema_migrations ORDER BY version",
        &[],
    )?;
    Ok(rows
        .iter()
        .map(|row| AppliedMigration {
            version: row.get(0),
            name: row.get(1),
            checksum: row.get(2),
            applied_at: row.get(3),
            execution_ms: row.get(4),
        })
        .collect())
}

/// The state of every migration, files and database together, by version.
pub fn status(
    client: &mut Client,
    set: &[Migration],
) -> Result<Vec<MigrationStatus>, MigrateError> {
    let applied = applied(client)?;
    let mut rows: Vec<MigrationStatus> = set
        .iter()
        .map(|migration| {
            let state = match applied.iter().find(|a| a.version == migration.version) {
                Some(a) if a.checksum == migration.checksum => MigrationState::Applied(a.clone()),
                Some(a) => MigrationState::Changed(a.clone()),
                None => MigrationState::Pending,
            };
            MigrationStatus {
                version: migration.version,
                name: migration.name.clone(),
                state,
            }
        })
        .collect();
    rows.extend(
        applied
            .iter()
            .filter(|a| !set.iter().any(|m| m.version == a.version))
            .map(|a| MigrationStatus {
                version: a.version,
                name: a.name.clone(),
                state: MigrationState::MissingFile(a.clone()),
            }),
    );
    rows.sort_by_key(|row| row.version);
    Ok(rows)
}

/// Applies every pending migration up to `target` (all when `None`), in order. Returns the
/// migrations applied. Refuses to start if an applied file changed or went missing.
pub fn up(
    client: &mut Client,
    set: &[Migration],
    target: Option<i64>,
) -> Result<Vec<Migration>, MigrateError> {
    with_lock(client, |client| {
        let statuses = status(client, set)?;
        check_consistent(&statuses)?;
        let pending: Vec<&Migration> = set
            .iter()
            .filter(|m| target.is_none_or(|t| m.version <= t))
            .filter(|m| {
                statuses
                    .iter()
                    .any(|s| s.version == m.version && s.state == MigrationState::Pending)
            })
            .collect();
        let mut done = Vec::new();
        for migration in pending {
            apply_one(client, migration)?;
            done.push(migration.clone());
        }
        Ok(done)
    })
}

/// Reverts the `steps` most recently applied migrations (newest first). Returns them.
pub fn down(
    client: &mut Client,
    set: &[Migration],
    steps: usize,
) -> Result<Vec<Migration>, MigrateError> {
    with_lock(client, |client| {
        let statuses = status(client, set)?;
        check_consistent(&statuses)?;
        let applied: Vec<&Migration> = set
            .iter()
            .rev()
            .filter(|m| {
                statuses.iter().any(|s| {
                    s.version == m.version && matches!(s.state, MigrationState::Applied(_))
                })
            })
            .take(steps)
            .collect();
        let mut done = Vec::new();
        for migration in applied {
            revert_one(client, migration)?;
            done.push(migration.clone());
        }
        Ok(done)
    })
}

fn check_consistent(statuses: &[MigrationStatus]) -> Result<(), MigrateError> {
    for status in statuses {
        match &status.state {
            MigrationState::Changed(applied) => {
                return Err(MigrateError::ChangedAfterApply {
                    migration: format!("{:04}_{}", status.version, status.name),
                    applied_checksum: applied.checksum.clone(),
                });
            }
            MigrationState::MissingFile(_) => {
                return Err(MigrateError::MissingFile {
                    migration: format!("{:04}_{}", status.version, status.name),
                });
            }
            MigrationState::Applied(_) | MigrationState::Pending => {}
        }
    }
    Ok(())
}

fn with_lock<T>(
    client: &mut Client,
    work: impl FnOnce(&mut Client) -> Result<T, MigrateError>,
) -> Result<T, MigrateError> {
    client.execute("SELECT pg_advisory_lock($1)", &[&LOCK_KEY])?;
    let result = work(client);
    // If the connection broke, the server released the lock with the session.
    let _ = client.execute("SELECT pg_advisory_unlock($1)", &[&LOCK_KEY]);
    result
}

fn apply_one(client: &mut Client, migration: &Migration) -> Result<(), MigrateError> {
    let started = Instant::now();
    if migration.up_no_transaction {
        if let Err(error) = run_statements(client, &migration.up_sql, &migration.label()) {
            let undo_failures = undo_statements(client, &migration.down_sql);
            return Err(MigrateError::Failed {
                migration: migration.label(),
                direction: "up",
                cause: Box::new(error),
                undo: (!undo_failures.is_empty()).then(|| undo_failures.join("; ")),
            });
        }
        record_applied(client, migration, started)?;
        return Ok(());
    }
    let mut transaction = client.transaction()?;
    transaction
        .batch_execute(&migration.up_sql)
        .map_err(|error| failed(migration, "up", error))?;
    record_applied(&mut transaction, migration, started)?;
    transaction.commit()?;
    Ok(())
}

/// Adds the tracking row, inside the migration's transaction when it has one.
fn record_applied(
    client: &mut impl postgres::GenericClient,
    migration: &Migration,
    started: Instant,
) -> Result<(), MigrateError> {
    let elapsed_ms = started.elapsed().as_secs_f64() * 1e3;
    client.execute(
        "INSERT INTO pgperf.schema_migrations (version, name, checksum, execution_ms)
         VALUES ($1, $2, $3, $4)",
        &[
            &migration.version,
            &migration.name,
            &migration.checksum,
            &elapsed_ms,
        ],
    )?;
    Ok(())
}

fn revert_one(client: &mut Client, migration: &Migration) -> Result<(), MigrateError> {
    let forget = "DELETE FROM pgperf.schema_migrations WHERE version = $1";
    if migration.down_no_transaction {
        run_statements(client, &migration.down_sql, &migration.label()).map_err(|error| {
            MigrateError::Failed {
                migration: migration.label(),
                direction: "down",
                cause: Box::new(error),
                undo: None,
            }
        })?;
        client.execute(forget, &[&migration.version])?;
        return Ok(());
    }
    let mut transaction = client.transaction()?;
    transaction
        .batch_execute(&migration.down_sql)
        .map_err(|error| failed(migration, "down", error))?;
    transaction.execute(forget, &[&migration.version])?;
    transaction.commit()?;
    Ok(())
}

fn failed(migration: &Migration, direction: &'static str, error: postgres::Error) -> MigrateError {
    MigrateError::Failed {
        migration: migration.label(),
        direction,
        cause: Box::new(MigrateError::Database(error)),
        undo: None,
    }
}

/// Runs a no-transaction file one statement per call, split by PostgreSQL's own parser.
fn run_statements(client: &mut Client, sql: &str, label: &str) -> Result<(), MigrateError> {
    let statements = pg_query::split_with_parser(sql).map_err(|error| MigrateError::Parse {
        migration: label.to_string(),
        message: error.to_string(),
    })?;
    for statement in statements {
        if statement.trim().is_empty() {
            continue;
        }
        client
            .batch_execute(statement)
            .map_err(|source| MigrateError::Statement {
                statement: statement.trim().to_string(),
                source,
            })?;
    }
    Ok(())
}

/// Errors of a rollback statement meaning its object was never created: nothing to undo.
const NOTHING_TO_UNDO: [&postgres::error::SqlState; 4] = [
    &postgres::error::SqlState::UNDEFINED_TABLE,
    &postgres::error::SqlState::UNDEFINED_OBJECT,
    &postgres::error::SqlState::UNDEFINED_FUNCTION,
    &postgres::error::SqlState::INVALID_SCHEMA_NAME,
];

/// Runs every statement of a rollback file after a failed no-transaction migration, going on
/// past failures (objects the failed run never created); returns what still failed.
fn undo_statements(client: &mut Client, sql: &str) -> Vec<String> {
    let Ok(statements) = pg_query::split_with_parser(sql) else {
        return vec!["the rollback file does not parse".to_string()];
    };
    statements
        .into_iter()
        .filter(|statement| !statement.trim().is_empty())
        .filter_map(|statement| {
            let error = client.batch_execute(statement).err()?;
            let never_created = error
                .code()
                .is_some_and(|code| NOTHING_TO_UNDO.contains(&code));
            (!never_created)
                .then(|| format!("{}: {}", statement.trim(), crate::pg::describe(&error)))
        })
        .collect()
}
