//! `pgperf inspect`: the read-only health view of a live database (`crate::inspect`).

use std::path::PathBuf;

use anyhow::Context;

use super::config::ProjectConfig;
use super::{Outcome, UsageError};
use crate::inspect::{self, InspectOptions};

#[derive(Debug, clap::Args)]
pub struct InspectArgs {
    /// Database to inspect; inspect only reads, in a READ ONLY transaction.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true, value_name = "URL")]
    pub db: Option<String>,
    /// Output: a terminal table per question, or the whole report as JSON.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// A table with at least this many live rows counts as large for sequential scans.
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    pub large_table_rows: i64,
    /// List statements (and open transactions) running at least this many seconds.
    #[arg(long, value_name = "SECS", default_value_t = 60.0)]
    pub long_running_secs: f64,
    /// How many statements to list by total time.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub top: i64,
    /// Project config file [default: ./pgperf.toml when present].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
}

pub fn run(args: InspectArgs) -> anyhow::Result<Outcome> {
    let project = ProjectConfig::load(args.config.as_deref())?;
    let url = args.db.clone().or(project.db.clone()).ok_or_else(|| {
        UsageError("inspect needs a database: pass --db URL or set DATABASE_URL".into())
    })?;
    let options = options(&args)?;
    let mut client = super::target::connect_url(&url)?;
    let report = inspect::inspect(&mut client, &options).context("inspect failed")?;
    match args.format {
        Format::Table => print!("{}", inspect::render::render(&report)),
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&report).context("cannot serialise the report")?
        ),
    }
    Ok(Outcome::Success)
}

fn options(args: &InspectArgs) -> anyhow::Result<InspectOptions> {
    if !(args.long_running_secs.is_finite() && args.long_running_secs >= 0.0) {
        return Err(UsageError(
            "--long-running-secs must be a number of seconds, 0 or more".into(),
        )
        .into());
    }
    if args.top < 0 || args.large_table_rows < 0 {
        return Err(UsageError("--top and --large-table-rows must be 0 or more".into()).into());
    }
    Ok(InspectOptions {
        large_table_rows: args.large_table_rows,
        long_running_ms: (args.long_running_secs * 1e3) as u64,
        top_statements: args.top,
    })
}
