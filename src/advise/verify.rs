//! Verification for real, inside one transaction that is always rolled back (on success, on
//! error, on Ctrl-C; a killed pgperf's transaction dies with its connection). Order, so that
//! machine drift spreads evenly over both sides: first half of the "before" executions →
//! `SAVEPOINT` → build the selected indexes (check `indcheckxmin`, EXPLAIN confirms use, real
//! sizes) → all "after" executions → `ROLLBACK TO SAVEPOINT` → second half of "before".
//! Executions are interleaved across statements; writes run inside their own savepoint so every
//! execution sees the same data. An index is kept only when a query it serves got a lower P95
//! with non-overlapping 95% intervals, and no query that uses it got slower the same way.

use postgres::Client;

use super::AdviseError;
use super::ddl::create_in_transaction;
use super::plan;
use super::session::{Statement, explain};
use crate::bench::{MeasureOptions, Wrapping, measure_queries};
use crate::model::advice::{Recommendation, RejectReason, RejectedCandidate};
use crate::model::{Protocol, QuantileEstimate};
use crate::pg::quote_qualified;
use crate::workload::{Query, Workload};

/// How verification measures.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifyOptions {
    /// Executions per statement and side (at least 59 for a P95 interval).
    pub executions: u64,
    /// `statement_timeout` inside the verification transaction.
    pub statement_timeout_ms: u64,
    /// Queries slower than this on a probe execution are not timed (2 × `executions` of them
    /// would not fit in an advise run); their indexes rest on the planner and say so.
    pub max_execution_ms: u64,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        VerifyOptions {
            executions: 100,
            statement_timeout_ms: 30_000,
            max_execution_ms: 100,
        }
    }
}

/// Indexes dropped by verification, with their evidence.
#[derive(Debug, Default)]
pub struct VerifyOutcome {
    pub rejected: Vec<RejectedCandidate>,
    /// Queries served by a kept index that were too slow (or failed) to be timed.
    pub unmeasured: Vec<String>,
}

/// Samples of one statement.
#[derive(Debug, Default, Clone)]
struct Samples {
    /// One execution before anything else; `None` when it failed.
    probe_us: Option<f64>,
    /// Why the probe failed, when it did.
    probe_error: Option<String>,
    before_us: Vec<f64>,
    after_us: Vec<f64>,
    /// Positions of the recommendations its "after" plan uses.
    uses: Vec<usize>,
}

/// What verification runs: the workload's queries (for the bench's timing loop) and the
/// statements advise costed for them.
pub struct Trial<'a> {
    pub workload: &'a Workload,
    /// Top-level statements whose baseline plan succeeded.
    pub statements: &'a [&'a Statement],
    pub lock_timeout_ms: u64,
}

/// Builds, confirms and measures `recommendations`, removing the ones that do not pay off and
/// filling real sizes and measured P95 into the rest.
pub fn verify(
    client: &mut Client,
    recommendations: &mut Vec<Recommendation>,
    trial: &Trial,
    options: &VerifyOptions,
) -> Result<VerifyOutcome, AdviseError> {
    if recommendations.is_empty() {
        return Ok(VerifyOutcome::default());
    }
    client.batch_execute(&format!(
        "BEGIN; SET LOCAL lock_timeout = '{}ms'; SET LOCAL statement_timeout = '{}ms'",
        trial.lock_timeout_ms, options.statement_timeout_ms
    ))?;
    let measured = measure(client, recommendations, trial, options);
    let rollback = client.batch_execute("ROLLBACK");
    let (failed, samples) = measured?;
    rollback?;
    Ok(decide(recommendations, trial.statements, failed, &samples))
}

type Measured = (Vec<(usize, RejectReason)>, Vec<Samples>);

fn measure(
    client: &mut Client,
    recommendations: &mut [Recommendation],
    trial: &Trial,
    options: &VerifyOptions,
) -> Result<Measured, AdviseError> {
    let mut samples = vec![Samples::default(); trial.statements.len()];
    let all: Vec<usize> = (0..trial.statements.len()).collect();
    time(client, trial, &all, 1, &mut samples, Side::Probe)?;
    let timed: Vec<usize> = all
        .into_iter()
        .filter(|i| {
            let probe = samples[*i].probe_us;
            probe.is_some_and(|us| us <= options.max_execution_ms as f64 * 1000.0)
        })
        .collect();
    let executions = options.executions.max(1);
    let first_half = executions.div_ceil(2);
    time(
        client,
        trial,
        &timed,
        first_half,
        &mut samples,
        Side::Before,
    )?;
    client.batch_execute("SAVEPOINT pgperf_indexes")?;
    let failed = build_all(client, recommendations)?;
    for (index, statement) in trial.statements.iter().enumerate() {
        if let Ok(plan) = explain(client, statement) {
            let used = plan::index_names(&plan);
            samples[index].uses = (0..recommendations.len())
                .filter(|i| used.contains(&recommendations[*i].name))
                .collect();
        }
    }
    time(client, trial, &timed, executions, &mut samples, Side::After)?;
    client.batch_execute("ROLLBACK TO SAVEPOINT pgperf_indexes")?;
    let rest = executions - first_half;
    time(client, trial, &timed, rest, &mut samples, Side::Before)?;
    Ok((failed, samples))
}

/// Builds every index in its own savepoint; returns the ones that failed or are unusable.
fn build_all(
    client: &mut Client,
    recommendations: &mut [Recommendation],
) -> Result<Vec<(usize, RejectReason)>, AdviseError> {
    let mut failed = Vec::new();
    for (index, recommendation) in recommendations.iter_mut().enumerate() {
        client.batch_execute("SAVEPOINT pgperf_build")?;
        let ddl = create_in_transaction(&recommendation.spec, &recommendation.name);
        if let Err(error) = client.batch_execute(&ddl) {
            client.batch_execute("ROLLBACK TO SAVEPOINT pgperf_build")?;
            let message = crate::pg::describe(&error);
            failed.push((index, RejectReason::BuildFailed { message }));
            continue;
        }
        let qualified = quote_qualified(&recommendation.spec.schema, &recommendation.name);
        let row = client.query_one(
            "SELECT i.indcheckxmin, \
                    coalesce((SELECT sum(pg_relation_size(relid)) FROM pg_partition_tree(i.indexrelid)), \
                             pg_relation_size(i.indexrelid))::int8 \
             FROM pg_index i WHERE i.indexrelid = to_regclass($1)",
            &[&qualified],
        )?;
        recommendation.size_bytes = Some(row.get::<_, i64>(1).max(0) as u64);
        if row.get::<_, bool>(0) {
            client.batch_execute("ROLLBACK TO SAVEPOINT pgperf_build")?;
            failed.push((index, RejectReason::CheckXmin));
        }
    }
    Ok(failed)
}

#[derive(Clone, Copy, PartialEq)]
enum Side {
    Probe,
    Before,
    After,
}

/// `iterations` executions of the `targets` statements, interleaved in shuffled order by the
/// bench's timing loop, each in a savepoint inside the verification transaction.
fn time(
    client: &mut Client,
    trial: &Trial,
    targets: &[usize],
    iterations: u64,
    samples: &mut [Samples],
    side: Side,
) -> Result<(), AdviseError> {
    if crate::signal::interrupted() {
        return Err(AdviseError::Interrupted);
    }
    if targets.is_empty() || iterations == 0 {
        return Ok(());
    }
    let queries: Vec<Query> = targets
        .iter()
        .filter_map(|i| trial.statements[*i].query_index)
        .map(|i| trial.workload.queries[i].clone())
        .collect();
    let options = MeasureOptions {
        iterations,
        warmup: if side == Side::Probe {
            0
        } else {
            WARMUP_EXECUTIONS
        },
        protocol: Protocol::Prepared,
        rng_seed: 42,
        wrapping: Wrapping::Savepoint,
    };
    let results = measure_queries(client, &queries, &options)
        .map_err(|e| AdviseError::Measure(e.to_string()))?;
    // The timing loop leaves the last query's role set; builds need the connecting user.
    client.batch_execute("RESET ROLE")?;
    if crate::signal::interrupted() {
        return Err(AdviseError::Interrupted);
    }
    for (target, result) in targets.iter().zip(results) {
        let latencies = result.raw_samples.iter().map(|s| s.latency_us);
        let sample = &mut samples[*target];
        match side {
            Side::Probe => {
                sample.probe_us = latencies.fold(None, |_, us| Some(us));
                sample.probe_error = result.first_error.map(|e| e.message);
            }
            Side::Before => sample.before_us.extend(latencies),
            Side::After => sample.after_us.extend(latencies),
        }
    }
    Ok(())
}

/// Discarded executions before each timed block (caches, plan cache).
const WARMUP_EXECUTIONS: u64 = 3;

/// Keeps the indexes whose served queries got faster beyond noise and that slowed nothing.
fn decide(
    recommendations: &mut Vec<Recommendation>,
    statements: &[&Statement],
    failed: Vec<(usize, RejectReason)>,
    samples: &[Samples],
) -> VerifyOutcome {
    let mut reasons: Vec<Option<RejectReason>> = vec![None; recommendations.len()];
    for (index, reason) in failed {
        reasons[index] = Some(reason);
    }
    let mut notes = Vec::new();
    for (position, recommendation) in recommendations.iter_mut().enumerate() {
        if reasons[position].is_some() {
            continue;
        }
        let planned = std::mem::take(&mut recommendation.serves);
        let (mut improved, mut unmeasured) = (false, false);
        for (statement, sample) in statements.iter().zip(samples) {
            if !sample.uses.contains(&position) && !serves_through(&planned, &statement.name) {
                continue;
            }
            recommendation.serves.push(statement.name.clone());
            if sample.before_us.is_empty() || sample.after_us.is_empty() {
                unmeasured = true;
                notes.push(match (&sample.probe_error, sample.probe_us) {
                    (Some(error), _) => format!("{} (failed: {error})", statement.name),
                    (None, Some(us)) => format!("{} ({:.0} ms)", statement.name, us / 1000.0),
                    (None, None) => statement.name.clone(),
                });
                continue;
            }
            let (before, after) = (p95(&sample.before_us), p95(&sample.after_us));
            record_effect(recommendation, &statement.name, (before, after), sample);
            if clearly_lower(&after, &before) {
                improved = true;
            } else if clearly_lower(&before, &after) {
                reasons[position] = Some(RejectReason::SlowsOtherQuery {
                    query: statement.name.clone(),
                });
            }
        }
        if reasons[position].is_none() && !improved && !unmeasured {
            reasons[position] = Some(match recommendation.serves.first() {
                Some(query) => RejectReason::NoMeasuredImprovement {
                    query: query.clone(),
                },
                None => RejectReason::NotUsed,
            });
        }
    }
    notes.sort();
    notes.dedup();
    let mut outcome = VerifyOutcome {
        unmeasured: notes,
        ..VerifyOutcome::default()
    };
    let mut kept = Vec::new();
    for (recommendation, reason) in recommendations.drain(..).zip(reasons) {
        match reason {
            None => kept.push(recommendation),
            Some(reason) => outcome.rejected.push(rejection(recommendation, reason)),
        }
    }
    *recommendations = kept;
    outcome
}

/// The what-if found the index serving `query` itself or a statement inside it (a function
/// body, a foreign-key lookup), which the query's own plan does not show.
fn serves_through(planned: &[String], query: &str) -> bool {
    planned
        .iter()
        .any(|s| s == query || s.starts_with(&format!("{query} (")))
}

/// Stores the measured P95s and the thinned samples of `query` on its effect, creating the
/// effect when the plan did not show the index serving the query directly.
fn record_effect(
    recommendation: &mut Recommendation,
    query: &str,
    (before, after): (QuantileEstimate, QuantileEstimate),
    sample: &Samples,
) {
    let position = match recommendation.effects.iter().position(|e| e.query == query) {
        Some(position) => position,
        None => {
            recommendation
                .effects
                .push(crate::model::advice::QueryEffect {
                    query: query.to_string(),
                    cost_before: 0.0,
                    cost_after: 0.0,
                    p95_before: None,
                    p95_after: None,
                    samples_before_us: Vec::new(),
                    samples_after_us: Vec::new(),
                });
            recommendation.effects.len() - 1
        }
    };
    let effect = &mut recommendation.effects[position];
    effect.p95_before = Some(before);
    effect.p95_after = Some(after);
    effect.samples_before_us = thinned(&sample.before_us);
    effect.samples_after_us = thinned(&sample.after_us);
}

/// Most samples kept per side of an effect, so that advice files and reports stay small.
const MAX_EFFECT_SAMPLES: usize = 2_000;

/// At most [`MAX_EFFECT_SAMPLES`] of `samples_us`, evenly spaced over the measurement order.
fn thinned(samples_us: &[f64]) -> Vec<f64> {
    let len = samples_us.len();
    if len <= MAX_EFFECT_SAMPLES {
        return samples_us.to_vec();
    }
    (0..MAX_EFFECT_SAMPLES)
        .map(|i| samples_us[i * len / MAX_EFFECT_SAMPLES])
        .collect()
}

fn p95(samples_us: &[f64]) -> QuantileEstimate {
    crate::stats::summarize(samples_us)
        .map(|s| s.p95)
        .unwrap_or(QuantileEstimate {
            value_us: f64::NAN,
            ci_low_us: None,
            ci_high_us: None,
        })
}

/// `low`'s interval lies entirely below `high`'s: a difference beyond noise.
fn clearly_lower(low: &QuantileEstimate, high: &QuantileEstimate) -> bool {
    match (low.ci_high_us, high.ci_low_us) {
        (Some(low_top), Some(high_bottom)) => low_top < high_bottom,
        _ => false,
    }
}

fn rejection(recommendation: Recommendation, reason: RejectReason) -> RejectedCandidate {
    let evidence: Vec<String> = recommendation
        .effects
        .iter()
        .filter_map(|e| {
            Some(format!(
                "{}: P95 {} -> {}",
                e.query,
                super::ddl::format_p95(e.p95_before.as_ref()?),
                super::ddl::format_p95(e.p95_after.as_ref()?)
            ))
        })
        .collect();
    let sentence = super::engine::reason_sentence(&reason);
    let explanation = if evidence.is_empty() {
        sentence
    } else {
        format!("{sentence} ({})", evidence.join("; "))
    };
    RejectedCandidate {
        spec: recommendation.spec,
        queries: recommendation.serves,
        reason,
        explanation,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn estimate(low: f64, value: f64, high: f64) -> QuantileEstimate {
        QuantileEstimate {
            value_us: value,
            ci_low_us: Some(low),
            ci_high_us: Some(high),
        }
    }

    #[test]
    fn samples_are_thinned_evenly_to_the_cap() {
        let few: Vec<f64> = (0..10).map(f64::from).collect();
        assert_eq!(thinned(&few), few);
        let many: Vec<f64> = (0..5_000).map(f64::from).collect();
        let kept = thinned(&many);
        assert_eq!(kept.len(), MAX_EFFECT_SAMPLES);
        assert_eq!(kept[0], 0.0);
        assert_eq!(kept[1], 2.0);
        assert_eq!(kept[MAX_EFFECT_SAMPLES - 1], 4_997.0);
    }

    #[test]
    fn only_non_overlapping_intervals_count() {
        assert!(clearly_lower(
            &estimate(90.0, 100.0, 110.0),
            &estimate(500.0, 600.0, 700.0)
        ));
        assert!(!clearly_lower(
            &estimate(90.0, 100.0, 510.0),
            &estimate(500.0, 600.0, 700.0)
        ));
        let unknown = QuantileEstimate {
            value_us: 1.0,
            ci_low_us: None,
            ci_high_us: None,
        };
        assert!(!clearly_lower(&unknown, &estimate(500.0, 600.0, 700.0)));
    }
}
