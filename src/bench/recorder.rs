//! Per-query accumulation of measurements: an HdrHistogram of every latency (3 significant
//! digits), a uniform reservoir of raw samples (Vitter's algorithm R) so memory stays flat
//! however many iterations run, and counts of rows and errors.

use hdrhistogram::Histogram;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::model::{QueryError, Sample};

/// Raw samples kept per query.
pub const RESERVOIR_SIZE: usize = 10_000;

/// What was measured for one query so far.
#[derive(Debug)]
pub struct QueryRecorder {
    histogram: Histogram<u64>,
    /// `(sequence number, sample)`: sorted by sequence at the end to restore execution order.
    reservoir: Vec<(u64, Sample)>,
    seen: u64,
    rng: ChaCha8Rng,
    pub rows: u64,
    pub errors: u64,
    pub first_error: Option<QueryError>,
}

impl QueryRecorder {
    /// An empty recorder whose reservoir choices derive from `seed`.
    pub fn new(seed: u64) -> QueryRecorder {
        QueryRecorder {
            histogram: Histogram::new(3).expect("3 significant digits is a valid precision"),
            reservoir: Vec::new(),
            seen: 0,
            rng: ChaCha8Rng::seed_from_u64(seed),
            rows: 0,
            errors: 0,
            first_error: None,
        }
    }

    /// Records one successful execution.
    pub fn record(&mut self, sample: Sample, rows: u64) {
        let value_us = sample.latency_us.round().max(1.0) as u64;
        self.histogram
            .record(value_us)
            .expect("an auto-resizing histogram accepts any value");
        self.rows += rows;
        let sequence = self.seen;
        self.seen += 1;
        if self.reservoir.len() < RESERVOIR_SIZE {
            self.reservoir.push((sequence, sample));
        } else {
            let slot = self.rng.gen_range(0..self.seen);
            if let Ok(slot) = usize::try_from(slot)
                && slot < RESERVOIR_SIZE
            {
                self.reservoir[slot] = (sequence, sample);
            }
        }
    }

    /// Records one failed execution; the first error is kept.
    pub fn record_error(&mut self, error: QueryError) {
        self.errors += 1;
        self.first_error.get_or_insert(error);
    }

    /// Successful executions recorded.
    pub fn successes(&self) -> u64 {
        self.seen
    }

    /// The kept samples, in execution order.
    pub fn samples(&self) -> Vec<Sample> {
        let mut kept = self.reservoir.clone();
        kept.sort_by_key(|(sequence, _)| *sequence);
        kept.into_iter().map(|(_, sample)| sample).collect()
    }

    /// `(value_us, count)` for every recorded histogram bucket.
    pub fn histogram(&self) -> Vec<(u64, u64)> {
        self.histogram
            .iter_recorded()
            .map(|bucket| (bucket.value_iterated_to(), bucket.count_at_value()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(i: u64) -> Sample {
        Sample {
            at_ms: i as f64,
            latency_us: (i % 100) as f64 + 10.0,
        }
    }

    #[test]
    fn reservoir_stays_bounded_uniform_and_ordered() {
        let mut recorder = QueryRecorder::new(1);
        let total = 5 * RESERVOIR_SIZE as u64;
        for i in 0..total {
            recorder.record(sample(i), 1);
        }
        let kept = recorder.samples();
        assert_eq!(kept.len(), RESERVOIR_SIZE);
        assert!(kept.windows(2).all(|w| w[0].at_ms < w[1].at_ms));
        let late = kept
            .iter()
            .filter(|s| s.at_ms >= (total / 2) as f64)
            .count();
        assert!(
            (4_000..6_000).contains(&late),
            "about half from the second half: {late}"
        );
        assert_eq!(recorder.successes(), total);
        assert_eq!(recorder.rows, total);
        let counted: u64 = recorder.histogram().iter().map(|(_, count)| count).sum();
        assert_eq!(counted, total);
    }

    #[test]
    fn first_error_is_kept() {
        let mut recorder = QueryRecorder::new(1);
        for message in ["a", "b"] {
            recorder.record_error(QueryError {
                sqlstate: None,
                message: message.into(),
            });
        }
        assert_eq!(recorder.errors, 2);
        assert_eq!(recorder.first_error.expect("kept").message, "a");
    }
}
