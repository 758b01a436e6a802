//! Output formats of `pgperf check`, each written through a generic [`io::Write`] so that every
//! format is snapshot-tested: a terminal table ([`human`]), JSON (the [`CheckReport`] itself),
//! Markdown for a CI step summary ([`markdown`]), JUnit XML ([`junit`]) and GitHub Actions
//! annotations ([`github`]). The phrases shared by the formats (finding summaries, the outcome
//! line, the options line) live here so that all formats say the same thing in the same words.

mod github;
mod human;
mod junit;
mod markdown;

pub use github::command as github_error_annotation;

use std::io;

use crate::model::check::{
    CheckOptions, CheckReport, Comparability, FindingKind, GateOutcome, QueryVerdict,
    TimingComparison, Verdict,
};

/// An output format of `pgperf check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Human,
    Json,
    Markdown,
    Junit,
}

/// Writes `report` to `out` in `format`.
pub fn write_report(
    report: &CheckReport,
    format: Format,
    out: &mut impl io::Write,
) -> io::Result<()> {
    match format {
        Format::Human => human::write(report, None, out),
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, report)?;
            writeln!(out)
        }
        Format::Markdown => write_markdown(report, markdown::STEP_SUMMARY_LIMIT_BYTES, out),
        Format::Junit => junit::write(report, out),
    }
}

/// Writes the terminal output with its table fitted to `width` columns (a terminal's width;
/// [`write_report`] keeps every column).
pub fn write_human(
    report: &CheckReport,
    width: Option<usize>,
    out: &mut impl io::Write,
) -> io::Result<()> {
    human::write(report, width, out)
}

/// Writes `report` as Markdown of at most `limit_bytes` (whole sections are left out, failing
/// queries last, with a note saying so); [`write_report`] uses GitHub's step summary limit.
pub fn write_markdown(
    report: &CheckReport,
    limit_bytes: usize,
    out: &mut impl io::Write,
) -> io::Result<()> {
    markdown::write(report, limit_bytes, out)
}

/// Writes one GitHub Actions `::error` annotation per query that fails the gate (and one for
/// a not-comparable or inconclusive outcome); nothing for a passing run.
pub fn write_annotations(report: &CheckReport, out: &mut impl io::Write) -> io::Result<()> {
    github::write(report, out)
}

/// Milliseconds with two decimals, from microseconds.
fn ms(us: f64) -> String {
    format!("{:.2} ms", us / 1000.0)
}

/// `1.32× [1.18, 1.47]`, or the bare ratio when there is no interval.
fn ratio_text(timing: &TimingComparison) -> String {
    match (timing.ratio_ci_low, timing.ratio_ci_high) {
        (Some(low), Some(high)) => format!("{:.2}× [{low:.2}, {high:.2}]", timing.ratio),
        _ => format!("{:.2}×", timing.ratio),
    }
}

/// The q-value with three decimals, or `-` when there is none.
fn q_text(timing: &TimingComparison) -> String {
    timing
        .q_value
        .map_or_else(|| "-".to_owned(), |q| format!("{q:.3}"))
}

/// Flags the lines of each side that are not in their longest common subsequence.
pub fn changed_lines(before: &[String], after: &[String]) -> (Vec<bool>, Vec<bool>) {
    let (n, m) = (before.len(), after.len());
    let mut lcs = vec![vec![0usize; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if before[i] == after[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut before_changed, mut after_changed) = (vec![true; n], vec![true; m]);
    let (mut i, mut j) = (0, 0);
    while i < n && j < m {
        if before[i] == after[j] {
            before_changed[i] = false;
            after_changed[j] = false;
            (i, j) = (i + 1, j + 1);
        } else if lcs[i + 1][j] >= lcs[i][j + 1] {
            i += 1;
        } else {
            j += 1;
        }
    }
    (before_changed, after_changed)
}

/// Characters of a hash shown to a reader; the JSON report keeps the full value.
const SHORT_HASH_CHARS: usize = 12;

/// A plan shape hash (64 hex digits) cut to its first 12, which tell plans apart as well.
pub fn short_hash(hash: &str) -> String {
    match hash.char_indices().nth(SHORT_HASH_CHARS) {
        Some((end, _)) => format!("{}…", &hash[..end]),
        None => hash.to_owned(),
    }
}

/// One line saying what a finding is; every output format and the HTML report use it.
pub fn finding_summary(kind: &FindingKind) -> String {
    match kind {
        FindingKind::TimingRegression {
            ratio,
            ratio_ci_low,
            ratio_ci_high,
            difference_us,
        } => format!(
            "P95 {ratio:.2}× slower (95% CI {ratio_ci_low:.2}–{ratio_ci_high:.2}), +{}",
            ms(*difference_us)
        ),
        FindingKind::PlanChanged {
            before_hash,
            after_hash,
            ..
        } => format!(
            "plan shape changed ({} → {})",
            short_hash(before_hash),
            short_hash(after_hash)
        ),
        FindingKind::BuffersUp {
            baseline_per_call,
            current_per_call,
        } => format!(
            "shared buffers per call {baseline_per_call:.1} → {current_per_call:.1} ({:+.0}%)",
            (current_per_call / baseline_per_call - 1.0) * 100.0
        ),
        FindingKind::RowsChanged {
            baseline_per_call,
            current_per_call,
        } => format!("rows per call {baseline_per_call:.1} → {current_per_call:.1}"),
        FindingKind::BudgetBreached {
            budget_p95_us,
            p95_us,
        } => format!(
            "P95 {} over its budget of {}",
            ms(*p95_us),
            ms(*budget_p95_us)
        ),
        FindingKind::Errors {
            errors,
            executions,
            first_error,
        } => match first_error {
            Some(message) => format!("{errors} of {executions} executions failed: {message}"),
            None => format!("{errors} of {executions} executions failed"),
        },
    }
}

/// The overall result in one line, e.g. `FAIL: 2 of 14 queries fail the gate (exit 1)`, with
/// a reminder when the runs were compared despite differences.
fn outcome_line(report: &CheckReport) -> String {
    let line = outcome_text(report);
    if report.comparability.overridden {
        format!("{line}; runs NOT comparable, compared because of --allow-incomparable")
    } else {
        line
    }
}

fn outcome_text(report: &CheckReport) -> String {
    let failing = report.queries.iter().filter(|q| q.fails_gate).count();
    let total = report.queries.len();
    let exit = report.outcome.exit_code();
    match report.outcome {
        GateOutcome::Pass => format!("PASS: none of {total} queries fails the gate (exit {exit})"),
        GateOutcome::Fail => {
            format!("FAIL: {failing} of {total} queries fail the gate (exit {exit})")
        }
        GateOutcome::Inconclusive if !report.current.complete => format!(
            "INCONCLUSIVE: the current run stopped early ({}), so not every query was judged (exit {exit})",
            report
                .current
                .abort_reason
                .as_deref()
                .unwrap_or("no reason recorded")
        ),
        GateOutcome::Inconclusive => format!(
            "INCONCLUSIVE: {} of {total} queries have too few samples to judge timing; raise --time-budget (or force --iterations 59 or more) or drop timing from --fail-on (exit {exit})",
            inconclusive_count(report)
        ),
        GateOutcome::NotComparable => format!(
            "NOT COMPARABLE: the runs differ in {}; rerun both alike or pass --allow-incomparable (exit {exit})",
            match report.comparability.differences.len() {
                1 => "1 way".to_string(),
                n => format!("{n} ways"),
            }
        ),
    }
}

fn inconclusive_count(report: &CheckReport) -> usize {
    report
        .queries
        .iter()
        .filter(|q| q.verdict == Verdict::Inconclusive)
        .count()
}

/// A warning line when the runs were compared despite differences, `None` otherwise.
fn override_notice(comparability: &Comparability) -> Option<String> {
    comparability.overridden.then(|| {
        format!(
            "WARNING: the runs are not comparable ({}); compared anyway because of --allow-incomparable",
            difference_list(comparability)
        )
    })
}

/// `workload hash: a → b; scale: 1 → 2`.
fn difference_list(comparability: &Comparability) -> String {
    comparability
        .differences
        .iter()
        .map(|d| format!("{}: {} → {}", d.what, d.baseline, d.current))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The options in one line.
fn options_line(options: &CheckOptions) -> String {
    let fail_on: Vec<&str> = options.fail_on.iter().map(|s| s.name()).collect();
    format!(
        "threshold {:.0}%, floor {}, FDR {}, buffers threshold {:.0}%, fail on {}, {} bootstrap resamples, seed {}, drift correction {}",
        options.threshold * 100.0,
        ms(options.floor_us),
        options.fdr,
        options.buffers_threshold * 100.0,
        if fail_on.is_empty() {
            "nothing".to_owned()
        } else {
            fail_on.join(",")
        },
        options.resamples,
        options.rng_seed,
        if options.no_drift_correction {
            "off"
        } else {
            "on"
        },
    )
}

/// A warning line when the whole workload changed speed between the runs, `None` otherwise.
fn drift_notice(report: &CheckReport) -> Option<String> {
    report.drift.as_ref().map(|drift| {
        let judged = if drift.corrected {
            "timing is judged relative to that shift"
        } else {
            "timing is judged in absolute terms (--no-drift-correction)"
        };
        format!(
            "WARNING: the whole workload changed speed between the runs (median P95 ratio ×{:.2} over {} queries); {judged}. The machine changed speed between the runs: rerun baseline and candidate alternated on the same runner (docs/ci.md), or gate on plan/buffers only",
            drift.shift, drift.queries
        )
    })
}

/// Baseline and current P95 and sample counts, for a table row; dashes without timing.
fn timing_cells(timing: Option<&TimingComparison>) -> [String; 5] {
    match timing {
        Some(t) => [
            ms(t.baseline_p95_us),
            ms(t.current_p95_us),
            ratio_text(t),
            q_text(t),
            format!("{}/{}", t.baseline_n, t.current_n),
        ],
        None => std::array::from_fn(|_| "-".to_owned()),
    }
}

/// The verdict's name; in a passing run, a query with too few samples for a timing verdict
/// reads `not timed`: timing was not gated, so nothing is in doubt.
pub fn verdict_cell(report: &CheckReport, query: &QueryVerdict) -> &'static str {
    if report.outcome == GateOutcome::Pass && query.verdict == Verdict::Inconclusive {
        "not timed"
    } else {
        query.verdict.name()
    }
}

/// `FAIL` when the query fails the gate, `ok` otherwise.
fn gate_cell(query: &QueryVerdict) -> &'static str {
    if query.fails_gate { "FAIL" } else { "ok" }
}
