//! hyperfine's CSV columns (`command,mean,stddev,median,min,max`, seconds) followed by the
//! pgperf quantiles and counts; empty cells where a query has no successful execution.

use std::io;

use super::{Exporter, figures};
use crate::model::RunResult;

pub(super) struct CsvExporter;

const HEADER: &str =
    "command,mean,stddev,median,min,max,p95,p95_ci_low,p95_ci_high,p99,budget_p95,n,errors";

impl Exporter for CsvExporter {
    fn write(&self, result: &RunResult, out: &mut dyn io::Write) -> io::Result<()> {
        writeln!(out, "{HEADER}")?;
        for query in &result.queries {
            let f = figures(query);
            let ci = f.as_ref().and_then(|f| f.p95_ci_s);
            let cells = [
                f.as_ref().map(|f| f.mean_s),
                f.as_ref().map(|f| f.stddev_s),
                f.as_ref().map(|f| f.median_s),
                f.as_ref().map(|f| f.min_s),
                f.as_ref().map(|f| f.max_s),
                f.as_ref().map(|f| f.p95_s),
                ci.map(|c| c.0),
                ci.map(|c| c.1),
                f.as_ref().map(|f| f.p99_s),
                query.budget_p95_us.map(|us| us / 1e6),
            ]
            .map(|value| value.map_or(String::new(), |v| v.to_string()));
            writeln!(
                out,
                "{},{},{},{}",
                field(&query.name),
                cells.join(","),
                query.samples,
                query.errors
            )?;
        }
        Ok(())
    }
}

/// RFC 4180: a field with a comma, quote or line break is quoted, its quotes doubled.
fn field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}
