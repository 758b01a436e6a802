//! The migration folder styles pgperf reads and writes: its own (`NNNN_name.sql` with
//! `NNNN_name.rollback.sql`), Supabase's (`supabase/migrations/<timestamp>_name.sql`, no down
//! files) and sqlx's (`<version>_name.up.sql` / `.down.sql` pairs, or single
//! `<version>_name.sql`). Pure: file names in, a style or a file kind out.

use std::path::Path;

use super::MigrateError;

/// Whose conventions a migrations folder follows; decides file names, tracking table and how
/// a new migration is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MigrationStyle {
    /// `NNNN_name.sql` + `NNNN_name.rollback.sql`, tracked in `pgperf.schema_migrations`.
    #[default]
    Pgperf,
    /// `supabase/migrations/<14-digit timestamp>_name.sql`, tracked in
    /// `supabase_migrations.schema_migrations`; rollbacks (pgperf's) in `supabase/rollbacks/`.
    Supabase,
    /// sqlx-cli's `<version>_name.up.sql`/`.down.sql` or `<version>_name.sql`, tracked in
    /// `_sqlx_migrations` with a SHA-384 checksum.
    Sqlx,
}

impl std::fmt::Display for MigrationStyle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            MigrationStyle::Pgperf => "pgperf",
            MigrationStyle::Supabase => "supabase",
            MigrationStyle::Sqlx => "sqlx",
        })
    }
}

/// What one file is, in its style.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// Applies a change and has (or needs) a down file.
    Up,
    /// Undoes the up file with the same version.
    Down,
    /// Applies a change; the style has no down file for it.
    Single,
}

/// A file name taken apart: version digits as written, name, kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileName<'a> {
    pub version_text: &'a str,
    pub name: &'a str,
    pub kind: FileKind,
}

impl MigrationStyle {
    /// How this style names its files, for messages.
    pub fn naming(self) -> &'static str {
        match self {
            MigrationStyle::Pgperf => "NNNN_name.sql with NNNN_name.rollback.sql",
            MigrationStyle::Supabase => {
                "<14-digit timestamp>_name.sql, as `supabase migration new name` writes"
            }
            MigrationStyle::Sqlx => {
                "<version>_name.sql, or <version>_name.up.sql with <version>_name.down.sql, as `sqlx migrate add` writes"
            }
        }
    }

    /// Takes a file name apart; `None` when it is not a migration name in this style.
    pub fn parse(self, file_name: &str) -> Option<FileName<'_>> {
        let (stem, kind) = match self {
            MigrationStyle::Pgperf => match file_name.strip_suffix(".rollback.sql") {
                Some(stem) => (stem, FileKind::Down),
                None => (file_name.strip_suffix(".sql")?, FileKind::Up),
            },
            MigrationStyle::Supabase => (file_name.strip_suffix(".sql")?, FileKind::Single),
            MigrationStyle::Sqlx => {
                if let Some(stem) = file_name.strip_suffix(".up.sql") {
                    (stem, FileKind::Up)
                } else if let Some(stem) = file_name.strip_suffix(".down.sql") {
                    (stem, FileKind::Down)
                } else {
                    (file_name.strip_suffix(".sql")?, FileKind::Single)
                }
            }
        };
        let (version_text, name) = stem.split_once('_')?;
        let digits = !version_text.is_empty() && version_text.bytes().all(|b| b.is_ascii_digit());
        (digits && !name.is_empty() && version_text.parse::<i64>().is_ok()).then_some(FileName {
            version_text,
            name,
            kind,
        })
    }

    /// The folder beside a Supabase `migrations` folder where pgperf keeps rollbacks, so the
    /// Supabase CLI (which applies every `.sql` file in `migrations`) never runs one.
    pub fn rollbacks_dir(self, dir: &Path) -> Option<std::path::PathBuf> {
        (self == MigrationStyle::Supabase)
            .then(|| dir.parent().unwrap_or(Path::new(".")).join("rollbacks"))
    }
}

/// Tells a folder's style from its path and file names: a `.rollback.sql` is pgperf's, an
/// `.up.sql`/`.down.sql` sqlx's, a folder at `supabase/migrations` Supabase's, an empty folder
/// pgperf's. Single `NNNN_name.sql` files elsewhere could be sqlx's or Supabase's: that is
/// asked of the user rather than guessed.
pub fn detect(dir: &Path, file_names: &[String]) -> Result<MigrationStyle, MigrateError> {
    let sql: Vec<&String> = file_names.iter().filter(|n| n.ends_with(".sql")).collect();
    if sql.iter().any(|n| n.ends_with(".rollback.sql")) {
        return Ok(MigrationStyle::Pgperf);
    }
    if sql
        .iter()
        .any(|n| n.ends_with(".up.sql") || n.ends_with(".down.sql"))
    {
        return Ok(MigrationStyle::Sqlx);
    }
    if is_supabase_dir(dir) {
        return Ok(MigrationStyle::Supabase);
    }
    if sql.is_empty() {
        return Ok(MigrationStyle::Pgperf);
    }
    Err(MigrateError::AmbiguousStyle {
        dir: dir.to_path_buf(),
    })
}

/// `…/supabase/migrations`, the folder `supabase init` creates.
fn is_supabase_dir(dir: &Path) -> bool {
    let mut parts = dir
        .components()
        .rev()
        .map(|c| c.as_os_str().to_string_lossy());
    parts.next().as_deref() == Some("migrations") && parts.next().as_deref() == Some("supabase")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn detects_each_style_from_names_and_path() {
        let style = |dir: &str, list: &[&str]| detect(Path::new(dir), &names(list));
        assert_eq!(
            style("m", &["0001_a.sql", "0001_a.rollback.sql"]).expect("pgperf"),
            MigrationStyle::Pgperf
        );
        assert_eq!(
            style("m", &["1_init.up.sql", "1_init.down.sql"]).expect("sqlx"),
            MigrationStyle::Sqlx
        );
        assert_eq!(
            style("app/supabase/migrations", &["20240101120000_init.sql"]).expect("supabase"),
            MigrationStyle::Supabase
        );
        assert_eq!(style("m", &[]).expect("empty"), MigrationStyle::Pgperf);
        let error = style("m", &["20240101120000_init.sql"]).expect_err("ambiguous");
        assert!(error.to_string().contains("--migration-style"), "{error}");
    }

    #[test]
    fn parses_names_per_style() {
        let sqlx = MigrationStyle::Sqlx;
        assert_eq!(
            sqlx.parse("20240101120000_add_users.up.sql"),
            Some(FileName {
                version_text: "20240101120000",
                name: "add_users",
                kind: FileKind::Up
            })
        );
        assert_eq!(
            sqlx.parse("3_x.sql").map(|f| f.kind),
            Some(FileKind::Single)
        );
        assert_eq!(
            MigrationStyle::Pgperf
                .parse("0002_x.rollback.sql")
                .map(|f| f.kind),
            Some(FileKind::Down)
        );
        assert_eq!(MigrationStyle::Supabase.parse("init.sql"), None);
        assert_eq!(MigrationStyle::Supabase.parse("x_init.sql"), None);
    }
}
