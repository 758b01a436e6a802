//! Where `pgperf advise` writes its migration, decided (and said) before any work starts: the
//! migrations folder the user named, in that folder's own style and numbering; else a
//! Supabase project's `supabase/migrations`; else the run's report folder, numbered after the
//! migrations the database was built from. It never numbers into a folder it did not read.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use super::config::ProjectConfig;
use super::target::TargetArgs;
use crate::migrate::{self, MigrationSet, MigrationStyle, NewMigration};
use crate::model::advice::{AdviceResult, MigrationFiles};

/// The folder a Supabase project keeps its migrations in.
const SUPABASE_DIR: &str = "supabase/migrations";

/// The folder advise writes into, read before the run.
pub struct Destination {
    pub dir: PathBuf,
    /// What the folder already holds (numbering continues after it).
    pub set: MigrationSet,
    /// Why this folder, for the line printed before the run.
    pub why: String,
}

impl Destination {
    /// Chooses and reads the folder. `run_dir` is the run's report folder.
    pub fn choose(
        target: &TargetArgs,
        project: &ProjectConfig,
        run_dir: &Path,
    ) -> anyhow::Result<Destination> {
        let style = project.style(target.migration_style);
        let named = target.migrations.clone().or(project.migrations.clone());
        if let Some(dir) = named {
            let set = match dir.is_dir() {
                true => super::migrate::load_folder(&dir, style)?,
                false => MigrationSet {
                    style: style.unwrap_or_default(),
                    migrations: Vec::new(),
                },
            };
            return Ok(Destination {
                why: "your migrations folder".into(),
                dir,
                set,
            });
        }
        let supabase = PathBuf::from(SUPABASE_DIR);
        if supabase.is_dir() {
            return Ok(Destination {
                set: super::migrate::load_folder(
                    &supabase,
                    style.or(Some(MigrationStyle::Supabase)),
                )?,
                dir: supabase,
                why: "this Supabase project's folder".into(),
            });
        }
        let embedded = target.db.is_none() && project.db.is_none();
        let migrations = match embedded {
            // The embedded database was built from the bundled migrations: number after them.
            true => migrate::pair_files(crate::bundled::migration_files())?,
            false => Vec::new(),
        };
        Ok(Destination {
            dir: run_dir.join("migrations"),
            set: MigrationSet {
                style: style.unwrap_or_default(),
                migrations,
            },
            why: "the run's report folder, as no migrations folder was given (pass --migrations DIR to add it to yours)".into(),
        })
    }

    /// The line printed before the run starts.
    pub fn announce(&self) -> String {
        let after = match self.set.iter().max_by_key(|m| m.version) {
            Some(last) => format!(", after {}", last.label()),
            None => String::new(),
        };
        format!(
            "pgperf: advise will write its migration ({} style{after}) into {}: {}",
            self.set.style,
            self.dir.display(),
            self.why
        )
    }

    /// Writes the migration for `result`'s recommendations and extended statistics; sqlx gets
    /// one migration per index (it sends a no-transaction file as one query, where PostgreSQL
    /// allows only one `CREATE INDEX CONCURRENTLY`), said in a note, and one for all the
    /// statistics (`CREATE STATISTICS` and `ANALYZE` may share a transaction).
    pub fn write(
        &self,
        result: &mut AdviceResult,
        now: DateTime<Utc>,
    ) -> anyhow::Result<MigrationFiles> {
        let (recommendations, statistics) = (&result.recommendations, &result.statistics);
        let migrations: Vec<NewMigration> = match self.set.style {
            MigrationStyle::Sqlx => {
                let mut each: Vec<NewMigration> = recommendations
                    .iter()
                    .map(|r| {
                        new_migration(&format!("pgperf_{}", r.name), std::slice::from_ref(r), &[])
                    })
                    .collect();
                if !statistics.is_empty() {
                    each.push(new_migration("pgperf_statistics", &[], statistics));
                }
                each
            }
            _ => vec![new_migration("pgperf_indexes", recommendations, statistics)],
        };
        let pairs = migrate::new_files(&self.set, &self.dir, now, &migrations);
        let files: Vec<migrate::NewFile> = pairs
            .iter()
            .flat_map(|(up, down)| [up.clone(), down.clone()])
            .collect();
        migrate::write_files(&files)?;
        if pairs.len() > 1 {
            let names: Vec<String> = pairs
                .iter()
                .map(|(up, _)| up.path.display().to_string())
                .collect();
            result.notes.push(format!(
                "sqlx runs a -- no-transaction file as one query, where PostgreSQL allows only one CREATE INDEX CONCURRENTLY: each index (and the extended statistics together) has its own migration: {}",
                names.join(", ")
            ));
        }
        let (up, down) = pairs
            .first()
            .expect("advise writes a migration only for at least one recommendation");
        Ok(MigrationFiles {
            up_path: up.path.display().to_string(),
            down_path: down.path.display().to_string(),
            up_sql: up.text.clone(),
            down_sql: down.text.clone(),
        })
    }
}

fn new_migration(
    name: &str,
    recommendations: &[crate::model::advice::Recommendation],
    statistics: &[crate::model::advice::StatisticsRecommendation],
) -> NewMigration {
    let (up_sql, down_sql) = crate::advise::ddl::migration_pair(recommendations, statistics);
    NewMigration {
        name: name.to_string(),
        up_sql,
        down_sql,
    }
}
