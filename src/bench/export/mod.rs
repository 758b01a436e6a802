//! `pgperf bench --export-json/--export-markdown/--export-csv`: the run's per-query latencies
//! in the shapes hyperfine users already feed to their scripts and pull-request comments. One
//! [`Exporter`] per format, one file each, all behind the same trait (as hyperfine does), so a
//! format is added without touching the others. The full result stays `results.json`.

mod csv;
mod json;
mod markdown;

use std::io;
use std::path::{Path, PathBuf};

use crate::model::{QueryResult, RunResult};

/// Writes a run in one export format.
pub trait Exporter {
    fn write(&self, result: &RunResult, out: &mut dyn io::Write) -> io::Result<()>;
}

/// An export format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// hyperfine's JSON (`results[]` with `command`, `mean`, ... in seconds) plus quantiles.
    Json,
    /// A GitHub-flavoured Markdown table in milliseconds.
    Markdown,
    /// hyperfine's CSV columns (seconds) plus quantiles.
    Csv,
}

impl ExportFormat {
    fn exporter(self) -> &'static dyn Exporter {
        match self {
            ExportFormat::Json => &json::JsonExporter,
            ExportFormat::Markdown => &markdown::MarkdownExporter,
            ExportFormat::Csv => &csv::CsvExporter,
        }
    }
}

/// Writes `result` in `format` to `out` (a file, or a `Vec` in tests).
pub fn write(result: &RunResult, format: ExportFormat, out: &mut dyn io::Write) -> io::Result<()> {
    format.exporter().write(result, out)
}

/// An export that could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write the export {}: {source}", path.display())]
pub struct ExportError {
    pub path: PathBuf,
    pub source: io::Error,
}

/// Writes `result` to `path` in `format`, through a buffer flushed before returning.
pub fn write_file(
    result: &RunResult,
    format: ExportFormat,
    path: &Path,
) -> Result<(), ExportError> {
    let wrap = |source| ExportError {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::create(path).map_err(wrap)?;
    let mut writer = io::BufWriter::new(file);
    write(result, format, &mut writer)
        .and_then(|()| io::Write::flush(&mut writer))
        .map_err(wrap)
}

/// The latency figures every format shows, in seconds (hyperfine's unit); `None` for a query
/// with no successful execution.
struct Figures {
    mean_s: f64,
    stddev_s: f64,
    median_s: f64,
    min_s: f64,
    max_s: f64,
    p95_s: f64,
    p95_ci_s: Option<(f64, f64)>,
    p99_s: f64,
}

fn figures(query: &QueryResult) -> Option<Figures> {
    let seconds = |us: f64| us / 1e6;
    query.latency.as_ref().map(|l| Figures {
        mean_s: seconds(l.mean_us),
        stddev_s: seconds(l.stddev_us),
        median_s: seconds(l.p50.value_us),
        min_s: seconds(l.min_us),
        max_s: seconds(l.max_us),
        p95_s: seconds(l.p95.value_us),
        p95_ci_s: l
            .p95
            .ci_low_us
            .zip(l.p95.ci_high_us)
            .map(|(low, high)| (seconds(low), seconds(high))),
        p99_s: seconds(l.p99.value_us),
    })
}
