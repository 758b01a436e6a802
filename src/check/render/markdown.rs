//! Markdown for a CI step summary (`$GITHUB_STEP_SUMMARY`), which GitHub caps at 1 MiB per
//! step. The text is built from whole blocks (the head, one section per failing query, one
//! table row per query, the options) in order of importance and stops before the limit, so a
//! truncated summary is still valid Markdown, keeps the failing queries, and says what it left
//! out.

use std::io;

use super::{
    changed_lines, drift_notice, finding_summary, gate_cell, options_line, outcome_line,
    override_notice, timing_cells, verdict_cell,
};
use crate::model::check::{CheckReport, FindingKind, GateOutcome, QueryVerdict, Verdict};

/// Bytes the summary may use: GitHub's 1 MiB limit less room for other steps' output.
pub(super) const STEP_SUMMARY_LIMIT_BYTES: usize = 1_000_000;

/// Room kept for the truncation note and the options line.
const TAIL_RESERVE_BYTES: usize = 2_048;

pub(super) fn write(
    report: &CheckReport,
    limit_bytes: usize,
    out: &mut impl io::Write,
) -> io::Result<()> {
    let mut text = head(report);
    let blocks = body_blocks(report);
    let budget = limit_bytes.saturating_sub(TAIL_RESERVE_BYTES);
    let mut kept = 0;
    for block in &blocks {
        if text.len() + block.len() > budget {
            break;
        }
        text.push_str(block);
        kept += 1;
    }
    if kept < blocks.len() {
        text.push_str(&format!(
            "\n> **Truncated** to fit the {limit_bytes}-byte step summary limit: {} of {} sections left out. `pgperf check --format json` has everything.\n",
            blocks.len() - kept,
            blocks.len()
        ));
    }
    text.push_str(&format!(
        "\n<sub>Options: {}</sub>\n",
        escape(&options_line(&report.options))
    ));
    out.write_all(text.as_bytes())
}

fn head(report: &CheckReport) -> String {
    let title = match report.outcome {
        GateOutcome::Pass => "✅ pass",
        GateOutcome::Fail => "❌ fail",
        GateOutcome::Inconclusive => "⚠️ inconclusive",
        GateOutcome::NotComparable => "⚠️ not comparable",
    };
    let mut text = format!(
        "## pgperf check: {title}\n\n{}\n\nBaseline `{}` vs current `{}`.\n",
        escape(&outcome_line(report)),
        report.baseline.run_id,
        report.current.run_id
    );
    if let Some(notice) = override_notice(&report.comparability) {
        text.push_str(&format!("\n> **{}**\n", escape(&notice)));
    }
    if let Some(notice) = drift_notice(report) {
        text.push_str(&format!("\n> **{}**\n", escape(&notice)));
    }
    if report.outcome == GateOutcome::NotComparable {
        text.push_str("\n| differs | baseline | current |\n|---|---|---|\n");
        for d in &report.comparability.differences {
            text.push_str(&format!(
                "| {} | {} | {} |\n",
                cell(&d.what),
                cell(&d.baseline),
                cell(&d.current)
            ));
        }
    }
    text
}

/// Failing queries' sections, then the table rows, then the other queries' findings.
fn body_blocks(report: &CheckReport) -> Vec<String> {
    if report.queries.is_empty() {
        return Vec::new();
    }
    let with_findings = |failing: bool| {
        report
            .queries
            .iter()
            .filter(move |q| q.fails_gate == failing && !q.findings.is_empty())
            .map(details)
    };
    let mut blocks: Vec<String> = Vec::new();
    if report.queries.iter().any(|q| q.fails_gate) {
        blocks.push("\n### Failing queries\n".to_owned());
        blocks.extend(with_findings(true));
    }
    blocks.push(format!(
        "\n### All queries\n\n{}\n\n| query | verdict | P95 baseline | P95 current | ratio [95% CI] | q | n | gate |\n|---|---|--:|--:|---|--:|--:|---|\n",
        counts_line(report)
    ));
    blocks.extend(report.queries.iter().map(|query| row(report, query)));
    if report
        .queries
        .iter()
        .any(|q| !q.fails_gate && !q.findings.is_empty())
    {
        blocks.push("\n### Other findings (not failing the gate)\n".to_owned());
        blocks.extend(with_findings(false));
    }
    blocks
}

fn row(report: &CheckReport, query: &QueryVerdict) -> String {
    let [base, current, ratio, q, n] = timing_cells(query.timing.as_ref());
    format!(
        "| {} | {} | {base} | {current} | {ratio} | {q} | {n} | {} |\n",
        cell(&query.name),
        verdict_cell(report, query),
        gate_cell(query)
    )
}

/// `2 regressed · 1 improved · 11 unchanged`, verdicts in a fixed order. In a passing run,
/// queries without a timing verdict only mean timing was not gated (too few samples for a
/// P95), so they come last and say so instead of reading as a warning.
fn counts_line(report: &CheckReport) -> String {
    let passed = report.outcome == GateOutcome::Pass;
    let order = [
        Verdict::Regressed,
        Verdict::Error,
        Verdict::BudgetBreached,
        Verdict::Inconclusive,
        Verdict::Improved,
        Verdict::Unchanged,
        Verdict::New,
        Verdict::Missing,
    ];
    let count = |verdict| {
        report
            .queries
            .iter()
            .filter(|q| q.verdict == verdict)
            .count()
    };
    let mut parts: Vec<String> = order
        .into_iter()
        .filter(|verdict| !(passed && *verdict == Verdict::Inconclusive))
        .filter_map(|verdict| {
            let n = count(verdict);
            (n > 0).then(|| format!("{n} {}", verdict.name()))
        })
        .collect();
    let untimed = count(Verdict::Inconclusive);
    if passed && untimed > 0 {
        parts.push(format!(
            "{untimed} without a timing verdict (fewer than 59 samples; timing is not gated)"
        ));
    }
    parts.join(" · ")
}

fn details(query: &QueryVerdict) -> String {
    let mut text = format!(
        "\n<details><summary><b>{}</b>: {}</summary>\n\n",
        escape(&query.name),
        query.verdict.name()
    );
    for finding in &query.findings {
        let mark = if finding.fails_gate {
            "**FAIL**"
        } else {
            "note"
        };
        text.push_str(&format!(
            "- {mark} {}\n",
            escape(&finding_summary(&finding.kind))
        ));
    }
    for finding in &query.findings {
        if let FindingKind::PlanChanged { before, after, .. } = &finding.kind {
            text.push_str("\n```diff\n");
            for (mark, line) in line_diff(before, after) {
                text.push_str(&format!("{mark} {}\n", code_line(line)));
            }
            text.push_str("```\n");
        }
    }
    text.push_str("\n</details>\n");
    text
}

/// The plan shapes as a line diff: only lines outside the longest common subsequence are
/// marked `-`/`+`, so a reviewer sees the node that changed rather than two whole plans.
fn line_diff<'a>(before: &'a [String], after: &'a [String]) -> Vec<(char, &'a str)> {
    let (before_changed, after_changed) = changed_lines(before, after);
    let (mut i, mut j) = (0, 0);
    let mut lines = Vec::with_capacity(before.len().max(after.len()));
    while i < before.len() || j < after.len() {
        if i < before.len() && before_changed[i] {
            lines.push(('-', before[i].as_str()));
            i += 1;
        } else if j < after.len() && after_changed[j] {
            lines.push(('+', after[j].as_str()));
            j += 1;
        } else {
            // Both sides are at a common line (the unchanged lines pair up in order).
            lines.push((' ', before[i].as_str()));
            (i, j) = (i + 1, j + 1);
        }
    }
    lines
}

/// Text outside code: HTML-significant characters escaped (GitHub renders inline HTML).
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A table cell: escaped, pipes and newlines neutralised.
fn cell(text: &str) -> String {
    escape(text).replace('|', "\\|").replace('\n', " ")
}

/// A line inside a fenced block: a fence in the text would end the block early.
fn code_line(line: &str) -> String {
    line.replace("```", "'''")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plan_diff_marks_only_changed_lines() {
        let lines = |l: &[&str]| l.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let before = lines(&["Limit", "  Sort", "    Seq Scan on t", "      Filter"]);
        let after = lines(&[
            "Limit",
            "  Sort",
            "    Index Scan on t using t_a",
            "      Filter",
        ]);
        assert_eq!(
            line_diff(&before, &after),
            vec![
                (' ', "Limit"),
                (' ', "  Sort"),
                ('-', "    Seq Scan on t"),
                ('+', "    Index Scan on t using t_a"),
                (' ', "      Filter"),
            ]
        );
    }

    #[test]
    fn cells_cannot_break_the_table_or_inject_html() {
        assert_eq!(cell("a|b\n<script>"), "a\\|b &lt;script&gt;");
    }
}
