//! Writing a new migration into a folder in its style: numbered after what the folder holds,
//! the down file where that style's tool will not run it by mistake, a header explaining both.
//! The names and texts are pure (snapshot-tested); [`write_files`] is the only I/O.

use std::path::{Path, PathBuf};

use super::files::{NO_TRANSACTION_MARKER, SQLX_NO_TRANSACTION_MARKER};
use super::{MigrateError, MigrationSet, MigrationStyle};

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
    use crate::migrate::{Migration, load_dir, pair_files};

    fn file(name: &str, text: &str) -> (String, String) {
        (name.to_string(), text.to_string())
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
