//! The schedule and the worker loop. Executions come in rounds: each round runs every query
//! once, in an order shuffled by a seeded RNG, so machine drift spreads evenly over all queries
//! instead of hitting one block. With `--iterations` every query gets exactly that many rounds
//! ([`Schedule`], computed task by task in O(queries) memory); with a time budget a
//! [`Sampler`] decides round by round which queries still run (`budget.rs`). Workers take the
//! next task from one shared counter and record into their own recorders. With a rate, task
//! `i` is due at `start + i / rate` and its latency is measured from that intended time, so a
//! server that falls behind shows queueing in the latencies instead of hiding it (no
//! coordinated omission).

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use super::budget::{Outcome, Sampler};
use super::executor::{ExecError, Executor};
use super::recorder::QueryRecorder;
use crate::model::{Sample, StopReason};
use crate::workload::{Generator, Query};

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

/// Which tasks a phase runs: a fixed count of rounds, or rounds until a budget is spent.
pub enum Tasks {
    Fixed(Schedule),
    Budgeted(Sampler),
}

/// What one phase (warm-up or measured) runs.
pub struct PhasePlan<'a> {
    pub queries: &'a [Query],
    pub generators: &'a [Vec<Generator>],
    pub tasks: Tasks,
    /// Offset added to task numbers for parameter streams, so phases draw different values.
    pub stream_offset: u64,
    pub seed: u64,
    /// The run's start: the `now` of relative time windows.
    pub params_now: DateTime<Utc>,
    /// False for the warm-up, whose executions are discarded.
    pub measuring: bool,
    pub rate_qps: Option<f64>,
}

/// What one worker did in a phase.
pub struct WorkerOutcome {
    /// One recorder per query (empty ones in the warm-up).
    pub recorders: Vec<QueryRecorder>,
    /// Why the worker stopped early, when its connection was lost.
    pub lost: Option<String>,
}

/// Where a running phase stands, for progress reports.
#[derive(Debug, Clone, PartialEq)]
pub struct PhaseStatus {
    pub elapsed: Duration,
    /// Executions finished.
    pub executions: u64,
    /// Queries that stopped sampling, when the phase has a budget.
    pub queries_done: Option<usize>,
    pub queries: usize,
    /// The query started last.
    pub running: Option<usize>,
    /// Share of the phase done: of its tasks, or of its budget.
    pub fraction_done: f64,
}

/// A phase being run by its workers.
pub struct Phase<'a> {
    plan: PhasePlan<'a>,
    sampler: Option<Mutex<Sampler>>,
    /// The fixed schedule, or an unbounded one whose task numbers only number parameters.
    schedule: Schedule,
    budget: Option<Duration>,
    next: AtomicU64,
    executions: AtomicU64,
    /// One plus the query started last; 0 before the first.
    running: AtomicUsize,
    stop: AtomicBool,
    started: Instant,
}

impl<'a> Phase<'a> {
    /// A phase whose clock starts now; `budget` is the budget of a budgeted phase.
    pub fn new(mut plan: PhasePlan<'a>, budget: Option<Duration>) -> Self {
        let unbounded = Schedule {
            queries: plan.queries.len(),
            rounds: u64::MAX,
            seed: plan.seed,
        };
        let (schedule, sampler) = match std::mem::replace(&mut plan.tasks, Tasks::Fixed(unbounded))
        {
            Tasks::Fixed(schedule) => (schedule, None),
            Tasks::Budgeted(sampler) => (unbounded, Some(Mutex::new(sampler))),
        };
        Phase {
            plan,
            sampler,
            schedule,
            budget,
            next: AtomicU64::new(0),
            executions: AtomicU64::new(0),
            running: AtomicUsize::new(0),
            stop: AtomicBool::new(false),
            started: Instant::now(),
        }
    }

    /// Tasks started so far (≤ the number of tasks).
    pub fn dispatched(&self) -> u64 {
        self.next.load(Ordering::SeqCst).min(self.schedule.len())
    }

    /// False for the warm-up.
    pub fn measuring(&self) -> bool {
        self.plan.measuring
    }

    /// The budget of a budgeted phase.
    pub fn budget(&self) -> Option<Duration> {
        self.budget
    }

    /// Where the phase stands now.
    pub fn status(&self) -> PhaseStatus {
        let elapsed = self.elapsed();
        let executions = self.executions.load(Ordering::Relaxed);
        let queries_done = self.sampler.as_ref().map(|s| self.locked(s).stopped());
        let fraction_done = match self.budget {
            Some(budget) => elapsed.as_secs_f64() / budget.as_secs_f64().max(1e-9),
            None => executions as f64 / self.schedule.len().max(1) as f64,
        };
        PhaseStatus {
            elapsed,
            executions,
            queries_done,
            queries: self.plan.queries.len(),
            running: self.running.load(Ordering::Relaxed).checked_sub(1),
            fraction_done: fraction_done.min(1.0),
        }
    }

    /// How each query's sampling ended, for a budgeted phase; `stopped_early` marks the
    /// queries still sampling as interrupted.
    pub fn outcomes(&self, stopped_early: bool) -> Option<Vec<Outcome>> {
        let mut sampler = self.locked(self.sampler.as_ref()?);
        if stopped_early {
            sampler.stop_all(StopReason::Interrupted);
        }
        Some(sampler.outcomes())
    }

    /// Mean wall time per execution of each query, for a budgeted phase.
    pub fn costs_us(&self) -> Option<Vec<f64>> {
        Some(self.locked(self.sampler.as_ref()?).costs_us())
    }

    fn locked<'s>(&self, sampler: &'s Mutex<Sampler>) -> std::sync::MutexGuard<'s, Sampler> {
        // A worker that panicked mid-update leaves counts that are still whole numbers.
        sampler
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The next task and its query, or `None` when the phase is over.
    fn take(&self) -> Option<(u64, usize)> {
        match &self.sampler {
            None => {
                let task = self.next.fetch_add(1, Ordering::Relaxed);
                Some((task, self.schedule.query_of(task)?))
            }
            Some(sampler) => {
                let elapsed_us = self.elapsed().as_secs_f64() * 1e6;
                let index = self.locked(sampler).next(elapsed_us)?;
                Some((self.next.fetch_add(1, Ordering::Relaxed), index))
            }
        }
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
        while !self.stop.load(Ordering::Relaxed) && !crate::signal::interrupted() {
            let Some((task, index)) = self.take() else {
                break;
            };
            self.running.store(index + 1, Ordering::Relaxed);
            let begun = Instant::now();
            match self.run_task(executor, task, index, &mut recorders[index]) {
                Err(reason) => {
                    self.stop.store(true, Ordering::SeqCst);
                    lost = Some(reason);
                    break;
                }
                Ok(latency_us) => {
                    if let Some(sampler) = &self.sampler {
                        let cost_us = begun.elapsed().as_secs_f64() * 1e6;
                        self.locked(sampler).record(index, latency_us, cost_us);
                    }
                }
            }
            self.executions.fetch_add(1, Ordering::Relaxed);
        }
        WorkerOutcome { recorders, lost }
    }

    fn run_task(
        &self,
        executor: &mut Executor<'_>,
        task: u64,
        index: usize,
        recorder: &mut QueryRecorder,
    ) -> Result<Option<f64>, String> {
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
            Ok(executed) => {
                if plan.measuring {
                    let at_ms = sent_at.duration_since(self.started).as_secs_f64() * 1e3;
                    let sample = Sample {
                        at_ms,
                        latency_us: executed.latency_us,
                    };
                    recorder.record(sample, executed.rows);
                }
                Ok(Some(executed.latency_us))
            }
            Err(ExecError::Query(error)) => {
                if plan.measuring {
                    recorder.record_error(error);
                }
                Ok(None)
            }
            Err(ExecError::Connection(reason)) => Err(reason),
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
