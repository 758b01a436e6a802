//! `pgperf record`: writes a workload file from a live database's pg_stat_statements or from a
//! server log. Glue only: options in, [`crate::record`] does the work, the file and a summary out.

use std::path::PathBuf;

use anyhow::Context;

use super::{Outcome, UsageError};
use crate::record::log::LogFormat;
use crate::record::reference::Reference;
use crate::record::{self, LogOptions, Recording, StatOptions, columns::Catalog};

const EXIT_CODES: &str = "\
Exit codes:
  0  the workload file was written (placeholders to check are listed on stderr)
  2  usage error: no source, --from-stat-statements without a database, a bad URL or reference
  3  nothing could be read from the log (reasons listed), no application statement found, or a
     database error";

#[derive(Debug, clap::Args)]
#[command(after_help = EXIT_CODES)]
#[command(group(
    clap::ArgGroup::new("source").required(true).args(["from_stat_statements", "from_log"])
))]
pub struct RecordArgs {
    /// Database to record from (pg_stat_statements), or, with --from-log, to resolve columns
    /// against so sensitive values can be drawn from their column at bench time.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true, value_name = "URL")]
    db: Option<String>,
    /// Record the top statements of the database's pg_stat_statements (needs --db).
    #[arg(long)]
    from_stat_statements: bool,
    /// Record from a PostgreSQL server log (log_min_duration_statement or log_statement = all).
    #[arg(long, value_name = "FILE")]
    from_log: Option<PathBuf>,
    /// Log format.
    #[arg(long, value_enum, default_value_t = LogFormat::Auto)]
    format: LogFormat,
    /// How many statements to record, by total execution time.
    #[arg(long, value_name = "N", default_value_t = 50)]
    top: usize,
    /// Leave out statements called fewer times than this.
    #[arg(long, value_name = "N", default_value_t = 1)]
    min_calls: u32,
    /// Only calls to this database (logs that hold several).
    #[arg(long, value_name = "NAME")]
    database: Option<String>,
    /// Write values that look like emails, card or phone numbers and tokens as they are.
    #[arg(long)]
    keep_literals: bool,
    /// An existing workload: recorded statements that match one of its queries (same
    /// fingerprint) keep its name, tile, kind, budget and persona with its claims; from
    /// pg_stat_statements also its constants, and its generators for parameters the database
    /// cannot tell.
    #[arg(long, value_name = "FILE")]
    reference: Option<PathBuf>,
    /// Calibrate sampled parameters by running each candidate value of a read, EXPLAIN
    /// (ANALYZE, BUFFERS) in a rolled-back read-only transaction as the recorded role (with the
    /// reference persona's claims) under a statement timeout, instead of planner estimates:
    /// measured rows and blocks per call. Runs reads on the database; writes are never run.
    #[arg(long, conflicts_with = "from_log")]
    measure: bool,
    /// Also record pgperf's own traffic (application_name pgperf), e.g. to check a recording
    /// of a `pgperf bench` run against the workload it ran.
    #[arg(long)]
    include_pgperf: bool,
    /// Workload file to write [default: standard output].
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Name of the recorded workload.
    #[arg(long, value_name = "NAME", default_value = "recorded")]
    name: String,
}

pub fn run(args: RecordArgs) -> anyhow::Result<Outcome> {
    // Checked before any work: a bad reference is a usage mistake.
    let reference = args.reference.as_deref().map(load_reference).transpose()?;
    let mut client = args
        .db
        .as_deref()
        .map(super::target::connect_url)
        .transpose()?;
    let (recording, origin) = match &args.from_log {
        Some(path) => (
            record_log(&args, path, client.as_mut())?,
            path.display().to_string(),
        ),
        None => {
            let client = client.as_mut().ok_or_else(|| {
                UsageError(
                    "--from-stat-statements needs a database: pass --db URL or set DATABASE_URL"
                        .into(),
                )
            })?;
            let options = StatOptions {
                top: args.top,
                min_calls: i64::from(args.min_calls),
                keep_literals: args.keep_literals,
                reference: reference.clone(),
                measure: args.measure,
            };
            let recording = record::from_stats::record(client, &options)
                .context("cannot record from pg_stat_statements")?;
            let url = args
                .db
                .as_deref()
                .map(crate::pg::redact_url)
                .unwrap_or_default();
            (recording, url)
        }
    };
    if recording.drafts.is_empty() {
        return Err(anyhow::anyhow!(
            "no application statement was found ({}); nothing to write",
            recording.report.join("; ")
        ));
    }
    let header = header(&recording, &origin);
    let rendered =
        record::write::render(&args.name, &header, &recording.drafts, reference.as_ref());
    write_out(args.out.as_ref(), &rendered.text)?;
    summarise(&recording, args.out.as_ref());
    Ok(Outcome::Success)
}

fn record_log(
    args: &RecordArgs,
    path: &std::path::Path,
    client: Option<&mut postgres::Client>,
) -> anyhow::Result<Recording> {
    let bytes =
        std::fs::read(path).with_context(|| format!("cannot read the log {}", path.display()))?;
    let options = LogOptions {
        format: args.format,
        database: args.database.clone(),
        keep_literals: args.keep_literals,
        include_pgperf: args.include_pgperf,
        top: args.top,
        min_calls: u64::from(args.min_calls),
    };
    let mut catalog = client.map(Catalog::new);
    record::from_log::record(&bytes, &options, catalog.as_mut())
        .with_context(|| format!("cannot record from {}", path.display()))
}

fn load_reference(path: &std::path::Path) -> anyhow::Result<Reference> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the reference workload {}", path.display()))?;
    let workload: crate::workload::WorkloadFile = toml::from_str(&text).map_err(|error| {
        UsageError(format!(
            "the reference workload {} is not a valid workload file: {error}",
            path.display()
        ))
    })?;
    Ok(Reference::new(&workload))
}

fn header(recording: &Recording, origin: &str) -> Vec<String> {
    let mut lines = vec![
        format!(
            "Recorded by pgperf {} from {} ({origin}) at {}.",
            env!("CARGO_PKG_VERSION"),
            recording.source,
            chrono::Utc::now().format("%Y-%m-%d %H:%M UTC")
        ),
        "Queries are ordered by total execution time; weights are calls. Edit freely: this is an"
            .into(),
        "ordinary workload file (docs/record.md, docs/workload-format.md).".into(),
        "`sampled = true` marks values taken from column statistics or synthetic stand-ins, not"
            .into(),
        "values seen in a real call. Parameters marked TODO hold placeholders to check.".into(),
        String::new(),
    ];
    lines.extend(recording.report.iter().cloned());
    lines
}

fn write_out(out: Option<&PathBuf>, text: &str) -> anyhow::Result<()> {
    match out {
        Some(path) => std::fs::write(path, text)
            .with_context(|| format!("cannot write the workload file {}", path.display())),
        None => {
            use std::io::Write;
            std::io::stdout()
                .write_all(text.as_bytes())
                .context("cannot write to standard output")
        }
    }
}

fn summarise(recording: &Recording, out: Option<&PathBuf>) {
    for line in &recording.report {
        eprintln!("pgperf: {line}");
    }
    let placeholders = recording.placeholders();
    if !placeholders.is_empty() {
        eprintln!(
            "pgperf: warning: {} parameters hold placeholder values (marked TODO in the file):",
            placeholders.len()
        );
        for line in placeholders {
            eprintln!("  {line}");
        }
    }
    if let Some(path) = out {
        eprintln!(
            "pgperf: wrote {} queries to {}",
            recording.drafts.len(),
            path.display()
        );
    }
}
