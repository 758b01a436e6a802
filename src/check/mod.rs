//! The CI gate (DESIGN §9): verdicts between a baseline RunResult and a current one.
//!
//! [`check`] is pure: two results and options in, a [`CheckReport`] out. It first refuses runs
//! that are not comparable ([`comparability`]), then gives each query a timing comparison
//! ([`timing`], corrected across queries and, when the whole workload changed speed, relative
//! to that [`drift`]) and deterministic findings ([`findings`]), marks the
//! findings that fail the gate under `--fail-on`, and derives each query's headline verdict and
//! the overall outcome. [`render`] writes the report in every output format.

mod comparability;
mod drift;
mod findings;
pub mod render;
mod timing;

use crate::model::check::{
    CHECK_SCHEMA_VERSION, CheckOptions, CheckReport, Comparability, Finding, FindingKind,
    GateOutcome, MachineDrift, QueryVerdict, RunRef, Signal, TimingComparison, TimingOutcome,
    Verdict,
};
use crate::model::{QueryResult, RunResult};

/// Compares `current` with `baseline` under `options`.
pub fn check(baseline: &RunResult, current: &RunResult, options: &CheckOptions) -> CheckReport {
    let differences = comparability::differences(baseline, current);
    let comparability = Comparability {
        overridden: !differences.is_empty() && options.allow_incomparable,
        differences,
    };
    let (queries, drift) = if comparability.comparable() || comparability.overridden {
        verdicts(baseline, current, options)
    } else {
        (Vec::new(), None)
    };
    let outcome = gate_outcome(&comparability, &queries, current.complete, options);
    CheckReport {
        schema_version: CHECK_SCHEMA_VERSION,
        baseline: run_ref(baseline),
        current: run_ref(current),
        options: options.clone(),
        comparability,
        queries,
        outcome,
        drift,
    }
}

fn run_ref(run: &RunResult) -> RunRef {
    RunRef {
        run_id: run.run_id.clone(),
        started_at: run.started_at,
        complete: run.complete,
        abort_reason: run.abort_reason.clone(),
    }
}

/// Queries of both runs by name: the baseline's order, then those only the current run has.
fn pair_queries<'a>(
    baseline: &'a RunResult,
    current: &'a RunResult,
) -> Vec<(&'a str, Option<&'a QueryResult>, Option<&'a QueryResult>)> {
    let find = |run: &'a RunResult, name: &str| run.queries.iter().find(|q| q.name == name);
    let mut pairs: Vec<_> = baseline
        .queries
        .iter()
        .map(|b| (b.name.as_str(), Some(b), find(current, &b.name)))
        .collect();
    pairs.extend(
        current
            .queries
            .iter()
            .filter(|c| find(baseline, &c.name).is_none())
            .map(|c| (c.name.as_str(), None, Some(c))),
    );
    pairs
}

/// Every query's verdict, and the machine drift the timing verdicts were judged against.
fn verdicts(
    baseline: &RunResult,
    current: &RunResult,
    options: &CheckOptions,
) -> (Vec<QueryVerdict>, Option<MachineDrift>) {
    let pairs = pair_queries(baseline, current);
    let samples: Vec<Option<(Vec<f64>, Vec<f64>)>> = pairs
        .iter()
        .map(|(_, b, c)| Some((latencies(b.as_ref()?), latencies(c.as_ref()?))))
        .collect();
    let judged: Vec<&(Vec<f64>, Vec<f64>)> = samples
        .iter()
        .flatten()
        .filter(|(b, c)| timing::can_bootstrap(b.len(), c.len()))
        .collect();
    let p95_pairs_us: Vec<(f64, f64)> = judged
        .iter()
        .filter_map(|(b, c)| Some((timing::p95_us(b)?, timing::p95_us(c)?)))
        .collect();
    let drift = drift::detect(&p95_pairs_us, options);
    let correction = drift::correction(drift.as_ref());
    let resamples = timing::resamples_for(judged.len(), options);
    let estimates: Vec<_> = pairs
        .iter()
        .zip(&samples)
        .map(|((name, _, _), sides)| {
            let (b, c) = sides.as_ref()?;
            timing::estimate(name, (b, c), correction, options, resamples)
        })
        .collect();
    let timings = timing::decide(&estimates, options);
    let queries = pairs
        .into_iter()
        .zip(timings)
        .map(|((name, b, c), timing)| query_verdict(name, b, c, timing, options))
        .collect();
    (queries, drift)
}

/// Finite raw latencies of a query: the sample its timing is judged on.
fn latencies(query: &QueryResult) -> Vec<f64> {
    query
        .raw_samples
        .iter()
        .map(|s| s.latency_us)
        .filter(|v| v.is_finite())
        .collect()
}

fn query_verdict(
    name: &str,
    baseline: Option<&QueryResult>,
    current: Option<&QueryResult>,
    timing: Option<TimingComparison>,
    options: &CheckOptions,
) -> QueryVerdict {
    let mut kinds = Vec::new();
    if let Some(t) = timing
        .as_ref()
        .filter(|t| t.outcome == TimingOutcome::Slower)
    {
        kinds.push(timing_regression(t));
    }
    if let (Some(b), Some(c)) = (baseline, current) {
        kinds.extend(findings::compared(b, c, options.buffers_threshold));
    }
    kinds.extend(current.map(findings::current_only).unwrap_or_default());
    let findings: Vec<Finding> = kinds
        .into_iter()
        .map(|kind| Finding {
            fails_gate: options.fails_on(kind.signal()),
            kind,
        })
        .collect();
    QueryVerdict {
        name: name.to_owned(),
        verdict: headline(
            baseline.is_some(),
            current.is_some(),
            timing.as_ref(),
            &findings,
        ),
        fails_gate: findings.iter().any(|f| f.fails_gate),
        timing,
        findings,
    }
}

fn timing_regression(timing: &TimingComparison) -> FindingKind {
    FindingKind::TimingRegression {
        ratio: timing.ratio,
        ratio_ci_low: timing.ratio_ci_low.unwrap_or(timing.ratio),
        ratio_ci_high: timing.ratio_ci_high.unwrap_or(timing.ratio),
        difference_us: timing.current_p95_us - timing.baseline_p95_us,
    }
}

/// The headline verdict, most severe first: missing, error, new, regressed (timing slower or
/// a gating plan/buffers/rows finding), budget breached, improved, inconclusive, unchanged.
fn headline(
    in_baseline: bool,
    in_current: bool,
    timing: Option<&TimingComparison>,
    findings: &[Finding],
) -> Verdict {
    let has = |signal: Signal, gating_only: bool| {
        findings
            .iter()
            .any(|f| f.kind.signal() == signal && (f.fails_gate || !gating_only))
    };
    let outcome = timing.map(|t| t.outcome);
    if !in_current {
        Verdict::Missing
    } else if has(Signal::Errors, false) {
        Verdict::Error
    } else if !in_baseline {
        Verdict::New
    } else if outcome == Some(TimingOutcome::Slower)
        || [Signal::Plan, Signal::Buffers, Signal::Rows]
            .into_iter()
            .any(|signal| has(signal, true))
    {
        Verdict::Regressed
    } else if has(Signal::Budget, false) {
        Verdict::BudgetBreached
    } else if outcome == Some(TimingOutcome::Faster) {
        Verdict::Improved
    } else if matches!(outcome, None | Some(TimingOutcome::TooFewSamples)) {
        Verdict::Inconclusive
    } else {
        Verdict::Unchanged
    }
}

/// Not comparable beats everything; a gating finding beats an inconclusive run. A current run
/// that stopped early cannot pass (its missing queries were not judged); an inconclusive query
/// fails the run only when timing is part of the gate.
fn gate_outcome(
    comparability: &Comparability,
    queries: &[QueryVerdict],
    current_complete: bool,
    options: &CheckOptions,
) -> GateOutcome {
    let inconclusive_timing = options.fails_on(Signal::Timing)
        && queries.iter().any(|q| q.verdict == Verdict::Inconclusive);
    if !comparability.comparable() && !comparability.overridden {
        GateOutcome::NotComparable
    } else if queries.iter().any(|q| q.fails_gate) {
        GateOutcome::Fail
    } else if !current_complete || inconclusive_timing {
        GateOutcome::Inconclusive
    } else {
        GateOutcome::Pass
    }
}
