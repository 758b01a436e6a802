//! The warm-up and measured phases on the worker connections, with the pg_stat_statements
//! snapshots around the measured one.

use indicatif::ProgressBar;
use postgres::Client;

use super::engine::{Phase, PhasePlan, Schedule, WorkerOutcome};
use super::executor::{Executor, Wrapping};
use super::plans::PlanInput;
use super::recorder::QueryRecorder;
use crate::model::BenchSettings;
use crate::pg::stat_statements::{self, Snapshot};

pub(super) struct PhaseInput<'a> {
    pub(super) plan: &'a PlanInput<'a>,
    pub(super) settings: &'a BenchSettings,
    pub(super) progress: &'a ProgressBar,
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
    let phase = |rounds: u64, offset: u64, measuring: bool, rate_qps| {
        Phase::new(PhasePlan {
            queries: plan.queries,
            generators: plan.generators,
            schedule: Schedule {
                queries: plan.queries.len(),
                rounds,
                seed: settings.rng_seed ^ offset,
            },
            stream_offset: offset,
            seed: settings.rng_seed,
            params_now: plan.params_now,
            measuring,
            rate_qps,
            progress: input.progress,
        })
    };
    let mut measured = Measured::default();
    let (empty, lost) = run_workers(
        &phase(settings.warmup, 0, false, None),
        &mut executors,
        settings.rng_seed,
    );
    if lost.is_some() {
        measured.recorders = empty;
        measured.abort_reason = lost;
        return measured;
    }
    measured.before = stat_statements::snapshot(control).ok();
    let main = phase(settings.iterations, 1 << 40, true, settings.rate_qps);
    let (recorders, lost) = run_workers(&main, &mut executors, settings.rng_seed);
    measured.achieved_qps = main.dispatched() as f64 / main.elapsed().as_secs_f64().max(1e-9);
    measured.after = measured
        .before
        .as_ref()
        .and_then(|_| stat_statements::snapshot(control).ok());
    measured.recorders = recorders;
    measured.abort_reason = lost;
    measured
}

/// Runs `phase` with one thread per executor and merges their recorders per query. The second
/// value is why the phase stopped early: the first lost connection, or Ctrl-C.
pub(super) fn run_workers(
    phase: &Phase<'_>,
    executors: &mut [Executor<'_>],
    seed: u64,
) -> (Vec<QueryRecorder>, Option<String>) {
    let outcomes: Vec<WorkerOutcome> = std::thread::scope(|scope| {
        let handles: Vec<_> = executors
            .iter_mut()
            .enumerate()
            .map(|(worker, executor)| scope.spawn(move || phase.work(executor, worker as u64)))
            .collect();
        handles
            .into_iter()
            .map(|handle| {
                handle
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
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
