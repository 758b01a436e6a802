//! Reading a migrations folder: `NNNN_name.sql` paired with `NNNN_name.rollback.sql`, the
//! no-transaction marker, checksums, and choosing the next number for a new migration.
//! Pure functions over file names and contents, so they are unit-tested without a database.

use std::collections::BTreeMap;
use std::path::Path;

use sha2::{Digest, Sha256};

use super::MigrateError;

/// First line that makes a file run statement by statement outside a transaction, as
/// `CREATE INDEX CONCURRENTLY` requires.
pub const NO_TRANSACTION_MARKER: &str = "-- pgperf:no-transaction";

/// One reversible migration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migration {
    /// The `NNNN` prefix, ordering the migrations.
    pub version: i64,
    /// The part after `NNNN_`, without `.sql`.
    pub name: String,
    pub up_sql: String,
    pub down_sql: String,
    /// SHA-256 (hex) of the up file; an applied migration whose file changed is an error.
    pub checksum: String,
    /// The up file carries [`NO_TRANSACTION_MARKER`].
    pub up_no_transaction: bool,
    /// The rollback file carries [`NO_TRANSACTION_MARKER`].
    pub down_no_transaction: bool,
}

impl Migration {
    /// `0003_audit` style label used in messages.
    pub fn label(&self) -> String {
        format!("{:04}_{}", self.version, self.name)
    }
}

/// Reads every `*.sql` file of `dir` and pairs them.
pub fn load_dir(dir: &Path) -> Result<Vec<Migration>, MigrateError> {
    let entries = std::fs::read_dir(dir).map_err(|source| MigrateError::ReadDir {
        dir: dir.to_path_buf(),
        source,
    })?;
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| MigrateError::ReadDir {
            dir: dir.to_path_buf(),
            source,
        })?;
        let file_name = entry.file_name().to_string_lossy().into_owned();
        if !file_name.ends_with(".sql") {
            continue;
        }
        let text =
            std::fs::read_to_string(entry.path()).map_err(|source| MigrateError::ReadDir {
                dir: entry.path(),
                source,
            })?;
        files.push((file_name, text));
    }
    pair_files(files)
}

/// Pairs `(file name, contents)` into migrations sorted by version.
pub fn pair_files(files: Vec<(String, String)>) -> Result<Vec<Migration>, MigrateError> {
    let mut ups: BTreeMap<i64, (String, String)> = BTreeMap::new();
    let mut downs: BTreeMap<i64, (String, String)> = BTreeMap::new();
    for (file_name, text) in files {
        let (stem, is_down) = match file_name.strip_suffix(".rollback.sql") {
            Some(stem) => (stem, true),
            None => (file_name.trim_end_matches(".sql"), false),
        };
        let (version, name) = parse_stem(stem).ok_or_else(|| MigrateError::BadFileName {
            file: file_name.clone(),
        })?;
        let side = if is_down { &mut downs } else { &mut ups };
        if let Some((other, _)) = side.get(&version) {
            return Err(MigrateError::DuplicateVersion {
                version,
                first: other.clone(),
                second: file_name,
            });
        }
        side.insert(version, (name.to_string(), text));
    }
    if let Some((version, (name, _))) = downs.iter().find(|(v, _)| !ups.contains_key(v)) {
        return Err(MigrateError::OrphanRollback {
            file: format!("{version:04}_{name}.rollback.sql"),
        });
    }
    ups.into_iter()
        .map(|(version, (name, up_sql))| {
            let (down_name, down_sql) =
                downs
                    .remove(&version)
                    .ok_or_else(|| MigrateError::MissingRollback {
                        file: format!("{version:04}_{name}.sql"),
                    })?;
            if down_name != name {
                return Err(MigrateError::MissingRollback {
                    file: format!("{version:04}_{name}.sql (its rollback is named {down_name})"),
                });
            }
            Ok(Migration {
                version,
                checksum: checksum(&up_sql),
                up_no_transaction: has_marker(&up_sql),
                down_no_transaction: has_marker(&down_sql),
                name,
                up_sql,
                down_sql,
            })
        })
        .collect()
}

/// `0001_create_tables` → `(1, "create_tables")`; the number must be all digits.
fn parse_stem(stem: &str) -> Option<(i64, &str)> {
    let (number, name) = stem.split_once('_')?;
    if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) || name.is_empty() {
        return None;
    }
    Some((number.parse().ok()?, name))
}

fn has_marker(sql: &str) -> bool {
    sql.lines()
        .map(str::trim)
        .find(|line| !line.is_empty())
        .is_some_and(|line| line.eq_ignore_ascii_case(NO_TRANSACTION_MARKER))
}

/// SHA-256 of the file's bytes, hex.
pub fn checksum(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// The version a new migration in `existing` should take: one more than the highest.
pub fn next_version(existing: &[Migration]) -> i64 {
    existing.iter().map(|m| m.version).max().unwrap_or(0) + 1
}

/// Writes `NNNN_name.sql` and `NNNN_name.rollback.sql` into `dir`, refusing to overwrite.
/// Returns the two paths.
pub fn write_pair(
    dir: &Path,
    version: i64,
    name: &str,
    up_sql: &str,
    down_sql: &str,
) -> Result<(std::path::PathBuf, std::path::PathBuf), MigrateError> {
    let up = dir.join(format!("{version:04}_{name}.sql"));
    let down = dir.join(format!("{version:04}_{name}.rollback.sql"));
    for (path, text) in [(&up, up_sql), (&down, down_sql)] {
        use std::io::Write;
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
            .map_err(|source| MigrateError::Write {
                path: path.clone(),
                source,
            })?;
        file.write_all(text.as_bytes())
            .map_err(|source| MigrateError::Write {
                path: path.clone(),
                source,
            })?;
    }
    Ok((up, down))
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
    fn marker_must_be_the_first_line() {
        assert!(!has_marker("SELECT 1;\n-- pgperf:no-transaction"));
        assert!(has_marker("  \n-- PGPERF:NO-TRANSACTION\nSELECT 1;"));
    }

    #[test]
    fn write_pair_refuses_to_overwrite() {
        let dir = tempfile::tempdir().expect("temp dir");
        write_pair(dir.path(), 7, "x", "up", "down").expect("first write");
        assert!(write_pair(dir.path(), 7, "x", "up", "down").is_err());
        let set = load_dir(dir.path()).expect("reads back");
        assert_eq!(set[0].label(), "0007_x");
    }
}
