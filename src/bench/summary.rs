//! TEMPORARY stand-in for `crate::stats::summarize` (being written on the `stats` branch, same
//! signature). Delete this file and call `crate::stats::summarize` once it lands on main.
//! Quantiles here are plain order statistics, intervals the distribution-free binomial ones.

use crate::model::{LatencySummary, QuantileEstimate};

/// Summary of latencies in microseconds; `None` for no samples.
pub fn summarize(samples_us: &[f64]) -> Option<LatencySummary> {
    if samples_us.is_empty() {
        return None;
    }
    let mut sorted = samples_us.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len() as f64;
    let mean_us = sorted.iter().sum::<f64>() / n;
    let variance = sorted.iter().map(|v| (v - mean_us).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    Some(LatencySummary {
        n: sorted.len() as u64,
        min_us: sorted[0],
        max_us: sorted[sorted.len() - 1],
        mean_us,
        stddev_us: variance.sqrt(),
        p50: estimate(&sorted, 0.50),
        p95: estimate(&sorted, 0.95),
        p99: estimate(&sorted, 0.99),
    })
}

fn estimate(sorted: &[f64], q: f64) -> QuantileEstimate {
    let n = sorted.len() as f64;
    let at = |rank: f64| sorted[(rank.clamp(1.0, n) as usize) - 1];
    let spread = 1.96 * (n * q * (1.0 - q)).sqrt();
    let (low, high) = ((n * q - spread).floor(), (n * q + spread).ceil() + 1.0);
    let covered = low >= 1.0 && high <= n;
    QuantileEstimate {
        value_us: at((n * q).ceil()),
        ci_low_us: covered.then(|| at(low)),
        ci_high_us: covered.then(|| at(high)),
    }
}
