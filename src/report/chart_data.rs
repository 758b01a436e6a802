//! The numbers behind each chart, computed and downsampled before anything is drawn, so the
//! page stays small (a 50-query report under 3 MB) and the data can be snapshot-tested.
//!
//! Latency histograms use logarithmic bins (latency spans decades); the CDF is sampled at fixed
//! probabilities; drift is an empirical rolling-window P50/P95 over the run's raw samples, in
//! execution order, so warm-up and machine drift show as a slope.

use serde::Serialize;

use crate::model::{QueryResult, Sample};

/// At most this many histogram bins.
pub const MAX_BINS: usize = 30;
/// The CDF is sampled at this many evenly spaced probabilities (plus its ends).
pub const CDF_POINTS: usize = 200;
/// At most this many rolling-window positions on the drift chart.
pub const MAX_DRIFT_POINTS: usize = 120;
/// Smallest rolling window: a P95 of fewer samples means little.
pub const MIN_WINDOW: usize = 40;
/// Fewer raw samples than this (three smallest windows): no drift chart.
pub const MIN_DRIFT_SAMPLES: usize = 3 * MIN_WINDOW;

/// Everything the three charts of one query draw.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct QueryCharts {
    pub histogram: Vec<Bin>,
    /// `[latency_us, cumulative fraction]`, increasing.
    pub cdf: Vec<[f64; 2]>,
    pub drift: Option<Drift>,
    /// Vertical markers: (label, latency_us).
    pub markers: Vec<(String, f64)>,
    pub budget_us: Option<f64>,
}

/// One logarithmic histogram bin, `[low_us, high_us)`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Bin {
    pub low_us: f64,
    pub high_us: f64,
    pub count: u64,
}

/// Rolling-window percentiles over execution order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Drift {
    /// Samples per window.
    pub window: usize,
    pub points: Vec<DriftPoint>,
}

/// Percentiles of the window ending at `at_s` seconds into the run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DriftPoint {
    pub at_s: f64,
    pub p50_us: f64,
    pub p95_us: f64,
}

/// Chart data of one query; empty when nothing was measured.
pub fn query_charts(query: &QueryResult) -> QueryCharts {
    let distribution = distribution(query);
    let mut markers = Vec::new();
    if let Some(latency) = &query.latency {
        markers.push(("P50".to_string(), latency.p50.value_us));
        markers.push(("P95".to_string(), latency.p95.value_us));
        markers.push(("P99".to_string(), latency.p99.value_us));
    }
    QueryCharts {
        histogram: log_bins(&distribution),
        cdf: cdf_points(&distribution),
        drift: drift(&query.raw_samples),
        markers,
        budget_us: query.budget_p95_us,
    }
}

/// The latency distribution as sorted `(value_us, count)`: the full HdrHistogram when present,
/// otherwise the raw samples.
pub fn distribution(query: &QueryResult) -> Vec<(f64, u64)> {
    if query.histogram.is_empty() {
        let latencies: Vec<f64> = query.raw_samples.iter().map(|s| s.latency_us).collect();
        return sample_distribution(&latencies);
    }
    sorted_distribution(
        query
            .histogram
            .iter()
            .map(|&(value, count)| (value as f64, count))
            .collect(),
    )
}

/// Raw latencies as a sorted `(value_us, 1)` distribution.
pub fn sample_distribution(latencies_us: &[f64]) -> Vec<(f64, u64)> {
    sorted_distribution(latencies_us.iter().map(|&us| (us, 1)).collect())
}

fn sorted_distribution(mut pairs: Vec<(f64, u64)>) -> Vec<(f64, u64)> {
    pairs.retain(|&(value, count)| value.is_finite() && count > 0);
    pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
    pairs
}

/// Logarithmic bins from the smallest to the largest value (floored at 1 µs).
pub fn log_bins(distribution: &[(f64, u64)]) -> Vec<Bin> {
    let (Some(first), Some(last)) = (distribution.first(), distribution.last()) else {
        return Vec::new();
    };
    let total: u64 = distribution.iter().map(|&(_, count)| count).sum();
    let bins = ((total as f64).sqrt() as usize).clamp(8, MAX_BINS);
    let low = first.0.max(1.0) / 1.05;
    let high = (last.0.max(1.0) * 1.05).max(low * 2.0);
    let step = (high / low).ln() / bins as f64;
    let mut out: Vec<Bin> = (0..bins)
        .map(|i| Bin {
            low_us: low * (step * i as f64).exp(),
            high_us: low * (step * (i + 1) as f64).exp(),
            count: 0,
        })
        .collect();
    for &(value, count) in distribution {
        let index = ((value.max(1.0) / low).ln() / step).floor() as usize;
        out[index.min(bins - 1)].count += count;
    }
    out
}

/// The CDF sampled at [`CDF_POINTS`] probabilities, nearest rank.
pub fn cdf_points(distribution: &[(f64, u64)]) -> Vec<[f64; 2]> {
    let total: u64 = distribution.iter().map(|&(_, count)| count).sum();
    if total == 0 {
        return Vec::new();
    }
    let mut points: Vec<[f64; 2]> = Vec::with_capacity(CDF_POINTS + 1);
    let mut cumulative = 0u64;
    let mut pairs = distribution.iter();
    for step in 0..=CDF_POINTS {
        let rank = ((step as f64 / CDF_POINTS as f64) * total as f64)
            .ceil()
            .max(1.0) as u64;
        let mut value = points.last().map_or(distribution[0].0, |point| point[0]);
        while cumulative < rank {
            let Some(&(next, count)) = pairs.next() else {
                break;
            };
            cumulative += count;
            value = next;
        }
        let fraction = cumulative as f64 / total as f64;
        if points.last() != Some(&[value, fraction]) {
            points.push([value, fraction]);
        }
    }
    points
}

/// Rolling-window P50/P95 over the raw samples in execution order.
pub fn drift(samples: &[Sample]) -> Option<Drift> {
    if samples.len() < MIN_DRIFT_SAMPLES {
        return None;
    }
    let mut ordered = samples.to_vec();
    ordered.sort_by(|a, b| a.at_ms.total_cmp(&b.at_ms));
    let window = (ordered.len() / 25).max(MIN_WINDOW);
    let stride = ((ordered.len() - window) / MAX_DRIFT_POINTS).max(1);
    let points = (window..=ordered.len())
        .step_by(stride)
        .map(|end| {
            let mut latencies: Vec<f64> = ordered[end - window..end]
                .iter()
                .map(|s| s.latency_us)
                .collect();
            latencies.sort_by(f64::total_cmp);
            DriftPoint {
                at_s: ordered[end - 1].at_ms / 1000.0,
                p50_us: nearest_rank(&latencies, 0.50),
                p95_us: nearest_rank(&latencies, 0.95),
            }
        })
        .collect();
    Some(Drift { window, points })
}

/// Nearest-rank quantile of sorted values (non-empty).
fn nearest_rank(sorted: &[f64], quantile: f64) -> f64 {
    let rank = (quantile * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_bins_hold_every_sample_and_grow_geometrically() {
        let distribution: Vec<(f64, u64)> = (1..=1000).map(|v| (v as f64 * 10.0, 1)).collect();
        let bins = log_bins(&distribution);
        assert_eq!(bins.len(), MAX_BINS);
        assert_eq!(bins.iter().map(|bin| bin.count).sum::<u64>(), 1000);
        let ratio_first = bins[0].high_us / bins[0].low_us;
        let ratio_last = bins[MAX_BINS - 1].high_us / bins[MAX_BINS - 1].low_us;
        assert!((ratio_first - ratio_last).abs() < 1e-9);
    }

    #[test]
    fn a_single_value_still_gets_a_histogram() {
        let bins = log_bins(&[(500.0, 7)]);
        assert_eq!(bins.iter().map(|bin| bin.count).sum::<u64>(), 7);
    }

    #[test]
    fn cdf_is_increasing_and_ends_at_one() {
        let distribution = vec![(100.0, 50), (200.0, 45), (5000.0, 5)];
        let cdf = cdf_points(&distribution);
        assert_eq!(cdf.first(), Some(&[100.0, 0.5]));
        assert_eq!(cdf.last(), Some(&[5000.0, 1.0]));
        assert!(
            cdf.windows(2)
                .all(|pair| pair[0][0] <= pair[1][0] && pair[0][1] <= pair[1][1])
        );
        assert_eq!(cdf.len(), 3);
    }

    #[test]
    fn drift_shows_a_slow_start() {
        let samples: Vec<Sample> = (0..1000)
            .map(|i| Sample {
                at_ms: i as f64,
                latency_us: if i < 100 { 5000.0 } else { 500.0 },
            })
            .collect();
        let drift = drift(&samples).expect("1000 samples are enough");
        assert_eq!(drift.window, 40);
        assert!(drift.points.len() <= MAX_DRIFT_POINTS + 1);
        assert_eq!(drift.points[0].p95_us, 5000.0);
        assert_eq!(drift.points.last().map(|p| p.p95_us), Some(500.0));
    }

    #[test]
    fn too_few_samples_give_no_drift_chart() {
        assert!(
            drift(
                &[Sample {
                    at_ms: 0.0,
                    latency_us: 1.0
                }; 10]
            )
            .is_none()
        );
    }
}
