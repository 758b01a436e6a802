//! Distribution-free confidence intervals for a quantile from order statistics.
//!
//! For any continuous distribution, the number `B` of sample values below the true quantile
//! `ξ_q` is Binomial(n, q), so `P(x_(l) ≤ ξ_q < x_(u)) = P(l ≤ B ≤ u − 1)` whatever the
//! distribution (e.g. Hahn & Meeker, *Statistical Intervals*, §5.2). pgperf picks the shortest
//! rank span `u − l` whose binomial coverage reaches the confidence level, preferring the
//! higher coverage among equally short ones. When even `(x_(1), x_(n))` does not reach it,
//! there is no such interval: for P95 at 95% that is below 59 samples (`1 − 0.95^59 ≥ 0.95`).

use statrs::function::gamma::ln_gamma;

/// Half-width, in binomial standard deviations, of the rank window searched: the binomial mass
/// outside ±12 sd is below 1e-30, far under any coverage difference that matters.
const WINDOW_SDS: f64 = 12.0;

/// Ranks `(l, u)` (1-based, `l < u`) of the shortest order-statistic interval that covers
/// quantile `q` with probability at least `confidence`, or `None` when `n` is too small.
pub fn order_statistic_interval(n: usize, q: f64, confidence: f64) -> Option<(usize, usize)> {
    assert!(
        q > 0.0 && q < 1.0,
        "quantile {q} must lie strictly between 0 and 1"
    );
    if n < 2 {
        return None;
    }
    let cdf = BinomialWindow::new(n, q);
    let target = confidence - 1e-12;
    let mut best: Option<(usize, usize, f64)> = None;
    let mut u = 2;
    for l in cdf.first.max(1)..n.min(cdf.last + 1) {
        u = u.max(l + 1);
        while u <= n && cdf.below(u) - cdf.below(l) < target {
            u += 1;
        }
        if u > n {
            break;
        }
        let coverage = cdf.below(u) - cdf.below(l);
        let better = match best {
            None => true,
            Some((bl, bu, bc)) => u - l < bu - bl || (u - l == bu - bl && coverage > bc),
        };
        if better {
            best = Some((l, u, coverage));
        }
    }
    best.map(|(l, u, _)| (l, u))
}

/// `P(B < k)` for `B ~ Binomial(n, q)` over the window `first..=last + 1` of `k` where the
/// probability mass lies; 0 below it and 1 above.
struct BinomialWindow {
    first: usize,
    last: usize,
    /// `below[i] = P(first ≤ B < first + i)`.
    below: Vec<f64>,
}

impl BinomialWindow {
    /// Sums the pmf from the log-pmf at the window start (log-gamma) with the recurrence
    /// `ln p(k+1) = ln p(k) + ln((n−k)/(k+1)) + ln(q/(1−q))`: no overflow for large `n`.
    fn new(n: usize, q: f64) -> Self {
        let n_f = n as f64;
        let half_width = (WINDOW_SDS * (n_f * q * (1.0 - q)).sqrt()).ceil() as usize + 1;
        let centre = (n_f * q) as usize;
        let first = centre.saturating_sub(half_width);
        let last = (centre + half_width).min(n);
        let first_f = first as f64;
        let mut log_pmf =
            ln_gamma(n_f + 1.0) - ln_gamma(first_f + 1.0) - ln_gamma(n_f - first_f + 1.0)
                + first_f * q.ln()
                + (n_f - first_f) * (1.0 - q).ln();
        let log_odds = (q / (1.0 - q)).ln();
        let mut total = 0.0;
        let mut below = Vec::with_capacity(last - first + 2);
        below.push(0.0);
        for k in first..=last {
            total += log_pmf.exp();
            below.push(total);
            let k_f = k as f64;
            log_pmf += ((n_f - k_f) / (k_f + 1.0)).ln() + log_odds;
        }
        BinomialWindow { first, last, below }
    }

    /// `P(B < k)`.
    fn below(&self, k: usize) -> f64 {
        if k <= self.first {
            0.0
        } else if k > self.last + 1 {
            1.0
        } else {
            self.below[k - self.first]
        }
    }
}

/// Rank `l` (1-based) of the highest order statistic that lies at or below quantile `q` with
/// probability at least `confidence`: `P(x_(l) ≤ ξ_q) = P(B ≥ l)` for `B ~ Binomial(n, q)`.
/// A one-sided bound exists for far smaller samples than an interval (P95 at 97.5%: from 2
/// samples, where the interval needs 59), which lets a slow query show that it was slow
/// without being run 59 times. `None` when even the minimum does not reach the confidence.
pub fn lower_bound_rank(n: usize, q: f64, confidence: f64) -> Option<usize> {
    assert!(
        q > 0.0 && q < 1.0,
        "quantile {q} must lie strictly between 0 and 1"
    );
    let cdf = BinomialWindow::new(n, q);
    let target = confidence - 1e-12;
    (1..=n).rev().find(|&l| 1.0 - cdf.below(l) >= target)
}

/// The value of [`lower_bound_rank`] in an ascending sample.
pub fn quantile_lower_bound(sorted: &[f64], q: f64, confidence: f64) -> Option<f64> {
    lower_bound_rank(sorted.len(), q, confidence).map(|l| sorted[l - 1])
}

/// The smallest sample size for which [`order_statistic_interval`] exists (59 for P95 at 95%).
pub fn min_samples_for_interval(q: f64, confidence: f64) -> usize {
    // Coverage of (x_(1), x_(n)) is 1 − q^n − (1−q)^n; find the first n where it suffices.
    (2..)
        .find(|&n| {
            let n = n as i32;
            1.0 - q.powi(n) - (1.0 - q).powi(n) >= confidence - 1e-12
        })
        .expect("coverage tends to 1, so some n reaches any confidence below 1")
}

/// The distribution-free interval `(x_(l), x_(u))` for quantile `q` of an ascending `sorted`
/// sample, or `None` when the sample is too small for one.
pub fn quantile_interval(sorted: &[f64], q: f64, confidence: f64) -> Option<(f64, f64)> {
    order_statistic_interval(sorted.len(), q, confidence)
        .map(|(l, u)| (sorted[l - 1], sorted[u - 1]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_distr::{Distribution, LogNormal};

    #[test]
    fn a_one_sided_lower_bound_of_p95_needs_two_samples() {
        // P(B ≥ l), B ~ Bin(n, 0.95): n = 1: P(B ≥ 1) = 0.95 < 0.975; n = 2: 1 − 0.05² ≥ 0.975.
        assert_eq!(lower_bound_rank(1, 0.95, 0.975), None);
        assert_eq!(lower_bound_rank(2, 0.95, 0.975), Some(1));
        // n = 8: P(B ≥ 7) = 0.943, P(B ≥ 6) = 0.994.
        assert_eq!(lower_bound_rank(8, 0.95, 0.975), Some(6));
        // n = 100: the lower end of the two-sided 95% interval is about as high.
        let (l, _) = order_statistic_interval(100, 0.95, 0.95).expect("n = 100");
        let one_sided = lower_bound_rank(100, 0.95, 0.975).expect("n = 100");
        assert!(one_sided.abs_diff(l) <= 1, "{one_sided} vs {l}");
        let sorted: Vec<f64> = (1..=8).map(f64::from).collect();
        assert_eq!(quantile_lower_bound(&sorted, 0.95, 0.975), Some(6.0));
    }

    #[test]
    fn p95_needs_59_samples() {
        assert_eq!(order_statistic_interval(58, 0.95, 0.95), None);
        assert!(order_statistic_interval(59, 0.95, 0.95).is_some());
        assert_eq!(min_samples_for_interval(0.95, 0.95), 59);
        assert_eq!(min_samples_for_interval(0.99, 0.95), 299);
        assert_eq!(min_samples_for_interval(0.5, 0.95), 6);
    }

    #[test]
    fn large_samples_search_only_a_window_and_agree_with_the_normal_approximation() {
        // n = 100,000, P95: ranks ≈ nq ± 1.96·sqrt(nq(1−q)) = 95,000 ± 135.
        let (l, u) = order_statistic_interval(100_000, 0.95, 0.95).expect("large n");
        assert!(
            (l as f64 - 94_865.0).abs() <= 3.0 && (u as f64 - 95_136.0).abs() <= 3.0,
            "{l} {u}"
        );
    }

    #[test]
    fn min_samples_agrees_with_the_interval_search() {
        for q in [0.5, 0.9, 0.95, 0.99] {
            let n = min_samples_for_interval(q, 0.95);
            assert_eq!(order_statistic_interval(n - 1, q, 0.95), None, "q={q}");
            assert!(order_statistic_interval(n, q, 0.95).is_some(), "q={q}");
        }
    }

    #[test]
    fn ranks_match_a_brute_force_search_with_scipy() {
        // Reference: every (l, u) scanned with scipy.stats.binom.cdf, shortest span first,
        // then highest coverage. n = 100, median: P(40 ≤ B ≤ 59) = 0.9540.
        let cases = [
            (100, 0.5, (40, 60)),
            (59, 0.95, (50, 59)),
            (200, 0.95, (184, 197)),
            (1000, 0.95, (937, 964)),
        ];
        for (n, q, expected) in cases {
            assert_eq!(
                order_statistic_interval(n, q, 0.95),
                Some(expected),
                "n={n} q={q}"
            );
        }
    }

    #[test]
    fn intervals_cover_the_true_quantile_on_simulated_latencies() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let lognormal = LogNormal::new(8.0, 0.6).expect("valid parameters");
        // True P95 of LogNormal(μ, σ) is exp(μ + σ z_0.95).
        let true_p95 = (8.0 + 0.6 * 1.644_853_626_951_472_2_f64).exp();
        for n in [59, 200, 1000] {
            let trials = 1000;
            let mut covered = 0;
            for _ in 0..trials {
                let mut sample: Vec<f64> = (0..n).map(|_| lognormal.sample(&mut rng)).collect();
                sample.sort_by(f64::total_cmp);
                let (low, high) = quantile_interval(&sample, 0.95, 0.95).expect("n ≥ 59");
                if low <= true_p95 && true_p95 <= high {
                    covered += 1;
                }
            }
            let coverage = f64::from(covered) / f64::from(trials);
            // Exact coverage is ≥ 0.95; allow three standard errors of simulation noise.
            assert!(coverage >= 0.93, "n={n}: coverage {coverage}");
        }
    }
}
