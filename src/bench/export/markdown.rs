//! A Markdown table in milliseconds, the shape of hyperfine's `--export-markdown` (mean ± σ,
//! min, max) with the P95 and its budget, ready to paste into a pull request.

use std::io;

use super::{Exporter, figures};
use crate::model::RunResult;

pub(super) struct MarkdownExporter;

impl Exporter for MarkdownExporter {
    fn write(&self, result: &RunResult, out: &mut dyn io::Write) -> io::Result<()> {
        writeln!(
            out,
            "| Query | Mean [ms] | P50 [ms] | P95 [ms] | P99 [ms] | Min [ms] | Max [ms] | Budget P95 [ms] | n |"
        )?;
        writeln!(out, "|:---|---:|---:|---:|---:|---:|---:|---:|---:|")?;
        let ms = |s: f64| format!("{:.3}", s * 1e3);
        for query in &result.queries {
            let cells = figures(query).map_or_else(
                || std::array::from_fn(|_| "–".to_owned()),
                |f| {
                    [
                        format!("{} ± {}", ms(f.mean_s), ms(f.stddev_s)),
                        ms(f.median_s),
                        ms(f.p95_s),
                        ms(f.p99_s),
                        ms(f.min_s),
                        ms(f.max_s),
                    ]
                },
            );
            let budget = query
                .budget_p95_us
                .map_or("–".to_owned(), |us| ms(us / 1e6));
            writeln!(
                out,
                "| `{}` | {} | {budget} | {} |",
                query.name.replace('|', "\\|").replace('`', "'"),
                cells.join(" | "),
                query.samples
            )?;
        }
        Ok(())
    }
}
