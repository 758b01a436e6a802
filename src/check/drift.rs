//! Machine drift: did the whole workload change speed between the runs?
//!
//! A code or schema regression moves a few queries; a machine that got slower or faster (a
//! shared runner, a noisy neighbour, a thermal limit) moves all of them. The workload-wide shift
//! is the median across queries of the per-query P95 ratio (current / baseline), over queries
//! with enough samples for a P95 interval. When it lies beyond the threshold, the report carries
//! a [`MachineDrift`] warning and, unless `--no-drift-correction`, each query's timing is judged
//! relative to the shift ([`super::timing`]): it regresses only if it got slower than the rest
//! of the workload did. A median needs several queries to mean "the workload": below
//! [`MIN_QUERIES`] nothing is detected.

use crate::model::check::{CheckOptions, MachineDrift};

/// Fewest judged queries whose median can tell a machine change from a few regressions.
pub const MIN_QUERIES: usize = 5;

/// Under drift, a query's log ratio relative to the shift must exceed this many robust standard
/// deviations of the workload's log ratios: a machine change does not hit every query alike
/// (measured: 0.13-0.66 on real pairs of this machine), so a query is a regression only if it
/// stands out of the workload, not merely above its median.
pub const OUTLIER_Z: f64 = 3.0;

/// What timing verdicts are judged relative to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Correction {
    /// The factor ratios are divided by (1 without correction).
    pub shift: f64,
    /// The smallest `|ln(ratio / shift)|` that can be a change (−∞ without correction).
    pub min_log_change: f64,
}

impl Correction {
    /// No correction: absolute verdicts.
    pub const NONE: Correction = Correction {
        shift: 1.0,
        min_log_change: f64::NEG_INFINITY,
    };
}

/// The drift between the runs from each judged query's `(baseline P95, current P95)`; `None`
/// with fewer than [`MIN_QUERIES`] queries or when the median ratio lies within
/// `[1 / (1 + threshold), 1 + threshold]`.
pub fn detect(p95_pairs_us: &[(f64, f64)], options: &CheckOptions) -> Option<MachineDrift> {
    let mut ratios: Vec<f64> = p95_pairs_us
        .iter()
        .map(|(baseline, current)| current / baseline)
        .filter(|ratio| ratio.is_finite() && *ratio > 0.0)
        .collect();
    if ratios.len() < MIN_QUERIES {
        return None;
    }
    ratios.sort_by(f64::total_cmp);
    let shift = median(&ratios);
    let mut deviations: Vec<f64> = ratios.iter().map(|r| (r / shift).ln().abs()).collect();
    deviations.sort_by(f64::total_cmp);
    let upper = 1.0 + options.threshold;
    (shift > upper || shift < 1.0 / upper).then_some(MachineDrift {
        shift,
        queries: ratios.len() as u64,
        spread: 1.4826 * median(&deviations),
        corrected: !options.no_drift_correction,
    })
}

/// What timing verdicts are judged relative to: the shift and the outlier margin when drift
/// was detected and corrected, [`Correction::NONE`] otherwise.
pub fn correction(drift: Option<&MachineDrift>) -> Correction {
    drift
        .filter(|d| d.corrected)
        .map_or(Correction::NONE, |d| Correction {
            shift: d.shift,
            min_log_change: OUTLIER_Z * d.spread,
        })
}

/// Median of a non-empty ascending sample.
fn median(sorted: &[f64]) -> f64 {
    let middle = sorted.len() / 2;
    if sorted.len().is_multiple_of(2) {
        (sorted[middle - 1] + sorted[middle]) / 2.0
    } else {
        sorted[middle]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(ratios: &[f64]) -> Vec<(f64, f64)> {
        ratios.iter().map(|r| (10_000.0, 10_000.0 * r)).collect()
    }

    #[test]
    fn a_workload_wide_slowdown_is_drift() {
        let drift = detect(
            &pairs(&[2.4, 2.5, 2.6, 2.5, 3.9, 2.5]),
            &CheckOptions::default(),
        )
        .expect("median 2.5 is beyond 10%");
        assert!((drift.shift - 2.5).abs() < 1e-12);
        assert_eq!(drift.queries, 6);
        assert!(drift.corrected);
        assert!((correction(Some(&drift)).shift - 2.5).abs() < 1e-12);
        assert!(drift.spread > 0.0);
    }

    #[test]
    fn a_few_regressions_are_not_drift() {
        let ratios = [1.0, 1.02, 0.98, 3.0, 2.0, 1.01, 0.99];
        assert_eq!(detect(&pairs(&ratios), &CheckOptions::default()), None);
        assert_eq!(correction(None), Correction::NONE);
    }

    #[test]
    fn a_workload_wide_speedup_is_drift_too() {
        let drift = detect(&pairs(&[0.5; 5]), &CheckOptions::default()).expect("twice as fast");
        assert!((drift.shift - 0.5).abs() < 1e-12);
    }

    #[test]
    fn fewer_than_five_queries_cannot_show_drift() {
        assert_eq!(detect(&pairs(&[2.5; 4]), &CheckOptions::default()), None);
    }

    #[test]
    fn without_correction_drift_is_reported_but_not_applied() {
        let options = CheckOptions {
            no_drift_correction: true,
            ..CheckOptions::default()
        };
        let drift = detect(&pairs(&[2.5; 5]), &options).expect("drift");
        assert!(!drift.corrected);
        assert_eq!(correction(Some(&drift)), Correction::NONE);
    }
}
