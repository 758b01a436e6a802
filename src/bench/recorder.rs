//! Per-query accumulation of measurements: an HdrHistogram of every latency (3 significant
//! digits), a uniform reservoir of raw samples (Vitter's algorithm R) so memory stays flat
//! however many iterations run, and counts of rows and errors. Each worker fills its own
//! recorders (no lock, no shared cache line on the hot path); [`QueryRecorder::merge`] combines
//! them into one uniform reservoir at the end.

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
    /// A uniform sample of the successful executions; sorted by time on the way out.
    reservoir: Vec<Sample>,
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
        self.seen += 1;
        if self.reservoir.len() < RESERVOIR_SIZE {
            self.reservoir.push(sample);
        } else {
            let slot = self.rng.gen_range(0..self.seen);
            if let Ok(slot) = usize::try_from(slot)
                && slot < RESERVOIR_SIZE
            {
                self.reservoir[slot] = sample;
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

    /// The kept samples, in execution order (by send time).
    pub fn samples(&self) -> Vec<Sample> {
        let mut kept = self.reservoir.clone();
        kept.sort_by(|a, b| a.at_ms.total_cmp(&b.at_ms));
        kept
    }

    /// One recorder holding what all of `parts` recorded. The merged reservoir is again a
    /// uniform sample of all executions: how many samples come from each part follows the
    /// multivariate hypergeometric law (draw a part with probability proportional to the
    /// executions it has left), and each part gives that many of its own uniform samples.
    pub fn merge(parts: Vec<QueryRecorder>, seed: u64) -> QueryRecorder {
        let mut merged = QueryRecorder::new(seed);
        let mut remaining: Vec<u64> = parts.iter().map(|part| part.seen).collect();
        let mut pools: Vec<Vec<Sample>> = Vec::with_capacity(parts.len());
        for part in parts {
            merged
                .histogram
                .add(&part.histogram)
                .expect("auto-resizing histograms add");
            merged.seen += part.seen;
            merged.rows += part.rows;
            merged.errors += part.errors;
            if merged.first_error.is_none() {
                merged.first_error = part.first_error;
            }
            pools.push(part.reservoir);
        }
        let keep = usize::try_from(merged.seen)
            .unwrap_or(usize::MAX)
            .min(RESERVOIR_SIZE);
        while merged.reservoir.len() < keep {
            let total: u64 = remaining.iter().sum();
            let mut pick = merged.rng.gen_range(0..total);
            let part = remaining.iter().position(|left| {
                let here = pick < *left;
                pick = pick.saturating_sub(*left);
                here
            });
            let part = part.expect("pick is below the total");
            remaining[part] -= 1;
            let pool = &mut pools[part];
            let index = merged.rng.gen_range(0..pool.len());
            merged.reservoir.push(pool.swap_remove(index));
        }
        merged
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
    fn merged_reservoirs_stay_uniform() {
        let mut small = QueryRecorder::new(1);
        let mut large = QueryRecorder::new(2);
        for i in 0..2_000 {
            small.record(sample(i), 1);
        }
        for i in 2_000..50_000 {
            large.record(sample(i), 1);
        }
        let merged = QueryRecorder::merge(vec![small, large], 3);
        assert_eq!(merged.successes(), 50_000);
        assert_eq!(merged.rows, 50_000);
        let kept = merged.samples();
        assert_eq!(kept.len(), RESERVOIR_SIZE);
        let from_small = kept.iter().filter(|s| s.at_ms < 2_000.0).count();
        assert!(
            (250..550).contains(&from_small),
            "about 4% from the small part: {from_small}"
        );
        let counted: u64 = merged.histogram().iter().map(|(_, count)| count).sum();
        assert_eq!(counted, 50_000);
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
