//! JUnit XML, which every CI system shows as a test report: one testcase per query, a
//! `<failure>` when the query fails the gate (its findings in the message and body), a
//! `<skipped>` when its timing could not be judged, and a `comparability` testcase that errors
//! when the runs are not comparable. Properties carry the outcome, the options and any
//! comparability override.

use std::io;

use super::{
    difference_list, drift_notice, finding_summary, options_line, outcome_line, ratio_text,
};
use crate::model::check::{CheckReport, GateOutcome, QueryVerdict, TimingComparison, Verdict};

pub(super) fn write(report: &CheckReport, out: &mut impl io::Write) -> io::Result<()> {
    let not_comparable = report.outcome == GateOutcome::NotComparable;
    let tests = report.queries.len() + usize::from(not_comparable);
    let failures = report.queries.iter().filter(|q| q.fails_gate).count();
    let skipped = report.queries.iter().filter(|q| is_skipped(q)).count();
    let counts = format!(
        r#"tests="{tests}" failures="{failures}" errors="{}" skipped="{skipped}""#,
        usize::from(not_comparable)
    );
    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(out, r#"<testsuites name="pgperf check" {counts}>"#)?;
    writeln!(out, r#"  <testsuite name="pgperf check" {counts}>"#)?;
    write_properties(report, out)?;
    if not_comparable {
        writeln!(
            out,
            r#"    <testcase classname="pgperf.check" name="comparability"><error type="not_comparable" message="{}"/></testcase>"#,
            attr(&difference_list(&report.comparability))
        )?;
    }
    for query in &report.queries {
        write_testcase(query, out)?;
    }
    writeln!(out, "  </testsuite>")?;
    writeln!(out, "</testsuites>")
}

fn write_properties(report: &CheckReport, out: &mut impl io::Write) -> io::Result<()> {
    let mut properties = vec![
        ("outcome", outcome_line(report)),
        ("baseline", report.baseline.run_id.clone()),
        ("current", report.current.run_id.clone()),
        ("options", options_line(&report.options)),
    ];
    if report.comparability.overridden {
        properties.push((
            "allow_incomparable",
            format!(
                "compared despite: {}",
                difference_list(&report.comparability)
            ),
        ));
    }
    if let Some(notice) = drift_notice(report) {
        properties.push(("machine_drift", notice));
    }
    writeln!(out, "    <properties>")?;
    for (name, value) in properties {
        writeln!(
            out,
            r#"      <property name="{name}" value="{}"/>"#,
            attr(&value)
        )?;
    }
    writeln!(out, "    </properties>")
}

fn write_testcase(query: &QueryVerdict, out: &mut impl io::Write) -> io::Result<()> {
    let open = format!(
        r#"    <testcase classname="pgperf.check" name="{}""#,
        attr(&query.name)
    );
    let system_out: Vec<String> = query
        .timing
        .as_ref()
        .map(timing_line)
        .into_iter()
        .chain(summaries(query, false))
        .collect();
    if !query.fails_gate && !is_skipped(query) && system_out.is_empty() {
        return writeln!(out, "{open}/>");
    }
    writeln!(out, "{open}>")?;
    write_status(query, out)?;
    if !system_out.is_empty() {
        let body = text(&system_out.join("\n"));
        writeln!(out, "      <system-out>{body}</system-out>")?;
    }
    writeln!(out, "    </testcase>")
}

/// The `<failure>` or `<skipped>` element of a query, if any.
fn write_status(query: &QueryVerdict, out: &mut impl io::Write) -> io::Result<()> {
    if query.fails_gate {
        let failing = summaries(query, true);
        writeln!(
            out,
            r#"      <failure type="{}" message="{}">{}</failure>"#,
            verdict_type(query.verdict),
            attr(&failing.join("; ")),
            text(&failing.join("\n"))
        )
    } else if is_skipped(query) {
        writeln!(
            out,
            r#"      <skipped message="{}: too few samples to judge timing (a P95 interval needs 59 per side)"/>"#,
            query.verdict.name()
        )
    } else {
        Ok(())
    }
}

fn timing_line(timing: &TimingComparison) -> String {
    format!(
        "P95 {:.2} ms → {:.2} ms, ratio {}, n {}/{}",
        timing.baseline_p95_us / 1000.0,
        timing.current_p95_us / 1000.0,
        ratio_text(timing),
        timing.baseline_n,
        timing.current_n
    )
}

/// Summaries of the query's findings that fail the gate (`failing`) or do not.
fn summaries(query: &QueryVerdict, failing: bool) -> Vec<String> {
    query
        .findings
        .iter()
        .filter(|f| f.fails_gate == failing)
        .map(|f| finding_summary(&f.kind))
        .collect()
}

/// Inconclusive queries that do not fail otherwise are reported as skipped.
fn is_skipped(query: &QueryVerdict) -> bool {
    !query.fails_gate && query.verdict == Verdict::Inconclusive
}

fn verdict_type(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::BudgetBreached => "budget_breached",
        Verdict::Error => "error",
        Verdict::New => "new",
        _ => "regressed",
    }
}

/// Text content: markup escaped, characters XML 1.0 forbids dropped.
fn text(value: &str) -> String {
    value
        .chars()
        .filter(|c| matches!(c, '\t' | '\n' | '\r') || !c.is_control())
        .collect::<String>()
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// An attribute value: as text, plus quotes and line breaks.
fn attr(value: &str) -> String {
    text(value).replace('"', "&quot;").replace('\n', "&#10;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_are_escaped_and_control_characters_dropped() {
        assert_eq!(
            attr("a<b> & \"c\"\u{1}\nd"),
            "a&lt;b&gt; &amp; &quot;c&quot;&#10;d"
        );
    }
}
