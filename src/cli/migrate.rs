//! `pgperf migrate up|down|status|verify`.

use std::path::{Path, PathBuf};

use anyhow::Context;
use comfy_table::Table;

use super::config::{MigrationStyleArg, ProjectConfig};
use super::target::{connect, connect_url, parse_url};
use super::{Outcome, UsageError};
use crate::citus::CitusCluster;
use crate::embedded::{Cluster, ClusterOptions};
use crate::migrate::{self, MigrationSet, MigrationState, MigrationStyle};

#[derive(Debug, clap::Args)]
pub struct MigrateArgs {
    #[command(subcommand)]
    action: Action,
    /// Database to migrate (up, down, status). verify uses a scratch database: on this server
    /// when given, else on a private throwaway PostgreSQL.
    #[arg(
        long,
        env = "DATABASE_URL",
        hide_env_values = true,
        value_name = "URL",
        global = true
    )]
    db: Option<String>,
    /// Migrations folder [default: `migrations` from pgperf.toml, else ./migrations, else
    /// ./supabase/migrations].
    #[arg(long, value_name = "DIR", global = true)]
    dir: Option<PathBuf>,
    /// Whose conventions the folder follows (file names, and the table that records applied
    /// migrations): pgperf, supabase or sqlx, or auto to tell from the folder [default: auto].
    #[arg(long, value_name = "STYLE", global = true)]
    migration_style: Option<MigrationStyleArg>,
    /// Project config file [default: ./pgperf.toml when present].
    #[arg(long, value_name = "FILE", global = true)]
    config: Option<PathBuf>,
    /// verify without --db: prove the migrations on a throwaway Citus coordinator with N
    /// workers (DDL that Citus refuses, or that needs its own functions, fails here).
    #[arg(long, value_name = "N", global = true, value_parser = clap::value_parser!(u16).range(1..=16))]
    citus_workers: Option<u16>,
}

#[derive(Debug, clap::Subcommand)]
enum Action {
    /// Apply pending migrations, in order.
    Up {
        /// Stop after this version.
        #[arg(long, value_name = "VERSION")]
        to: Option<i64>,
    },
    /// Revert the most recent migrations with their rollback files.
    Down {
        /// How many to revert.
        #[arg(long, default_value_t = 1, conflicts_with = "all")]
        steps: usize,
        /// Revert every applied migration.
        #[arg(long)]
        all: bool,
    },
    /// List migrations and whether each is applied, pending, changed or missing.
    Status,
    /// Prove every migration reversible: up, down, up with an identical catalog each time.
    Verify,
}

pub fn run(args: MigrateArgs) -> anyhow::Result<Outcome> {
    let project = ProjectConfig::load(args.config.as_deref())?;
    let dir = args
        .dir
        .clone()
        .or(project.migrations.clone())
        .unwrap_or_else(default_dir);
    let set = load_folder(&dir, project.style(args.migration_style))?;
    let url = args.db.clone().or(project.db.clone());
    if args.citus_workers.is_some() && (url.is_some() || !matches!(args.action, Action::Verify)) {
        return Err(UsageError(
            "--citus-workers starts a throwaway Citus cluster, which only migrate verify without a database uses; drop --citus-workers, or run verify without --db".into(),
        )
        .into());
    }
    match args.action {
        Action::Verify => verify(url.as_deref(), &set, args.citus_workers),
        action => {
            let url = url.ok_or_else(|| {
                UsageError("migrate up, down and status need a database: pass --db URL or set DATABASE_URL".into())
            })?;
            apply(&mut connect_url(&url)?, &set, action)
        }
    }
}

/// `./migrations`, or a Supabase project's `./supabase/migrations` when only that exists.
fn default_dir() -> PathBuf {
    let supabase = PathBuf::from("supabase/migrations");
    match !Path::new("migrations").is_dir() && supabase.is_dir() {
        true => supabase,
        false => PathBuf::from("migrations"),
    }
}

/// Reads a migrations folder in `style` (detected when `None`); a folder that is not one is a
/// usage error (exit 2) naming the style's file names.
pub fn load_folder(dir: &Path, style: Option<MigrationStyle>) -> anyhow::Result<MigrationSet> {
    if !dir.is_dir() {
        return Err(UsageError(format!(
            "the migrations folder {} does not exist; pass --dir DIR",
            dir.display()
        ))
        .into());
    }
    migrate::load_dir_as(dir, style).map_err(usage_or_runtime)
}

fn apply(
    client: &mut postgres::Client,
    set: &MigrationSet,
    action: Action,
) -> anyhow::Result<Outcome> {
    match action {
        Action::Up { to } => {
            let applied = migrate::up(client, set, to)?;
            for migration in &applied {
                println!("applied {}", migration.label());
            }
            if applied.is_empty() {
                println!("nothing to apply: the database is up to date");
            }
        }
        Action::Down { steps, all } => {
            let steps = if all { usize::MAX } else { steps };
            let reverted = migrate::down(client, set, steps).map_err(usage_or_runtime)?;
            for migration in &reverted {
                println!("reverted {}", migration.label());
            }
            if reverted.is_empty() {
                println!("nothing to revert");
            }
        }
        Action::Status => {
            let rows = migrate::status(client, set)?;
            println!(
                "{} migrations, tracked in {}",
                set.style,
                migrate::tracking_table(set.style)
            );
            println!("{}", status_table(&rows));
            let drift = rows.iter().any(|r| {
                matches!(
                    r.state,
                    MigrationState::Changed(_) | MigrationState::MissingFile(_)
                )
            });
            if drift {
                return Ok(Outcome::Findings);
            }
        }
        Action::Verify => unreachable!("verify is handled before connecting"),
    }
    Ok(Outcome::Success)
}

fn status_table(rows: &[migrate::MigrationStatus]) -> Table {
    let mut table = Table::new();
    table.load_preset(comfy_table::presets::UTF8_BORDERS_ONLY);
    table.set_header(["version", "name", "state", "applied at"]);
    for row in rows {
        let at = |a: &migrate::AppliedMigration| {
            a.applied_at
                .map_or_else(|| "(not recorded)".to_string(), |at| at.to_rfc3339())
        };
        let (state, applied_at) = match &row.state {
            MigrationState::Applied(a) => ("applied", at(a)),
            MigrationState::Pending => ("pending", String::new()),
            MigrationState::Changed(a) => ("CHANGED since applied", at(a)),
            MigrationState::MissingFile(a) => ("applied, FILE MISSING", at(a)),
        };
        table.add_row([
            format!("{:04}", row.version),
            row.name.clone(),
            state.into(),
            applied_at,
        ]);
    }
    table
}

/// Verifies on a scratch database: a new one on the user's server (dropped afterwards), or a
/// private throwaway cluster (a Citus coordinator and `citus_workers` workers when given).
fn verify(
    url: Option<&str>,
    set: &MigrationSet,
    citus_workers: Option<u16>,
) -> anyhow::Result<Outcome> {
    let scratch = format!("pgperf_verify_{}", std::process::id());
    let report = match url {
        Some(url) => {
            let redacted = crate::pg::redact_url(url);
            let config = parse_url(url)?;
            let mut admin = connect(&config, &redacted)?;
            warn_about_leftover_scratch_databases(&mut admin);
            let name = crate::pg::quote_ident(&scratch);
            admin
                .batch_execute(&format!("CREATE DATABASE {name}"))
                .map_err(|e| anyhow::anyhow!(crate::pg::describe(&e)))
                .context(
                    "verify needs to create a scratch database: grant CREATEDB to this user",
                )?;
            let mut scratch_config = config.clone();
            scratch_config.dbname(&scratch);
            let result = connect(&scratch_config, &redacted)
                .and_then(|mut client| Ok(migrate::verify(&mut client, set)?));
            let dropped =
                admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
            let report = result?;
            dropped.map_err(|e| {
                anyhow::anyhow!(
                    "verify passed but dropping the scratch database {scratch} failed: {}",
                    crate::pg::describe(&e)
                )
            })?;
            report
        }
        None => {
            // Kept alive until verify is done; dropping them stops and removes every node.
            let (cluster, _workers) = throwaway_cluster(&scratch, citus_workers)?;
            let mut client = cluster
                .connect(&scratch)
                .map_err(|e| anyhow::anyhow!(crate::pg::describe(&e)))?;
            migrate::verify(&mut client, set)?
        }
    };
    print!("{}", verify_summary(&report, set.style));
    Ok(Outcome::Success)
}

/// A private cluster holding the database `name`: one PostgreSQL, or a Citus coordinator (the
/// first value) and its workers.
fn throwaway_cluster(
    name: &str,
    citus_workers: Option<u16>,
) -> anyhow::Result<(Cluster, Vec<Cluster>)> {
    let options = ClusterOptions::default();
    let Some(workers) = citus_workers else {
        let cluster = Cluster::start(&options).context("cannot start the embedded PostgreSQL")?;
        cluster
            .create_database(name)
            .map_err(|e| anyhow::anyhow!(crate::pg::describe(&e)))?;
        return Ok((cluster, Vec::new()));
    };
    let citus = CitusCluster::start(&options, usize::from(workers), name)
        .context("cannot start the embedded Citus cluster")?;
    eprintln!(
        "pgperf: verifying on a private Citus cluster: a coordinator and {workers} worker(s)"
    );
    Ok((citus.coordinator, citus.workers))
}

/// What verify proved, and which migrations it could not prove for want of a down file.
fn verify_summary(report: &migrate::VerifyReport, style: MigrationStyle) -> String {
    let proven = report.migrations.len() - report.unverified.len();
    let mut text = format!(
        "verified {proven} of {} migrations: up, down and up again leave an identical catalog ({} catalog facts)\n",
        report.migrations.len(),
        report.catalog_lines
    );
    if !report.unverified.is_empty() {
        let where_downs = match style {
            MigrationStyle::Supabase => "supabase/rollbacks/<same file name>",
            MigrationStyle::Sqlx => "<version>_name.down.sql beside <version>_name.up.sql",
            MigrationStyle::Pgperf => "NNNN_name.rollback.sql",
        };
        text.push_str(&format!(
            "not verified, no down file ({}): {}\n  they apply cleanly; add a down file ({where_downs}) to prove one reversible\n",
            report.unverified.len(),
            report.unverified.join(", ")
        ));
    }
    text
}

/// A refusal that is the folder's fault (no down file to revert with) is a usage error.
fn usage_or_runtime(error: migrate::MigrateError) -> anyhow::Error {
    match error.is_usage() {
        true => UsageError(error.to_string()).into(),
        false => anyhow::Error::new(error),
    }
}

/// A verify that was killed (SIGKILL, power loss) cannot drop its scratch database; the next
/// verify on that server names any it finds, with the statement that removes each.
fn warn_about_leftover_scratch_databases(admin: &mut postgres::Client) {
    let Ok(rows) = admin.query(
        "SELECT datname::text FROM pg_database WHERE datname LIKE 'pgperf\\_verify\\_%' ORDER BY 1",
        &[],
    ) else {
        return;
    };
    for row in rows {
        let name: String = row.get(0);
        eprintln!(
            "pgperf: warning: {name} was left by an interrupted pgperf migrate verify; remove it with: DROP DATABASE {} WITH (FORCE);",
            crate::pg::quote_ident(&name)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verify_names_what_it_could_not_prove_and_where_the_down_files_go() {
        let report = migrate::VerifyReport {
            migrations: vec!["20240101120000_init".into(), "20240102120000_idx".into()],
            catalog_lines: 12,
            unverified: vec!["20240101120000_init".into()],
        };
        assert_eq!(
            verify_summary(&report, MigrationStyle::Supabase),
            "verified 1 of 2 migrations: up, down and up again leave an identical catalog (12 catalog facts)\n\
             not verified, no down file (1): 20240101120000_init\n  they apply cleanly; add a down file (supabase/rollbacks/<same file name>) to prove one reversible\n"
        );
    }
}
