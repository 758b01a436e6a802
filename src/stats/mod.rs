//! Percentiles, intervals and tests: pure functions, no I/O.
//!
//! - [`summarize`] turns raw latencies into a [`LatencySummary`]: P50/P95/P99 by the
//!   Harrell-Davis estimator ([`harrell_davis`]), each with a 95% distribution-free interval
//!   from order statistics ([`quantile_interval`]); DESIGN §7.
//! - [`bootstrap_quantile_ratio`] and [`benjamini_hochberg`] are the statistics of the CI gate
//!   (DESIGN §9): a bootstrap interval of the P95 ratio between two runs, corrected across
//!   queries.
//! - [`detect_change_points`] finds shifts in a history of runs (binary segmentation with a
//!   permutation test, Benjamini-Hochberg across queries) for `pgperf history`.
//!
//! Everything here takes numbers in and gives numbers out so that it can be tested on simulated
//! data with known answers.

mod bootstrap;
mod changepoint;
mod fdr;
mod harrell_davis;
mod interval;

pub use bootstrap::{QuantileResampler, RatioBootstrap, bootstrap_quantile_ratio};
pub use changepoint::{ChangeOptions, ChangePoint, detect_all as detect_change_points};
pub use fdr::benjamini_hochberg;
pub use harrell_davis::{HdWeights, harrell_davis};
pub use interval::{
    lower_bound_rank, min_samples_for_interval, order_statistic_interval, quantile_interval,
    quantile_lower_bound,
};

use crate::model::{LatencySummary, QuantileEstimate};

/// Confidence level of every interval pgperf reports.
pub const CONFIDENCE: f64 = 0.95;

/// Summarizes latencies in microseconds: count, min, max, mean, sample standard deviation, and
/// Harrell-Davis P50/P95/P99 with 95% distribution-free intervals (`None` bounds when the
/// sample is too small for one, e.g. below 59 samples for P95).
///
/// Non-finite values are not latencies and are ignored. Returns `None` when no finite value
/// remains.
pub fn summarize(samples_us: &[f64]) -> Option<LatencySummary> {
    let mut sorted: Vec<f64> = samples_us
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .collect();
    if sorted.is_empty() {
        return None;
    }
    sorted.sort_by(f64::total_cmp);
    let (mean_us, stddev_us) = mean_and_stddev(&sorted);
    Some(LatencySummary {
        n: sorted.len() as u64,
        min_us: sorted[0],
        max_us: sorted[sorted.len() - 1],
        mean_us,
        stddev_us,
        p50: quantile_estimate(&sorted, 0.50),
        p95: quantile_estimate(&sorted, 0.95),
        p99: quantile_estimate(&sorted, 0.99),
    })
}

/// Harrell-Davis estimate of quantile `q` of an ascending sample with its 95% interval.
pub fn quantile_estimate(sorted: &[f64], q: f64) -> QuantileEstimate {
    let interval = quantile_interval(sorted, q, CONFIDENCE);
    QuantileEstimate {
        value_us: harrell_davis(sorted, q),
        ci_low_us: interval.map(|(low, _)| low),
        ci_high_us: interval.map(|(_, high)| high),
    }
}

/// Mean and sample standard deviation (n − 1 denominator; 0 for a single value), by Welford's
/// update for numerical stability.
fn mean_and_stddev(values: &[f64]) -> (f64, f64) {
    let mut mean = 0.0;
    let mut m2 = 0.0;
    for (i, value) in values.iter().enumerate() {
        let delta = value - mean;
        mean += delta / (i + 1) as f64;
        m2 += delta * (value - mean);
    }
    let stddev = if values.len() > 1 {
        (m2 / (values.len() - 1) as f64).sqrt()
    } else {
        0.0
    };
    (mean, stddev)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_input_has_no_summary() {
        assert_eq!(summarize(&[]), None);
        assert_eq!(summarize(&[f64::NAN]), None);
    }

    #[test]
    fn small_sample_has_estimates_but_no_tail_intervals() {
        let samples: Vec<f64> = (1..=20).map(f64::from).collect();
        let summary = summarize(&samples).expect("non-empty");
        assert_eq!(summary.n, 20);
        assert_eq!((summary.min_us, summary.max_us), (1.0, 20.0));
        assert!((summary.mean_us - 10.5).abs() < 1e-12);
        // Sample standard deviation of 1..=20 is sqrt(35).
        assert!((summary.stddev_us - 35f64.sqrt()).abs() < 1e-12);
        assert!(
            (summary.p50.value_us - 10.5).abs() < 1e-9,
            "symmetric sample"
        );
        assert!(summary.p50.ci_low_us.is_some());
        assert_eq!(summary.p95.ci_low_us, None);
        assert_eq!(summary.p99.ci_high_us, None);
    }

    #[test]
    fn unsorted_input_is_sorted_first() {
        let samples: Vec<f64> = (0..100).map(|i| f64::from((i * 37) % 100)).collect();
        let summary = summarize(&samples).expect("non-empty");
        let (low, high) = (
            summary.p95.ci_low_us.expect("n ≥ 59"),
            summary.p95.ci_high_us.expect("n ≥ 59"),
        );
        assert!(low <= summary.p95.value_us && summary.p95.value_us <= high);
        assert!(summary.p50.value_us < summary.p95.value_us);
        assert!(summary.p95.value_us < summary.p99.value_us);
        assert!(summary.p99.ci_low_us.is_none(), "P99 needs 299 samples");
    }
}
