//! Reading a migrations folder in its style (see [`super::style`]): pairing up and down files,
//! the no-transaction markers and checksums. Pure functions over file names and contents (and
//! one folder read), so they are unit-tested without a database; `write` adds new files.

use std::collections::BTreeMap;
use std::path::Path;

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
}
