//! `pgperf check`: compare a run with a baseline and exit 1 on a real regression. Reads the
//! baseline, reads the current results or benches them with the baseline's settings, validates
//! the options, runs the pure [`crate::check::check`], writes the report to stdout in the
//! chosen format (and to the `--markdown`/`--junit`/`--json` files, GitHub's step summary and
//! annotations when asked or on GitHub Actions) and maps the outcome to the exit code.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::Context;

use super::config::ProjectConfig;
use super::target::TargetArgs;
use super::{Outcome, UsageError};
use crate::bench::BenchContext;
use crate::check::render::{Format, write_annotations, write_human, write_report};
use crate::model::check::{CheckOptions, CheckReport, GateOutcome, Signal};
use crate::model::{RESULT_SCHEMA_VERSION, RunResult};

const CHECK_HELP: &str = "\
Exit codes:
  0  pass: nothing fails the gate
  1  a finding fails the gate (regression, plan change, budget breached, ...)
  2  usage error: bad flags, unreadable or invalid results file
  3  the runs are not comparable (see --allow-incomparable), the current run stopped early or
     failed, a query of the current run failed on every execution (see --accept-errors), or
     timing gates and a query has too few samples to judge";

#[derive(Debug, clap::Args)]
#[command(after_help = CHECK_HELP)]
pub struct CheckArgs {
    /// Results file of the baseline run (`results.json` written by `pgperf bench`).
    #[arg(long, value_name = "FILE")]
    baseline: PathBuf,
    /// Results file of the run to judge. Without it, pgperf benches the workload now with the
    /// baseline's settings (iterations, warm-up, concurrency, rate, protocol, seed, scale) on
    /// the database the connection flags name, and writes those results under --out.
    #[arg(long, value_name = "FILE")]
    current: Option<PathBuf>,
    /// Workload to bench when --current is not given; must be the baseline's workload
    /// [default: `workload` in pgperf.toml, else the bundled dashboard workload].
    #[arg(long, value_name = "FILE")]
    workload: Option<PathBuf>,
    /// Folder for the current run's results when pgperf benches it [default: `out` in
    /// pgperf.toml, else ./reports]; check.json and report.html go beside them. With
    /// --current, they are written into this folder only when it is given.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    #[command(flatten)]
    target: TargetArgs,
    /// Output format on stdout.
    #[arg(long, value_enum, default_value_t = FormatArg::Human)]
    format: FormatArg,
    #[command(flatten)]
    outputs: OutputFiles,
    /// Signals whose findings fail the gate, comma-separated: timing, plan, buffers, rows,
    /// budget, errors.
    #[arg(long, value_delimiter = ',', value_name = "SIGNALS", default_values_t = Signal::DEFAULT_FAIL_ON)]
    fail_on: Vec<Signal>,
    /// Relative P95 change that counts: the whole 95% interval of the ratio must lie above
    /// 1 + THRESHOLD.
    #[arg(long, value_name = "FRACTION", default_value_t = CheckOptions::default().threshold)]
    threshold: f64,
    /// Absolute P95 change that counts, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = CheckOptions::default().floor_us / 1000.0)]
    floor_ms: f64,
    /// False discovery rate across queries (Benjamini-Hochberg).
    #[arg(long, value_name = "RATE", default_value_t = CheckOptions::default().fdr)]
    fdr: f64,
    /// Relative rise of shared buffers per call that counts.
    #[arg(long, value_name = "FRACTION", default_value_t = CheckOptions::default().buffers_threshold)]
    buffers_threshold: f64,
    /// Compare runs whose workload, data, server version, settings or replay options differ
    /// (printed in every output).
    #[arg(long)]
    allow_incomparable: bool,
    /// Judge timing in absolute terms even when the whole workload changed speed between the
    /// runs (by default a query then regresses only if it got slower than the rest did).
    #[arg(long)]
    no_drift_correction: bool,
    /// Also write the current results to PATH, to serve as the next baseline.
    #[arg(long, value_name = "PATH")]
    save_baseline: Option<PathBuf>,
    #[command(flatten)]
    history: super::history::HistoryFlag,
    /// When pgperf benches the current run: report a query that failed on every execution as
    /// a warning (judged by the `errors` signal) instead of an error (exit 3).
    #[arg(long)]
    accept_errors: bool,
}

/// Files written beside stdout, so one run feeds a step summary, a test report and an artifact.
#[derive(Debug, clap::Args)]
struct OutputFiles {
    /// Also write the report as Markdown to FILE (a CI step summary or merge request note).
    /// With GITHUB_STEP_SUMMARY set, the Markdown is appended there as well.
    #[arg(long, value_name = "FILE")]
    markdown: Option<PathBuf>,
    /// Also write the report as JUnit XML to FILE (a CI test report).
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Also write the report as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum FormatArg {
    Human,
    Json,
    Markdown,
    Junit,
}

impl From<FormatArg> for Format {
    fn from(format: FormatArg) -> Self {
        match format {
            FormatArg::Human => Format::Human,
            FormatArg::Json => Format::Json,
            FormatArg::Markdown => Format::Markdown,
            FormatArg::Junit => Format::Junit,
        }
    }
}

pub fn run(args: CheckArgs) -> anyhow::Result<Outcome> {
    let options = options(&args)?;
    let baseline = load_result(&args.baseline)?;
    // Evidence goes into the run folder when check benched itself, else into --out if given.
    let (current, evidence_dir) = match &args.current {
        Some(path) => (load_result(path)?, args.out.clone()),
        None => {
            let (run, results) = bench_now(&args, &baseline)?;
            (run, results.parent().map(Path::to_path_buf))
        }
    };
    let report = crate::check::check(&baseline, &current, &options);
    let stdout = std::io::stdout();
    let written = match args.format {
        FormatArg::Human if stdout.is_terminal() => {
            write_human(&report, crate::terminal::width(), &mut stdout.lock())
        }
        format => write_report(&report, format.into(), &mut stdout.lock()),
    };
    written.context("cannot write the check report to stdout")?;
    write_outputs(&report, &args.outputs)?;
    if let Some(dir) = &evidence_dir {
        write_evidence(&report, &current, dir)?;
    }
    if let Some(path) = &args.save_baseline {
        save_baseline(&current, path)?;
    }
    args.history.record(&current)?;
    match report.outcome {
        GateOutcome::Pass => Ok(Outcome::Success),
        GateOutcome::Fail => Ok(Outcome::Findings),
        GateOutcome::Inconclusive if !current.complete => anyhow::bail!(
            "the current run stopped early, so not every query was judged: rerun the bench to the end"
        ),
        GateOutcome::Inconclusive => anyhow::bail!(
            "some queries have too few samples to judge timing: raise --time-budget (or force --iterations 59 or more), or drop timing from --fail-on"
        ),
        GateOutcome::NotComparable => anyhow::bail!(
            "the runs are not comparable (see the differences above): rerun both with the same workload, scale, server and settings, or pass --allow-incomparable"
        ),
    }
}

/// Validates the flags into [`CheckOptions`]; a value out of range is a usage error.
fn options(args: &CheckArgs) -> Result<CheckOptions, UsageError> {
    let non_negative = |name: &str, value: f64| {
        if value.is_finite() && value >= 0.0 {
            Ok(value)
        } else {
            Err(UsageError(format!(
                "--{name} must be a number ≥ 0, got {value}"
            )))
        }
    };
    if !(args.fdr > 0.0 && args.fdr <= 1.0) {
        return Err(UsageError(format!(
            "--fdr must lie in (0, 1], got {}; 0.05 is usual",
            args.fdr
        )));
    }
    let mut fail_on = args.fail_on.clone();
    fail_on.sort();
    fail_on.dedup();
    Ok(CheckOptions {
        threshold: non_negative("threshold", args.threshold)?,
        floor_us: non_negative("floor-ms", args.floor_ms)? * 1000.0,
        fdr: args.fdr,
        buffers_threshold: non_negative("buffers-threshold", args.buffers_threshold)?,
        fail_on,
        allow_incomparable: args.allow_incomparable,
        no_drift_correction: args.no_drift_correction,
        ..CheckOptions::default()
    })
}

/// Reads a results file; unreadable or invalid files are usage errors naming the path (and
/// serde's line and column).
pub(super) fn load_result(path: &Path) -> anyhow::Result<RunResult> {
    let text = std::fs::read_to_string(path).map_err(|error| {
        UsageError(format!(
            "cannot read the results file {}: {error}",
            path.display()
        ))
    })?;
    let result: RunResult = serde_json::from_str(&text).map_err(|error| {
        UsageError(format!(
            "{} is not a pgperf results file: {error}",
            path.display()
        ))
    })?;
    if result.schema_version != RESULT_SCHEMA_VERSION {
        return Err(UsageError(format!(
            "{} has results format version {}, this pgperf reads version {RESULT_SCHEMA_VERSION}: rerun the bench with this pgperf",
            path.display(),
            result.schema_version
        ))
        .into());
    }
    Ok(result)
}

/// Benches the workload now with the baseline's settings, scale and seeds, and writes the
/// results as `pgperf bench` does. A workload that is not the baseline's stops before any
/// work (exit 3) unless `--allow-incomparable`.
fn bench_now(args: &CheckArgs, baseline: &RunResult) -> anyhow::Result<(RunResult, PathBuf)> {
    let project = ProjectConfig::load(args.target.config.as_deref())?;
    let workload =
        super::bench::load_workload(args.workload.as_deref().or(project.workload.as_deref()))?;
    let baseline_hash = &baseline.environment.workload_hash;
    if &workload.hash != baseline_hash && !args.allow_incomparable {
        anyhow::bail!(
            "the workload to bench ({}) is not the baseline's (hash {} vs {baseline_hash}): pass the baseline's workload with --workload, or --allow-incomparable",
            workload.name,
            workload.hash
        );
    }
    let mut target = args.target.clone();
    target.scale = target.scale.or(baseline.environment.scale);
    // The baseline's clock applies only to the embedded database a clocked baseline came from.
    if target.db.is_none() && project.db.is_none() {
        target.clock = target.clock.or(baseline.environment.target.clock);
    }
    target.rng_seed = target
        .rng_seed
        .or(baseline.environment.rng_seed)
        .or(Some(baseline.settings.rng_seed));
    let prepared = target.prepare(project)?;
    let context = BenchContext {
        target: prepared.target.clone(),
        scale: prepared.scale,
        seed_rng_seed: prepared.cluster.as_ref().map(|_| prepared.rng_seed),
        progress: true,
        progress_interval: crate::bench::progress::DEFAULT_INTERVAL,
        data_now: prepared.data_now,
    };
    let result = crate::bench::run(&prepared.config, &workload, &baseline.settings, &context)?;
    let out = args
        .out
        .clone()
        .or(prepared.project.out.clone())
        .unwrap_or_else(|| PathBuf::from("reports"));
    let path = crate::bench::results::write(&out, &result)
        .with_context(|| format!("cannot write the results under {}", out.display()))?;
    eprintln!(
        "pgperf: results of the current run written to {}",
        path.display()
    );
    if let Some(reason) = &result.abort_reason {
        anyhow::bail!("the current run stopped early: {reason}; partial results were written");
    }
    super::bench::judge_failures(&result, args.accept_errors)?;
    Ok((result, path))
}

/// Writes `check.json` and `report.html` (the current run with its verdicts) into `dir`, so
/// the evidence outlives the CI log.
fn write_evidence(report: &CheckReport, current: &RunResult, dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let json = dir.join("check.json");
    let text = serde_json::to_string_pretty(report).context("cannot serialise the check report")?;
    std::fs::write(&json, text).with_context(|| format!("cannot write {}", json.display()))?;
    let html = crate::report::render(&crate::report::Parts {
        run: Some(current),
        advice: None,
        check: Some(report),
    });
    let page = super::report::write_beside(&json, &html)?;
    eprintln!(
        "pgperf: check written to {} and {}",
        json.display(),
        page.display()
    );
    Ok(())
}

/// Writes the `--markdown`/`--junit`/`--json` files, appends the Markdown to GitHub's step
/// summary and prints GitHub annotations (on stderr, which the runner reads as well, so that
/// stdout stays the chosen format).
fn write_outputs(report: &CheckReport, files: &OutputFiles) -> anyhow::Result<()> {
    let requested = [
        (&files.markdown, Format::Markdown),
        (&files.junit, Format::Junit),
        (&files.json, Format::Json),
    ];
    for (path, format) in requested {
        if let Some(path) = path {
            write_file(report, format, path, false)?;
            eprintln!("pgperf: check report written to {}", path.display());
        }
    }
    if let Some(summary) = github_env("GITHUB_STEP_SUMMARY") {
        write_file(report, Format::Markdown, Path::new(&summary), true)
            .context("GITHUB_STEP_SUMMARY names a file pgperf cannot append to")?;
    }
    if github_env("GITHUB_ACTIONS").is_some() {
        write_annotations(report, &mut std::io::stderr().lock())
            .context("cannot write the GitHub annotations to stderr")?;
    }
    Ok(())
}

/// A GitHub Actions variable, `None` when unset or empty.
fn github_env(name: &str) -> Option<std::ffi::OsString> {
    std::env::var_os(name).filter(|value| !value.is_empty())
}

fn write_file(
    report: &CheckReport,
    format: Format,
    path: &Path,
    append: bool,
) -> anyhow::Result<()> {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .append(append)
        .truncate(!append)
        .open(path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    let mut writer = std::io::BufWriter::new(file);
    write_report(report, format, &mut writer)
        .and_then(|()| std::io::Write::flush(&mut writer))
        .with_context(|| format!("cannot write the check report to {}", path.display()))
}

fn save_baseline(current: &RunResult, path: &Path) -> anyhow::Result<()> {
    let json = serde_json::to_string_pretty(current).context("cannot serialise the results")?;
    std::fs::write(path, json + "\n")
        .with_context(|| format!("cannot save the baseline to {}", path.display()))?;
    eprintln!(
        "pgperf: baseline saved to {} (run {}, {} queries)",
        path.display(),
        current.run_id,
        current.queries.len()
    );
    Ok(())
}
