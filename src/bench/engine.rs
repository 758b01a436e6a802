//! The schedule and the worker loop. Every query gets exactly `iterations` measured executions
//! (so every P95 has an interval). The executions come in rounds: each round runs every query
//! once, in an order shuffled by a seeded RNG, so machine drift spreads evenly over all queries
//! instead of hitting one block, and the schedule is computed task by task in O(queries)
//! memory however many iterations run. Workers take the next task from one shared counter and
//! record into their own recorders. With a rate, task `i` is due at `start + i / rate` and its
//! latency is measured from that intended time, so a server that falls behind shows queueing
//! in the latencies instead of hiding it (no coordinated omission).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use indicatif::ProgressBar;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use super::executor::{ExecError, Executor};
use super::recorder::QueryRecorder;
use crate::model::Sample;
use crate::workload::{Generator, Query};

/// Progress is reported every this many tasks, so workers do not contend on the bar.
const PROGRESS_STEP: u64 = 64;

/// `rounds` rounds of every one of `queries` queries, each round in its own seeded order.
#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    pub queries: usize,
    pub rounds: u64,
    pub seed: u64,
}

impl Schedule {
    /// Number of tasks.
    pub fn len(&self) -> u64 {
        self.rounds.saturating_mul(self.queries as u64)
    }

    /// The query index of task `task`, or `None` past the end.
    pub fn query_of(&self, task: u64) -> Option<usize> {
        if task >= self.len() {
            return None;
        }
        let queries = self.queries as u64;
        let (round, position) = (task / queries, (task % queries) as usize);
        if self.queries == 1 {
            return Some(0);
        }
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        rng.set_stream(round);
        let mut order: Vec<usize> = (0..self.queries).collect();
        order.shuffle(&mut rng);
        Some(order[position])
    }
}

/// The parameters of task `task`: deterministic for a seed, whichever worker runs it.
pub fn draw_params(
    generators: &[Generator],
    seed: u64,
    task: u64,
    now: DateTime<Utc>,
) -> Vec<Option<String>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(task);
    generators.iter().map(|g| g.draw(&mut rng, now)).collect()
}

/// What one phase (warm-up or measured) runs.
pub struct PhasePlan<'a> {
    pub queries: &'a [Query],
    pub generators: &'a [Vec<Generator>],
    pub schedule: Schedule,
    /// Offset added to task numbers for parameter streams, so phases draw different values.
    pub stream_offset: u64,
    pub seed: u64,
    /// The run's start: the `now` of relative time windows.
    pub params_now: DateTime<Utc>,
    /// False for the warm-up, whose executions are discarded.
    pub measuring: bool,
    pub rate_qps: Option<f64>,
    pub progress: &'a ProgressBar,
}

/// What one worker did in a phase.
pub struct WorkerOutcome {
    /// One recorder per query (empty ones in the warm-up).
    pub recorders: Vec<QueryRecorder>,
    /// Why the worker stopped early, when its connection was lost.
    pub lost: Option<String>,
}

/// A phase being run by its workers.
pub struct Phase<'a> {
    plan: PhasePlan<'a>,
    next: AtomicU64,
    stop: AtomicBool,
    started: Instant,
}

impl<'a> Phase<'a> {
    /// A phase whose clock starts now.
    pub fn new(plan: PhasePlan<'a>) -> Self {
        Phase {
            plan,
            next: AtomicU64::new(0),
            stop: AtomicBool::new(false),
            started: Instant::now(),
        }
    }

    /// Tasks started so far (≤ the number of tasks).
    pub fn dispatched(&self) -> u64 {
        self.next
            .load(Ordering::SeqCst)
            .min(self.plan.schedule.len())
    }

    /// Wall time since the phase started.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// Runs tasks on `executor` until none are left, Ctrl-C, or a worker lost its connection.
    /// `worker` numbers the worker, for its recorders' reservoir seeds.
    pub fn work(&self, executor: &mut Executor<'_>, worker: u64) -> WorkerOutcome {
        let plan = &self.plan;
        let mut recorders: Vec<QueryRecorder> = (0..plan.queries.len() as u64)
            .map(|query| QueryRecorder::new(plan.seed ^ (worker << 32) ^ query))
            .collect();
        let mut lost = None;
        let mut done = 0;
        while !self.stop.load(Ordering::Relaxed) && !crate::signal::interrupted() {
            let task = self.next.fetch_add(1, Ordering::Relaxed);
            let Some(index) = plan.schedule.query_of(task) else {
                break;
            };
            if let Err(reason) = self.run_task(executor, task, index, &mut recorders[index]) {
                self.stop.store(true, Ordering::SeqCst);
                lost = Some(reason);
                break;
            }
            done += 1;
            if done % PROGRESS_STEP == 0 {
                plan.progress.inc(PROGRESS_STEP);
            }
        }
        plan.progress.inc(done % PROGRESS_STEP);
        WorkerOutcome { recorders, lost }
    }

    fn run_task(
        &self,
        executor: &mut Executor<'_>,
        task: u64,
        index: usize,
        recorder: &mut QueryRecorder,
    ) -> Result<(), String> {
        let plan = &self.plan;
        let stream = plan.stream_offset + task;
        let params = draw_params(&plan.generators[index], plan.seed, stream, plan.params_now);
        let intended = plan.rate_qps.map(|rate| {
            let due = self.started + Duration::from_secs_f64(task as f64 / rate);
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
            due
        });
        let sent_at = intended.unwrap_or_else(Instant::now);
        let outcome = executor.execute(index, &plan.queries[index], &params, intended);
        match outcome {
            Ok(executed) if plan.measuring => {
                let at_ms = sent_at.duration_since(self.started).as_secs_f64() * 1e3;
                let sample = Sample {
                    at_ms,
                    latency_us: executed.latency_us,
                };
                recorder.record(sample, executed.rows);
                Ok(())
            }
            Err(ExecError::Query(error)) if plan.measuring => {
                recorder.record_error(error);
                Ok(())
            }
            Err(ExecError::Connection(reason)) => Err(reason),
            Ok(_) | Err(ExecError::Query(_)) => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tasks(schedule: Schedule) -> Vec<usize> {
        (0..schedule.len())
            .map(|task| schedule.query_of(task).expect("in range"))
            .collect()
    }

    #[test]
    fn every_query_gets_its_count_shuffled_deterministically() {
        let schedule = Schedule {
            queries: 3,
            rounds: 100,
            seed: 9,
        };
        let order = tasks(schedule);
        assert_eq!(order.len(), 300);
        for query in 0..3 {
            assert_eq!(order.iter().filter(|t| **t == query).count(), 100);
        }
        assert_eq!(order, tasks(schedule));
        assert_ne!(
            order,
            tasks(Schedule {
                seed: 10,
                ..schedule
            })
        );
        assert!(
            order[..6].iter().any(|t| *t != order[0]),
            "interleaved, not blocks"
        );
        assert_ne!(order[..3], order[3..6], "each round has its own order");
        assert_eq!(schedule.query_of(300), None);
    }

    #[test]
    fn parameters_depend_on_the_task_not_the_worker() {
        let generators = vec![Generator::IntBetween {
            min: 0,
            max: 1_000_000,
        }];
        let now = Utc::now();
        assert_eq!(
            draw_params(&generators, 1, 5, now),
            draw_params(&generators, 1, 5, now)
        );
        assert_ne!(
            draw_params(&generators, 1, 5, now),
            draw_params(&generators, 1, 6, now)
        );
    }
}
