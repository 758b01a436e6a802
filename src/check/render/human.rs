//! The terminal output of `pgperf check`: a table of verdicts, the findings with their
//! before/after detail, the options, and the outcome line.

use std::io;

use comfy_table::{Table, presets};

use super::{
    drift_notice, finding_summary, gate_cell, options_line, outcome_line, override_notice,
    timing_cells, verdict_cell,
};
use crate::model::check::{CheckReport, FindingKind, GateOutcome};

pub(super) fn write(report: &CheckReport, out: &mut impl io::Write) -> io::Result<()> {
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
        writeln!(out, "{}", table(report))?;
        write_findings(report, out)?;
    }
    writeln!(out, "options: {}", options_line(&report.options))?;
    writeln!(out, "{}", outcome_line(report))
}

fn table(report: &CheckReport) -> Table {
    let mut table = Table::new();
    table.load_preset(presets::UTF8_FULL_CONDENSED).set_header([
        "query",
        "verdict",
        "P95 baseline",
        "P95 current",
        "ratio [95% CI]",
        "q",
        "n",
        "gate",
    ]);
    for query in &report.queries {
        let mut row = vec![query.name.clone(), verdict_cell(report, query).to_owned()];
        row.extend(timing_cells(query.timing.as_ref()));
        row.push(gate_cell(query).to_owned());
        table.add_row(row);
    }
    table
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
