//! `pgperf bench`: validate the workload, prepare the target, run, write
//! `reports/<run-id>/results.json` (also when the run stopped early), print the summary table.
//! Exit 1 when a P95 breaches its budget, 3 when the run could not finish or a query failed on
//! every execution (unless `--accept-errors`).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::Context;

use super::target::TargetArgs;
use super::{Outcome, UsageError};
use crate::bench::{self, BenchContext, table};
use crate::model::{BenchSettings, Protocol, RunResult, TimeBudget};
use crate::workload::{self, Workload};

#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// Workload file [default: `workload` in pgperf.toml, else the bundled dashboard workload].
    #[arg(long, value_name = "FILE")]
    pub workload: Option<PathBuf>,
    /// Measured executions per query, forcing a count instead of the time budget; at least 59
    /// for a P95 interval.
    #[arg(long, value_name = "N")]
    pub iterations: Option<u64>,
    /// Time the measured phase may take ("60s", "5m"), shared across queries: each query is
    /// sampled until its P95 interval is tight enough or its share is spent; a tenth more is
    /// given to the warm-up, which probes every query's cost [default: 60s].
    #[arg(long, value_name = "DURATION", conflicts_with = "iterations")]
    pub time_budget: Option<String>,
    /// Stop sampling a query once its P95 interval's half-width is below this share of its
    /// P95 (with --time-budget) [default: 0.05].
    #[arg(long, value_name = "RATIO")]
    pub target_precision: Option<f64>,
    /// Seconds between status lines on stderr when it is not a terminal ("10s"; "0s": none).
    #[arg(long, value_name = "DURATION", default_value = "10s")]
    pub progress_interval: String,
    /// Discarded executions per query before measuring [default: 20].
    #[arg(long, value_name = "N")]
    pub warmup: Option<u64>,
    /// Worker connections running queries at once [default: 1].
    #[arg(long, value_name = "N")]
    pub concurrency: Option<u32>,
    /// Open-loop rate in queries per second across all workers; latency counts from the
    /// intended send time. Without it, each worker sends as soon as the previous query ends.
    #[arg(long, value_name = "QPS")]
    pub rate: Option<f64>,
    /// How queries are sent.
    #[arg(long, value_enum, default_value = "prepared")]
    pub protocol: ProtocolArg,
    /// Folder for run results [default: `out` in pgperf.toml, else ./reports].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub exports: super::export::ExportArgs,
    #[command(flatten)]
    pub history: super::history::HistoryFlag,
    /// Report a query that failed on every execution as a warning instead of an error (exit 3).
    #[arg(long)]
    pub accept_errors: bool,
}

/// `--protocol` values.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ProtocolArg {
    /// Literals inlined into the text, one round trip, no bind parameters.
    Simple,
    /// An unnamed statement per execution (parse, bind, execute).
    Extended,
    /// A named statement prepared once per connection, as application drivers do.
    Prepared,
}

impl From<ProtocolArg> for Protocol {
    fn from(value: ProtocolArg) -> Self {
        match value {
            ProtocolArg::Simple => Protocol::Simple,
            ProtocolArg::Extended => Protocol::Extended,
            ProtocolArg::Prepared => Protocol::Prepared,
        }
    }
}

pub fn run(args: BenchArgs) -> anyhow::Result<Outcome> {
    let project = super::config::ProjectConfig::load(args.target.config.as_deref())?;
    let workload = load_workload(args.workload.as_deref().or(project.workload.as_deref()))?;
    let settings = settings(&args, &project, &workload)?;
    let out = args
        .out
        .clone()
        .or(project.out.clone())
        .unwrap_or_else(|| PathBuf::from("reports"));
    let prepared = args.target.prepare(project)?;
    let context = BenchContext {
        target: prepared.target.clone(),
        scale: prepared.scale,
        seed_rng_seed: prepared.cluster.as_ref().map(|_| prepared.rng_seed),
        progress: true,
        progress_interval: parse_duration("--progress-interval", &args.progress_interval)?,
        data_now: prepared.data_now,
    };
    let result = bench::run(&prepared.config, &workload, &settings, &context)?;
    let path = bench::results::write(&out, &result)
        .with_context(|| format!("cannot write the results under {}", out.display()))?;
    let terminal = std::io::stdout().is_terminal();
    let options = table::RenderOptions {
        color: terminal && std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty()),
        width: terminal.then(crate::terminal::width).flatten(),
    };
    print!("{}", table::render(&result, options));
    eprintln!(
        "pgperf: results written to {} ({} points at this run)",
        path.display(),
        out.join(bench::results::LATEST_LINK).display()
    );
    args.exports.write(&result)?;
    let report = super::report::write_beside(&path, &crate::report::render_run(&result))?;
    eprintln!("pgperf: report written to {}", report.display());
    args.history.record(&result)?;
    conclude(&result, args.accept_errors)
}

pub(super) fn load_workload(path: Option<&Path>) -> anyhow::Result<Workload> {
    let loaded = match path {
        Some(path) => workload::load_file(path),
        None => {
            let text = crate::bundled::default_workload().ok_or_else(|| {
                UsageError(
                    "this pgperf was built without a default workload; give --workload FILE"
                        .to_string(),
                )
            })?;
            workload::load_str(
                text,
                &format!("<bundled {}>", crate::bundled::DEFAULT_WORKLOAD),
            )
        }
    };
    loaded.map_err(|error| UsageError(error.to_string()).into())
}

fn settings(
    args: &BenchArgs,
    project: &super::config::ProjectConfig,
    workload: &Workload,
) -> anyhow::Result<BenchSettings> {
    let iterations = args.iterations.or(project.bench.iterations);
    let settings = BenchSettings {
        iterations: iterations.unwrap_or(MAX_BUDGETED_SAMPLES),
        warmup: args.warmup.or(project.bench.warmup).unwrap_or(20),
        concurrency: args.concurrency.or(project.bench.concurrency).unwrap_or(1),
        rate_qps: args.rate,
        protocol: args.protocol.into(),
        statement_timeout_ms: workload.statement_timeout_ms,
        rng_seed: args.target.rng_seed.or(project.rng_seed).unwrap_or(42),
        time_budget: match iterations {
            Some(_) => None,
            None => Some(time_budget(args)?),
        },
    };
    if settings.iterations == 0 || settings.concurrency == 0 {
        return Err(
            UsageError("--iterations and --concurrency must be at least 1".to_string()).into(),
        );
    }
    if settings
        .rate_qps
        .is_some_and(|rate| !(rate.is_finite() && rate > 0.0))
    {
        return Err(UsageError(
            "--rate must be a number of queries per second above 0".to_string(),
        )
        .into());
    }
    Ok(settings)
}

/// Most samples per query in a budgeted run (the raw samples kept per query).
const MAX_BUDGETED_SAMPLES: u64 = crate::bench::budget::MAX_SAMPLES;
/// Default of `--time-budget`: the README's main command measures for about a minute.
const DEFAULT_TIME_BUDGET: std::time::Duration = std::time::Duration::from_secs(60);
/// Default of `--target-precision`.
const DEFAULT_TARGET_PRECISION: f64 = 0.05;

fn time_budget(args: &BenchArgs) -> anyhow::Result<TimeBudget> {
    let budget = match &args.time_budget {
        Some(text) => parse_duration("--time-budget", text)?,
        None => DEFAULT_TIME_BUDGET,
    };
    let target_precision = args.target_precision.unwrap_or(DEFAULT_TARGET_PRECISION);
    if budget.is_zero() || !(target_precision.is_finite() && target_precision >= 0.0) {
        return Err(UsageError(
            "--time-budget must be above 0 and --target-precision a ratio of 0 or more (0.05 is 5%)"
                .to_string(),
        )
        .into());
    }
    let budget_ms = budget.as_millis() as u64;
    Ok(TimeBudget {
        budget_ms,
        warmup_budget_ms: budget_ms / 10,
        target_precision,
        measured_ms: 0.0,
    })
}

fn parse_duration(flag: &str, text: &str) -> anyhow::Result<std::time::Duration> {
    let parsed = workload::params::parse_duration(text)
        .map_err(|error| UsageError(format!("{flag}: {error}")))?;
    Ok(parsed
        .to_std()
        .map_err(|_| UsageError(format!("{flag} must not be negative")))?)
}

/// Exit 3 for a run that stopped early or a query that never succeeded, 1 for a breached
/// budget, else 0.
fn conclude(result: &RunResult, accept_errors: bool) -> anyhow::Result<Outcome> {
    if let Some(reason) = &result.abort_reason {
        anyhow::bail!("the run stopped early: {reason}; partial results were written");
    }
    judge_failures(result, accept_errors)?;
    let breached = result
        .queries
        .iter()
        .any(|query| table::verdict(query) == table::Verdict::Breached);
    Ok(if breached {
        Outcome::Findings
    } else {
        Outcome::Success
    })
}

/// A query whose every measured execution failed measured nothing: a runtime error (exit 3,
/// after the results are written) that names each such query and its first error, or with
/// `accept_errors` a warning on stderr.
pub(super) fn judge_failures(result: &RunResult, accept_errors: bool) -> anyhow::Result<()> {
    let failed: Vec<String> = result
        .queries
        .iter()
        .filter(|query| query.samples == 0 && query.errors > 0)
        .map(|query| {
            let error = query
                .first_error
                .as_ref()
                .map_or("no error message", |error| error.message.as_str());
            format!(
                "query \"{}\" failed on all {} executions: {error}",
                query.name, query.errors
            )
        })
        .collect();
    super::refuse_errors(&failed, accept_errors, "the results were written")
}
