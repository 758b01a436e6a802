//! The timing verdict: is a query's P95 really slower (or faster) than the baseline's?
//!
//! Per query, the Harrell-Davis P95 of each side's raw samples and a percentile-bootstrap
//! interval of their ratio ([`crate::stats::bootstrap_quantile_ratio`]). A query is slower only
//! when all of these hold:
//! 1. both sides have at least 59 samples (fewer: no distribution-free P95 interval exists, the
//!    verdict is "too few samples", never a silent pass);
//! 2. the whole 95% interval of the ratio lies above `1 + threshold`;
//! 3. the P95 grew by more than the absolute floor (small queries are noisy in relative terms);
//! 4. its p-value survives Benjamini-Hochberg correction across all queries compared.
//!
//! Faster is the mirror image, with the interval below `1 / (1 + threshold)`.
//!
//! When the whole workload drifted ([`super::drift`]) by a factor `shift`, the same rule is
//! applied relative to it: the interval must lie above `(1 + threshold) · shift` (below
//! `shift / (1 + threshold)`), and the floor applies to `current P95 / shift − baseline P95`.
//! This is done by bootstrapping the baseline against the current samples divided by `shift`;
//! the reported ratio and interval stay in raw terms. Because a machine change does not hit every
//! query alike, the query must also stand out of the workload: `|ln(ratio / shift)|` above
//! [`super::drift::OUTLIER_Z`] robust standard deviations of the workload's log ratios. Without
//! drift ([`Correction::NONE`]) nothing changes.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use sha2::{Digest, Sha256};

use super::drift::Correction;
use crate::model::check::{CheckOptions, TimingComparison, TimingOutcome};
use crate::stats::{
    CONFIDENCE, RatioBootstrap, benjamini_hochberg, bootstrap_quantile_ratio, harrell_davis,
    min_samples_for_interval,
};

/// The quantile the gate compares.
const GATE_QUANTILE: f64 = 0.95;

/// Estimates of one query before the correction across queries.
#[derive(Debug, Clone, PartialEq)]
pub struct TimingEstimate {
    baseline_n: usize,
    current_n: usize,
    baseline_p95_us: f64,
    current_p95_us: f64,
    /// What the bootstrap and the verdict are relative to ([`Correction::NONE`] without drift).
    correction: Correction,
    /// Of `current / shift` over baseline; `None` when a side has too few samples for a P95
    /// interval.
    bootstrap: Option<RatioBootstrap>,
}

/// Whether both sides have enough samples for a P95 interval, hence a bootstrap.
pub fn can_bootstrap(baseline_n: usize, current_n: usize) -> bool {
    let needed = min_samples_for_interval(GATE_QUANTILE, CONFIDENCE);
    baseline_n >= needed && current_n >= needed
}

/// Bootstrap replicates per query when `tests` queries are compared: at least the options'
/// count, and at least `4·tests/fdr`. A bootstrap p-value is never below `2/(B+1)`, so with
/// fewer replicates a lone regression among many queries could never survive
/// Benjamini-Hochberg (its adjusted value is at least `2·tests/(B+1)`); this keeps that floor
/// at half the FDR.
pub fn resamples_for(tests: usize, options: &CheckOptions) -> usize {
    let needed = (4.0 * tests as f64 / options.fdr).ceil() as usize;
    (options.resamples as usize).max(needed).max(1)
}

/// Harrell-Davis P95 of the finite samples; `None` when there is none.
pub fn p95_us(values_us: &[f64]) -> Option<f64> {
    let sorted = sorted_finite(values_us);
    (!sorted.is_empty()).then(|| harrell_davis(&sorted, GATE_QUANTILE))
}

/// Estimates P95 of both sides and bootstraps their ratio, relative to the workload-wide
/// `correction`, with `resamples` replicates; `None` when a side has no sample. The
/// bootstrap is seeded from the options' seed and the query name, so a verdict does not depend
/// on the order of the queries.
pub fn estimate(
    name: &str,
    (baseline_us, current_us): (&[f64], &[f64]),
    correction: Correction,
    options: &CheckOptions,
    resamples: usize,
) -> Option<TimingEstimate> {
    let baseline = sorted_finite(baseline_us);
    let current = sorted_finite(current_us);
    if baseline.is_empty() || current.is_empty() {
        return None;
    }
    let bootstrap = can_bootstrap(baseline.len(), current.len()).then(|| {
        let relative: Vec<f64> = current.iter().map(|v| v / correction.shift).collect();
        let mut rng = ChaCha8Rng::seed_from_u64(query_seed(options.rng_seed, name));
        bootstrap_quantile_ratio(
            &baseline,
            &relative,
            GATE_QUANTILE,
            resamples,
            CONFIDENCE,
            options.threshold,
            &mut rng,
        )
    });
    Some(TimingEstimate {
        baseline_n: baseline.len(),
        current_n: current.len(),
        baseline_p95_us: harrell_davis(&baseline, GATE_QUANTILE),
        current_p95_us: harrell_davis(&current, GATE_QUANTILE),
        correction,
        bootstrap,
    })
}

/// Applies Benjamini-Hochberg across every query with a bootstrap and decides each outcome.
pub fn decide(
    estimates: &[Option<TimingEstimate>],
    options: &CheckOptions,
) -> Vec<Option<TimingComparison>> {
    let p_values: Vec<f64> = estimates
        .iter()
        .flatten()
        .filter_map(|e| e.bootstrap.map(|b| b.p_value()))
        .collect();
    let mut q_values = benjamini_hochberg(&p_values).into_iter();
    estimates
        .iter()
        .map(|estimate| {
            estimate.as_ref().map(|e| {
                let q_value = e.bootstrap.and_then(|_| q_values.next());
                comparison(e, q_value, options)
            })
        })
        .collect()
}

fn comparison(
    estimate: &TimingEstimate,
    q_value: Option<f64>,
    options: &CheckOptions,
) -> TimingComparison {
    let bootstrap = estimate.bootstrap;
    TimingComparison {
        baseline_n: estimate.baseline_n as u64,
        current_n: estimate.current_n as u64,
        baseline_p95_us: estimate.baseline_p95_us,
        current_p95_us: estimate.current_p95_us,
        ratio: estimate.current_p95_us / estimate.baseline_p95_us,
        ratio_ci_low: bootstrap.map(|b| b.ci_low * estimate.correction.shift),
        ratio_ci_high: bootstrap.map(|b| b.ci_high * estimate.correction.shift),
        p_value: bootstrap.map(|b| b.p_value()),
        q_value,
        outcome: match (bootstrap, q_value) {
            (Some(b), Some(q)) => outcome(estimate, &b, q, options),
            _ => TimingOutcome::TooFewSamples,
        },
    }
}

fn outcome(
    estimate: &TimingEstimate,
    bootstrap: &RatioBootstrap,
    q_value: f64,
    options: &CheckOptions,
) -> TimingOutcome {
    let relative_p95_us = estimate.current_p95_us / estimate.correction.shift;
    let difference_us = relative_p95_us - estimate.baseline_p95_us;
    let stands_out = (relative_p95_us / estimate.baseline_p95_us).ln().abs()
        > estimate.correction.min_log_change;
    let significant = q_value <= options.fdr && stands_out;
    let upper = 1.0 + options.threshold;
    if significant && bootstrap.ci_low > upper && difference_us > options.floor_us {
        TimingOutcome::Slower
    } else if significant && bootstrap.ci_high < 1.0 / upper && -difference_us > options.floor_us {
        TimingOutcome::Faster
    } else {
        TimingOutcome::Unchanged
    }
}

fn sorted_finite(values_us: &[f64]) -> Vec<f64> {
    let mut sorted: Vec<f64> = values_us
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .collect();
    sorted.sort_by(f64::total_cmp);
    sorted
}

/// A per-query seed: the options' seed mixed with a hash of the query name.
fn query_seed(seed: u64, name: &str) -> u64 {
    let digest = Sha256::digest(name.as_bytes());
    let bytes: [u8; 8] = digest[..8].try_into().expect("SHA-256 has 32 bytes");
    seed ^ u64::from_le_bytes(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;
    use rand_distr::{Distribution, LogNormal};

    /// Lognormal-ish latencies: median 5 ms, P95 ≈ 11.4 ms, like a dashboard aggregate.
    fn latencies(n: usize, scale: f64, rng: &mut ChaCha8Rng) -> Vec<f64> {
        let lognormal = LogNormal::new(5_000f64.ln(), 0.5).expect("valid parameters");
        (0..n).map(|_| scale * lognormal.sample(rng)).collect()
    }

    /// The estimate with the options' replicate count, as for a single query.
    fn simulate(
        name: &str,
        baseline: &[f64],
        current: &[f64],
        options: &CheckOptions,
    ) -> Option<TimingEstimate> {
        estimate(
            name,
            (baseline, current),
            Correction::NONE,
            options,
            options.resamples as usize,
        )
    }

    /// Options for simulations: fewer bootstrap resamples than production (tests run unoptimised).
    fn simulation_options() -> CheckOptions {
        CheckOptions {
            resamples: 400,
            ..CheckOptions::default()
        }
    }

    /// Runs `pairs` simulated comparisons with sample sizes 200-1000 and the current side's
    /// latencies multiplied by `scale`; returns the share whose outcome is `wanted`.
    fn rate_of(wanted: TimingOutcome, scale: f64, pairs: u32, options: &CheckOptions) -> f64 {
        rate_in(200..=1000, wanted, scale, pairs, options)
    }

    fn rate_in(
        sizes: std::ops::RangeInclusive<usize>,
        wanted: TimingOutcome,
        scale: f64,
        pairs: u32,
        options: &CheckOptions,
    ) -> f64 {
        let mut rng = ChaCha8Rng::seed_from_u64(2024);
        let mut hits = 0;
        for pair in 0..pairs {
            let n_baseline = rng.gen_range(sizes.clone());
            let n_current = rng.gen_range(sizes.clone());
            let baseline = latencies(n_baseline, 1.0, &mut rng);
            let current = latencies(n_current, scale, &mut rng);
            let estimate = simulate(&format!("q{pair}"), &baseline, &current, options);
            let decided = decide(&[estimate], options);
            let outcome = decided[0]
                .as_ref()
                .expect("both sides have samples")
                .outcome;
            hits += u32::from(outcome == wanted);
        }
        f64::from(hits) / f64::from(pairs)
    }

    #[test]
    fn false_positive_rate_on_identical_distributions_is_at_most_5_percent() {
        let rate = rate_of(TimingOutcome::Slower, 1.0, 1000, &simulation_options());
        eprintln!("false positive rate (defaults, 1000 pairs): {rate}");
        assert!(rate <= 0.05, "false positive rate {rate}");
    }

    #[test]
    fn without_threshold_or_floor_the_interval_is_still_calibrated() {
        // τ = 0 and no floor: only the bootstrap interval protects against false alarms, so the
        // one-sided rate should be near 2.5%; 5% bounds it with simulation noise.
        let options = CheckOptions {
            threshold: 0.0,
            floor_us: 0.0,
            ..simulation_options()
        };
        let rate = rate_of(TimingOutcome::Slower, 1.0, 1000, &options);
        eprintln!("false positive rate (τ = 0, no floor, 1000 pairs): {rate}");
        assert!(rate <= 0.05, "false positive rate {rate}");
    }

    #[test]
    fn samples_near_the_59_minimum_stay_calibrated() {
        let options = CheckOptions {
            threshold: 0.0,
            floor_us: 0.0,
            ..simulation_options()
        };
        let rate = rate_in(59..=80, TimingOutcome::Slower, 1.0, 1000, &options);
        eprintln!("false positive rate (τ = 0, no floor, n 59-80, 1000 pairs): {rate}");
        assert!(rate <= 0.05, "false positive rate {rate}");
    }

    #[test]
    fn power_on_a_30_percent_p95_shift() {
        let power = rate_of(TimingOutcome::Slower, 1.3, 500, &simulation_options());
        eprintln!("power on a 30% shift (500 pairs): {power}");
        assert!(power >= 0.5, "power {power}");
    }

    #[test]
    fn a_30_percent_improvement_is_detected_symmetrically() {
        let rate = rate_of(TimingOutcome::Faster, 1.0 / 1.3, 200, &simulation_options());
        assert!(rate >= 0.5, "rate {rate}");
        let wrong = rate_of(TimingOutcome::Slower, 1.0 / 1.3, 200, &simulation_options());
        assert_eq!(wrong, 0.0);
    }

    #[test]
    fn fewer_than_59_samples_is_never_a_pass() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let options = simulation_options();
        let estimate = simulate(
            "q",
            &latencies(58, 1.0, &mut rng),
            &latencies(500, 3.0, &mut rng),
            &options,
        );
        let decided = decide(&[estimate], &options);
        let comparison = decided[0].as_ref().expect("both sides have samples");
        assert_eq!(comparison.outcome, TimingOutcome::TooFewSamples);
        assert_eq!((comparison.baseline_n, comparison.current_n), (58, 500));
        assert_eq!(comparison.ratio_ci_low, None);
        assert_eq!(comparison.q_value, None);
    }

    #[test]
    fn a_shift_below_the_floor_is_not_a_regression() {
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let options = simulation_options();
        // Sub-millisecond query doubled: a clear relative change, but under the 1 ms floor.
        let baseline: Vec<f64> = latencies(1000, 0.02, &mut rng);
        let current: Vec<f64> = latencies(1000, 0.04, &mut rng);
        let decided = decide(&[simulate("tiny", &baseline, &current, &options)], &options);
        let comparison = decided[0].as_ref().expect("both sides have samples");
        assert!(comparison.ratio_ci_low.expect("enough samples") > 1.5);
        assert_eq!(comparison.outcome, TimingOutcome::Unchanged);
    }

    #[test]
    fn benjamini_hochberg_spans_queries() {
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        let options = simulation_options();
        let slow = simulate(
            "slow",
            &latencies(800, 1.0, &mut rng),
            &latencies(800, 2.0, &mut rng),
            &options,
        );
        let same = simulate(
            "same",
            &latencies(800, 1.0, &mut rng),
            &latencies(800, 1.0, &mut rng),
            &options,
        );
        let decided = decide(&[slow, None, same], &options);
        assert!(decided[1].is_none());
        let slow = decided[0].as_ref().expect("estimated");
        let same = decided[2].as_ref().expect("estimated");
        let (p_slow, q_slow) = (
            slow.p_value.expect("bootstrap"),
            slow.q_value.expect("bootstrap"),
        );
        assert!((q_slow - (p_slow * 2.0).min(same.p_value.expect("bootstrap"))).abs() < 1e-12);
        assert_eq!(slow.outcome, TimingOutcome::Slower);
    }

    #[test]
    fn replicates_grow_with_the_number_of_queries() {
        let options = CheckOptions::default();
        assert_eq!(resamples_for(1, &options), 2_000);
        assert_eq!(resamples_for(100, &options), 8_000);
    }

    #[test]
    fn verdicts_are_reproducible() {
        let mut rng = ChaCha8Rng::seed_from_u64(8);
        let options = simulation_options();
        let baseline = latencies(300, 1.0, &mut rng);
        let current = latencies(300, 1.2, &mut rng);
        let first = simulate("q", &baseline, &current, &options);
        let second = simulate("q", &baseline, &current, &options);
        assert_eq!(first, second);
    }
}
