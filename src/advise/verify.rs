//! Verification for real, inside one transaction that is always rolled back (on success, on
//! error, on Ctrl-C; a killed pgperf's transaction dies with its connection). Its steps, one
//! module each: the base indexes (kept by an earlier round) → screening (`screen.rs`: plan
//! shapes without and with the selected indexes, built in a savepoint; buffers, rows and time
//! of one `EXPLAIN (ANALYZE, BUFFERS)` execution on each side, the one with the indexes
//! capped) → sittings (here) → the decision
//! (`decide.rs` is the rule, `keep.rs` applies it). A sitting spreads machine drift evenly
//! over both sides: half of the "before" executions → `SAVEPOINT` → build the indexes → the
//! "after" executions → `ROLLBACK TO SAVEPOINT` → the other half of "before". Executions are
//! interleaved across statements; writes run inside their own savepoint so every execution
//! sees the same data.
//!
//! Two looks: the first sitting gives each statement `first_look_executions` "before" and 59
//! "after" executions. A statement the rule already decides (many times fewer buffers, or
//! faster or slower beyond noise) is done; the others get a second sitting that tops both
//! sides up to their full count, so the time goes where a decision is still open. A side whose
//! probe is slower than `max_execution_ms` gets only as many executions as fit in
//! `slow_side_budget_ms`, at least [`MIN_SLOW_EXECUTIONS`], which is enough for a two-sided
//! answer on the median. With `budget_ms`, counted from the start of verification (screening
//! and builds spend it too), only the statements whose floor fits in the time left are
//! sampled, cheapest first; the others are judged on their one screening execution per side
//! (buffers first: `decide.rs`), so every changed statement still has evidence and no index is
//! kept unmeasured for want of budget. Both sittings shrink to what fits in the time left, the
//! first never below that floor, the second is skipped when no time is left.

use postgres::Client;

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use super::AdviseError;
use super::ddl::create_in_transaction;
use super::decide::{self, Evidence, Judgement};
use super::session::Statement;
use crate::bench::{MeasureOptions, Wrapping, measure_queries};
use crate::model::Protocol;
use crate::model::advice::{Recommendation, RejectReason, RejectedCandidate};
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
    /// Time all verification rounds may take together (screening, builds and sittings),
    /// counted from the start of the first (`--verify-budget`); `None`: no limit.
    pub budget_ms: Option<u64>,
    /// When verification started: the budget's clock, shared by every round.
    pub started: OnceLock<Instant>,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        VerifyOptions {
            executions: 100,
            statement_timeout_ms: 30_000,
            max_execution_ms: 50,
            slow_side_budget_ms: 1_000,
            first_look_executions: 20,
            budget_ms: None,
            started: OnceLock::new(),
        }
    }
}

/// Fewest executions of a slow side: a 95% interval of the median needs 6; 12 make it narrow
/// enough to tell a query more than 10% slower, in both directions.
pub const MIN_SLOW_EXECUTIONS: u64 = 12;
/// Fewest executions of an "after" side: a P95 interval needs 59 (`1 − 0.95^59 ≥ 0.95`).
pub const MIN_INTERVAL_EXECUTIONS: u64 = 59;

/// Where verification's time went, summed over rounds.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct Spent {
    /// Plan shapes and the one execution per side (builds excluded).
    pub screening: Duration,
    /// Real index builds (every round's base indexes, screening, each sitting).
    pub builds: Duration,
    /// The timed executions of the sittings.
    pub sittings: Duration,
}

impl Spent {
    pub fn add(&mut self, other: Spent) {
        self.screening += other.screening;
        self.builds += other.builds;
        self.sittings += other.sittings;
    }

    /// The parts of the verification phase, for advise's timing line.
    pub fn phases(&self) -> [(&'static str, Duration); 3] {
        [
            ("of which screening", self.screening),
            ("index builds", self.builds),
            ("timed executions", self.sittings),
        ]
    }
}

/// The note naming the queries judged on one execution per side.
pub fn once_note(queries: &[String]) -> String {
    format!(
        "too slow to sample within --verify-budget, judged on one EXPLAIN (ANALYZE, BUFFERS) execution per side (buffers decide; raise --verify-budget to time them): {}",
        queries.join(", ")
    )
}

/// Indexes dropped by verification, with their evidence.
#[derive(Debug, Default)]
pub struct VerifyOutcome {
    pub rejected: Vec<RejectedCandidate>,
    /// Queries served by a kept index whose probe failed, so they were not timed.
    pub unmeasured: Vec<String>,
    /// Queries that read an indexed table but whose plans the indexes did not change: not timed.
    pub unchanged: Vec<String>,
    /// Changed queries too slow to sample within the budget, judged on one execution per side.
    pub once: Vec<String>,
    pub spent: Spent,
}

/// Samples of one statement.
#[derive(Debug, Default, Clone)]
pub(super) struct Samples {
    /// Screening's execution without the indexes; `None` when it failed.
    pub(super) probe_us: Option<f64>,
    /// Screening's execution with the indexes (its cap when cancelled there).
    pub(super) probe_after_us: Option<f64>,
    /// Why the probe failed, when it did.
    pub(super) probe_error: Option<String>,
    /// Latencies, buffers and rows without and with the indexes.
    pub(super) evidence: Evidence,
    /// Positions of the recommendations its "after" plans use.
    pub(super) uses: Vec<usize>,
    /// Its plans are the same with and without the indexes, so it was not timed.
    pub(super) unchanged: bool,
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
    let mut spent = Spent::default();
    let measured = measure(client, recommendations, trial, options, &mut spent);
    let rollback = client.batch_execute("ROLLBACK");
    let (failed, samples) = measured?;
    rollback?;
    let mut outcome = super::keep::apply(recommendations, trial.statements, failed, &samples);
    let names = |keep: fn(&Samples) -> bool| -> Vec<String> {
        trial
            .statements
            .iter()
            .zip(&samples)
            .filter(|(_, sample)| keep(sample))
            .map(|(statement, _)| statement.name.clone())
            .collect()
    };
    outcome.unchanged = names(|sample| sample.unchanged);
    outcome.once = names(|sample| sample.evidence.once);
    outcome.spent = spent;
    Ok(outcome)
}

/// Indexes (positions in the recommendations) that failed to build or are unusable, and why.
pub(super) type Failed = Vec<(usize, RejectReason)>;

type Measured = (Failed, Vec<Samples>);

fn measure(
    client: &mut Client,
    recommendations: &mut [Recommendation],
    trial: &Trial,
    options: &VerifyOptions,
    spent: &mut Spent,
) -> Result<Measured, AdviseError> {
    let started = *options.started.get_or_init(Instant::now);
    let left_us = |options: &VerifyOptions| {
        options
            .budget_ms
            .map(|ms| ms as f64 * 1e3 - started.elapsed().as_secs_f64() * 1e6)
    };
    let building = Instant::now();
    for base in trial.base {
        client.batch_execute(&create_in_transaction(&base.spec, &base.name))?;
    }
    spent.builds += building.elapsed();
    let screening = Instant::now();
    let mut samples = vec![Samples::default(); trial.statements.len()];
    let (failed, changed, build_time) =
        super::screen::screen(client, recommendations, trial, &mut samples)?;
    spent.builds += build_time;
    spent.screening += screening.elapsed().saturating_sub(build_time);
    for (index, sample) in samples.iter_mut().enumerate() {
        sample.unchanged = !changed.contains(&index);
    }
    let runnable: Vec<usize> = changed
        .into_iter()
        .filter(|i| samples[*i].probe_us.is_some() && !samples[*i].evidence.after_capped)
        .collect();
    let probes = probes(&samples);
    let settled: Vec<bool> = samples.iter().map(settled_once).collect();
    let timed = sampled(&runnable, &probes, &settled, left_us(options), build_time);
    for (index, sample) in samples.iter_mut().enumerate() {
        let untimed = runnable.contains(&index) && !timed.contains(&index);
        if untimed || sample.evidence.after_capped {
            sample.evidence.once = true;
            sample.evidence.before_us = sample.probe_us.into_iter().collect();
            sample.evidence.after_us = sample.probe_after_us.into_iter().collect();
        }
    }
    let full_before = side_counts(
        &timed,
        &samples,
        |s| s.probe_us,
        MIN_SLOW_EXECUTIONS,
        options,
    );
    let full_after = side_counts(
        &timed,
        &samples,
        |s| s.probe_after_us,
        MIN_SLOW_EXECUTIONS,
        options,
    );
    let (first_before, first_after) = fit(
        (
            &capped(&full_before, options.first_look_executions),
            &capped(&full_after, MIN_INTERVAL_EXECUTIONS),
        ),
        &probes,
        left_us(options),
        MIN_SLOW_EXECUTIONS,
    );
    sitting(
        client,
        recommendations,
        trial,
        (&first_before, &first_after),
        &mut samples,
        spent,
    )?;
    let (more_before, more_after) = fit(
        (
            &second_look(&samples, &full_before, &first_before),
            &second_look(&samples, &full_after, &first_after),
        ),
        &probes,
        left_us(options),
        0,
    );
    sitting(
        client,
        recommendations,
        trial,
        (&more_before, &more_after),
        &mut samples,
        spent,
    )?;
    Ok((failed, samples))
}

/// The statements (of `candidates`) that get timed executions: all of them without a budget;
/// with one, those whose decision is still open before those its one screening execution per
/// side already settles (`settled`), the cheapest first within each, while their floor
/// ([`MIN_SLOW_EXECUTIONS`] a side, plus the warm-up executions) and one more build of the
/// indexes fit in the time left. The rest are judged on that one execution per side.
fn sampled(
    candidates: &[usize],
    probes: &[(f64, f64)],
    settled: &[bool],
    left_us: Option<f64>,
    build_time: Duration,
) -> Vec<usize> {
    let Some(left_us) = left_us else {
        return candidates.to_vec();
    };
    let floor_us = |i: usize| {
        let (before, after) = probes[i];
        (MIN_SLOW_EXECUTIONS + 2 * WARMUP_EXECUTIONS) as f64 * before
            + (MIN_SLOW_EXECUTIONS + WARMUP_EXECUTIONS) as f64 * after
    };
    let mut order = candidates.to_vec();
    order.sort_by(|a, b| {
        (settled[*a].cmp(&settled[*b])).then(floor_us(*a).total_cmp(&floor_us(*b)))
    });
    let mut spending_us = build_time.as_secs_f64() * 1e6;
    let mut chosen = Vec::new();
    for i in order {
        if spending_us + floor_us(i) <= left_us {
            spending_us += floor_us(i);
            chosen.push(i);
        }
    }
    chosen.sort_unstable();
    chosen
}

/// One before–after–before sitting, so that machine drift spreads evenly over both sides:
/// half of each statement's "before" executions → `SAVEPOINT` → build the indexes → its
/// "after" executions → `ROLLBACK TO SAVEPOINT` → the other half of "before". Nothing, not
/// even the builds, when no statement has executions left.
fn sitting(
    client: &mut Client,
    recommendations: &mut [Recommendation],
    trial: &Trial,
    (before, after): (&[u64], &[u64]),
    samples: &mut [Samples],
    spent: &mut Spent,
) -> Result<(), AdviseError> {
    if before.iter().chain(after).all(|n| *n == 0) {
        return Ok(());
    }
    let started = Instant::now();
    let first_half: Vec<u64> = before.iter().map(|n| n.div_ceil(2)).collect();
    let second_half: Vec<u64> = before.iter().zip(&first_half).map(|(n, h)| n - h).collect();
    time_counts(client, trial, &first_half, samples, Side::Before)?;
    client.batch_execute("SAVEPOINT pgperf_indexes")?;
    let building = Instant::now();
    // The screening build already reported the indexes that fail; they fail the same way here.
    build_all(client, recommendations)?;
    let build_time = building.elapsed();
    time_counts(client, trial, after, samples, Side::After)?;
    client.batch_execute("ROLLBACK TO SAVEPOINT pgperf_indexes")?;
    time_counts(client, trial, &second_half, samples, Side::Before)?;
    spent.builds += build_time;
    spent.sittings += started.elapsed().saturating_sub(build_time);
    Ok(())
}

/// Executions per statement of one side in the second sitting: the rest of its full count,
/// unless its first look already decided it (fewer buffers, or faster or slower beyond
/// noise). The others need every execution for a P95 comparison.
fn second_look(samples: &[Samples], full: &[u64], first: &[u64]) -> Vec<u64> {
    samples
        .iter()
        .zip(full.iter().zip(first))
        .map(|(sample, (full, first))| {
            if decided(sample) {
                0
            } else {
                full.saturating_sub(*first)
            }
        })
        .collect()
}

/// Its one screening execution per side already decides it on buffers (many times fewer with
/// the index used, or slower with many times more), so timing it matters least.
fn settled_once(sample: &Samples) -> bool {
    let once = Evidence {
        once: true,
        before_us: sample.probe_us.into_iter().collect(),
        after_us: sample.probe_after_us.into_iter().collect(),
        ..sample.evidence.clone()
    };
    matches!(
        decide::judge(&once, !sample.uses.is_empty()),
        Judgement::FewerBuffers | Judgement::Slower
    )
}

/// The rule already has its answer for this statement.
fn decided(sample: &Samples) -> bool {
    let judgement = decide::judge(&sample.evidence, !sample.uses.is_empty());
    matches!(
        judgement,
        Judgement::FewerBuffers | Judgement::Faster | Judgement::Slower
    )
}

/// Expected microseconds per execution of each statement, before and after (0 untimed).
fn probes(samples: &[Samples]) -> Vec<(f64, f64)> {
    samples
        .iter()
        .map(|s| {
            let before = s.probe_us.unwrap_or(0.0);
            (before, s.probe_after_us.unwrap_or(before))
        })
        .collect()
}

/// The counts of a sitting scaled down alike to what fits in `left_us` (no limit when
/// `None`), each non-zero count kept at `floor` or more, even when no time is left: the
/// first sitting (floor 12) always gives every changed statement evidence to judge, so no
/// index is kept unmeasured for want of budget; the second (floor 0) is skipped instead.
fn fit(
    (before, after): (&[u64], &[u64]),
    probes: &[(f64, f64)],
    left_us: Option<f64>,
    floor: u64,
) -> (Vec<u64>, Vec<u64>) {
    let Some(left_us) = left_us else {
        return (before.to_vec(), after.to_vec());
    };
    let needed_us: f64 = (0..probes.len())
        .map(|i| before[i] as f64 * probes[i].0 + after[i] as f64 * probes[i].1)
        .sum();
    let scale = if left_us <= 0.0 {
        0.0
    } else if needed_us > left_us {
        left_us / needed_us
    } else {
        1.0
    };
    let shrink = |counts: &[u64]| -> Vec<u64> {
        counts
            .iter()
            .map(|&n| match n {
                0 => 0,
                n => ((n as f64 * scale) as u64).max(floor).min(n),
            })
            .collect()
    };
    (shrink(before), shrink(after))
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
pub(super) fn side_executions(probe_us: f64, fewest: u64, options: &VerifyOptions) -> u64 {
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
pub(super) fn build_all(
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
pub(super) enum Side {
    Before,
    After,
}

/// `iterations` executions of the `targets` statements, interleaved in shuffled order by the
/// bench's timing loop, each in a savepoint inside the verification transaction.
pub(super) fn time(
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
        warmup: WARMUP_EXECUTIONS,
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
            Side::Before => sample.evidence.before_us.extend(latencies),
            Side::After => sample.evidence.after_us.extend(latencies),
        }
    }
    Ok(())
}

/// Discarded executions before each timed block (caches, plan cache).
const WARMUP_EXECUTIONS: u64 = 1;

#[cfg(test)]
mod tests {
    use super::*;

    fn timed(before_us: &[f64], after_us: &[f64], buffers: (f64, f64)) -> Samples {
        Samples {
            evidence: Evidence {
                before_us: before_us.to_vec(),
                after_us: after_us.to_vec(),
                buffers_before: Some(buffers.0),
                buffers_after: Some(buffers.1),
                ..Evidence::default()
            },
            uses: vec![0],
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
            // Many times fewer buffers, time lost in noise: decided.
            timed(&jitter(5e3, 20), &jitter(5e3, 59), (4_000.0, 40.0)),
            // The same before and after, same buffers: open.
            timed(&jitter(5e3, 20), &jitter(5e3, 59), (100.0, 100.0)),
            // Clearly slower on the median already: decided.
            timed(&jitter(5e3, 20), &jitter(9e3, 59), (100.0, 100.0)),
            // Not timed.
            Samples::default(),
        ];
        let full = [100, 100, 100, 0];
        assert_eq!(
            second_look(&samples, &full, &capped(&full, 20)),
            [0, 80, 0, 0]
        );
        let slow = [100, 12, 100, 0];
        assert_eq!(
            second_look(&samples, &slow, &capped(&slow, 20)),
            [0, 0, 0, 0],
            "a slow side whose first look was its full count gets no more"
        );
    }

    #[test]
    fn the_cheapest_statements_are_sampled_while_their_floor_fits() {
        // Floors: 14 × before + 13 × after.
        let probes = [(1e6, 1e6), (1e3, 1e3), (0.0, 0.0), (1e5, 2e5)];
        let all = [0, 1, 3];
        let open = [false; 4];
        assert_eq!(sampled(&all, &probes, &open, None, Duration::ZERO), all);
        // 1 s of builds, then 27 ms and 4 s fit in 6 s; the 27 s one does not.
        assert_eq!(
            sampled(&all, &probes, &open, Some(6e6), Duration::from_secs(1)),
            [1, 3]
        );
        // The 4 s one is settled by its buffers: the open 27 s one goes first, alone.
        let settled = [false, false, false, true];
        assert_eq!(
            sampled(&all, &probes, &settled, Some(28.5e6), Duration::ZERO),
            [0, 1]
        );
        assert!(
            sampled(&all, &probes, &open, Some(-1.0), Duration::ZERO).is_empty(),
            "a spent budget samples nothing: every statement is judged once"
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
    }

    #[test]
    fn a_sitting_shrinks_to_the_time_left_but_not_below_its_floor() {
        let probes = [(1_000.0, 500.0), (100_000.0, 100_000.0), (0.0, 0.0)];
        let (before, after) = (vec![100, 20, 0], vec![100, 20, 0]);
        assert_eq!(
            fit((&before, &after), &probes, None, 12),
            (before.clone(), after.clone())
        );
        // Needs 0.15 s + 4 s; 2.075 s left halves every count, the slow one stops at 12.
        assert_eq!(
            fit((&before, &after), &probes, Some(2_075_000.0), 12),
            (vec![50, 12, 0], vec![50, 12, 0])
        );
        assert_eq!(
            fit((&before, &after), &probes, Some(-1.0), 0),
            (vec![0, 0, 0], vec![0, 0, 0])
        );
        assert_eq!(
            fit((&before, &after), &probes, Some(-1.0), 12),
            (vec![12, 12, 0], vec![12, 12, 0]),
            "the first sitting keeps its floor when the budget is spent"
        );
    }
}
