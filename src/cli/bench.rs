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
use crate::model::{BenchSettings, Protocol, RunResult};
use crate::workload::{self, Workload};

#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// Workload file [default: `workload` in pgperf.toml, else the bundled dashboard workload].
    #[arg(long, value_name = "FILE")]
    pub workload: Option<PathBuf>,
    /// Measured executions per query; at least 59 for a P95 verdict [default: 200].
    #[arg(long, value_name = "N")]
    pub iterations: Option<u64>,
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
    let settings = BenchSettings {
        iterations: args.iterations.or(project.bench.iterations).unwrap_or(200),
        warmup: args.warmup.or(project.bench.warmup).unwrap_or(20),
        concurrency: args.concurrency.or(project.bench.concurrency).unwrap_or(1),
        rate_qps: args.rate,
        protocol: args.protocol.into(),
        statement_timeout_ms: workload.statement_timeout_ms,
        rng_seed: args.target.rng_seed.or(project.rng_seed).unwrap_or(42),
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
