//! Deterministic findings: facts about a query that do not depend on a noisy machine (DESIGN
//! §9). A changed plan shape and more shared buffers per call are what a lost index looks like
//! even when the machine is too noisy for a timing verdict; rows per call changing means the
//! query now answers differently; a breached budget and a failing query are findings by
//! themselves.

use crate::model::QueryResult;
use crate::model::check::FindingKind;
use crate::model::{PlanCapture, StatementStats};

/// Rise of shared buffers per call that must be exceeded, whatever the ratio: one extra page
/// read per call on a 2-page lookup is +50% but not a lost index.
const MIN_BUFFERS_DELTA_PER_CALL: f64 = 1.0;

/// Relative change of rows per call that counts (means of a deterministic replay differ only
/// by rounding; time-relative parameters can move them a little).
const ROWS_RELATIVE_TOLERANCE: f64 = 0.01;

/// Smallest absolute change of rows per call that counts.
const MIN_ROWS_DELTA_PER_CALL: f64 = 0.5;

/// Findings that compare the two sides of a query present in both runs.
pub fn compared(
    baseline: &QueryResult,
    current: &QueryResult,
    buffers_threshold: f64,
) -> Vec<FindingKind> {
    [
        plan_changed(baseline.plan.as_ref(), current.plan.as_ref()),
        buffers_up(
            baseline.server.as_ref(),
            current.server.as_ref(),
            buffers_threshold,
        ),
        rows_changed(baseline, current),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// Findings about the current run alone: a breached budget, failed executions.
pub fn current_only(current: &QueryResult) -> Vec<FindingKind> {
    [budget_breached(current), errors(current)]
        .into_iter()
        .flatten()
        .collect()
}

fn plan_changed(
    baseline: Option<&PlanCapture>,
    current: Option<&PlanCapture>,
) -> Option<FindingKind> {
    let (baseline, current) = (baseline?, current?);
    (baseline.shape_hash != current.shape_hash).then(|| FindingKind::PlanChanged {
        before_hash: baseline.shape_hash.clone(),
        after_hash: current.shape_hash.clone(),
        before: baseline.shape.clone(),
        after: current.shape.clone(),
    })
}

/// Shared buffers (hit + read) per call: the pages a query touched, cached or not.
fn buffers_per_call(stats: &StatementStats) -> Option<f64> {
    (stats.calls > 0)
        .then(|| (stats.shared_blks_hit + stats.shared_blks_read) as f64 / stats.calls as f64)
}

fn buffers_up(
    baseline: Option<&StatementStats>,
    current: Option<&StatementStats>,
    threshold: f64,
) -> Option<FindingKind> {
    let baseline_per_call = buffers_per_call(baseline?)?;
    let current_per_call = buffers_per_call(current?)?;
    let rose = current_per_call > baseline_per_call * (1.0 + threshold)
        && current_per_call - baseline_per_call > MIN_BUFFERS_DELTA_PER_CALL;
    rose.then_some(FindingKind::BuffersUp {
        baseline_per_call,
        current_per_call,
    })
}

fn rows_changed(baseline: &QueryResult, current: &QueryResult) -> Option<FindingKind> {
    if baseline.samples == 0 || current.samples == 0 {
        return None;
    }
    let (before, after) = (baseline.rows_per_call, current.rows_per_call);
    let delta = (after - before).abs();
    let changed = delta >= MIN_ROWS_DELTA_PER_CALL
        && delta > ROWS_RELATIVE_TOLERANCE * before.abs().max(after.abs());
    changed.then_some(FindingKind::RowsChanged {
        baseline_per_call: before,
        current_per_call: after,
    })
}

fn budget_breached(current: &QueryResult) -> Option<FindingKind> {
    let budget_p95_us = current.budget_p95_us?;
    let p95_us = current.latency?.p95.value_us;
    (p95_us > budget_p95_us).then_some(FindingKind::BudgetBreached {
        budget_p95_us,
        p95_us,
    })
}

fn errors(current: &QueryResult) -> Option<FindingKind> {
    (current.errors > 0).then(|| FindingKind::Errors {
        errors: current.errors,
        executions: current.errors + current.samples,
        first_error: current
            .first_error
            .as_ref()
            .map(|error| match &error.sqlstate {
                Some(sqlstate) => format!("{sqlstate}: {}", error.message),
                None => error.message.clone(),
            }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(calls: i64, hit: i64, read: i64) -> StatementStats {
        StatementStats {
            calls,
            shared_blks_hit: hit,
            shared_blks_read: read,
            ..StatementStats::default()
        }
    }

    #[test]
    fn buffers_count_hits_and_reads_per_call() {
        let finding = buffers_up(Some(&stats(100, 400, 0)), Some(&stats(50, 1000, 500)), 0.2);
        assert_eq!(
            finding,
            Some(FindingKind::BuffersUp {
                baseline_per_call: 4.0,
                current_per_call: 30.0
            })
        );
    }

    #[test]
    fn small_buffer_rises_are_not_findings() {
        // +50% but only one page per call more.
        assert_eq!(
            buffers_up(Some(&stats(10, 20, 0)), Some(&stats(10, 30, 0)), 0.2),
            None
        );
        // +10 pages per call but only +10%.
        assert_eq!(
            buffers_up(Some(&stats(1, 100, 0)), Some(&stats(1, 110, 0)), 0.2),
            None
        );
        // No calls on one side: nothing to compare.
        assert_eq!(
            buffers_up(Some(&stats(0, 0, 0)), Some(&stats(1, 110, 0)), 0.2),
            None
        );
    }
}
