//! The database a command works on: the user's (`--db` / `DATABASE_URL` / `pgperf.toml`) or
//! the embedded default, created, migrated and seeded. Defined once and flattened into every
//! command that needs a database.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;

use super::UsageError;
use super::config::ProjectConfig;
use crate::citus::CitusCluster;
use crate::embedded::{Cluster, ClusterOptions};
use crate::migrate;
use crate::model;

/// How far to set up an embedded database (a user's database is never changed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setup {
    /// Migrations only: for `pgperf seed`, which seeds with its own options.
    Migrate,
    /// Migrations and the deterministic seed data: what bench, advise and check measure.
    MigrateAndSeed,
}

/// Name of the database pgperf creates in its embedded cluster.
pub const EMBEDDED_DATABASE: &str = "pgperf";

/// Connection options shared by every command.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct TargetArgs {
    /// Database to work on. Without it (and without DATABASE_URL or `db` in pgperf.toml),
    /// pgperf starts a private throwaway PostgreSQL, migrates and seeds it, and removes it on exit.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true, value_name = "URL")]
    pub db: Option<String>,
    /// Keep the embedded PostgreSQL running after pgperf exits, and print its URL.
    #[arg(long)]
    pub keep: bool,
    /// Migrations folder for the embedded database [default: the bundled control-center schema].
    #[arg(long, value_name = "DIR")]
    pub migrations: Option<PathBuf>,
    /// Whose conventions the migrations folder follows: pgperf (NNNN_name.rollback.sql),
    /// supabase (supabase/migrations, no down files) or sqlx (.up.sql/.down.sql), or auto to tell
    /// from the folder [default: auto].
    #[arg(long, value_name = "STYLE")]
    pub migration_style: Option<super::config::MigrationStyleArg>,
    /// Seeder scale for the embedded database; rows grow linearly, 1 is about 2.5 million
    /// rows, fractions such as 0.05 make quick runs [default: 1].
    #[arg(long, value_name = "N")]
    pub scale: Option<f64>,
    /// Seed of the data generator and of parameter draws [default: 42].
    #[arg(long, value_name = "N")]
    pub rng_seed: Option<u64>,
    /// Start the embedded PostgreSQL's clock at this instant (RFC 3339, e.g.
    /// 2026-12-02T12:00:00Z) and seed data ending that day, so `now()` and `current_date` see
    /// the same rows on every day; for committed baselines. Needs libfaketime.
    #[arg(long, value_name = "INSTANT")]
    pub clock: Option<chrono::DateTime<chrono::Utc>>,
    /// Make the embedded database distributed: a Citus coordinator and N workers on this
    /// machine (each its own throwaway server on a free 127.0.0.1 port), removed on exit like
    /// the single-node one. Needs the Citus extension (scripts/setup.sh installs it).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=16))]
    pub citus_workers: Option<u16>,
    /// Project config file [default: ./pgperf.toml when present].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// A database ready for work. Dropping it removes the embedded cluster (unless `--keep`).
pub struct PreparedTarget {
    /// How to connect.
    pub config: postgres::Config,
    /// What results record about the target (no password).
    pub target: model::Target,
    /// Scale the embedded database was seeded with.
    pub scale: Option<f64>,
    /// RNG seed used for seeding and parameters.
    pub rng_seed: u64,
    /// Where the seeded data ends (midnight UTC after the seeder's anchor date), when pgperf
    /// seeded the database.
    pub data_now: Option<chrono::DateTime<chrono::Utc>>,
    /// The project config the options were resolved with.
    pub project: ProjectConfig,
    /// The embedded cluster (the coordinator with `--citus-workers`), when pgperf started
    /// one; kept alive by this field.
    pub cluster: Option<Cluster>,
    /// The Citus workers of the embedded cluster, kept alive by this field.
    pub citus_workers: Vec<Cluster>,
}

impl TargetArgs {
    /// Resolves the target: connects to the user's database, or starts, migrates and seeds
    /// the embedded one.
    pub fn prepare(&self, project: ProjectConfig) -> anyhow::Result<PreparedTarget> {
        self.prepare_with(project, Setup::MigrateAndSeed)
    }

    /// Like [`TargetArgs::prepare`], choosing how far to set up an embedded database.
    /// `project` is the command's `pgperf.toml`, read once by the command.
    pub fn prepare_with(
        &self,
        project: ProjectConfig,
        setup: Setup,
    ) -> anyhow::Result<PreparedTarget> {
        let rng_seed = self.rng_seed.or(project.rng_seed).unwrap_or(42);
        match self.db.clone().or_else(|| project.db.clone()) {
            Some(url) => {
                if self.clock.is_some() {
                    return Err(UsageError(
                        "--clock pins the clock of pgperf's embedded PostgreSQL and cannot change your database's; drop --clock or the database URL".to_string(),
                    )
                    .into());
                }
                if self.citus_workers.is_some() {
                    return Err(UsageError(
                        "--citus-workers starts an embedded distributed cluster and cannot add workers to your database; drop --citus-workers or the database URL".to_string(),
                    )
                    .into());
                }
                eprintln!(
                    "pgperf: target {} ({})",
                    crate::pg::redact_url(&url),
                    self.origin(&project)
                );
                let config = user_database(&url)?;
                Ok(PreparedTarget {
                    target: model::Target {
                        embedded: false,
                        url_redacted: crate::pg::redact_url(&url),
                        database: config.get_dbname().unwrap_or_default().to_string(),
                        clock: None,
                    },
                    config,
                    scale: None,
                    rng_seed,
                    data_now: None,
                    project,
                    cluster: None,
                    citus_workers: Vec::new(),
                })
            }
            None => self.embedded(project, rng_seed, setup),
        }
    }

    /// Where the database URL came from, said on the first line so a `DATABASE_URL` left in
    /// the environment never takes over silently. clap merges the flag and the variable; equal
    /// values are reported as the environment's, the flag's otherwise.
    fn origin(&self, project: &ProjectConfig) -> &'static str {
        match &self.db {
            Some(url) if std::env::var("DATABASE_URL").is_ok_and(|env| env == *url) => {
                "from DATABASE_URL in the environment"
            }
            Some(_) => "from --db",
            None if project.db.is_some() => "from db in pgperf.toml",
            None => "embedded",
        }
    }

    /// The seeder scale these options ask for.
    pub fn scale(&self, project: &ProjectConfig) -> anyhow::Result<f64> {
        let scale = self.scale.or(project.scale).unwrap_or(1.0);
        if !(scale.is_finite() && scale > 0.0) {
            return Err(
                UsageError(format!("--scale must be a positive number, got {scale}")).into(),
            );
        }
        Ok(scale)
    }

    fn embedded(
        &self,
        project: ProjectConfig,
        rng_seed: u64,
        setup: Setup,
    ) -> anyhow::Result<PreparedTarget> {
        let scale = self.scale(&project)?;
        let seeded = setup == Setup::MigrateAndSeed;
        let expected_bytes = match seeded {
            true => crate::seed::estimated_cluster_bytes(scale),
            false => 0,
        };
        let (cluster, citus_workers) = self.start_embedded(expected_bytes)?;
        let mut client = cluster
            .connect(EMBEDDED_DATABASE)
            .map_err(|e| anyhow::anyhow!(crate::pg::describe(&e)))?;
        let migrations = self
            .migrations
            .clone()
            .or_else(|| project.migrations.clone());
        let style = project.style(self.migration_style);
        apply_migrations(&mut client, migrations.as_ref(), style)?;
        let data_now = match seeded {
            true => Some(seed_embedded(&mut client, scale, rng_seed, self.clock)?),
            false => None,
        };
        if self.keep {
            eprintln!(
                "pgperf: the embedded PostgreSQL keeps running (--keep): {}\n        stop it with: kill $(head -1 {}/data/postmaster.pid) && rm -rf {}",
                cluster.url(EMBEDDED_DATABASE),
                cluster.dir().display(),
                cluster.dir().display()
            );
        }
        Ok(PreparedTarget {
            config: cluster.config(EMBEDDED_DATABASE),
            target: model::Target {
                embedded: true,
                url_redacted: cluster.url(EMBEDDED_DATABASE),
                database: EMBEDDED_DATABASE.to_string(),
                clock: self.clock,
            },
            scale: seeded.then_some(scale),
            rng_seed,
            data_now,
            project,
            cluster: Some(cluster),
            citus_workers,
        })
    }

    /// Starts the embedded cluster with the (empty) database: one node, or a Citus
    /// coordinator and its workers; each where `expected_bytes` fits.
    fn start_embedded(&self, expected_bytes: u64) -> anyhow::Result<(Cluster, Vec<Cluster>)> {
        let options = ClusterOptions {
            keep: self.keep,
            clock: self.clock,
            expected_bytes,
            ..ClusterOptions::default()
        };
        let Some(workers) = self.citus_workers else {
            let cluster =
                Cluster::start(&options).context("cannot start the embedded PostgreSQL")?;
            eprintln!(
                "pgperf: started a private PostgreSQL in {} ({:.2} s)",
                cluster.dir().display(),
                cluster.startup_time().as_secs_f64()
            );
            cluster
                .create_database(EMBEDDED_DATABASE)
                .map_err(|e| anyhow::anyhow!(crate::pg::describe(&e)))
                .context("cannot create the embedded database")?;
            return Ok((cluster, Vec::new()));
        };
        let started = Instant::now();
        let citus = CitusCluster::start(&options, usize::from(workers), EMBEDDED_DATABASE)
            .context("cannot start the embedded Citus cluster")?;
        eprintln!(
            "pgperf: started a private Citus cluster: coordinator in {}, workers on ports {} ({:.2} s)",
            citus.coordinator.dir().display(),
            citus
                .workers
                .iter()
                .map(|worker| worker.port().to_string())
                .collect::<Vec<_>>()
                .join(", "),
            started.elapsed().as_secs_f64()
        );
        Ok((citus.coordinator, citus.workers))
    }
}

impl PreparedTarget {
    /// A new connection to the target.
    pub fn connect(&self) -> anyhow::Result<postgres::Client> {
        connect(&self.config, &self.target.url_redacted)
    }
}

/// Parses and checks the user's URL, so a bad URL or a refused connection fails before any
/// work starts, with the password removed from the message.
fn user_database(url: &str) -> anyhow::Result<postgres::Config> {
    let config = parse_url(url)?;
    connect(&config, &crate::pg::redact_url(url))?;
    Ok(config)
}

/// Parses a user's connection string (a bad one is a usage error, shown without password),
/// tagging pgperf's sessions with `application_name = pgperf`.
pub fn parse_url(url: &str) -> anyhow::Result<postgres::Config> {
    let mut config: postgres::Config = url.parse().map_err(|error| {
        UsageError(format!(
            "the database URL {} is not valid ({error}); use postgresql://user:password@host:port/dbname",
            crate::pg::redact_url(url)
        ))
    })?;
    config.application_name("pgperf");
    Ok(config)
}

/// Parses and connects to a user's connection string.
pub fn connect_url(url: &str) -> anyhow::Result<postgres::Client> {
    connect(&parse_url(url)?, &crate::pg::redact_url(url))
}

/// Connects, turning the driver's terse error into what failed and what to do.
pub fn connect(config: &postgres::Config, redacted: &str) -> anyhow::Result<postgres::Client> {
    config.connect(postgres::NoTls).map_err(|error| {
        anyhow::anyhow!(
            "cannot connect to {redacted}: {}; check that the server is running, the URL is right and the user may log in",
            crate::pg::describe(&error)
        )
    })
}

/// Applies `dir`'s migrations in `style` (detected when `None`), or the bundled
/// control-center schema.
fn apply_migrations(
    client: &mut postgres::Client,
    dir: Option<&PathBuf>,
    style: Option<migrate::MigrationStyle>,
) -> anyhow::Result<()> {
    let set = match dir {
        Some(dir) => super::migrate::load_folder(dir, style)?.migrations,
        None => migrate::pair_files(crate::bundled::migration_files())?,
    };
    let started = Instant::now();
    let applied =
        migrate::up(client, &set, None).context("migrating the embedded database failed")?;
    eprintln!(
        "pgperf: applied {} migrations ({:.2} s)",
        applied.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Seeds the embedded database with the bundled generator, reports the time it took, and
/// returns where the seeded history ends.
fn seed_embedded(
    client: &mut postgres::Client,
    scale: f64,
    rng_seed: u64,
    clock: Option<chrono::DateTime<chrono::Utc>>,
) -> anyhow::Result<chrono::DateTime<chrono::Utc>> {
    let options = crate::seed::SeedOptions {
        scale,
        rng_seed,
        anchor_date: clock.map(|instant| instant.date_naive()),
        ..crate::seed::SeedOptions::default()
    };
    let report =
        crate::seed::seed(client, &options).context("seeding the embedded database failed")?;
    eprintln!(
        "pgperf: seeded {} rows at scale {scale} ({:.1} s)",
        report.total_rows(),
        report.total.as_secs_f64()
    );
    let end = report.anchor_date.succ_opt().unwrap_or(report.anchor_date);
    Ok(end.and_time(chrono::NaiveTime::MIN).and_utc())
}
