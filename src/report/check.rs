//! The check section: the gate's outcome, whether the runs were comparable, a verdict per query
//! with baseline and current P95 and the interval of their ratio (one forest chart for all
//! queries), every finding, and a side-by-side plan diff where the plan shape changed.

use serde::Serialize;

use super::escape::Html;
use super::format;
use super::html::{Severity, figure, hash, key_values, note};
use super::svg::{self, IntervalPoint, IntervalRow};
use crate::model::check::{
    CheckReport, Finding, FindingKind, GateOutcome, QueryVerdict, TimingComparison, Verdict,
};

/// The check section's context.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckView {
    pub outcome: String,
    pub outcome_class: &'static str,
    pub facts: Vec<(String, String)>,
    /// (what, baseline, current) for every environment difference.
    pub differences: Vec<(String, String, String)>,
    pub overridden: bool,
    /// Worst first: regressions, errors, breached budgets, then the rest.
    pub verdicts: Vec<VerdictRow>,
    pub plan_diffs: Vec<PlanDiff>,
    /// Ratio rows for the forest chart (P95 current / baseline with its interval).
    #[serde(skip)]
    pub ratios: Vec<IntervalRow>,
    #[serde(skip)]
    pub threshold: f64,
}

/// One query's verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VerdictRow {
    pub name: String,
    pub verdict: &'static str,
    pub verdict_class: &'static str,
    pub baseline_p95: Option<String>,
    pub current_p95: Option<String>,
    pub ratio: Option<String>,
    pub q_value: Option<String>,
    pub findings: Vec<String>,
    pub fails_gate: bool,
}

/// The plan shapes of both sides, each line flagged when the other side lacks it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlanDiff {
    pub query: String,
    pub before_hash: String,
    pub after_hash: String,
    pub before: Vec<(String, bool)>,
    pub after: Vec<(String, bool)>,
}

fn outcome(outcome: GateOutcome) -> (&'static str, &'static str) {
    match outcome {
        GateOutcome::Pass => ("pass: nothing fails the gate", "badge v-improved"),
        GateOutcome::Fail => (
            "fail: at least one finding fails the gate",
            "badge v-regressed",
        ),
        GateOutcome::Inconclusive => (
            "inconclusive: some query had too few samples to judge",
            "badge v-inconclusive",
        ),
        GateOutcome::NotComparable => (
            "not comparable: the runs differ (see below)",
            "badge v-inconclusive",
        ),
    }
}

fn verdict_rank(verdict: Verdict) -> (u8, &'static str) {
    match verdict {
        Verdict::Regressed => (0, "badge v-regressed"),
        Verdict::Error => (1, "badge v-regressed"),
        Verdict::BudgetBreached => (2, "badge v-regressed"),
        Verdict::Inconclusive => (3, "badge v-inconclusive"),
        Verdict::Missing => (4, "badge v-inconclusive"),
        Verdict::New => (5, "badge v-inconclusive"),
        Verdict::Improved => (6, "badge v-improved"),
        Verdict::Unchanged => (7, "badge v-unchanged"),
    }
}

/// Builds the check section's context.
pub fn build(report: &CheckReport) -> CheckView {
    let (outcome_text, outcome_class) = outcome(report.outcome);
    let mut queries: Vec<&QueryVerdict> = report.queries.iter().collect();
    queries.sort_by_key(|query| verdict_rank(query.verdict).0);
    CheckView {
        outcome: outcome_text.to_string(),
        outcome_class,
        facts: facts(report),
        differences: report
            .comparability
            .differences
            .iter()
            .map(|d| (d.what.clone(), d.baseline.clone(), d.current.clone()))
            .collect(),
        overridden: report.comparability.overridden,
        verdicts: queries
            .iter()
            .map(|query| verdict_row(report, query))
            .collect(),
        plan_diffs: queries.iter().flat_map(|query| plan_diffs(query)).collect(),
        ratios: queries
            .iter()
            .filter_map(|query| ratio_row(query))
            .collect(),
        threshold: report.options.threshold,
    }
}

fn facts(report: &CheckReport) -> Vec<(String, String)> {
    let options = &report.options;
    let run = |r: &crate::model::check::RunRef| {
        let partial = match (&r.complete, &r.abort_reason) {
            (true, _) => String::new(),
            (false, Some(reason)) => {
                format!(" (stopped early: {})", super::environment::redact(reason))
            }
            (false, None) => " (stopped early)".to_string(),
        };
        format!(
            "{} · {}{partial}",
            r.run_id,
            r.started_at.format("%Y-%m-%d %H:%M UTC")
        )
    };
    let fail_on: Vec<&str> = options.fail_on.iter().map(|signal| signal.name()).collect();
    vec![
        ("baseline".into(), run(&report.baseline)),
        ("current".into(), run(&report.current)),
        (
            "regression threshold".into(),
            format!(
                "{}% of P95 and at least {}",
                format::significant(options.threshold * 100.0, 3),
                format::latency_us(options.floor_us)
            ),
        ),
        (
            "false discovery rate".into(),
            format!("{} (Benjamini-Hochberg across queries)", options.fdr),
        ),
        (
            "buffers threshold".into(),
            format!(
                "+{}% shared buffers per call",
                format::significant(options.buffers_threshold * 100.0, 3)
            ),
        ),
        ("signals that fail the gate".into(), fail_on.join(", ")),
        (
            "bootstrap".into(),
            format!("{} resamples, seed {}", options.resamples, options.rng_seed),
        ),
    ]
}

fn ratio_text(timing: &TimingComparison) -> String {
    let ratio = format!("{}×", format::significant(timing.ratio, 3));
    match (timing.ratio_ci_low, timing.ratio_ci_high) {
        (Some(low), Some(high)) => format!(
            "{ratio} [{}× – {}×]",
            format::significant(low, 3),
            format::significant(high, 3)
        ),
        _ => format!("{ratio} (no interval)"),
    }
}

fn verdict_row(report: &CheckReport, query: &QueryVerdict) -> VerdictRow {
    let timing = query.timing.as_ref();
    let verdict = crate::check::render::verdict_cell(report, query);
    let p95 = |value_us: f64, n: u64| {
        format!(
            "{} (n = {})",
            format::latency_us(value_us),
            format::count(n as i64)
        )
    };
    VerdictRow {
        name: query.name.clone(),
        verdict,
        // A passing run's untimed query is not in doubt: grey, not amber.
        verdict_class: if verdict == query.verdict.name() {
            verdict_rank(query.verdict).1
        } else {
            "badge v-unchanged"
        },
        baseline_p95: timing.map(|t| p95(t.baseline_p95_us, t.baseline_n)),
        current_p95: timing.map(|t| p95(t.current_p95_us, t.current_n)),
        ratio: timing.map(ratio_text),
        q_value: timing
            .and_then(|t| t.q_value)
            .map(|q| format::significant(q, 2)),
        findings: query.findings.iter().map(finding_text).collect(),
        fails_gate: query.fails_gate,
    }
}

/// A finding as a sentence (the words every check output uses, with any connection string in
/// an error message redacted), marked when it fails the gate.
pub fn finding_text(finding: &Finding) -> String {
    let text = super::environment::redact(&crate::check::render::finding_summary(&finding.kind));
    if finding.fails_gate {
        format!("{text} (fails the gate)")
    } else {
        text
    }
}

fn plan_diffs(query: &QueryVerdict) -> Vec<PlanDiff> {
    query
        .findings
        .iter()
        .filter_map(|finding| match &finding.kind {
            FindingKind::PlanChanged {
                before_hash,
                after_hash,
                before,
                after,
            } => {
                let (before_changed, after_changed) = changed_lines(before, after);
                Some(PlanDiff {
                    query: query.name.clone(),
                    before_hash: before_hash.clone(),
                    after_hash: after_hash.clone(),
                    before: before.iter().cloned().zip(before_changed).collect(),
                    after: after.iter().cloned().zip(after_changed).collect(),
                })
            }
            _ => None,
        })
        .collect()
}

pub use crate::check::render::changed_lines;

fn ratio_row(query: &QueryVerdict) -> Option<IntervalRow> {
    let timing = query.timing.as_ref()?;
    let color = match query.verdict {
        Verdict::Regressed => svg::RED,
        Verdict::Improved => svg::GREEN,
        _ => svg::GREY,
    };
    Some(IntervalRow {
        label: query.name.clone(),
        points: vec![IntervalPoint {
            value: timing.ratio,
            low: timing.ratio_ci_low.unwrap_or(timing.ratio),
            high: timing.ratio_ci_high.unwrap_or(timing.ratio),
            color,
        }],
    })
}

/// Lays the check section out.
pub fn render(html: &mut Html, view: &CheckView) {
    html.open("section", &[("id", "check")])
        .element("h2", &[], "Check against the baseline");
    html.open("p", &[("class", "verdict")])
        .text("Gate: ")
        .element("span", &[("class", view.outcome_class)], &view.outcome)
        .close("p");
    key_values(html, &view.facts);
    render_differences(html, view);
    html.element("h3", &[], "Verdicts");
    render_verdicts(html, &view.verdicts);
    if !view.ratios.is_empty() {
        let chart = svg::ratio_chart(&view.ratios, view.threshold);
        let caption = format!(
            "P95 current / baseline per query with its 95% bootstrap interval; dashed lines at ±{}%: a regression needs the whole interval right of the red line.",
            format::significant(view.threshold * 100.0, 3)
        );
        figure(html, chart, &caption, "No query has timings on both sides.");
    }
    if !view.plan_diffs.is_empty() {
        html.element("h3", &[], "Plan changes");
        for diff in &view.plan_diffs {
            render_plan_diff(html, diff);
        }
    }
    html.close("section");
}

fn render_differences(html: &mut Html, view: &CheckView) {
    if view.differences.is_empty() {
        html.element(
            "p",
            &[("class", "muted")],
            "The runs are comparable: same workload, server version and settings.",
        );
        return;
    }
    if view.overridden {
        note(
            html,
            Severity::Warning,
            "The runs differ and were compared anyway (--allow-incomparable):",
        );
    } else {
        note(
            html,
            Severity::Error,
            "The runs differ, so timings were not judged:",
        );
    }
    html.open("table", &[]).open("thead", &[]).open("tr", &[]);
    for header in ["what", "baseline", "current"] {
        html.element("th", &[], header);
    }
    html.close("tr").close("thead").open("tbody", &[]);
    for (what, baseline, current) in &view.differences {
        html.open("tr", &[])
            .element("td", &[], what)
            .element("td", &[], baseline)
            .element("td", &[], current)
            .close("tr");
    }
    html.close("tbody").close("table");
}

fn render_verdicts(html: &mut Html, rows: &[VerdictRow]) {
    html.open("div", &[("class", "table-wrap")])
        .open("table", &[("class", "summary")])
        .open("thead", &[])
        .open("tr", &[]);
    for (header, class) in [
        ("query", ""),
        ("verdict", ""),
        ("baseline P95", "num"),
        ("current P95", "num"),
        ("ratio [95% interval]", "num"),
        ("q-value", "num"),
        ("findings", ""),
    ] {
        html.element("th", &[("class", class)], header);
    }
    html.close("tr").close("thead").open("tbody", &[]);
    for row in rows {
        html.open("tr", &[])
            .element("td", &[], &row.name)
            .open("td", &[]);
        html.element("span", &[("class", row.verdict_class)], row.verdict)
            .close("td");
        for value in [
            &row.baseline_p95,
            &row.current_p95,
            &row.ratio,
            &row.q_value,
        ] {
            html.element("td", &[("class", "num")], value.as_deref().unwrap_or("–"));
        }
        html.open("td", &[]);
        for finding in &row.findings {
            html.element("span", &[("class", "finding")], finding);
        }
        html.close("td").close("tr");
    }
    html.close("tbody").close("table").close("div");
}

fn render_plan_diff(html: &mut Html, diff: &PlanDiff) {
    html.open("p", &[]).text(&format!("{}: shape ", diff.query));
    hash(html, &diff.before_hash);
    html.text(" → ");
    hash(html, &diff.after_hash);
    html.close("p");
    html.open("div", &[("class", "plan-diff")]);
    for (title, lines) in [("baseline", &diff.before), ("current", &diff.after)] {
        html.open("div", &[])
            .element("h4", &[], title)
            .open("pre", &[]);
        for (line, changed) in lines {
            html.element(
                "span",
                &[("class", if *changed { "line changed" } else { "line" })],
                line,
            );
        }
        html.close("pre").close("div");
    }
    html.close("div");
}
