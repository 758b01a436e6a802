//! The warm-up and measured phases on the worker connections, with the pg_stat_statements
//! snapshots around the measured one. With a time budget the warm-up is also the probe: it
//! runs every query at least once within its own small budget, and what each query cost there
//! is where the measured phase's plan starts.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use postgres::Client;

use super::budget::{Outcome, Policy, Sampler};
use super::engine::{Phase, PhasePlan, Schedule, Tasks, WorkerOutcome};
use super::executor::{Executor, Wrapping};
use super::plans::PlanInput;
use super::progress::Progress;
use super::recorder::QueryRecorder;
use crate::model::{BenchSettings, TimeBudget};
use crate::pg::stat_statements::{self, Snapshot};

/// Samples every query gets in a budgeted run before its share can stop it: enough for a
/// one-sided P95 bound above its lowest values (rank 10 of 12 at 97.5%).
pub const FLOOR_SAMPLES: u64 = 12;

pub(super) struct PhaseInput<'a> {
    pub(super) plan: &'a PlanInput<'a>,
    pub(super) settings: &'a BenchSettings,
    pub(super) progress: &'a Progress,
}

/// What the warm-up and measured phases left behind.
#[derive(Debug, Default)]
pub(super) struct Measured {
    /// One merged recorder per query.
    pub(super) recorders: Vec<QueryRecorder>,
    pub(super) abort_reason: Option<String>,
    pub(super) before: Option<Snapshot>,
    pub(super) after: Option<Snapshot>,
    pub(super) achieved_qps: f64,
    /// How each query's sampling ended, in a budgeted run.
    pub(super) sampling: Option<Vec<Outcome>>,
    /// Wall time of the measured phase, milliseconds.
    pub(super) measured_ms: f64,
}

impl Measured {
    pub(super) fn dealloc_delta(&self) -> Option<i64> {
        Some(self.after.as_ref()?.dealloc - self.before.as_ref()?.dealloc)
    }
}

pub(super) fn measure_phases(
    control: &mut Client,
    workers: &mut [Client],
    input: &PhaseInput<'_>,
) -> Measured {
    let (plan, settings) = (input.plan, input.settings);
    let mut executors: Vec<Executor<'_>> = workers
        .iter_mut()
        .map(|client| {
            Executor::new(
                client,
                settings.protocol,
                Wrapping::Autocommit,
                plan.queries,
            )
        })
        .collect();
    let phase = |tasks: Tasks, budget, offset: u64, measuring: bool, rate_qps| {
        let plan = PhasePlan {
            queries: plan.queries,
            generators: plan.generators,
            tasks,
            stream_offset: offset,
            seed: settings.rng_seed,
            params_now: plan.params_now,
            measuring,
            rate_qps,
        };
        Phase::new(plan, budget)
    };
    let mut measured = Measured::default();
    let (warmup_tasks, warmup_budget) = warmup_tasks(settings, plan.queries.len());
    let warmup = phase(warmup_tasks, warmup_budget, 0, false, None);
    let (empty, lost) = run_workers(&warmup, &mut executors, settings.rng_seed, input.progress);
    if lost.is_some() {
        measured.recorders = empty;
        measured.abort_reason = lost;
        return measured;
    }
    let probes_us = warmup
        .costs_us()
        .unwrap_or_else(|| vec![0.0; plan.queries.len()]);
    measured.before = stat_statements::snapshot(control).ok();
    let (tasks, budget) = measured_tasks(settings, probes_us);
    let main = phase(tasks, budget, 1 << 40, true, settings.rate_qps);
    let (recorders, lost) = run_workers(&main, &mut executors, settings.rng_seed, input.progress);
    measured.measured_ms = main.elapsed().as_secs_f64() * 1e3;
    measured.achieved_qps = main.dispatched() as f64 / main.elapsed().as_secs_f64().max(1e-9);
    measured.sampling = main.outcomes(lost.is_some());
    measured.after = measured
        .before
        .as_ref()
        .and_then(|_| stat_statements::snapshot(control).ok());
    measured.recorders = recorders;
    measured.abort_reason = lost;
    measured
}

/// The warm-up: `warmup` rounds, or with a time budget up to `warmup` executions per query
/// within the warm-up budget, at least one each (the probe).
fn warmup_tasks(settings: &BenchSettings, queries: usize) -> (Tasks, Option<Duration>) {
    match settings.time_budget {
        None => (
            Tasks::Fixed(schedule(settings, queries, settings.warmup, 0)),
            None,
        ),
        Some(budget) => {
            let policy = Policy {
                budget_us: budget.warmup_budget_ms as f64 * 1e3,
                target_precision: 0.0,
                floor_samples: 1,
                max_samples: settings.warmup.max(1),
            };
            let sampler = Sampler::new(policy, vec![0.0; queries], settings.rng_seed);
            let duration = Duration::from_millis(budget.warmup_budget_ms);
            (Tasks::Budgeted(sampler), Some(duration))
        }
    }
}

/// The measured phase: `iterations` rounds, or sampling within the time budget.
fn measured_tasks(settings: &BenchSettings, probes_us: Vec<f64>) -> (Tasks, Option<Duration>) {
    let queries = probes_us.len();
    match settings.time_budget {
        None => {
            let schedule = schedule(settings, queries, settings.iterations, 1 << 40);
            (Tasks::Fixed(schedule), None)
        }
        Some(TimeBudget {
            budget_ms,
            target_precision,
            ..
        }) => {
            let policy = Policy {
                budget_us: budget_ms as f64 * 1e3,
                target_precision,
                floor_samples: FLOOR_SAMPLES,
                max_samples: settings.iterations,
            };
            let sampler = Sampler::new(policy, probes_us, settings.rng_seed ^ (1 << 40));
            let duration = Duration::from_millis(budget_ms);
            (Tasks::Budgeted(sampler), Some(duration))
        }
    }
}

fn schedule(settings: &BenchSettings, queries: usize, rounds: u64, offset: u64) -> Schedule {
    Schedule {
        queries,
        rounds,
        seed: settings.rng_seed ^ offset,
    }
}

/// Runs `phase` with one thread per executor and merges their recorders per query. The second
/// value is why the phase stopped early: the first lost connection, or Ctrl-C.
pub(super) fn run_workers(
    phase: &Phase<'_>,
    executors: &mut [Executor<'_>],
    seed: u64,
    progress: &Progress,
) -> (Vec<QueryRecorder>, Option<String>) {
    let done = AtomicBool::new(false);
    let label = if phase.measuring() {
        "measuring"
    } else {
        "warming up"
    };
    let outcomes: Vec<WorkerOutcome> = std::thread::scope(|scope| {
        let watcher = scope.spawn(|| progress.watch(label, phase, &done));
        let handles: Vec<_> = executors
            .iter_mut()
            .enumerate()
            .map(|(worker, executor)| scope.spawn(move || phase.work(executor, worker as u64)))
            .collect();
        let outcomes = handles
            .into_iter()
            .map(|handle| {
                handle
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect();
        done.store(true, Ordering::Relaxed);
        watcher
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        outcomes
    });
    let mut lost = outcomes.iter().find_map(|outcome| outcome.lost.clone());
    if lost.is_none() && crate::signal::interrupted() {
        lost = Some("interrupted (Ctrl-C)".to_string());
    }
    let mut per_worker: Vec<std::vec::IntoIter<QueryRecorder>> = outcomes
        .into_iter()
        .map(|outcome| outcome.recorders.into_iter())
        .collect();
    let queries = executors.first().map_or(0, Executor::query_count);
    let merged = (0..queries as u64)
        .map(|query| {
            let parts = per_worker.iter_mut().filter_map(Iterator::next).collect();
            QueryRecorder::merge(parts, seed ^ query)
        })
        .collect();
    (merged, lost)
}
