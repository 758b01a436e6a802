//! Applying, reverting and verifying migrations; writing migration files.
//!
//! A folder follows one style (`style`): pgperf's own (`NNNN_name.sql` with its
//! `NNNN_name.rollback.sql`, tracked in `pgperf.schema_migrations`), Supabase's or sqlx's,
//! applied and tracked the way that tool does (`tracking`) so either can take over. A checksum,
//! where the style keeps one, makes an applied file that changed an error, never a silent
//! re-run. See `docs/migrations.md`.

mod apply;
mod files;
mod style;
mod tracking;
mod verify;
mod write;

use std::path::PathBuf;

pub use apply::{AppliedMigration, MigrationState, MigrationStatus, applied, down, status, up};
pub use files::{
    Migration, MigrationSet, NO_TRANSACTION_MARKER, SQLX_NO_TRANSACTION_MARKER, checksum, load_dir,
    load_dir_as, next_version, pair_files, pair_files_as, style_checksum,
};
pub use style::{MigrationStyle, detect};
pub use tracking::table as tracking_table;
pub use verify::{CatalogSnapshot, VerifyReport, diff_lines, snapshot, verify};
pub use write::{NewFile, NewMigration, new_files, write_files};

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
    #[error("{file} is not a {style} migration name: name files {}", style.naming())]
    BadFileName { file: String, style: MigrationStyle },
    #[error(
        "cannot tell whose migrations {} holds: its NNNN_name.sql files have no rollbacks, as sqlx and Supabase write them; pass --migration-style sqlx or --migration-style supabase (or, for pgperf's own style, add NNNN_name.rollback.sql beside each)",
        dir.display()
    )]
    AmbiguousStyle { dir: PathBuf },
    #[error("{first} and {second} have the same number {version}: renumber one of them")]
    DuplicateVersion {
        version: i64,
        first: String,
        second: String,
    },
    #[error(
        "{file} has no rollback file: in pgperf's style every migration must be reversible; add {} beside it (for a sqlx or Supabase folder pass --migration-style)",
        rollback_name(file)
    )]
    MissingRollback { file: String },
    #[error("{}", no_down_file_message(migration, *style))]
    NoDownFile {
        migration: String,
        style: MigrationStyle,
    },
    #[error(
        "migration {version} is recorded in _sqlx_migrations as partially applied (success = false): repair the schema by hand, then delete its row from _sqlx_migrations"
    )]
    PartiallyApplied { version: i64 },
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

impl MigrateError {
    /// A mistake in the folder or the command, not in the database: exit 2.
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            MigrateError::BadFileName { .. }
                | MigrateError::AmbiguousStyle { .. }
                | MigrateError::DuplicateVersion { .. }
                | MigrateError::MissingRollback { .. }
                | MigrateError::OrphanRollback { .. }
                | MigrateError::NoDownFile { .. }
        )
    }
}

fn no_down_file_message(migration: &str, style: MigrationStyle) -> String {
    let hint = match style {
        MigrationStyle::Supabase => {
            "Supabase keeps no down files; pgperf reads a rollback from supabase/rollbacks/<same file name>"
        }
        MigrationStyle::Sqlx => "add its <version>_name.down.sql (and rename the up file .up.sql)",
        MigrationStyle::Pgperf => "add its NNNN_name.rollback.sql",
    };
    format!("migration {migration} has no down file, so it cannot be reverted: {hint}")
}

/// The rollback file name of a migration file: `0002_b.sql` -> `0002_b.rollback.sql`.
fn rollback_name(file: &str) -> String {
    format!("{}.rollback.sql", file.strip_suffix(".sql").unwrap_or(file))
}
