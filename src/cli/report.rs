//! `pgperf report`: renders results files as one self-contained HTML page.

use std::path::{Path, PathBuf};

use anyhow::Context;

use super::{Outcome, UsageError};
use crate::report::input::Document;

#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// A results.json from `pgperf bench`, an advice.json from `pgperf advise` and/or a `pgperf check --format json` output; each adds its sections to one page.
    #[arg(required = true, value_name = "RESULTS.json")]
    pub files: Vec<PathBuf>,
    /// Where to write the HTML (`-` for stdout); default: report.html beside the first file.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
}

pub fn run(args: ReportArgs) -> anyhow::Result<Outcome> {
    let documents = args
        .files
        .iter()
        .map(|path| read_document(path))
        .collect::<Result<Vec<_>, _>>()?;
    let parts = crate::report::Parts::from_documents(&documents)
        .map_err(|error| UsageError(error.to_string()))?;
    let html = crate::report::render(&parts);
    let output = args
        .output
        .unwrap_or_else(|| args.files[0].with_file_name("report.html"));
    if output.as_os_str() == "-" {
        print!("{html}");
        return Ok(Outcome::Success);
    }
    write_html(&output, &html)?;
    eprintln!("wrote {}", output.display());
    Ok(Outcome::Success)
}

/// Writes `report.html` beside a command's results file (bench, advise, check) and returns its
/// path; the results are already on disk, so a failure here loses nothing but the page.
pub(super) fn write_beside(results: &Path, html: &str) -> anyhow::Result<PathBuf> {
    let output = results.with_file_name("report.html");
    write_html(&output, html)?;
    Ok(output)
}

fn write_html(output: &Path, html: &str) -> anyhow::Result<()> {
    std::fs::write(output, html)
        .with_context(|| format!("cannot write the report to {}", output.display()))
}

fn read_document(path: &Path) -> anyhow::Result<Document> {
    let text = std::fs::read_to_string(path).map_err(|error| {
        UsageError(format!(
            "cannot read {}: {error}; pass the results.json that pgperf bench wrote",
            path.display()
        ))
    })?;
    Document::from_json(&text)
        .map_err(|error| UsageError(format!("cannot render {}: {error}", path.display())).into())
}
