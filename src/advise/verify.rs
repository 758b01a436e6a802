//! Verification for real, inside one transaction that is always rolled back (on success, on
//! error, on Ctrl-C; a killed pgperf's transaction dies with its connection). Order, so that
//! machine drift spreads evenly over both sides: first half of the "before" executions →
//! `SAVEPOINT` → build the selected indexes (check `indcheckxmin`, EXPLAIN confirms use, real
//! sizes) → all "after" executions → `ROLLBACK TO SAVEPOINT` → second half of "before".
//! Executions are interleaved across statements; writes run inside their own savepoint so every
//! execution sees the same data. An index is kept only when a query it serves got a lower P95
//! with non-overlapping 95% intervals, and no query that uses it got slower the same way.

use std::time::Instant;

use postgres::Client;

use super::AdviseError;
use super::ddl::create_in_transaction;
use super::plan;
use super::session::{Statement, enter, explain, param_count};
use crate::model::QuantileEstimate;
use crate::model::advice::{Recommendation, RejectReason, RejectedCandidate};
use crate::pg::{TextParam, quote_qualified};

/// How verification measures.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifyOptions {
    /// Executions per statement and side (at least 59 for a P95 interval).
    pub executions: u64,
    /// `statement_timeout` inside the verification transaction.
    pub statement_timeout_ms: u64,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        VerifyOptions {
            executions: 100,
            statement_timeout_ms: 30_000,
        }
    }
}

/// Indexes dropped by verification, with their evidence.
#[derive(Debug, Default)]
pub struct VerifyOutcome {
    pub rejected: Vec<RejectedCandidate>,
}

/// Samples of one statement.
#[derive(Debug, Default, Clone)]
struct Samples {
    before_us: Vec<f64>,
    after_us: Vec<f64>,
    /// Positions of the recommendations its "after" plan uses.
    uses: Vec<usize>,
}

/// Builds, confirms and measures `recommendations`, removing the ones that do not pay off and
/// filling real sizes and measured P95 into the rest. `statements` are `(statement, writes)`.
pub fn verify(
    client: &mut Client,
    recommendations: &mut Vec<Recommendation>,
    statements: &[(&Statement, bool)],
    options: &VerifyOptions,
    lock_timeout_ms: u64,
) -> Result<VerifyOutcome, AdviseError> {
    if recommendations.is_empty() {
        return Ok(VerifyOutcome::default());
    }
    client.batch_execute(&format!(
        "BEGIN; SET LOCAL lock_timeout = '{lock_timeout_ms}ms'; SET LOCAL statement_timeout = '{}ms'",
        options.statement_timeout_ms
    ))?;
    let measured = measure(client, recommendations, statements, options);
    let rollback = client.batch_execute("ROLLBACK");
    let (failed, samples) = measured?;
    rollback?;
    Ok(decide(recommendations, statements, failed, &samples))
}

type Measured = (Vec<(usize, RejectReason)>, Vec<Samples>);

fn measure(
    client: &mut Client,
    recommendations: &mut [Recommendation],
    statements: &[(&Statement, bool)],
    options: &VerifyOptions,
) -> Result<Measured, AdviseError> {
    let executions = options.executions.max(1) as usize;
    let first_half = executions.div_ceil(2);
    let mut samples = vec![Samples::default(); statements.len()];
    time_rounds(client, statements, first_half, &mut samples, Side::Before)?;
    client.batch_execute("SAVEPOINT pgperf_indexes")?;
    let failed = build_all(client, recommendations)?;
    for (index, (statement, _)) in statements.iter().enumerate() {
        if let Ok(plan) = explain(client, statement) {
            let used = plan::index_names(&plan);
            samples[index].uses = (0..recommendations.len())
                .filter(|i| used.contains(&recommendations[*i].name))
                .collect();
        }
    }
    time_rounds(client, statements, executions, &mut samples, Side::After)?;
    client.batch_execute("ROLLBACK TO SAVEPOINT pgperf_indexes")?;
    time_rounds(
        client,
        statements,
        executions - first_half,
        &mut samples,
        Side::Before,
    )?;
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
            "SELECT i.indcheckxmin, pg_relation_size(i.indexrelid)::int8 \
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
    Before,
    After,
}

/// `rounds` executions of every statement, interleaved (one of each per round).
fn time_rounds(
    client: &mut Client,
    statements: &[(&Statement, bool)],
    rounds: usize,
    samples: &mut [Samples],
    side: Side,
) -> Result<(), AdviseError> {
    for _ in 0..rounds {
        for (index, (statement, writes)) in statements.iter().enumerate() {
            if crate::signal::interrupted() {
                return Err(AdviseError::Interrupted);
            }
            let elapsed_us = time_once(client, statement, *writes)?;
            let target = match side {
                Side::Before => &mut samples[index].before_us,
                Side::After => &mut samples[index].after_us,
            };
            target.push(elapsed_us);
        }
    }
    Ok(())
}

/// One execution under the statement's persona, consuming every row; microseconds.
fn time_once(client: &mut Client, statement: &Statement, writes: bool) -> Result<f64, AdviseError> {
    let count = param_count(&statement.sql) as usize;
    let values = statement.params.clone().unwrap_or_default();
    let params: Vec<TextParam> = (0..count)
        .map(|i| TextParam(values.get(i).cloned().flatten()))
        .collect();
    let refs: Vec<&(dyn postgres::types::ToSql + Sync)> = params
        .iter()
        .map(|p| p as &(dyn postgres::types::ToSql + Sync))
        .collect();
    client.batch_execute("SAVEPOINT pgperf_exec")?;
    enter(client, statement.persona.as_ref())?;
    let started = Instant::now();
    let result = client.query(&statement.sql, &refs);
    let elapsed_us = started.elapsed().as_secs_f64() * 1e6;
    if writes || result.is_err() {
        client.batch_execute("ROLLBACK TO SAVEPOINT pgperf_exec")?;
    } else {
        client.batch_execute("RESET ROLE; RELEASE SAVEPOINT pgperf_exec")?;
    }
    result?;
    Ok(elapsed_us)
}

/// Keeps the indexes whose served queries got faster beyond noise and that slowed nothing.
fn decide(
    recommendations: &mut Vec<Recommendation>,
    statements: &[(&Statement, bool)],
    failed: Vec<(usize, RejectReason)>,
    samples: &[Samples],
) -> VerifyOutcome {
    let mut reasons: Vec<Option<RejectReason>> = vec![None; recommendations.len()];
    for (index, reason) in failed {
        reasons[index] = Some(reason);
    }
    for (position, recommendation) in recommendations.iter_mut().enumerate() {
        if reasons[position].is_some() {
            continue;
        }
        recommendation.serves.clear();
        let mut improved = false;
        for ((statement, _), sample) in statements.iter().zip(samples) {
            if !sample.uses.contains(&position) {
                continue;
            }
            let (before, after) = (p95(&sample.before_us), p95(&sample.after_us));
            record_effect(recommendation, &statement.name, before, after);
            recommendation.serves.push(statement.name.clone());
            if clearly_lower(&after, &before) {
                improved = true;
            } else if clearly_lower(&before, &after) {
                reasons[position] = Some(RejectReason::SlowsOtherQuery {
                    query: statement.name.clone(),
                });
            }
        }
        if reasons[position].is_none() && !improved {
            reasons[position] = Some(match recommendation.serves.first() {
                Some(query) => RejectReason::NoMeasuredImprovement {
                    query: query.clone(),
                },
                None => RejectReason::NotUsed,
            });
        }
    }
    let mut outcome = VerifyOutcome::default();
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

fn record_effect(
    recommendation: &mut Recommendation,
    query: &str,
    before: QuantileEstimate,
    after: QuantileEstimate,
) {
    match recommendation.effects.iter_mut().find(|e| e.query == query) {
        Some(effect) => {
            effect.p95_before = Some(before);
            effect.p95_after = Some(after);
        }
        None => recommendation
            .effects
            .push(crate::model::advice::QueryEffect {
                query: query.to_string(),
                cost_before: 0.0,
                cost_after: 0.0,
                p95_before: Some(before),
                p95_after: Some(after),
            }),
    }
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
    let sentence = match &reason {
        RejectReason::BuildFailed { message } => format!("the server refused to build it: {message}"),
        RejectReason::CheckXmin => "indcheckxmin made it unusable inside the verification transaction (recent HOT updates); run advise again later".into(),
        RejectReason::NotUsed => "built for real, no workload query used it".into(),
        RejectReason::NoMeasuredImprovement { query } => format!("measured P95 of {query} did not improve beyond noise"),
        RejectReason::SlowsOtherQuery { query } => format!("it made {query} slower"),
        other => format!("{other:?}"),
    };
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
