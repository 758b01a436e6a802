//! The terminal output of `pgperf check`: a table of verdicts (fitted to the terminal's width
//! by leaving out [`DROP_ORDER`]'s columns first), the findings with their before/after detail,
//! the options, and the outcome line.

use std::io;

use comfy_table::Cell;

use super::{
    drift_notice, finding_summary, gate_cell, options_line, outcome_line, override_notice,
    timing_cells, verdict_cell,
};
use crate::model::check::{CheckReport, FindingKind, GateOutcome};

/// Writes the terminal output; `width` fits the table to a terminal (`None`: every column).
pub(super) fn write(
    report: &CheckReport,
    width: Option<usize>,
    out: &mut impl io::Write,
) -> io::Result<()> {
    writeln!(
        out,
        "pgperf check: baseline {} vs current {}",
        report.baseline.run_id, report.current.run_id
    )?;
    if let Some(notice) = override_notice(&report.comparability) {
        writeln!(out, "{notice}")?;
    }
    if let Some(notice) = drift_notice(report) {
        writeln!(out, "{notice}")?;
    }
    if report.outcome == GateOutcome::NotComparable {
        for d in &report.comparability.differences {
            writeln!(out, "  {}: {} → {}", d.what, d.baseline, d.current)?;
        }
    } else {
        writeln!(out, "{}", table(report, width))?;
        write_findings(report, out)?;
    }
    writeln!(out, "options: {}", options_line(&report.options))?;
    writeln!(out, "{}", outcome_line(report))
}

const HEADER: [&str; 8] = [
    "query",
    "verdict",
    "P95 baseline",
    "P95 current",
    "ratio [95% CI]",
    "q",
    "n",
    "gate",
];

/// Columns left out, in this order, on a narrow terminal: the query, its verdict, the ratio
/// and the gate always stay.
pub const DROP_ORDER: [&str; 4] = ["n", "q", "P95 baseline", "P95 current"];

fn table(report: &CheckReport, width: Option<usize>) -> String {
    let rows: Vec<Vec<Cell>> = report
        .queries
        .iter()
        .map(|query| {
            let mut row = vec![query.name.clone(), verdict_cell(report, query).to_owned()];
            row.extend(timing_cells(query.timing.as_ref()));
            row.push(gate_cell(query).to_owned());
            row.into_iter().map(Cell::new).collect()
        })
        .collect();
    let fitted = crate::terminal::fit(&HEADER, &DROP_ORDER, &rows, width);
    let mut text = fitted.table.to_string();
    if let Some(note) = width.and_then(|width| fitted.note(width)) {
        text.push('\n');
        text.push_str(&note);
    }
    text
}

fn write_findings(report: &CheckReport, out: &mut impl io::Write) -> io::Result<()> {
    for query in report.queries.iter().filter(|q| !q.findings.is_empty()) {
        writeln!(out, "{}:", query.name)?;
        for finding in &query.findings {
            let mark = if finding.fails_gate { "FAIL" } else { "note" };
            writeln!(out, "  [{mark}] {}", finding_summary(&finding.kind))?;
            if let FindingKind::PlanChanged { before, after, .. } = &finding.kind {
                write_shape(out, "before", before)?;
                write_shape(out, "after", after)?;
            }
        }
    }
    Ok(())
}

fn write_shape(out: &mut impl io::Write, label: &str, lines: &[String]) -> io::Result<()> {
    writeln!(out, "    {label}:")?;
    for line in lines {
        writeln!(out, "      {line}")?;
    }
    Ok(())
}
