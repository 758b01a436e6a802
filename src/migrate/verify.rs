//! `pgperf migrate verify`: proves every migration is reversible. For each migration in order:
//! apply it, revert it and check the catalog is exactly as before, apply it again and check the
//! catalog is exactly as after the first apply; at the end revert everything and compare with
//! the empty start. The first difference names the migration and the catalog lines that differ.
//! A migration without a down file (Supabase's, sqlx's single files) is applied but cannot be
//! proven reversible: the report names each, and the final full revert is skipped.

use postgres::Client;

use super::{MigrateError, Migration, apply};

const SNAPSHOT_SQL: &str = include_str!("catalog_snapshot.sql");

/// A sorted list of catalog facts (see `catalog_snapshot.sql`).
pub type CatalogSnapshot = Vec<String>;

/// Reads the catalog snapshot of the connected database.
pub fn snapshot(client: &mut Client) -> Result<CatalogSnapshot, MigrateError> {
    Ok(client
        .query(SNAPSHOT_SQL, &[])?
        .iter()
        .map(|row| row.get::<_, String>(0))
        .collect())
}

/// What verify checked, for the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// Migrations checked, in order.
    pub migrations: Vec<String>,
    /// Catalog lines after all migrations are applied.
    pub catalog_lines: usize,
    /// Migrations applied but not proven reversible for want of a down file.
    pub unverified: Vec<String>,
}

/// Runs the up/down/up cycle on `client`, which must be a scratch database with none of the
/// migrations applied: verification drops everything the migrations create.
pub fn verify(client: &mut Client, set: &[Migration]) -> Result<VerifyReport, MigrateError> {
    if !apply::applied(client, set)?.is_empty() {
        return Err(MigrateError::VerifyNeedsEmptyDatabase);
    }
    let start = snapshot(client)?;
    let mut unverified = Vec::new();
    for (index, migration) in set.iter().enumerate() {
        let before = snapshot(client)?;
        apply::up(client, set, Some(migration.version))?;
        if migration.down_sql.is_none() {
            unverified.push(migration.label());
            continue;
        }
        let after = snapshot(client)?;
        apply::down(client, set, 1)?;
        compare(&before, &snapshot(client)?, migration, "after up then down")?;
        apply::up(client, set, Some(migration.version))?;
        compare(
            &after,
            &snapshot(client)?,
            migration,
            "after up, down, up again",
        )?;
        debug_assert_eq!(apply::applied(client, set)?.len(), index + 1);
    }
    let full = snapshot(client)?;
    if !unverified.is_empty() {
        return Ok(VerifyReport {
            migrations: set.iter().map(Migration::label).collect(),
            catalog_lines: full.len(),
            unverified,
        });
    }
    apply::down(client, set, set.len())?;
    if let Some(last) = set.first() {
        compare(
            &start,
            &snapshot(client)?,
            last,
            "after reverting every migration",
        )?;
    }
    apply::up(client, set, None)?;
    if let Some(last) = set.last() {
        compare(
            &full,
            &snapshot(client)?,
            last,
            "after applying every migration again",
        )?;
    }
    Ok(VerifyReport {
        migrations: set.iter().map(Migration::label).collect(),
        catalog_lines: full.len(),
        unverified,
    })
}

fn compare(
    expected: &CatalogSnapshot,
    actual: &CatalogSnapshot,
    migration: &Migration,
    stage: &str,
) -> Result<(), MigrateError> {
    if expected == actual {
        return Ok(());
    }
    Err(MigrateError::NotReversible {
        migration: migration.label(),
        stage: stage.to_string(),
        diff: diff_lines(expected, actual),
    })
}

/// Lines only in `expected` (`- `) and only in `actual` (`+ `), at most 40 of them.
pub fn diff_lines(expected: &[String], actual: &[String]) -> String {
    let missing = expected
        .iter()
        .filter(|line| actual.binary_search(line).is_err())
        .map(|line| format!("- {line}"));
    let extra = actual
        .iter()
        .filter(|line| expected.binary_search(line).is_err())
        .map(|line| format!("+ {line}"));
    let lines: Vec<String> = missing.chain(extra).collect();
    let shown = lines.len().min(40);
    let mut text = lines[..shown].join("\n");
    if lines.len() > shown {
        text.push_str(&format!("\n… and {} more", lines.len() - shown));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::diff_lines;

    #[test]
    fn diff_shows_both_sides() {
        let a = vec!["a".to_string(), "b".to_string()];
        let b = vec!["b".to_string(), "c".to_string()];
        assert_eq!(diff_lines(&a, &b), "- a\n+ c");
    }
}
