//! `--export-json/--export-markdown/--export-csv` of `pgperf bench`, defined apart from the other
//! bench flags so the exports stay one block.

use std::path::PathBuf;

use crate::bench::export::{self, ExportFormat};
use crate::model::RunResult;

/// Export flags, as hyperfine names them.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ExportArgs {
    /// Also write the per-query latencies as JSON in hyperfine's layout (seconds) to FILE.
    #[arg(long, value_name = "FILE")]
    pub export_json: Option<PathBuf>,
    /// Also write the per-query latencies as a Markdown table (milliseconds) to FILE.
    #[arg(long, value_name = "FILE")]
    pub export_markdown: Option<PathBuf>,
    /// Also write the per-query latencies as CSV in hyperfine's columns (seconds) to FILE.
    #[arg(long, value_name = "FILE")]
    pub export_csv: Option<PathBuf>,
}

impl ExportArgs {
    /// Writes every requested export and says where.
    pub fn write(&self, result: &RunResult) -> anyhow::Result<()> {
        let requested = [
            (&self.export_json, ExportFormat::Json),
            (&self.export_markdown, ExportFormat::Markdown),
            (&self.export_csv, ExportFormat::Csv),
        ];
        for (path, format) in requested {
            if let Some(path) = path {
                export::write_file(result, format, path)?;
                eprintln!("pgperf: export written to {}", path.display());
            }
        }
        Ok(())
    }
}
