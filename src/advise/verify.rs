//! Verification for real, inside one transaction that is always rolled back (on success, on
//! error, on Ctrl-C; a killed pgperf's transaction dies with its connection). Order: the base
//! indexes (kept by an earlier round) → screening (plan shapes without and with the selected
//! indexes, built in a savepoint; one probe execution with them) → one probe execution of each
//! changed statement → sittings. A sitting spreads machine drift evenly over both sides: half
//! of the "before" executions → `SAVEPOINT` → build the indexes → the "after" executions →
//! `ROLLBACK TO SAVEPOINT` → the other half of "before". Executions are interleaved across
//! statements; writes run inside their own savepoint so every execution sees the same data.
//!
//! Two looks: the first sitting gives each statement `first_look_executions` "before" and 59
//! "after" executions, enough for a one-sided lower bound before and an interval after. A
//! statement whose "after" P95 already lies clearly below is done; the others (no improvement
//! yet, or possibly slower, which needs the upper bound of a full "before" side) get a second
//! sitting that tops both sides up to their full count. A side whose probe is slower than
//! `max_execution_ms` gets only as many executions as fit in `slow_side_budget_ms` (at least
//! [`MIN_SLOW_EXECUTIONS`] before, [`MIN_INTERVAL_EXECUTIONS`] after). An index is kept only
//! when a query it serves got a P95 whose upper bound lies below the lower bound before, and
//! no query that uses it got slower the same way.

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
    /// A side of a query slower than this on its probe execution gets fewer executions (2 ×
    /// `executions` of it would not fit in an advise run), enough for a one-sided bound.
    pub max_execution_ms: u64,
    /// Time one slow side may take (both halves of "before" together).
    pub slow_side_budget_ms: u64,
    /// "Before" executions of the first look (both halves together): enough for a one-sided
    /// lower bound, which is all a statement its "after" side clearly beats needs. The others
    /// are topped up to their full count.
    pub first_look_executions: u64,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        VerifyOptions {
            executions: 100,
            statement_timeout_ms: 30_000,
            max_execution_ms: 50,
            slow_side_budget_ms: 1_000,
            first_look_executions: 20,
        }
    }
}

/// Fewest executions of a slow "before" side: a 97.5% lower bound of P95 is then the 4th of 6.
pub const MIN_SLOW_EXECUTIONS: u64 = 6;
/// Fewest executions of an "after" side: a P95 interval needs 59 (`1 − 0.95^59 ≥ 0.95`).
pub const MIN_INTERVAL_EXECUTIONS: u64 = 59;

/// Indexes dropped by verification, with their evidence.
#[derive(Debug, Default)]
pub struct VerifyOutcome {
    pub rejected: Vec<RejectedCandidate>,
    /// Queries served by a kept index whose probe failed, so they were not timed.
    pub unmeasured: Vec<String>,
    /// Queries that read an indexed table but whose plans the indexes did not change: not timed.
    pub unchanged: Vec<String>,
}

/// Samples of one statement.
#[derive(Debug, Default, Clone)]
struct Samples {
    /// One execution before the timed ones; `None` when it failed.
    probe_us: Option<f64>,
    /// One execution with the indexes, before the timed ones.
    probe_after_us: Option<f64>,
    /// Why the probe failed, when it did.
    probe_error: Option<String>,
    before_us: Vec<f64>,
    after_us: Vec<f64>,
    /// Positions of the recommendations its "after" plans use.
    uses: Vec<usize>,
    /// Its plans are the same with and without the indexes, so it was not timed.
    unchanged: bool,
}

/// What verification runs: the workload's queries (for the bench's timing loop) and the
/// statements advise costed for them.
pub struct Trial<'a> {
    pub workload: &'a Workload,
    /// Top-level statements whose baseline plan succeeded.
    pub statements: &'a [&'a Statement],
    /// Per statement: the statements it runs that its plan does not show (function bodies,
    /// SQL built at run time, foreign-key lookups), whose plans count too.
    pub inner: &'a [Vec<&'a Statement>],
    /// Per statement: it writes, so every new index on its table costs it time.
    pub writes: &'a [bool],
    /// Indexes kept by an earlier round: built first, present on both sides.
    pub base: &'a [Recommendation],
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
    let mut outcome = decide(recommendations, trial.statements, failed, &samples);
    outcome.unchanged = trial
        .statements
        .iter()
        .zip(&samples)
        .filter(|(_, sample)| sample.unchanged)
        .map(|(statement, _)| statement.name.clone())
        .collect();
    Ok(outcome)
}

/// Indexes (positions in the recommendations) that failed to build or are unusable, and why.
type Failed = Vec<(usize, RejectReason)>;

type Measured = (Failed, Vec<Samples>);

fn measure(
    client: &mut Client,
    recommendations: &mut [Recommendation],
    trial: &Trial,
    options: &VerifyOptions,
) -> Result<Measured, AdviseError> {
    for base in trial.base {
        client.batch_execute(&create_in_transaction(&base.spec, &base.name))?;
    }
    let mut samples = vec![Samples::default(); trial.statements.len()];
    let (failed, changed) = screen(client, recommendations, trial, &mut samples)?;
    time(client, trial, &changed, 1, &mut samples, Side::Probe)?;
    for (index, sample) in samples.iter_mut().enumerate() {
        sample.unchanged = !changed.contains(&index);
    }
    let timed: Vec<usize> = changed
        .into_iter()
        .filter(|i| samples[*i].probe_us.is_some())
        .collect();
    let full_before = side_counts(
        &timed,
        &samples,
        |s| s.probe_us,
        MIN_SLOW_EXECUTIONS,
        options,
    );
    // "After" needs an upper bound to show an improvement: never fewer than an interval needs.
    let full_after = side_counts(
        &timed,
        &samples,
        |s| s.probe_after_us,
        MIN_INTERVAL_EXECUTIONS,
        options,
    );
    let first_before = capped(&full_before, options.first_look_executions);
    let first_after = capped(&full_after, MIN_INTERVAL_EXECUTIONS);
    sitting(
        client,
        recommendations,
        trial,
        (&first_before, &first_after),
        &mut samples,
    )?;
    let (more_before, more_after) = (
        second_look(&samples, &full_before, &first_before),
        second_look(&samples, &full_after, &first_after),
    );
    if more_before.iter().chain(&more_after).any(|n| *n > 0) {
        sitting(
            client,
            recommendations,
            trial,
            (&more_before, &more_after),
            &mut samples,
        )?;
    }
    Ok((failed, samples))
}

/// One before–after–before sitting, so that machine drift spreads evenly over both sides:
/// half of each statement's "before" executions → `SAVEPOINT` → build the indexes → its
/// "after" executions → `ROLLBACK TO SAVEPOINT` → the other half of "before".
fn sitting(
    client: &mut Client,
    recommendations: &mut [Recommendation],
    trial: &Trial,
    (before, after): (&[u64], &[u64]),
    samples: &mut [Samples],
) -> Result<(), AdviseError> {
    let first_half: Vec<u64> = before.iter().map(|n| n.div_ceil(2)).collect();
    let second_half: Vec<u64> = before.iter().zip(&first_half).map(|(n, h)| n - h).collect();
    time_counts(client, trial, &first_half, samples, Side::Before)?;
    client.batch_execute("SAVEPOINT pgperf_indexes")?;
    // The screening build already reported the indexes that fail; they fail the same way here.
    build_all(client, recommendations)?;
    time_counts(client, trial, after, samples, Side::After)?;
    client.batch_execute("ROLLBACK TO SAVEPOINT pgperf_indexes")?;
    time_counts(client, trial, &second_half, samples, Side::Before)
}

/// Executions per statement of one side in the second sitting: the rest of its full count,
/// unless its first look already showed "after" clearly faster. The others may have got
/// slower (which only the upper bound of a full "before" side can show) or need every
/// execution to show their improvement beyond noise.
fn second_look(samples: &[Samples], full: &[u64], first: &[u64]) -> Vec<u64> {
    samples
        .iter()
        .zip(full.iter().zip(first))
        .map(|(sample, (full, first))| {
            if after_beats_before(sample) {
                0
            } else {
                full - first
            }
        })
        .collect()
}

/// Both sides were timed and the "after" P95 lies clearly below the "before" one.
fn after_beats_before(sample: &Samples) -> bool {
    !sample.before_us.is_empty()
        && !sample.after_us.is_empty()
        && clearly_lower(&p95(&sample.after_us), &p95(&sample.before_us))
}

/// Parameter draws whose plans are compared with and without the indexes.
const SCREEN_DRAWS: usize = 3;

/// Which statements the indexes can change, so are timed: the ones that write (every index
/// is maintained), or whose plan shape (node types, relations, indexes) differs with the
/// indexes built, under any of [`SCREEN_DRAWS`] parameter draws or in any statement it runs
/// that its own plan does not show (`trial.inner`, generic plans). A read whose plans all
/// stay the same executes the same way, so timing it would only add noise and minutes.
/// With the indexes built (in a savepoint rolled back after) it also records which indexes
/// each statement's plans use and times one probe execution of each changed statement (which
/// sizes its "after" side). Returns the indexes that failed to build or are unusable, and the
/// changed statements.
fn screen(
    client: &mut Client,
    recommendations: &mut [Recommendation],
    trial: &Trial,
    samples: &mut [Samples],
) -> Result<(Failed, Vec<usize>), AdviseError> {
    let mut variants = Vec::new();
    for (statement, inner) in trial.statements.iter().zip(trial.inner) {
        let mut all = draws(client, trial, statement)?;
        all.extend(inner.iter().map(|s| (*s).clone()));
        variants.push(all);
    }
    let before = shapes(client, &variants)?;
    client.batch_execute("SAVEPOINT pgperf_screen")?;
    let failed = build_all(client, recommendations)?;
    let after = shapes(client, &variants)?;
    let mut changed = Vec::new();
    for (index, plans) in after.iter().enumerate() {
        let used: Vec<String> = plans.iter().flat_map(|(_, used)| used.clone()).collect();
        samples[index].uses = (0..recommendations.len())
            .filter(|i| used.contains(&recommendations[*i].name))
            .collect();
        let same = before[index]
            .iter()
            .map(|(shape, _)| shape)
            .eq(plans.iter().map(|(shape, _)| shape));
        if trial.writes[index] || !same {
            changed.push(index);
        }
    }
    time(client, trial, &changed, 1, samples, Side::ProbeAfter)?;
    client.batch_execute("ROLLBACK TO SAVEPOINT pgperf_screen")?;
    Ok((failed, changed))
}

/// The statement under [`SCREEN_DRAWS`] draws of its workload query's parameters (itself
/// when it has no workload query or no parameters).
fn draws(
    client: &mut Client,
    trial: &Trial,
    statement: &Statement,
) -> Result<Vec<Statement>, AdviseError> {
    let plans = statement
        .query_index
        .map(|i| &trial.workload.queries[i].params)
        .filter(|plans| !plans.is_empty() && statement.params.is_some());
    let Some(plans) = plans else {
        return Ok(vec![(*statement).clone()]);
    };
    Ok(super::session::param_draws(client, plans, SCREEN_DRAWS)?
        .into_iter()
        .map(|params| Statement {
            params: Some(params),
            ..(*statement).clone()
        })
        .collect())
}

/// Per statement and draw: the plan shape (`None` when EXPLAIN failed) and the indexes used.
type Shapes = Vec<Vec<(Option<Vec<String>>, Vec<String>)>>;

fn shapes(client: &mut Client, variants: &[Vec<Statement>]) -> Result<Shapes, AdviseError> {
    let roots = crate::pg::explain::PartitionRoots::new();
    let mut out = Vec::new();
    for statements in variants {
        let mut plans = Vec::new();
        for statement in statements {
            client.batch_execute("SAVEPOINT pgperf_explain")?;
            let explained = explain(client, statement);
            client.batch_execute("ROLLBACK TO SAVEPOINT pgperf_explain")?;
            plans.push(match explained {
                Ok(plan) => {
                    let shape = plan
                        .get(0)
                        .and_then(|top| top.get("Plan"))
                        .map(|node| crate::pg::explain::plan_shape(node, &roots));
                    (shape, plan::index_names(&plan))
                }
                Err(AdviseError::Database(error)) if error.as_db_error().is_some() => {
                    (None, Vec::new())
                }
                Err(other) => return Err(other),
            });
        }
        out.push(plans);
    }
    Ok(out)
}

/// Executions of one side per statement (0 for statements not in `targets`): the full count
/// when the probe was fast, else what fits in `slow_side_budget_ms`, at least `fewest`.
fn side_counts(
    targets: &[usize],
    samples: &[Samples],
    probe: impl Fn(&Samples) -> Option<f64>,
    fewest: u64,
    options: &VerifyOptions,
) -> Vec<u64> {
    let mut counts = vec![0; samples.len()];
    for &target in targets {
        let probe_us = probe(&samples[target]).unwrap_or(f64::INFINITY);
        counts[target] = side_executions(probe_us, fewest, options);
    }
    counts
}

/// Executions of one side of a statement whose probe took `probe_us`, at least `fewest`.
fn side_executions(probe_us: f64, fewest: u64, options: &VerifyOptions) -> u64 {
    let executions = options.executions.max(1);
    if probe_us <= options.max_execution_ms as f64 * 1000.0 {
        return executions;
    }
    let fitting = (options.slow_side_budget_ms as f64 * 1000.0 / probe_us) as u64;
    fitting.clamp(fewest.min(executions), executions)
}

/// Each count, at most `cap`.
fn capped(counts: &[u64], cap: u64) -> Vec<u64> {
    counts.iter().map(|n| (*n).min(cap)).collect()
}

/// Times each statement its count of executions; statements with equal counts are timed
/// together, interleaved.
fn time_counts(
    client: &mut Client,
    trial: &Trial,
    counts: &[u64],
    samples: &mut [Samples],
    side: Side,
) -> Result<(), AdviseError> {
    let mut groups: Vec<(u64, Vec<usize>)> = Vec::new();
    for (statement, &count) in counts.iter().enumerate().filter(|(_, n)| **n > 0) {
        match groups.iter_mut().find(|(n, _)| *n == count) {
            Some((_, members)) => members.push(statement),
            None => groups.push((count, vec![statement])),
        }
    }
    for (count, members) in groups {
        time(client, trial, &members, count, samples, side)?;
    }
    Ok(())
}

/// Builds every index in its own savepoint; returns the ones that failed or are unusable.
fn build_all(
    client: &mut Client,
    recommendations: &mut [Recommendation],
) -> Result<Failed, AdviseError> {
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
    ProbeAfter,
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
        warmup: if matches!(side, Side::Probe | Side::ProbeAfter) {
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
            Side::ProbeAfter => sample.probe_after_us = latencies.fold(None, |_, us| Some(us)),
            Side::Before => sample.before_us.extend(latencies),
            Side::After => sample.after_us.extend(latencies),
        }
    }
    Ok(())
}

/// Discarded executions before each timed block (caches, plan cache).
const WARMUP_EXECUTIONS: u64 = 1;

/// Keeps the indexes whose served queries got faster beyond noise and that slowed nothing.
fn decide(
    recommendations: &mut Vec<Recommendation>,
    statements: &[&Statement],
    failed: Failed,
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
            // Real plans unchanged by the indexes: whatever the what-if thought, not served.
            if sample.unchanged {
                continue;
            }
            if !sample.uses.contains(&position) && !serves_through(&planned, &statement.name) {
                continue;
            }
            recommendation.serves.push(statement.name.clone());
            if sample.before_us.is_empty() || sample.after_us.is_empty() {
                unmeasured = true;
                notes.push(match &sample.probe_error {
                    Some(error) => format!("{} (failed: {error})", statement.name),
                    None => statement.name.clone(),
                });
                continue;
            }
            let (before, after) = (p95(&sample.before_us), p95(&sample.after_us));
            record_effect(recommendation, &statement.name, (&before, &after), sample);
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
    (before, after): (&Bounded, &Bounded),
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
    effect.p95_before = Some(before.estimate);
    effect.p95_after = Some(after.estimate);
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

/// A P95 estimate with the bounds a decision may use: the two-sided 95% interval when the
/// sample has one (59+ executions), else only a one-sided 97.5% lower bound.
struct Bounded {
    estimate: QuantileEstimate,
    lower_us: Option<f64>,
    upper_us: Option<f64>,
}

fn p95(samples_us: &[f64]) -> Bounded {
    let estimate = crate::stats::summarize(samples_us)
        .map(|s| s.p95)
        .unwrap_or(QuantileEstimate {
            value_us: f64::NAN,
            ci_low_us: None,
            ci_high_us: None,
        });
    let lower_us = estimate.ci_low_us.or_else(|| {
        let mut sorted = samples_us.to_vec();
        sorted.sort_by(f64::total_cmp);
        crate::stats::quantile_lower_bound(&sorted, 0.95, ONE_SIDED_CONFIDENCE)
    });
    Bounded {
        upper_us: estimate.ci_high_us,
        lower_us,
        estimate: QuantileEstimate {
            ci_low_us: lower_us,
            ..estimate
        },
    }
}

/// A one-sided bound carries the risk of one tail of the two-sided 95% interval.
const ONE_SIDED_CONFIDENCE: f64 = 0.975;

/// `low`'s upper bound lies below `high`'s lower bound: a difference beyond noise.
fn clearly_lower(low: &Bounded, high: &Bounded) -> bool {
    match (low.upper_us, high.lower_us) {
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

    fn estimate(low: f64, value: f64, high: f64) -> Bounded {
        Bounded {
            estimate: QuantileEstimate {
                value_us: value,
                ci_low_us: Some(low),
                ci_high_us: Some(high),
            },
            lower_us: Some(low),
            upper_us: Some(high),
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
        let few = p95(&[1.0, 2.0, 3.0]);
        assert!(!clearly_lower(&few, &estimate(500.0, 600.0, 700.0)));
    }

    #[test]
    fn a_slow_side_with_few_executions_still_shows_it_was_slow() {
        let slow_before = p95(&[200e3, 210e3, 205e3, 230e3, 220e3, 215e3]);
        assert_eq!(slow_before.upper_us, None);
        assert_eq!(slow_before.lower_us, Some(215e3));
        let fast_after = estimate(1e3, 1.5e3, 2e3);
        assert!(clearly_lower(&fast_after, &slow_before));
        assert!(!clearly_lower(&slow_before, &fast_after));
    }

    fn timed(before_us: &[f64], after_us: &[f64]) -> Samples {
        Samples {
            before_us: before_us.to_vec(),
            after_us: after_us.to_vec(),
            ..Samples::default()
        }
    }

    #[test]
    fn only_statements_the_first_look_leaves_undecided_get_a_second() {
        let jitter = |base: f64, n: usize| -> Vec<f64> {
            (0..n)
                .map(|i| base + (i % 7) as f64 * base / 100.0)
                .collect()
        };
        let samples = vec![
            // 20 ms before, 1 ms after: decided.
            timed(&jitter(20e3, 20), &jitter(1e3, 59)),
            // The same before and after: perhaps slower, perhaps not.
            timed(&jitter(5e3, 20), &jitter(5e3, 59)),
            // Slower after: only a full "before" side has the upper bound that shows it.
            timed(&jitter(5e3, 20), &jitter(9e3, 59)),
            // Not timed.
            Samples::default(),
        ];
        let full = [100, 100, 100, 0];
        assert_eq!(
            second_look(&samples, &full, &capped(&full, 20)),
            [0, 80, 80, 0]
        );
        assert_eq!(
            second_look(&samples, &full, &capped(&full, 59)),
            [0, 41, 41, 0]
        );
        // A slow side whose first look was already its full count gets no more.
        let slow = [100, 100, 8, 0];
        assert_eq!(
            second_look(&samples, &slow, &capped(&slow, 20)),
            [0, 80, 0, 0]
        );
    }

    #[test]
    fn slow_sides_get_what_fits_in_their_budget() {
        let options = VerifyOptions {
            executions: 100,
            max_execution_ms: 50,
            slow_side_budget_ms: 2_000,
            ..VerifyOptions::default()
        };
        let fewest = MIN_SLOW_EXECUTIONS;
        assert_eq!(side_executions(40e3, fewest, &options), 100);
        assert_eq!(side_executions(100e3, fewest, &options), 20);
        assert_eq!(side_executions(900e3, fewest, &options), fewest);
        assert_eq!(side_executions(f64::INFINITY, fewest, &options), fewest);
        assert_eq!(
            side_executions(900e3, MIN_INTERVAL_EXECUTIONS, &options),
            59
        );
    }
}
