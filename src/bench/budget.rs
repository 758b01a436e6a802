//! The time budget of a bench run (`--time-budget`): which query runs next, and when each one
//! has been sampled enough. Pure: the caller passes the elapsed time in, so every decision is
//! unit-tested without a database or a clock.
//!
//! Sampling still comes in interleaved, shuffled rounds (each round runs every query that is
//! still sampling, in a seeded order), so machine drift spreads over all queries; a query whose
//! share holds many more executions than the others' appears that many times more in a round
//! (up to [`MAX_REPEATS`]), so fast queries are not held to the pace of slow ones. At the
//! start of each round the remaining time is shared out again by water-filling over the queries
//! still sampling, from what each has cost so far: first every query's floor (the samples a
//! one-sided P95 bound needs), then equal shares, where a query that needs less than an equal
//! share (it will reach the sample cap) gives the rest to the others. A query stops when the
//! 95% distribution-free interval of its P95 has a relative half-width under the target
//! ([`StopReason::Precise`]), when its next execution would not fit in its share
//! ([`StopReason::ShareSpent`]), at the sample cap, or when the budget is gone. No execution
//! starts once the budget is spent, nor one expected to end more than [`OVERRUN`] past it,
//! so the phase ends within the budget plus 10% plus one execution already under way.

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use crate::model::StopReason;
use crate::stats::{CONFIDENCE, harrell_davis, min_samples_for_interval, quantile_interval};

/// Most samples a budgeted run takes of one query: all of them stay in the raw samples.
pub const MAX_SAMPLES: u64 = super::recorder::RESERVOIR_SIZE as u64;

/// An execution may start when it is expected to end by the budget times this.
pub const OVERRUN: f64 = 1.10;

/// Most times one query appears in a round, so a round stays short enough to re-plan often.
const MAX_REPEATS: f64 = 64.0;

/// Growth of the sample count between two precision checks: each check sorts the samples, so
/// checking at geometric steps keeps the total cost at O(n log n).
const CHECK_GROWTH: f64 = 1.2;

/// How a budgeted phase samples.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Policy {
    /// Time the phase may take, microseconds.
    pub budget_us: f64,
    /// Stop a query when its P95 interval's half-width over its P95 is below this; 0 never.
    pub target_precision: f64,
    /// Samples every query gets before its share can stop it (what a one-sided bound needs).
    pub floor_samples: u64,
    /// Samples after which a query stops anyway.
    pub max_samples: u64,
}

/// What one query's sampling came to.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub stop: StopReason,
    /// The time it was allotted at the end, microseconds.
    pub share_us: f64,
    /// Wall time its executions took, microseconds.
    pub spent_us: f64,
    /// Relative half-width of its P95 interval at the last check, when it had one.
    pub relative_half_width: Option<f64>,
}

#[derive(Debug, Clone, Default)]
struct QueryState {
    latencies_us: Vec<f64>,
    executions: u64,
    spent_us: f64,
    share_us: f64,
    next_check: usize,
    relative_half_width: Option<f64>,
    stop: Option<StopReason>,
}

impl QueryState {
    /// Mean wall time per execution, or `fallback_us` before the first one.
    fn cost_us(&self, fallback_us: f64) -> f64 {
        if self.executions == 0 {
            fallback_us
        } else {
            self.spent_us / self.executions as f64
        }
    }
}

/// Hands out queries round by round until every query stopped or the budget is spent.
#[derive(Debug, Clone)]
pub struct Sampler {
    policy: Policy,
    queries: Vec<QueryState>,
    /// Cost assumed for a query that has not run yet (its probe), microseconds.
    probes_us: Vec<f64>,
    queue: Vec<usize>,
    round: u64,
    seed: u64,
}

impl Sampler {
    /// A sampler over queries whose expected cost per execution is `probes_us` (0 when
    /// unknown: the first round then probes every query).
    pub fn new(policy: Policy, probes_us: Vec<f64>, seed: u64) -> Sampler {
        Sampler {
            policy,
            queries: vec![QueryState::default(); probes_us.len()],
            probes_us,
            queue: Vec::new(),
            round: 0,
            seed,
        }
    }

    /// The query to run next, or `None` when sampling is over. `elapsed_us` is the phase's
    /// wall time so far.
    pub fn next(&mut self, elapsed_us: f64) -> Option<usize> {
        loop {
            if elapsed_us >= self.policy.budget_us {
                self.stop_all(StopReason::BudgetSpent);
                return None;
            }
            if self.queue.is_empty() && !self.start_round(elapsed_us) {
                return None;
            }
            let query = self.queue.pop()?;
            if self.queries[query].stop.is_some() {
                continue;
            }
            let cost_us = self.queries[query].cost_us(self.probes_us[query]);
            if elapsed_us + cost_us > self.policy.budget_us * OVERRUN {
                self.queries[query].stop = Some(StopReason::BudgetSpent);
                continue;
            }
            return Some(query);
        }
    }

    /// Records one execution of `query` that took `cost_us` of wall time; `latency_us` is its
    /// measured latency, `None` when it failed.
    pub fn record(&mut self, query: usize, latency_us: Option<f64>, cost_us: f64) {
        let state = &mut self.queries[query];
        state.executions += 1;
        state.spent_us += cost_us;
        if let Some(latency_us) = latency_us {
            state.latencies_us.push(latency_us);
        }
    }

    /// Marks every query still sampling as stopped for `reason` (e.g. Ctrl-C).
    pub fn stop_all(&mut self, reason: StopReason) {
        for state in &mut self.queries {
            state.stop.get_or_insert(reason);
        }
        self.queue.clear();
    }

    /// Queries that stopped sampling.
    pub fn stopped(&self) -> usize {
        self.queries.iter().filter(|q| q.stop.is_some()).count()
    }

    /// Mean wall time per execution of each query so far (its probe when it never ran).
    pub fn costs_us(&self) -> Vec<f64> {
        self.queries
            .iter()
            .zip(&self.probes_us)
            .map(|(state, probe)| state.cost_us(*probe))
            .collect()
    }

    /// How each query's sampling ended.
    pub fn outcomes(&self) -> Vec<Outcome> {
        self.queries
            .iter()
            .map(|state| Outcome {
                stop: state.stop.unwrap_or(StopReason::BudgetSpent),
                share_us: state.share_us,
                spent_us: state.spent_us,
                relative_half_width: state.relative_half_width,
            })
            .collect()
    }

    /// Decides which queries stop, shares the remaining time out again and shuffles the next
    /// round. False when no query is left.
    fn start_round(&mut self, elapsed_us: f64) -> bool {
        for query in 0..self.queries.len() {
            if self.queries[query].stop.is_none() {
                self.queries[query].stop = self.stop_reason(query);
            }
        }
        self.share(self.policy.budget_us - elapsed_us);
        let mut active = self.round_entries();
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        rng.set_stream(self.round);
        active.shuffle(&mut rng);
        self.round += 1;
        self.queue = active;
        !self.queue.is_empty()
    }

    /// The queries still sampling, each as many times as its share is larger than the
    /// smallest one in executions, so a fast query is not held to the pace of a slow one, and
    /// every round still spans every query.
    fn round_entries(&self) -> Vec<usize> {
        let costs = self.costs_us();
        let active: Vec<(usize, f64)> = (0..self.queries.len())
            .filter(|&query| self.queries[query].stop.is_none())
            .map(|query| {
                let state = &self.queries[query];
                let left = (state.share_us - state.spent_us) / costs[query];
                (query, if left.is_finite() { left.max(1.0) } else { 1.0 })
            })
            .collect();
        let fewest = active
            .iter()
            .map(|(_, left)| *left)
            .fold(f64::INFINITY, f64::min);
        active
            .into_iter()
            .flat_map(|(query, left)| {
                let repeats = (left / fewest).round().clamp(1.0, MAX_REPEATS) as usize;
                std::iter::repeat_n(query, repeats)
            })
            .collect()
    }

    fn stop_reason(&mut self, query: usize) -> Option<StopReason> {
        let policy = self.policy;
        let probe = self.probes_us[query];
        let state = &mut self.queries[query];
        if state.executions >= policy.max_samples {
            return Some(StopReason::SampleCap);
        }
        if state.latencies_us.len() >= state.next_check.max(1) {
            state.relative_half_width = relative_half_width(&state.latencies_us);
            state.next_check = ((state.latencies_us.len() as f64 * CHECK_GROWTH) as usize)
                .max(state.latencies_us.len() + 1);
            if state
                .relative_half_width
                .is_some_and(|width| width < policy.target_precision)
            {
                return Some(StopReason::Precise);
            }
        }
        let over_share = state.spent_us + state.cost_us(probe) > state.share_us;
        (state.executions >= policy.floor_samples && state.executions > 0 && over_share)
            .then_some(StopReason::ShareSpent)
    }

    /// Shares `remaining_us` over the queries still sampling (see the module documentation).
    fn share(&mut self, remaining_us: f64) {
        let costs = self.costs_us();
        let active: Vec<usize> = (0..self.queries.len())
            .filter(|&query| self.queries[query].stop.is_none())
            .collect();
        let demands: Vec<Demand> = active
            .iter()
            .map(|&query| {
                let state = &self.queries[query];
                let left =
                    |count: u64| count.saturating_sub(state.executions) as f64 * costs[query];
                Demand {
                    floor_us: left(self.policy.floor_samples),
                    want_us: left(self.policy.max_samples),
                }
            })
            .collect();
        for (query, extra_us) in active
            .into_iter()
            .zip(plan(&demands, remaining_us.max(0.0)))
        {
            let state = &mut self.queries[query];
            state.share_us = state.spent_us + extra_us;
        }
    }
}

/// Time a query still asks for: at least `floor_us`, at most `want_us`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Demand {
    pub floor_us: f64,
    pub want_us: f64,
}

/// Shares `available_us` over `demands`: every floor first (scaled down alike when even the
/// floors do not fit), then the rest by water-filling, so no query gets more than it wants and
/// those that want more than an equal share split what the others leave.
pub fn plan(demands: &[Demand], available_us: f64) -> Vec<f64> {
    let floors: f64 = demands.iter().map(|d| d.floor_us).sum();
    if floors >= available_us {
        let scale = if floors > 0.0 {
            available_us / floors
        } else {
            0.0
        };
        return demands.iter().map(|d| d.floor_us * scale).collect();
    }
    let mut shares: Vec<f64> = demands.iter().map(|d| d.floor_us).collect();
    let mut order: Vec<usize> = (0..demands.len()).collect();
    let extra = |i: usize| (demands[i].want_us - demands[i].floor_us).max(0.0);
    order.sort_by(|&a, &b| extra(a).total_cmp(&extra(b)));
    let mut left = available_us - floors;
    for (position, &i) in order.iter().enumerate() {
        let level = left / (order.len() - position) as f64;
        let given = extra(i).min(level);
        shares[i] += given;
        left -= given;
    }
    shares
}

/// Half-width of the 95% distribution-free P95 interval over the Harrell-Davis P95, or `None`
/// below the 59 samples an interval needs.
pub fn relative_half_width(latencies_us: &[f64]) -> Option<f64> {
    if latencies_us.len() < min_samples_for_interval(0.95, CONFIDENCE) {
        return None;
    }
    let mut sorted = latencies_us.to_vec();
    sorted.sort_by(f64::total_cmp);
    let (low, high) = quantile_interval(&sorted, 0.95, CONFIDENCE)?;
    let p95 = harrell_davis(&sorted, 0.95);
    (p95 > 0.0).then(|| (high - low) / 2.0 / p95)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(budget_ms: f64) -> Policy {
        Policy {
            budget_us: budget_ms * 1e3,
            target_precision: 0.05,
            floor_samples: 12,
            max_samples: 2_000,
        }
    }

    /// Runs `sampler` against a simulated clock where query `q` always takes `costs_us[q]`,
    /// with latencies drawn from a small fixed pattern around it; returns executions per query.
    fn simulate(sampler: &mut Sampler, costs_us: &[f64], jitter: f64) -> (Vec<u64>, f64) {
        let mut elapsed_us = 0.0;
        let mut counts = vec![0; costs_us.len()];
        while let Some(query) = sampler.next(elapsed_us) {
            let n = counts[query];
            let wobble = 1.0 + jitter * (((n * 37) % 100) as f64 / 100.0 - 0.5);
            let cost_us = costs_us[query] * wobble;
            sampler.record(query, Some(cost_us), cost_us);
            elapsed_us += cost_us;
            counts[query] += 1;
        }
        (counts, elapsed_us)
    }

    #[test]
    fn water_filling_gives_what_is_wanted_and_splits_the_rest() {
        let demands = [
            Demand {
                floor_us: 0.0,
                want_us: 10.0,
            },
            Demand {
                floor_us: 0.0,
                want_us: 1_000.0,
            },
            Demand {
                floor_us: 0.0,
                want_us: 1_000.0,
            },
        ];
        assert_eq!(plan(&demands, 210.0), vec![10.0, 100.0, 100.0]);
        assert_eq!(plan(&demands, 5_000.0), vec![10.0, 1_000.0, 1_000.0]);
    }

    #[test]
    fn floors_come_first_and_shrink_alike_when_they_do_not_fit() {
        let demands = [
            Demand {
                floor_us: 60.0,
                want_us: 100.0,
            },
            Demand {
                floor_us: 20.0,
                want_us: 1_000.0,
            },
        ];
        assert_eq!(plan(&demands, 40.0), vec![30.0, 10.0]);
        assert_eq!(plan(&demands, 100.0), vec![70.0, 30.0]);
    }

    #[test]
    fn the_phase_ends_within_the_budget_plus_ten_percent_and_one_execution() {
        let costs_us = [50.0, 2_000.0, 400_000.0, 900_000.0];
        let mut sampler = Sampler::new(policy(5_000.0), vec![0.0; 4], 1);
        let (_, elapsed_us) = simulate(&mut sampler, &costs_us, 0.3);
        let slowest_us = 900_000.0 * 1.15;
        assert!(
            elapsed_us <= 5_000_000.0 * OVERRUN + slowest_us,
            "{elapsed_us}"
        );
    }

    #[test]
    fn fast_queries_get_many_samples_and_slow_ones_their_floor() {
        let costs_us = [100.0, 1_000.0, 200_000.0];
        let mut sampler = Sampler::new(policy(10_000.0), vec![0.0; 3], 7);
        let (counts, _) = simulate(&mut sampler, &costs_us, 0.5);
        assert!(counts[0] >= 59 && counts[1] >= 59, "{counts:?}");
        assert!(counts[2] >= 12, "{counts:?}");
        let outcomes = sampler.outcomes();
        assert_eq!(outcomes[0].stop, StopReason::Precise, "{outcomes:?}");
        assert!(outcomes[0].relative_half_width.expect("an interval") < 0.05);
    }

    #[test]
    fn a_query_that_never_gets_precise_stops_when_its_share_is_spent() {
        let costs_us = [100.0, 10_000.0];
        let mut sampler = Sampler::new(
            Policy {
                target_precision: 0.0,
                ..policy(2_000.0)
            },
            vec![0.0; 2],
            3,
        );
        let (counts, elapsed_us) = simulate(&mut sampler, &costs_us, 0.5);
        let outcomes = sampler.outcomes();
        assert_eq!(outcomes[0].stop, StopReason::SampleCap, "{outcomes:?}");
        assert_ne!(outcomes[1].stop, StopReason::Precise);
        assert!(
            counts[1] > 59,
            "the time the fast one left went to the slow one"
        );
        assert!(elapsed_us <= 2_000_000.0 * OVERRUN + 15_000.0);
    }

    #[test]
    fn rounds_are_interleaved_and_reproducible() {
        let order = |seed| {
            let mut sampler = Sampler::new(policy(1_000.0), vec![10.0; 4], seed);
            (0..12)
                .map(|_| {
                    let query = sampler.next(0.0).expect("budget left");
                    sampler.record(query, Some(10.0), 10.0);
                    query
                })
                .collect::<Vec<_>>()
        };
        let first = order(5);
        assert_eq!(first, order(5));
        for round in first.chunks(4) {
            let mut sorted = round.to_vec();
            sorted.sort_unstable();
            assert_eq!(sorted, vec![0, 1, 2, 3], "every query once per round");
        }
        assert_ne!(first[..4], first[4..8], "each round has its own order");
    }

    #[test]
    fn nothing_starts_once_the_budget_is_spent() {
        let mut sampler = Sampler::new(policy(1.0), vec![10.0; 2], 1);
        assert_eq!(sampler.next(1_000.0), None);
        assert!(
            sampler
                .outcomes()
                .iter()
                .all(|outcome| outcome.stop == StopReason::BudgetSpent)
        );
    }
}
