//! Reading a migrations folder in its style (see [`super::style`]): pairing up and down files,
//! the no-transaction markers, checksums, and the names of a new migration. Pure functions over
//! file names and contents, so they are unit-tested without a database.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256, Sha384};

use super::MigrateError;
use super::style::{self, FileKind, MigrationStyle};

/// First line that makes a file run statement by statement outside a transaction, as
/// `CREATE INDEX CONCURRENTLY` requires.
pub const NO_TRANSACTION_MARKER: &str = "-- pgperf:no-transaction";

/// sqlx's marker: a file that starts with it runs outside a transaction.
pub const SQLX_NO_TRANSACTION_MARKER: &str = "-- no-transaction";

/// One migration: an up file and, where its style has one, a down file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migration {
    /// The version prefix, ordering the migrations.
    pub version: i64,
    /// The version digits as written (`0003`, `20240101120000`): Supabase records this text.
    pub version_text: String,
    /// The part after `NNNN_`, without the extension.
    pub name: String,
    /// Whose conventions the file follows (tracking table, checksum).
    pub style: MigrationStyle,
    pub up_sql: String,
    /// `None` where the style keeps no down file (Supabase, sqlx single files).
    pub down_sql: Option<String>,
    /// The up file's checksum as its style's tool records it: SHA-256 hex (pgperf), SHA-384
    /// hex (sqlx), empty (Supabase records no checksum).
    pub checksum: String,
    /// The up file runs outside a transaction.
    pub up_no_transaction: bool,
    /// The down file runs outside a transaction.
    pub down_no_transaction: bool,
}

impl Migration {
    /// `0003_audit` style label used in messages.
    pub fn label(&self) -> String {
        format!("{}_{}", self.version_text, self.name)
    }
}

/// A folder's migrations with the style they were read in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationSet {
    pub style: MigrationStyle,
    pub migrations: Vec<Migration>,
}

impl std::ops::Deref for MigrationSet {
    type Target = Vec<Migration>;
    fn deref(&self) -> &Vec<Migration> {
        &self.migrations
    }
}

/// Reads every `*.sql` file of `dir`, detecting its style.
pub fn load_dir(dir: &Path) -> Result<MigrationSet, MigrateError> {
    load_dir_as(dir, None)
}

/// Reads every `*.sql` file of `dir` in `style` (detected when `None`); a Supabase folder's
/// rollbacks are read from the `rollbacks` folder beside it.
pub fn load_dir_as(
    dir: &Path,
    style: Option<MigrationStyle>,
) -> Result<MigrationSet, MigrateError> {
    let files = read_sql_files(dir)?;
    let style = match style {
        Some(style) => style,
        None => style::detect(
            dir,
            &files.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>(),
        )?,
    };
    let rollbacks = match style.rollbacks_dir(dir).filter(|d| d.is_dir()) {
        Some(rollbacks) => read_sql_files(&rollbacks)?,
        None => Vec::new(),
    };
    Ok(MigrationSet {
        style,
        migrations: pair_files_as(style, files, rollbacks)?,
    })
}

fn read_sql_files(dir: &Path) -> Result<Vec<(String, String)>, MigrateError> {
    let read_error = |dir: &Path| {
        let dir = dir.to_path_buf();
        move |source| MigrateError::ReadDir { dir, source }
    };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(read_error(dir))? {
        let entry = entry.map_err(read_error(dir))?;
        let file_name = entry.file_name().to_string_lossy().into_owned();
        if !file_name.ends_with(".sql") {
            continue;
        }
        let text = std::fs::read_to_string(entry.path()).map_err(read_error(&entry.path()))?;
        files.push((file_name, text));
    }
    Ok(files)
}

/// Pairs pgperf-style `(file name, contents)` into migrations sorted by version.
pub fn pair_files(files: Vec<(String, String)>) -> Result<Vec<Migration>, MigrateError> {
    pair_files_as(MigrationStyle::Pgperf, files, Vec::new())
}

/// One side's files by version: (version text, name, file name, contents).
type Side = BTreeMap<i64, (String, String, String, String)>;

/// Pairs `files` read in `style` (and, for Supabase, the rollbacks kept beside the folder)
/// into migrations sorted by version.
pub fn pair_files_as(
    style: MigrationStyle,
    files: Vec<(String, String)>,
    rollbacks: Vec<(String, String)>,
) -> Result<Vec<Migration>, MigrateError> {
    let mut ups = Side::new();
    let mut downs = Side::new();
    let tagged = files
        .into_iter()
        .map(|f| (f, false))
        .chain(rollbacks.into_iter().map(|f| (f, true)));
    for ((file_name, text), is_rollback) in tagged {
        let parsed = style
            .parse(&file_name)
            .ok_or_else(|| MigrateError::BadFileName {
                file: file_name.clone(),
                style,
            })?;
        let version: i64 = parsed
            .version_text
            .parse()
            .expect("parse checked the digits");
        let is_down = is_rollback || parsed.kind == FileKind::Down;
        let entry = (
            parsed.version_text.to_string(),
            parsed.name.to_string(),
            file_name.clone(),
            text,
        );
        let side = if is_down { &mut downs } else { &mut ups };
        if let Some((_, _, other, _)) = side.get(&version) {
            return Err(MigrateError::DuplicateVersion {
                version,
                first: other.clone(),
                second: file_name,
            });
        }
        side.insert(version, entry);
    }
    if let Some((_, (_, _, file, _))) = downs.iter().find(|(v, _)| !ups.contains_key(v)) {
        return Err(MigrateError::OrphanRollback { file: file.clone() });
    }
    ups.into_iter()
        .map(|(version, (version_text, name, file, up_sql))| {
            let down = downs.remove(&version);
            match &down {
                None if style == MigrationStyle::Pgperf => {
                    return Err(MigrateError::MissingRollback { file });
                }
                Some((_, down_name, _, _)) if *down_name != name => {
                    return Err(MigrateError::MissingRollback {
                        file: format!("{file} (its rollback is named {down_name})"),
                    });
                }
                _ => {}
            }
            let down_sql = down.map(|(_, _, _, text)| text);
            Ok(Migration {
                version,
                version_text,
                checksum: style_checksum(style, &up_sql),
                up_no_transaction: no_transaction(style, &up_sql),
                down_no_transaction: down_sql
                    .as_deref()
                    .is_some_and(|s| no_transaction(style, s)),
                name,
                style,
                up_sql,
                down_sql,
            })
        })
        .collect()
}

/// Whether a file runs outside a transaction, as its style's tool decides: pgperf's marker on
/// the first non-empty line; sqlx's marker at the very start; for Supabase (whose CLI runs
/// statements that cannot run in a transaction on their own) any such statement, or pgperf's
/// marker.
fn no_transaction(style: MigrationStyle, sql: &str) -> bool {
    match style {
        MigrationStyle::Pgperf => has_marker(sql),
        MigrationStyle::Sqlx => sql.starts_with(SQLX_NO_TRANSACTION_MARKER),
        MigrationStyle::Supabase => has_marker(sql) || has_statement_outside_transaction(sql),
    }
}

/// Statements PostgreSQL refuses inside a transaction block (the list the Supabase CLI runs
/// on their own).
fn has_statement_outside_transaction(sql: &str) -> bool {
    let Ok(statements) = pg_query::split_with_parser(sql) else {
        return false;
    };
    statements.iter().any(|statement| {
        let words: Vec<String> = statement
            .lines()
            .filter(|line| !line.trim_start().starts_with("--"))
            .flat_map(str::split_whitespace)
            .take(5)
            .map(str::to_ascii_uppercase)
            .collect();
        let starts = |prefix: &[&str]| {
            words.iter().zip(prefix).all(|(w, p)| w == p) && words.len() >= prefix.len()
        };
        starts(&["CREATE", "INDEX", "CONCURRENTLY"])
            || starts(&["CREATE", "UNIQUE", "INDEX", "CONCURRENTLY"])
            || starts(&["DROP", "INDEX", "CONCURRENTLY"])
            || (starts(&["REINDEX"]) && words.iter().any(|w| w == "CONCURRENTLY"))
            || starts(&["VACUUM"])
            || starts(&["ALTER", "SYSTEM"])
    })
}

fn has_marker(sql: &str) -> bool {
    sql.lines()
        .map(str::trim)
        .find(|line| !line.is_empty())
        .is_some_and(|line| line.eq_ignore_ascii_case(NO_TRANSACTION_MARKER))
}

/// SHA-256 of the file's bytes, hex: pgperf's checksum.
pub fn checksum(text: &str) -> String {
    hex(&Sha256::digest(text.as_bytes()))
}

/// The checksum `style`'s tool records for an up file.
pub fn style_checksum(style: MigrationStyle, text: &str) -> String {
    match style {
        MigrationStyle::Pgperf => checksum(text),
        MigrationStyle::Sqlx => hex(&Sha384::digest(text.as_bytes())),
        MigrationStyle::Supabase => String::new(),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// The version a new migration in `existing` should take: one more than the highest.
pub fn next_version(existing: &[Migration]) -> i64 {
    existing.iter().map(|m| m.version).max().unwrap_or(0) + 1
}

/// One file of a new migration, ready to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFile {
    pub path: PathBuf,
    pub text: String,
}

/// The up and down texts of one new migration, in pgperf's form (its no-transaction marker
/// first when it has one), named `name`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMigration {
    pub name: String,
    pub up_sql: String,
    pub down_sql: String,
}

/// The files that add `migrations` to `set` (read from `dir`) in its style: numbered after its
/// highest version (Supabase, and sqlx folders of timestamps, take the timestamp `now`), the
/// down file where that style's tool will not run it by mistake, and a header saying so.
/// Returns (up, down) per migration.
pub fn new_files(
    set: &MigrationSet,
    dir: &Path,
    now: chrono::DateTime<chrono::Utc>,
    migrations: &[NewMigration],
) -> Vec<(NewFile, NewFile)> {
    let highest = set.iter().map(|m| m.version).max();
    let width = set.iter().map(|m| m.version_text.len()).max().unwrap_or(4);
    let timestamps = match set.style {
        MigrationStyle::Pgperf => false,
        MigrationStyle::Supabase => true,
        // sqlx-cli numbers by timestamp unless the folder is numbered sequentially.
        MigrationStyle::Sqlx => highest.is_none_or(|v| v >= 10_000_000_000_000),
    };
    let first = match timestamps {
        true => {
            let stamp: i64 = now
                .format("%Y%m%d%H%M%S")
                .to_string()
                .parse()
                .expect("a formatted timestamp is digits");
            stamp.max(highest.map_or(0, |v| v + 1))
        }
        false => highest.map_or(1, |v| v + 1),
    };
    migrations
        .iter()
        .zip(first..)
        .map(|(migration, version)| {
            let version_text = format!("{version:0width$}");
            style_files(set.style, dir, &version_text, migration)
        })
        .collect()
}

fn style_files(
    style: MigrationStyle,
    dir: &Path,
    version: &str,
    migration: &NewMigration,
) -> (NewFile, NewFile) {
    let stem = format!("{version}_{}", migration.name);
    let file = |path: PathBuf, text: String| NewFile { path, text };
    match style {
        MigrationStyle::Pgperf => (
            file(dir.join(format!("{stem}.sql")), migration.up_sql.clone()),
            file(
                dir.join(format!("{stem}.rollback.sql")),
                migration.down_sql.clone(),
            ),
        ),
        MigrationStyle::Supabase => {
            let rollbacks = style.rollbacks_dir(dir).expect("Supabase keeps rollbacks");
            let up_header = format!(
                "-- Written by `pgperf advise` for `supabase db push` / `supabase migration up`.\n\
                 -- The Supabase CLI (2.109 and later) runs each CREATE INDEX CONCURRENTLY on its own,\n\
                 -- outside the migration's batch; older versions stop with \"cannot be executed within\n\
                 -- a pipeline\": upgrade the CLI, or drop CONCURRENTLY (the build then blocks writes).\n\
                 -- The rollback is ../rollbacks/{stem}.sql, outside supabase/migrations so the CLI never runs it.\n"
            );
            let down_header = format!(
                "-- Rollback of supabase/migrations/{stem}.sql, written by `pgperf advise`.\n\
                 -- Kept outside supabase/migrations on purpose: the Supabase CLI applies every .sql file\n\
                 -- there and has no down migrations. To revert: pgperf migrate down --dir supabase/migrations,\n\
                 -- or psql \"$DATABASE_URL\" -f this file, then supabase migration repair --status reverted {version}.\n"
            );
            (
                file(
                    dir.join(format!("{stem}.sql")),
                    up_header + without_marker(&migration.up_sql),
                ),
                file(
                    rollbacks.join(format!("{stem}.sql")),
                    down_header + without_marker(&migration.down_sql),
                ),
            )
        }
        MigrationStyle::Sqlx => {
            let up_header = format!(
                "{SQLX_NO_TRANSACTION_MARKER}\n\
                 -- Written by `pgperf advise`. The line above makes `sqlx migrate run` run this file outside\n\
                 -- a transaction, as CREATE INDEX CONCURRENTLY requires; sqlx sends it as one query, so each\n\
                 -- index has a migration of its own. `sqlx migrate revert` runs {stem}.down.sql.\n"
            );
            let down_header = format!(
                "{SQLX_NO_TRANSACTION_MARKER}\n\
                 -- Rollback of {stem}.up.sql, written by `pgperf advise`; only `sqlx migrate revert` runs it.\n"
            );
            (
                file(
                    dir.join(format!("{stem}.up.sql")),
                    up_header + without_marker(&migration.up_sql),
                ),
                file(
                    dir.join(format!("{stem}.down.sql")),
                    down_header + without_marker(&migration.down_sql),
                ),
            )
        }
    }
}

/// The text without pgperf's no-transaction marker line (other tools have their own rule).
fn without_marker(sql: &str) -> &str {
    let trimmed = sql.trim_start();
    match trimmed.get(..NO_TRANSACTION_MARKER.len()) {
        Some(first) if first.eq_ignore_ascii_case(NO_TRANSACTION_MARKER) => {
            trimmed[NO_TRANSACTION_MARKER.len()..].trim_start_matches('\n')
        }
        _ => sql,
    }
}

/// Writes `files`, creating their folders and refusing to overwrite; if one cannot be written,
/// the ones already written are removed so no half migration is left.
pub fn write_files(files: &[NewFile]) -> Result<(), MigrateError> {
    let mut written: Vec<&Path> = Vec::new();
    for file in files {
        if let Err(error) = write_new(file) {
            for path in written {
                let _ = std::fs::remove_file(path);
            }
            return Err(error);
        }
        written.push(&file.path);
    }
    Ok(())
}

fn write_new(file: &NewFile) -> Result<(), MigrateError> {
    use std::io::Write;
    let error = |source| MigrateError::Write {
        path: file.path.clone(),
        source,
    };
    if let Some(parent) = file.path.parent() {
        std::fs::create_dir_all(parent).map_err(error)?;
    }
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&file.path)
        .and_then(|mut f| f.write_all(file.text.as_bytes()))
        .map_err(error)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, text: &str) -> (String, String) {
        (name.to_string(), text.to_string())
    }

    #[test]
    fn pairs_sorted_by_version_with_markers() {
        let migrations = pair_files(vec![
            file(
                "0002_idx.sql",
                "-- pgperf:no-transaction\nCREATE INDEX CONCURRENTLY i ON t (a);",
            ),
            file("0001_init.rollback.sql", "DROP TABLE t;"),
            file("0001_init.sql", "CREATE TABLE t (a int);"),
            file(
                "0002_idx.rollback.sql",
                "\n-- pgperf:no-transaction\nDROP INDEX CONCURRENTLY i;",
            ),
        ])
        .expect("valid set");
        let labels: Vec<String> = migrations.iter().map(Migration::label).collect();
        assert_eq!(labels, ["0001_init", "0002_idx"]);
        assert!(!migrations[0].up_no_transaction);
        assert!(migrations[1].up_no_transaction && migrations[1].down_no_transaction);
        assert_eq!(next_version(&migrations), 3);
    }

    #[test]
    fn a_migration_without_rollback_is_refused() {
        let error = pair_files(vec![file("0001_init.sql", "")]).expect_err("no rollback");
        assert!(error.to_string().contains("0001_init.sql"), "{error}");
    }

    #[test]
    fn bad_names_duplicates_and_orphans_are_refused() {
        assert!(matches!(
            pair_files(vec![file("init.sql", "")]),
            Err(MigrateError::BadFileName { .. })
        ));
        assert!(matches!(
            pair_files(vec![file("0001_a.sql", ""), file("1_b.sql", "")]),
            Err(MigrateError::DuplicateVersion { .. })
        ));
        assert!(matches!(
            pair_files(vec![file("0001_a.rollback.sql", "")]),
            Err(MigrateError::OrphanRollback { .. })
        ));
    }

    #[test]
    fn sqlx_pairs_and_singles_with_sha384_and_its_marker() {
        let set = pair_files_as(
            MigrationStyle::Sqlx,
            vec![
                file("20240101120000_init.up.sql", "CREATE TABLE t (a int);"),
                file("20240101120000_init.down.sql", "DROP TABLE t;"),
                file(
                    "20240102120000_idx.sql",
                    "-- no-transaction\nCREATE INDEX CONCURRENTLY i ON t (a);",
                ),
            ],
            Vec::new(),
        )
        .expect("sqlx set");
        assert_eq!(set[0].down_sql.as_deref(), Some("DROP TABLE t;"));
        assert_eq!(set[0].checksum.len(), 96, "SHA-384 is 48 bytes");
        assert!(set[1].down_sql.is_none() && set[1].up_no_transaction);
    }

    #[test]
    fn supabase_files_need_no_down_and_concurrent_builds_run_alone() {
        let set = pair_files_as(
            MigrationStyle::Supabase,
            vec![
                file("20240101120000_init.sql", "CREATE TABLE t (a int);"),
                file(
                    "20240102120000_idx.sql",
                    "-- an index\ncreate index concurrently i on t (a);",
                ),
            ],
            vec![file("20240102120000_idx.sql", "DROP INDEX i;")],
        )
        .expect("supabase set");
        assert!(set[0].down_sql.is_none() && !set[0].up_no_transaction);
        assert!(set[1].down_sql.is_some() && set[1].up_no_transaction);
        assert_eq!(set[1].checksum, "");
        let error = pair_files_as(
            MigrationStyle::Supabase,
            vec![file("init.sql", "")],
            Vec::new(),
        )
        .expect_err("bad name");
        assert!(
            error.to_string().contains("supabase migration new"),
            "{error}"
        );
    }

    #[test]
    fn marker_must_be_the_first_line() {
        assert!(!has_marker("SELECT 1;\n-- pgperf:no-transaction"));
        assert!(has_marker("  \n-- PGPERF:NO-TRANSACTION\nSELECT 1;"));
    }

    fn new_in(style: MigrationStyle, existing: Vec<Migration>) -> Vec<(NewFile, NewFile)> {
        let now = chrono::DateTime::parse_from_rfc3339("2026-12-04T17:30:00Z")
            .expect("instant")
            .to_utc();
        let set = MigrationSet {
            style,
            migrations: existing,
        };
        let migration = NewMigration {
            name: "pgperf_indexes".into(),
            up_sql: format!("{NO_TRANSACTION_MARKER}\nCREATE INDEX CONCURRENTLY i ON t (a);\n"),
            down_sql: format!("{NO_TRANSACTION_MARKER}\nDROP INDEX CONCURRENTLY i;\n"),
        };
        new_files(&set, Path::new("db/migrations"), now, &[migration])
    }

    #[test]
    fn new_files_follow_each_style() {
        let names = |files: Vec<(NewFile, NewFile)>| {
            let (up, down) = &files[0];
            (
                up.path.display().to_string(),
                down.path.display().to_string(),
            )
        };
        let pgperf = pair_files(vec![
            file("0009_x.sql", ""),
            file("0009_x.rollback.sql", ""),
        ])
        .expect("set");
        assert_eq!(
            names(new_in(MigrationStyle::Pgperf, pgperf)),
            (
                "db/migrations/0010_pgperf_indexes.sql".into(),
                "db/migrations/0010_pgperf_indexes.rollback.sql".into()
            )
        );
        assert_eq!(
            names(new_in(MigrationStyle::Supabase, Vec::new())),
            (
                "db/migrations/20261204173000_pgperf_indexes.sql".into(),
                "db/rollbacks/20261204173000_pgperf_indexes.sql".into()
            )
        );
        let sqlx = new_in(MigrationStyle::Sqlx, Vec::new());
        assert!(sqlx[0].0.text.starts_with("-- no-transaction\n"));
        assert!(!sqlx[0].0.text.contains(NO_TRANSACTION_MARKER));
        assert_eq!(
            names(sqlx),
            (
                "db/migrations/20261204173000_pgperf_indexes.up.sql".into(),
                "db/migrations/20261204173000_pgperf_indexes.down.sql".into()
            )
        );
    }

    #[test]
    fn supabase_and_sqlx_files_explain_where_the_rollback_is() {
        let text = |files: Vec<(NewFile, NewFile)>| {
            let (up, down) = &files[0];
            format!(
                "{}:\n{}\n{}:\n{}",
                up.path.display(),
                up.text,
                down.path.display(),
                down.text
            )
        };
        insta::assert_snapshot!(
            "supabase_files",
            text(new_in(MigrationStyle::Supabase, Vec::new()))
        );
        insta::assert_snapshot!("sqlx_files", text(new_in(MigrationStyle::Sqlx, Vec::new())));
    }

    #[test]
    fn write_files_refuses_to_overwrite_and_leaves_nothing_half_written() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = |name: &str| NewFile {
            path: dir.path().join(name),
            text: "SELECT 1;".into(),
        };
        write_files(&[file("0007_x.sql"), file("0007_x.rollback.sql")]).expect("first write");
        assert!(write_files(&[file("0008_y.sql"), file("0007_x.sql")]).is_err());
        assert!(
            !dir.path().join("0008_y.sql").exists(),
            "removed after the failure"
        );
        let set = load_dir(dir.path()).expect("reads back");
        assert_eq!(set[0].label(), "0007_x");
    }
}
