//! Applying, reverting and verifying migrations; writing migration files.
//!
//! A migration is `NNNN_name.sql` with its `NNNN_name.rollback.sql` (every migration is
//! reversible), tracked in `pgperf.schema_migrations` with a checksum so an applied file that
//! changed is an error, never a silent re-run. See `docs/migrations.md`.

mod apply;
mod files;
mod verify;

use std::path::PathBuf;

pub use apply::{AppliedMigration, MigrationState, MigrationStatus, applied, down, status, up};
pub use files::{
    Migration, NO_TRANSACTION_MARKER, checksum, load_dir, next_version, pair_files, write_pair,
};
pub use verify::{CatalogSnapshot, VerifyReport, diff_lines, snapshot, verify};

/// Why a migration command failed.
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error("cannot read the migrations folder {dir}: {source}")]
    ReadDir {
        dir: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{file} is not a migration name: name files NNNN_name.sql with NNNN_name.rollback.sql")]
    BadFileName { file: String },
    #[error("{first} and {second} have the same number {version}: renumber one of them")]
    DuplicateVersion {
        version: i64,
        first: String,
        second: String,
    },
    #[error(
        "{file} has no rollback file: every migration must be reversible; add {} beside it",
        rollback_name(file)
    )]
    MissingRollback { file: String },
    #[error("{file} has no migration beside it: add the matching NNNN_name.sql or remove it")]
    OrphanRollback { file: String },
    #[error(
        "migration {migration} was changed after it was applied (applied checksum {applied_checksum}); revert the edit and put the change in a new migration"
    )]
    ChangedAfterApply {
        migration: String,
        applied_checksum: String,
    },
    #[error(
        "migration {migration} is recorded as applied but its file is gone; restore the file, or revert it on a database that still has it"
    )]
    MissingFile { migration: String },
    #[error("migration {migration} does not parse: {message}")]
    Parse { migration: String, message: String },
    #[error("statement failed: {statement}: {}", crate::pg::describe(source))]
    Statement {
        statement: String,
        source: postgres::Error,
    },
    #[error("migration {migration} failed ({direction}): {cause}{}", undo.as_ref().map(|u| format!("; undoing the statements that ran also failed, check these by hand: {u}")).unwrap_or_default())]
    Failed {
        migration: String,
        direction: &'static str,
        /// Shown in the message, so deliberately not the `source()` (it would print twice).
        cause: Box<MigrateError>,
        undo: Option<String>,
    },
    #[error("migration {migration} is not reversible: the catalog differs {stage}:\n{diff}")]
    NotReversible {
        migration: String,
        stage: String,
        diff: String,
    },
    #[error("verify needs a database where no migration is applied yet")]
    VerifyNeedsEmptyDatabase,
    #[error("{}", crate::pg::describe(.0))]
    Database(#[from] postgres::Error),
}

/// The rollback file name of a migration file: `0002_b.sql` -> `0002_b.rollback.sql`.
fn rollback_name(file: &str) -> String {
    format!("{}.rollback.sql", file.strip_suffix(".sql").unwrap_or(file))
}
