//! `pgperf history add|report|check`, and the `--history [TARGET]` flag of bench and check:
//! open the store the flag names (a SQLite file by default, a PostgreSQL schema for a
//! `postgresql://` URL), add runs with their commit and branch, draw the trend page, and judge
//! error budgets with check's output formats.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Context;

use super::{Outcome, UsageError};
use crate::history::budget::{BudgetOptions, Scope, budgets};
use crate::history::render::Format;
use crate::history::store::postgres::{DEFAULT_SCHEMA, Postgres};
use crate::history::store::sqlite::Sqlite;
use crate::history::store::{HistoryStore, Store};
use crate::history::{Provenance, summarize, trend};
use crate::model::RunResult;
use crate::model::history::HistoryRun;
use crate::stats::ChangeOptions;

/// Where the history is when no flag or `PGPERF_HISTORY` names one.
pub const DEFAULT_HISTORY: &str = ".pgperf/history.sqlite";

const HISTORY_HELP: &str = "\
TARGET is a SQLite file (created when absent; default .pgperf/history.sqlite, or
$PGPERF_HISTORY) or a postgresql:// URL, whose database gets a pgperf_history schema.

Exit codes:
  0  success; for check: no budget exhausted or burning too fast
  1  check: an error budget is exhausted or burning too fast
  2  usage error: bad flags, unreadable results file, results of an unknown format version
  3  the history cannot be opened or written";

#[derive(Debug, clap::Args)]
#[command(after_help = HISTORY_HELP)]
pub struct HistoryArgs {
    #[command(subcommand)]
    command: HistoryCommand,
}

#[derive(Debug, clap::Subcommand)]
enum HistoryCommand {
    /// Add results files to the history with their git commit, branch and time.
    Add(AddArgs),
    /// Render the history as one self-contained HTML page: trends, shifts, plan changes, budgets.
    Report(ReportArgs),
    /// Judge every query's error budget; exit 1 when one is exhausted or burning too fast.
    Check(CheckArgs),
}

/// The store to use.
#[derive(Debug, Clone, clap::Args)]
struct StoreArgs {
    /// The history: a SQLite file or a postgresql:// URL [default: .pgperf/history.sqlite].
    #[arg(long, value_name = "TARGET", env = "PGPERF_HISTORY")]
    history: Option<String>,
}

#[derive(Debug, clap::Args)]
struct AddArgs {
    /// Results files written by `pgperf bench` (results.json).
    #[arg(required = true, value_name = "RESULTS.json")]
    files: Vec<PathBuf>,
    #[command(flatten)]
    store: StoreArgs,
    /// Git commit the runs measured [default: $GITHUB_SHA, $CI_COMMIT_SHA, else `git rev-parse HEAD`].
    #[arg(long, value_name = "SHA")]
    commit: Option<String>,
    /// Git branch the runs measured [default: $GITHUB_HEAD_REF, $GITHUB_REF_NAME,
    /// $CI_COMMIT_REF_NAME, else the current git branch].
    #[arg(long, value_name = "NAME")]
    branch: Option<String>,
}

/// Which runs of the history to look at.
#[derive(Debug, Clone, clap::Args)]
struct SelectArgs {
    /// Only runs of this workload [default: the workload of the latest run].
    #[arg(long, value_name = "NAME")]
    workload: Option<String>,
    /// Only runs of this branch [default: every branch].
    #[arg(long, value_name = "NAME")]
    branch: Option<String>,
    /// Share of executions that must finish under the query's P95 budget.
    #[arg(long, value_name = "SHARE", default_value_t = BudgetOptions::default().objective)]
    objective: f64,
    /// The SLO window, in days back from the latest run.
    #[arg(long, value_name = "DAYS", default_value_t = BudgetOptions::default().window_days)]
    window_days: u32,
    /// What an objective is set on: each query, or each dashboard tile (the executions of its
    /// queries together, each against its own budget).
    #[arg(long, value_enum, default_value_t = ScopeArg::Query)]
    per: ScopeArg,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum ScopeArg {
    Query,
    Tile,
}

#[derive(Debug, clap::Args)]
struct ReportArgs {
    #[command(flatten)]
    store: StoreArgs,
    #[command(flatten)]
    select: SelectArgs,
    /// Where to write the HTML page.
    #[arg(
        short = 'o',
        long = "output",
        value_name = "FILE",
        default_value = "history.html"
    )]
    output: PathBuf,
    /// False discovery rate of the shift detection across queries (Benjamini-Hochberg).
    #[arg(long, value_name = "RATE", default_value_t = ChangeOptions::default().fdr)]
    fdr: f64,
    /// Smallest relative P95 shift shown.
    #[arg(long, value_name = "FRACTION", default_value_t = ChangeOptions::default().min_effect)]
    min_effect: f64,
}

#[derive(Debug, clap::Args)]
struct CheckArgs {
    #[command(flatten)]
    store: StoreArgs,
    #[command(flatten)]
    select: SelectArgs,
    /// Output format on stdout (github: workflow annotations).
    #[arg(long, value_enum, default_value_t = FormatArg::Human)]
    format: FormatArg,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum FormatArg {
    Human,
    Json,
    Markdown,
    Junit,
    Github,
}

impl From<FormatArg> for Format {
    fn from(format: FormatArg) -> Self {
        match format {
            FormatArg::Human => Format::Human,
            FormatArg::Json => Format::Json,
            FormatArg::Markdown => Format::Markdown,
            FormatArg::Junit => Format::Junit,
            FormatArg::Github => Format::Github,
        }
    }
}

/// `--history [TARGET]` of bench and check: also add the run to the history.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct HistoryFlag {
    /// Also add the run (when it finished) to the history, with its git commit and branch: a
    /// SQLite file or a postgresql:// URL [without a value: $PGPERF_HISTORY, else
    /// .pgperf/history.sqlite].
    #[arg(long = "history", value_name = "TARGET", num_args = 0..=1, default_missing_value = "")]
    history: Option<String>,
}

impl HistoryFlag {
    /// Adds `result` to the history when the flag was given and the run finished (a run that
    /// stopped early would read as a shift).
    pub fn record(&self, result: &RunResult) -> anyhow::Result<()> {
        let Some(target) = &self.history else {
            return Ok(());
        };
        if !result.complete {
            eprintln!("pgperf: the run stopped early, so it is not added to the history");
            return Ok(());
        }
        let target = Some(target.as_str())
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .or_else(|| std::env::var("PGPERF_HISTORY").ok());
        let added = open(target.as_deref())
            .and_then(|mut store| add(store.as_mut(), result, &provenance(None, None)));
        added.context("the results are written, but adding them to the history failed: add them later with `pgperf history add`")
    }
}

pub fn run(args: HistoryArgs) -> anyhow::Result<Outcome> {
    match args.command {
        HistoryCommand::Add(args) => run_add(args),
        HistoryCommand::Report(args) => run_report(args),
        HistoryCommand::Check(args) => run_check(args),
    }
}

fn run_add(args: AddArgs) -> anyhow::Result<Outcome> {
    // Every file is read before anything is written, so a bad one adds nothing.
    let results = args
        .files
        .iter()
        .map(|path| super::check::load_result(path))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut store = open(args.store.history.as_deref())?;
    let provenance = provenance(args.commit, args.branch);
    for result in &results {
        add(store.as_mut(), result, &provenance)?;
    }
    Ok(Outcome::Success)
}

fn add(
    store: &mut dyn HistoryStore,
    result: &RunResult,
    provenance: &Provenance,
) -> anyhow::Result<()> {
    let run = summarize(result, provenance, chrono::Utc::now());
    let added = store
        .add(&run)
        .with_context(|| format!("cannot add run {} to the history", run.run_id))?;
    let commit = run.commit.as_deref().unwrap_or("unknown commit");
    if added {
        eprintln!(
            "pgperf: run {} ({commit}) added to the history at {}",
            run.run_id,
            store.place()
        );
    } else {
        eprintln!(
            "pgperf: run {} is already in the history at {}; nothing added",
            run.run_id,
            store.place()
        );
    }
    Ok(())
}

fn run_report(args: ReportArgs) -> anyhow::Result<Outcome> {
    let valid = args.fdr > 0.0 && args.fdr <= 1.0 && args.min_effect >= 0.0;
    if !valid {
        return Err(UsageError("--fdr must lie in (0, 1] and --min-effect be ≥ 0".into()).into());
    }
    let budget_options = budget_options(&args.select)?;
    let runs = select(args.store.history.as_deref(), &args.select)?;
    let options = ChangeOptions {
        fdr: args.fdr,
        min_effect: args.min_effect,
        ..ChangeOptions::default()
    };
    let mut report = trend::trends(&runs, &options);
    report.budgets = Some(budgets(&runs, &budget_options));
    let html = crate::report::history::render_page(&report);
    std::fs::write(&args.output, html)
        .with_context(|| format!("cannot write the history page to {}", args.output.display()))?;
    eprintln!(
        "pgperf: history of {} runs written to {}",
        runs.len(),
        args.output.display()
    );
    Ok(Outcome::Success)
}

fn run_check(args: CheckArgs) -> anyhow::Result<Outcome> {
    let options = budget_options(&args.select)?;
    let runs = select(args.store.history.as_deref(), &args.select)?;
    let report = budgets(&runs, &options);
    let stdout = std::io::stdout();
    crate::history::render::write(&report, args.format.into(), &mut stdout.lock())
        .context("cannot write the budget report to stdout")?;
    Ok(if report.fails {
        Outcome::Findings
    } else {
        Outcome::Success
    })
}

fn budget_options(select: &SelectArgs) -> Result<BudgetOptions, UsageError> {
    if !(select.objective > 0.0 && select.objective < 1.0) || select.window_days == 0 {
        return Err(UsageError(format!(
            "--objective must lie strictly between 0 and 1 (got {}; 0.95 matches a P95 budget) and --window-days be at least 1",
            select.objective
        )));
    }
    Ok(BudgetOptions {
        objective: select.objective,
        window_days: select.window_days,
        scope: match select.per {
            ScopeArg::Query => Scope::Query,
            ScopeArg::Tile => Scope::Tile,
        },
        ..BudgetOptions::default()
    })
}

/// The runs of one workload (the latest run's unless named), of one branch when named.
fn select(target: Option<&str>, select: &SelectArgs) -> anyhow::Result<Vec<HistoryRun>> {
    let mut store = open(target)?;
    let runs = store.runs().context("cannot read the history")?;
    let Some(workload) = select
        .workload
        .clone()
        .or_else(|| runs.last().map(|run| run.workload_name.clone()))
    else {
        return Err(UsageError(format!(
            "the history at {} holds no run yet: add one with `pgperf history add RESULTS.json` or `pgperf bench --history`",
            store.place()
        ))
        .into());
    };
    let selected: Vec<HistoryRun> = runs
        .into_iter()
        .filter(|run| run.workload_name == workload)
        .filter(|run| {
            select
                .branch
                .as_ref()
                .is_none_or(|b| run.branch.as_ref() == Some(b))
        })
        .collect();
    if selected.is_empty() {
        return Err(UsageError(format!(
            "the history at {} holds no run of workload {workload}{}",
            store.place(),
            select
                .branch
                .as_ref()
                .map_or(String::new(), |b| format!(" on branch {b}"))
        ))
        .into());
    }
    Ok(selected)
}

/// Opens the history `target` names: a PostgreSQL schema for a URL, else a SQLite file.
fn open(target: Option<&str>) -> anyhow::Result<Box<dyn HistoryStore>> {
    let target = target.unwrap_or(DEFAULT_HISTORY);
    if target.starts_with("postgresql://") || target.starts_with("postgres://") {
        let client = super::target::connect_url(target)?;
        let backend = Postgres::new(client, DEFAULT_SCHEMA, &crate::pg::redact_url(target));
        return Ok(Box::new(Store::open(backend)?));
    }
    let backend = Sqlite::open(Path::new(target))?;
    Ok(Box::new(Store::open(backend)?))
}

/// Commit and branch: flags, then CI variables, then git in the current folder.
fn provenance(commit: Option<String>, branch: Option<String>) -> Provenance {
    let env = |names: &[&str]| {
        names
            .iter()
            .find_map(|name| std::env::var(name).ok().filter(|value| !value.is_empty()))
    };
    Provenance {
        commit: commit
            .or_else(|| env(&["GITHUB_SHA", "CI_COMMIT_SHA"]))
            .or_else(|| git(&["rev-parse", "HEAD"])),
        branch: branch
            .or_else(|| env(&["GITHUB_HEAD_REF", "GITHUB_REF_NAME", "CI_COMMIT_REF_NAME"]))
            .or_else(|| git(&["rev-parse", "--abbrev-ref", "HEAD"]).filter(|b| b != "HEAD")),
    }
}

fn git(args: &[&str]) -> Option<String> {
    let output = Command::new("git").args(args).output().ok()?;
    let text = String::from_utf8(output.stdout).ok()?;
    output
        .status
        .success()
        .then(|| text.trim().to_owned())
        .filter(|text| !text.is_empty())
}
