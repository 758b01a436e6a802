//! `pgperf advise`: propose indexes for a workload, verify them by measurement, and write a
//! reversible migration pair plus `reports/<run-id>/advice.json` and its `report.html`.

use std::path::{Path, PathBuf};

use anyhow::Context;
use chrono::Utc;

use super::advise_migration::Destination;
use super::target::TargetArgs;
use super::{Outcome, UsageError};
use crate::advise::{self, AdviseOptions, VerifyOptions};
use crate::model::advice::{ADVICE_SCHEMA_VERSION, AdviceResult};

#[derive(Debug, clap::Args)]
pub struct AdviseArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// Workload file [default: `workload` in pgperf.toml, else the bundled dashboard workload].
    #[arg(long, value_name = "FILE")]
    pub workload: Option<PathBuf>,
    /// Storage budget for all new indexes together, in MB.
    #[arg(long, value_name = "N")]
    pub budget_mb: Option<u64>,
    /// Most key columns per index.
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub max_columns: usize,
    /// Skip verification by real builds and measurement (advice rests on planner estimates).
    #[arg(long)]
    pub no_verify: bool,
    /// Most executions per query and side during verification (at least 59); a query the first
    /// 20 before and 59 after already show faster beyond noise stops there.
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub executions: u64,
    /// A query slower than this (one probe execution, in ms) gets only the executions that fit
    /// in 1 s per side during verification, at least 12: compared on its median, both ways.
    #[arg(long, value_name = "MS", default_value_t = 50)]
    pub verify_max_ms: u64,
    /// Time verification may take in all rounds ("30s", "5m"), screening and index builds
    /// included: queries whose timed executions no longer fit are judged on one execution per
    /// side (buffers first), both sittings shrink to fit, and the second goes only to queries
    /// whose decision is still open.
    #[arg(long, value_name = "DURATION", default_value = "30s")]
    pub verify_budget: String,
    /// Allow real index builds on a database that is not the embedded one: CREATE INDEX in a
    /// rolled-back transaction blocks writes to the table while it builds. Verification always
    /// builds; without HypoPG in the database, so does costing (also with --no-verify).
    #[arg(long)]
    pub allow_locks: bool,
    /// Folder for <run-id>/advice.json [default: `out` in pgperf.toml, else reports].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub single: super::advise_query::SingleQueryArgs,
    /// Report a workload query the server rejects as a warning instead of an error (exit 3).
    #[arg(long)]
    pub accept_errors: bool,
}

pub fn run(args: AdviseArgs) -> anyhow::Result<Outcome> {
    let mut options = options(&args)?;
    let project = super::config::ProjectConfig::load(args.target.config.as_deref())?;
    let workload = match &args.single.query {
        Some(sql) => super::advise_query::workload(sql, &args.single)?,
        None => {
            super::bench::load_workload(args.workload.as_deref().or(project.workload.as_deref()))?
        }
    };
    let out = args
        .out
        .clone()
        .or(project.out.clone())
        .unwrap_or_else(|| PathBuf::from("reports"));
    let run_id = format!("{}-advise", Utc::now().format("%Y%m%dT%H%M%SZ"));
    let destination = Destination::choose(&args.target, &project, &out.join(&run_id))?;
    if args.single.query.is_none() {
        eprintln!("{}", destination.announce());
    }
    let target = args.target.prepare(project)?;
    let mut client = target.connect()?;
    options.may_lock = target.target.embedded || args.allow_locks;
    if !options.may_lock {
        refuse_locks(&mut client, options.verify.is_some())?;
    }
    let _lock = advise::lock::acquire(target.connect()?)?;
    if args.single.query.is_some() {
        return super::advise_query::run(&mut client, &workload, &options, &args.single);
    }
    let started_at = Utc::now();
    let advice = advise::advise(&mut client, &workload, &options).context("advise failed")?;
    let phases: Vec<String> = advice
        .phases
        .iter()
        .map(|(phase, took)| format!("{phase} {:.1} s", took.as_secs_f64()))
        .collect();
    eprintln!("pgperf: advise took {}", phases.join(", "));
    let mut result = AdviceResult {
        schema_version: ADVICE_SCHEMA_VERSION,
        run_id,
        started_at,
        finished_at: Utc::now(),
        target: target.target.clone(),
        workload_name: workload.name.clone(),
        what_if: advice.what_if,
        verification: advice.verification,
        budget_bytes: options.budget_bytes,
        recommendations: advice.recommendations,
        rejected: advice.rejected,
        statistics: advice.statistics,
        rejected_statistics: advice.rejected_statistics,
        queries: advice.queries,
        existing_indexes: advice.existing_indexes,
        migration: None,
        notes: advice.notes,
    };
    if !result.recommendations.is_empty() || !result.statistics.is_empty() {
        result.migration = Some(destination.write(&mut result, Utc::now())?);
    }
    write_result(&out, &result)?;
    print!("{}", advise::render::render(&result, terminal_width()));
    judge_rejections(&result, args.accept_errors)?;
    Ok(Outcome::Success)
}

/// A workload query the server refuses to plan got no advice: a runtime error (exit 3, after
/// the advice is written) naming it, or with `accept_errors` a warning.
fn judge_rejections(result: &AdviceResult, accept_errors: bool) -> anyhow::Result<()> {
    let rejected: Vec<String> = result
        .queries
        .iter()
        .filter_map(|query| {
            let error = query.server_error()?;
            Some(format!(
                "the server rejected query \"{}\", so it got no advice: {error}",
                query.name
            ))
        })
        .collect();
    super::refuse_errors(
        &rejected,
        accept_errors,
        "the advice for the other queries was written",
    )
}

/// Real index builds block writes on a user's database: verification always builds, and
/// without HypoPG so does the what-if costing, even with `--no-verify`. Each needs
/// `--allow-locks`; the message names the lock-free way only when there is one.
fn refuse_locks(client: &mut postgres::Client, verify: bool) -> anyhow::Result<()> {
    let hypopg = client
        .query_opt("SELECT 1 FROM pg_extension WHERE extname = 'hypopg'", &[])
        .map_err(|e| anyhow::anyhow!(crate::pg::describe(&e)))
        .context("cannot tell whether HypoPG is installed")?
        .is_some();
    let text = match (verify, hypopg) {
        (true, true) => {
            "verification builds each recommended index inside a rolled-back transaction, which blocks writes to its table while it builds; pass --allow-locks to accept that, or --no-verify to rest on HypoPG's estimates (no locks)"
        }
        (true, false) => {
            "verification builds each recommended index inside a rolled-back transaction, which blocks writes to its table while it builds; pass --allow-locks to accept that. --no-verify does not avoid it here: HypoPG is not installed in this database, so candidates are costed by real builds too; CREATE EXTENSION hypopg for lock-free estimates"
        }
        (false, false) => {
            "HypoPG is not installed in this database, so even with --no-verify every candidate is costed by a real build inside a rolled-back transaction, which blocks writes to its table while it builds; pass --allow-locks to accept that, or CREATE EXTENSION hypopg for lock-free estimates"
        }
        (false, true) => return Ok(()),
    };
    Err(UsageError(text.to_string()).into())
}

fn options(args: &AdviseArgs) -> anyhow::Result<AdviseOptions> {
    if args.max_columns == 0 {
        return Err(UsageError("--max-columns must be at least 1".into()).into());
    }
    if !args.no_verify && args.executions < 59 {
        return Err(UsageError(format!(
            "--executions {} is too few: a P95 interval needs at least 59 executions per side",
            args.executions
        ))
        .into());
    }
    let verify_budget = crate::workload::params::parse_duration(&args.verify_budget)
        .ok()
        .and_then(|budget| budget.to_std().ok())
        .ok_or_else(|| {
            UsageError(format!(
                "--verify-budget {:?} is not a duration: write a whole number and a unit (\"30s\", \"5m\")",
                args.verify_budget
            ))
        })?;
    Ok(AdviseOptions {
        max_columns: args.max_columns,
        budget_bytes: args.budget_mb.map(|mb| mb * 1024 * 1024),
        verify: (!args.no_verify).then(|| VerifyOptions {
            executions: args.executions,
            max_execution_ms: args.verify_max_ms,
            budget_ms: Some(verify_budget.as_millis() as u64),
            ..VerifyOptions::default()
        }),
        ..AdviseOptions::default()
    })
}

fn write_result(out: &Path, result: &AdviceResult) -> anyhow::Result<()> {
    let dir = out.join(&result.run_id);
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("cannot create the report folder {}", dir.display()))?;
    let path = dir.join("advice.json");
    let json = serde_json::to_string_pretty(result).context("cannot serialise the advice")?;
    std::fs::write(&path, json).with_context(|| format!("cannot write {}", path.display()))?;
    let page = super::report::write_beside(&path, &crate::report::render_advice(result))?;
    eprintln!("pgperf: wrote {} and {}", path.display(), page.display());
    Ok(())
}

fn terminal_width() -> u16 {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(120)
}
