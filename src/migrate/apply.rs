//! Applying and reverting migrations against a live database, recorded where the folder's
//! style's tool records them (`tracking`), with each file's checksum where that tool keeps one.
//!
//! A transactional file runs in one transaction with its tracking row, so it is applied
//! entirely or not at all. A no-transaction file runs one statement per call (as
//! `CREATE INDEX CONCURRENTLY` requires); if a statement fails, its rollback file is run to undo
//! the statements that did succeed, so nothing is left half-migrated.

use std::time::Instant;

use postgres::Client;

use super::tracking;
use super::{MigrateError, Migration, MigrationStyle};

pub use super::tracking::AppliedMigration;

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

impl MigrationStatus {
    /// `0003_audit` style label used in messages.
    pub fn label(&self) -> String {
        format!("{:04}_{}", self.version, self.name)
    }
}

/// Reads what the database has applied, in the style of `set` (pgperf's when it is empty).
pub fn applied(
    client: &mut Client,
    set: &[Migration],
) -> Result<Vec<AppliedMigration>, MigrateError> {
    tracking::applied(client, style_of(set))
}

/// The style of a set of migrations (all share one).
fn style_of(set: &[Migration]) -> MigrationStyle {
    set.first().map(|m| m.style).unwrap_or_default()
}

/// The state of every migration, files and database together, by version.
pub fn status(
    client: &mut Client,
    set: &[Migration],
) -> Result<Vec<MigrationStatus>, MigrateError> {
    let applied = applied(client, set)?;
    let mut rows: Vec<MigrationStatus> = set
        .iter()
        .map(|migration| {
            let state = match applied.iter().find(|a| a.version == migration.version) {
                Some(a) if a.checksum.as_ref().is_none_or(|c| *c == migration.checksum) => {
                    MigrationState::Applied(a.clone())
                }
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
    with_lock(client, set, |client| {
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
    with_lock(client, set, |client| {
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
        if let Some(missing) = applied.iter().find(|m| m.down_sql.is_none()) {
            return Err(MigrateError::NoDownFile {
                migration: missing.label(),
                style: missing.style,
            });
        }
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
                    migration: status.label(),
                    applied_checksum: applied.checksum.clone().unwrap_or_default(),
                });
            }
            MigrationState::MissingFile(_) => {
                return Err(MigrateError::MissingFile {
                    migration: status.label(),
                });
            }
            MigrationState::Applied(_) | MigrationState::Pending => {}
        }
    }
    Ok(())
}

/// Runs `work` holding the style's advisory lock, after creating the tracking table.
fn with_lock<T>(
    client: &mut Client,
    set: &[Migration],
    work: impl FnOnce(&mut Client) -> Result<T, MigrateError>,
) -> Result<T, MigrateError> {
    let style = style_of(set);
    let key = tracking::lock_key(client, style)?;
    client.execute("SELECT pg_advisory_lock($1)", &[&key])?;
    let result = tracking::ensure(client, style).and_then(|()| work(client));
    // If the connection broke, the server released the lock with the session.
    let _ = client.execute("SELECT pg_advisory_unlock($1)", &[&key]);
    result
}

fn apply_one(client: &mut Client, migration: &Migration) -> Result<(), MigrateError> {
    let started = Instant::now();
    if migration.up_no_transaction {
        if let Err(error) = run_statements(client, &migration.up_sql, &migration.label()) {
            let undo_failures = match &migration.down_sql {
                Some(down_sql) => undo_statements(client, down_sql),
                None => vec![
                    "it has no down file: the statements before the failing one stay applied"
                        .to_string(),
                ],
            };
            return Err(MigrateError::Failed {
                migration: migration.label(),
                direction: "up",
                cause: Box::new(error),
                undo: (!undo_failures.is_empty()).then(|| undo_failures.join("; ")),
            });
        }
        tracking::record(client, migration, started.elapsed())?;
        return Ok(());
    }
    let mut transaction = client.transaction()?;
    transaction
        .batch_execute(&migration.up_sql)
        .map_err(|error| failed(migration, "up", error))?;
    tracking::record(&mut transaction, migration, started.elapsed())?;
    transaction.commit()?;
    Ok(())
}

fn revert_one(client: &mut Client, migration: &Migration) -> Result<(), MigrateError> {
    let down_sql = migration
        .down_sql
        .as_deref()
        .ok_or_else(|| MigrateError::NoDownFile {
            migration: migration.label(),
            style: migration.style,
        })?;
    if migration.down_no_transaction {
        run_statements(client, down_sql, &migration.label()).map_err(|error| {
            MigrateError::Failed {
                migration: migration.label(),
                direction: "down",
                cause: Box::new(error),
                undo: None,
            }
        })?;
        tracking::forget(client, migration)?;
        return Ok(());
    }
    let mut transaction = client.transaction()?;
    transaction
        .batch_execute(down_sql)
        .map_err(|error| failed(migration, "down", error))?;
    tracking::forget(&mut transaction, migration)?;
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
