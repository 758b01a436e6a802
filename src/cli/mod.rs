//! Command-line definitions and one small glue function per command; clap types stop here.
//! Each command lives in its own file and returns an [`Outcome`]; errors carry context and
//! are printed once by [`main`], which maps them to the documented exit codes.

mod advise;
mod advise_migration;
mod advise_query;
mod bench;
mod check;
pub mod config;
mod export;
mod history;
mod inspect;
mod migrate;
mod record;
mod report;
mod seed;
pub mod target;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

/// Exit codes, documented in `--help` and `docs/commands.md`.
pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  success
  1  findings: a regression, a P95 budget breached
  2  usage or configuration error
  3  runtime or database error, a query that failed on every execution (unless
     --accept-errors), or a run too unreliable to judge
  130 interrupted (Ctrl-C); partial results are written";

/// What a command concluded, when it ran to the end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Exit 0.
    Success,
    /// Exit 1: the command worked and found something the user must act on.
    Findings,
}

/// A configuration or usage mistake (exit 2), as opposed to a runtime failure (exit 3).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// Runtime failure that is not the user's input (exit 3); the default for any other error.
pub const EXIT_RUNTIME: i32 = 3;
pub const EXIT_USAGE: i32 = 2;

#[derive(Debug, Parser)]
#[command(
    name = "pgperf",
    version,
    about = "Measure every dashboard query on PostgreSQL, advise indexes proven by measurement, and fail CI on a real regression.",
    after_help = EXIT_CODES_HELP
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Replay a workload and report P50/P95/P99 per query with server counters and plans.
    Bench(bench::BenchArgs),
    /// Propose indexes, verify them by measurement, and write a reversible migration.
    Advise(advise::AdviseArgs),
    /// Compare a run with a baseline; exit 1 on a real regression.
    Check(check::CheckArgs),
    /// Record a workload file from a live database's pg_stat_statements or its logs.
    Record(record::RecordArgs),
    /// Apply, revert, list or verify migrations.
    Migrate(migrate::MigrateArgs),
    /// Load the bundled control-center schema with deterministic data.
    Seed(seed::SeedArgs),
    /// Render a results file as a self-contained HTML report.
    Report(report::ReportArgs),
    /// Print the effective settings of a command and where each came from (flag,
    /// environment, pgperf.toml, default).
    Config(config::ConfigArgs),
    /// Show a live database's health: unused and duplicate indexes, cache hits, scans, bloat,
    /// top statements, long-running queries, blocking locks. Read-only.
    Inspect(inspect::InspectArgs),
    /// Keep every run with its commit; trends, shifts and error budgets over time.
    History(history::HistoryArgs),
}

/// Runs pgperf with the process arguments and returns the exit code.
pub fn main() -> i32 {
    crate::signal::install();
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let (command, from_file) = match config::with_file_defaults(Cli::command(), &argv) {
        Ok(configured) => configured,
        Err(error) => {
            eprintln!("pgperf: error: {}", error_text(&error));
            return exit_code_for(&error);
        }
    };
    let parsed = command
        .clone()
        .try_get_matches_from(&argv)
        .and_then(|matches| Cli::from_arg_matches(&matches));
    let cli = match parsed {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return if error.use_stderr() { EXIT_USAGE } else { 0 };
        }
    };
    let result = match cli.command {
        Command::Config(args) => config::run(args, command, &from_file),
        Command::Bench(args) => bench::run(args),
        Command::Advise(args) => advise::run(args),
        Command::Check(args) => check::run(args),
        Command::Record(args) => record::run(args),
        Command::Migrate(args) => migrate::run(args),
        Command::Seed(args) => seed::run(args),
        Command::Report(args) => report::run(args),
        Command::Inspect(args) => inspect::run(args),
        Command::History(args) => history::run(args),
    };
    match result {
        Ok(Outcome::Success) => 0,
        Ok(Outcome::Findings) => 1,
        Err(error) => {
            eprintln!("pgperf: error: {}", error_text(&error));
            exit_code_for(&error)
        }
    }
}

/// The error and its causes joined by ": ", each said once. Library errors often show their
/// cause in their own message (a server error through `pg::describe`, an I/O error after a
/// path) and also return it as `source()`, so printing the plain chain repeats them.
fn error_text(error: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in error.chain() {
        let (shown, key) = if let Some(db) = cause.downcast_ref::<postgres::error::DbError>() {
            (
                format!("{}: {}", db.severity(), db.message()),
                db.message().to_string(),
            )
        } else if let Some(pg) = cause.downcast_ref::<postgres::Error>() {
            let key = pg
                .as_db_error()
                .map_or_else(|| pg.to_string(), |db| db.message().to_string());
            (crate::pg::describe(pg), key)
        } else {
            let shown = cause.to_string();
            (shown.clone(), shown)
        };
        if text.contains(&key) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&shown);
    }
    text
}

/// Queries that failed outright (every execution, or the server refused them): an error
/// naming each, after `written` (what was saved anyway), or with `accept_errors` a warning each.
fn refuse_errors(failed: &[String], accept_errors: bool, written: &str) -> anyhow::Result<()> {
    if failed.is_empty() {
        return Ok(());
    }
    if accept_errors {
        for text in failed {
            eprintln!("pgperf: warning: {text} (accepted by --accept-errors)");
        }
        return Ok(());
    }
    anyhow::bail!(
        "{}; {written}; fix the query, its parameters or its persona, or pass --accept-errors to report it as a warning",
        failed.join("; ")
    )
}

fn exit_code_for(error: &anyhow::Error) -> i32 {
    if crate::signal::interrupted() {
        crate::signal::EXIT_INTERRUPTED
    } else if error.chain().any(|cause| cause.is::<UsageError>()) {
        EXIT_USAGE
    } else {
        EXIT_RUNTIME
    }
}

#[cfg(test)]
mod tests {
    use super::error_text;

    #[test]
    fn each_cause_is_said_once() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "No such file or directory");
        let error = anyhow::Error::new(crate::migrate::MigrateError::ReadDir {
            dir: "migrations".into(),
            source: io,
        })
        .context("cannot load the migrations");
        assert_eq!(
            error_text(&error),
            "cannot load the migrations: cannot read the migrations folder migrations: No such file or directory"
        );
    }

    #[test]
    fn causes_that_add_something_are_kept() {
        let error = anyhow::anyhow!("connection reset").context("bench stopped early");
        assert_eq!(error_text(&error), "bench stopped early: connection reset");
    }
}
