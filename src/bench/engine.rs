//! The schedule and the worker loop. Every query gets exactly `iterations` measured executions
//! (so every P95 has an interval), shuffled together with a seeded RNG so that machine drift
//! spreads over all queries instead of hitting one block. Workers take the next task from one
//! shared counter. With a rate, task `i` is due at `start + i / rate` and its latency is
//! measured from that intended time, so a server that falls behind shows queueing in the
//! latencies instead of hiding it (no coordinated omission).

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
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

/// `count` executions of each of `queries` query indices, shuffled by `seed`.
pub fn schedule(queries: usize, count: u64, seed: u64) -> Vec<u32> {
    let count = usize::try_from(count).unwrap_or(usize::MAX);
    let mut tasks: Vec<u32> = (0..queries)
        .flat_map(|index| std::iter::repeat_n(index as u32, count))
        .collect();
    tasks.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    tasks
}

/// The parameters of task `task` of query `query`: deterministic for a seed, whichever worker
/// runs it.
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
    pub tasks: Vec<u32>,
    /// Offset added to task numbers for parameter streams, so phases draw different values.
    pub stream_offset: u64,
    pub seed: u64,
    /// The run's start: the `now` of relative time windows.
    pub run_start: DateTime<Utc>,
    /// `Some` in the measured phase; warm-up records nothing.
    pub recorders: Option<&'a [Mutex<QueryRecorder>]>,
    pub rate_qps: Option<f64>,
    pub progress: &'a ProgressBar,
}

/// A phase being run by its workers.
pub struct Phase<'a> {
    plan: PhasePlan<'a>,
    next: AtomicUsize,
    stop: AtomicBool,
    started: Instant,
}

impl<'a> Phase<'a> {
    /// A phase whose clock starts now.
    pub fn new(plan: PhasePlan<'a>) -> Self {
        Phase {
            plan,
            next: AtomicUsize::new(0),
            stop: AtomicBool::new(false),
            started: Instant::now(),
        }
    }

    /// Tasks started so far (≤ the number of tasks).
    pub fn dispatched(&self) -> usize {
        self.next.load(Ordering::SeqCst).min(self.plan.tasks.len())
    }

    /// Wall time since the phase started.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// Runs tasks on `executor` until none are left, Ctrl-C, or another worker lost its
    /// connection. Returns the reason when this worker lost its own.
    pub fn work(&self, executor: &mut Executor<'_>) -> Result<(), String> {
        loop {
            if self.stop.load(Ordering::Relaxed) || crate::signal::interrupted() {
                return Ok(());
            }
            let task = self.next.fetch_add(1, Ordering::Relaxed);
            let Some(&index) = self.plan.tasks.get(task) else {
                return Ok(());
            };
            if let Err(reason) = self.run_task(executor, task, index as usize) {
                self.stop.store(true, Ordering::SeqCst);
                return Err(reason);
            }
            self.plan.progress.inc(1);
        }
    }

    fn run_task(
        &self,
        executor: &mut Executor<'_>,
        task: usize,
        index: usize,
    ) -> Result<(), String> {
        let plan = &self.plan;
        let stream = plan.stream_offset + task as u64;
        let params = draw_params(&plan.generators[index], plan.seed, stream, plan.run_start);
        let intended = plan.rate_qps.map(|rate| {
            let due = self.started + Duration::from_secs_f64(task as f64 / rate);
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
            due
        });
        let sent_at = intended.unwrap_or_else(Instant::now);
        let outcome = executor.execute(index, &plan.queries[index], &params, intended);
        let Some(recorders) = plan.recorders else {
            return match outcome {
                Err(ExecError::Connection(reason)) => Err(reason),
                _ => Ok(()),
            };
        };
        let mut recorder = recorders[index]
            .lock()
            .expect("a worker panicked while recording");
        match outcome {
            Ok(executed) => {
                let at_ms = sent_at.duration_since(self.started).as_secs_f64() * 1e3;
                recorder.record(
                    Sample {
                        at_ms,
                        latency_us: executed.latency_us,
                    },
                    executed.rows,
                );
                Ok(())
            }
            Err(ExecError::Query(error)) => {
                recorder.record_error(error);
                Ok(())
            }
            Err(ExecError::Connection(reason)) => Err(reason),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_query_gets_its_count_shuffled_deterministically() {
        let tasks = schedule(3, 100, 9);
        assert_eq!(tasks.len(), 300);
        for query in 0..3 {
            assert_eq!(tasks.iter().filter(|t| **t == query).count(), 100);
        }
        assert_eq!(tasks, schedule(3, 100, 9));
        assert_ne!(tasks, schedule(3, 100, 10));
        assert!(
            tasks[..100].iter().any(|t| *t != tasks[0]),
            "interleaved, not blocks"
        );
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
