//! Shifts in a series of per-run latencies: binary segmentation (Scott & Knott, 1974; Vostrikova,
//! 1981) with a max-t permutation test at each step, on log latency.
//!
//! At each step the split that maximises Welch's two-sample t statistic between the left and
//! right part of a segment is a candidate. Its p-value comes from a permutation test of that
//! *maximum* over all splits (as in e.divisive, Matteson & James, 2014): the segment's values
//! are shuffled, the maximum is taken again, and the p-value is the share of shuffles at least
//! as extreme. Comparing the best split against the best split of shuffled data pays for having
//! searched over every split, which a plain t-test at the chosen split would not; and it needs
//! no normality, only that runs without a shift are exchangeable. Working on logs makes a
//! shift a ratio, as latency changes are.
//!
//! Each change point is finally placed again at the best split between its neighbours
//! (the refinement step of binary segmentation), so that one shift does not pull the
//! location of another.
//!
//! Across queries, the first split of each series is a family controlled with
//! Benjamini-Hochberg ([`super::benjamini_hochberg`]) by [`detect_all`]; further shifts in a
//! series that has one are found by recursing into both sides, each at half the level
//! (Bonferroni over the two sides). A shift also
//! needs a relative effect of at least `min_effect`, so that a long history does not report a
//! 1% change as a finding.

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

/// Options of the detector.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChangeOptions {
    /// False discovery rate across series (Benjamini-Hochberg), and the level of every
    /// further split inside a series.
    pub fdr: f64,
    /// Smallest relative change reported: 0.10 is a 10% shift of the geometric mean.
    pub min_effect: f64,
    /// Fewest runs on each side of a split.
    pub min_segment: usize,
    /// Shuffles of the permutation test; the smallest p-value is 1 / (permutations + 1).
    pub permutations: usize,
    /// Seed of the shuffles, so that a history gives the same answer every time.
    pub seed: u64,
}

impl Default for ChangeOptions {
    fn default() -> Self {
        ChangeOptions {
            fdr: 0.05,
            min_effect: 0.10,
            min_segment: 3,
            permutations: 999,
            seed: 0x5eed,
        }
    }
}

/// A detected shift: values from `index` on differ from those before.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChangePoint {
    /// Index of the first value after the shift.
    pub index: usize,
    /// Geometric mean after / before, within the segment the split was found in.
    pub ratio: f64,
    /// Permutation p-value of the split (BH-adjusted for the first split of a series).
    pub p_value: f64,
}

/// Change points of several series (e.g. log P95 per run of each query), with the first split
/// of each series controlled by Benjamini-Hochberg across series. Values must be positive
/// latencies; the test runs on their logarithms. Results are in the input order, each sorted
/// by index.
pub fn detect_all(series: &[Vec<f64>], options: &ChangeOptions) -> Vec<Vec<ChangePoint>> {
    let logs: Vec<Vec<f64>> = series
        .iter()
        .map(|values| {
            values
                .iter()
                .map(|value| value.max(f64::MIN_POSITIVE).ln())
                .collect()
        })
        .collect();
    let first: Vec<Option<Split>> = logs
        .iter()
        .enumerate()
        .map(|(i, values)| best_split(values, options, options.seed.wrapping_add(i as u64)))
        .collect();
    let p_values: Vec<f64> = first
        .iter()
        .map(|split| split.map_or(1.0, |s| s.p_value))
        .collect();
    let adjusted = super::benjamini_hochberg(&p_values);
    logs.iter()
        .zip(first)
        .zip(adjusted)
        .enumerate()
        .map(|(i, ((values, split), q_value))| {
            let Some(split) = split.filter(|s| q_value <= options.fdr && s.large_enough(options))
            else {
                return Vec::new();
            };
            let mut found = vec![split.change_point(q_value)];
            let seed = options.seed.wrapping_add(i as u64).wrapping_mul(31);
            recurse(&values[..split.index], 0, options, seed, &mut found);
            recurse(
                &values[split.index..],
                split.index,
                options,
                seed.wrapping_add(1),
                &mut found,
            );
            found.sort_by_key(|point| point.index);
            refine(values, &mut found, options.min_segment);
            found
        })
        .collect()
}

/// Places each change point again at the best split between its neighbours. A split found in
/// a segment that holds another shift can land a run off, because the other shift inflates
/// one side's variance; between its neighbours only its own shift remains.
fn refine(values: &[f64], found: &mut [ChangePoint], min_segment: usize) {
    let mean = |part: &[f64]| part.iter().sum::<f64>() / part.len() as f64;
    for i in 0..found.len() {
        let start = if i == 0 { 0 } else { found[i - 1].index };
        let end = found.get(i + 1).map_or(values.len(), |next| next.index);
        let segment = &values[start..end];
        if let Some((split, _)) = max_t(segment, min_segment) {
            found[i].index = start + split;
            found[i].ratio = (mean(&segment[split..]) - mean(&segment[..split])).exp();
        }
    }
}

/// The best split of one segment and its permutation p-value.
#[derive(Debug, Clone, Copy)]
struct Split {
    index: usize,
    log_ratio: f64,
    p_value: f64,
}

impl Split {
    fn large_enough(&self, options: &ChangeOptions) -> bool {
        self.log_ratio.abs() >= (1.0 + options.min_effect).ln()
    }

    fn change_point(&self, p_value: f64) -> ChangePoint {
        ChangePoint {
            index: self.index,
            ratio: self.log_ratio.exp(),
            p_value,
        }
    }
}

/// Binary segmentation inside a part of a series that already has a shift at its edge.
fn recurse(
    values: &[f64],
    offset: usize,
    options: &ChangeOptions,
    seed: u64,
    out: &mut Vec<ChangePoint>,
) {
    let Some(split) = best_split(values, options, seed) else {
        return;
    };
    // Both sides of a split are searched: Bonferroni over the two keeps a shift-free side
    // from adding a false shift more often than the level allows.
    if split.p_value > options.fdr / 2.0 || !split.large_enough(options) {
        return;
    }
    out.push(ChangePoint {
        index: offset + split.index,
        ..split.change_point(split.p_value)
    });
    recurse(
        &values[..split.index],
        offset,
        options,
        seed.wrapping_mul(31),
        out,
    );
    recurse(
        &values[split.index..],
        offset + split.index,
        options,
        seed.wrapping_mul(37),
        out,
    );
}

/// The split with the largest |t| and the permutation p-value of that maximum; `None` when the
/// segment is too short for two parts of `min_segment` values.
fn best_split(values: &[f64], options: &ChangeOptions, seed: u64) -> Option<Split> {
    let (index, observed) = max_t(values, options.min_segment)?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut shuffled = values.to_vec();
    let mut as_extreme = 0usize;
    for _ in 0..options.permutations {
        shuffled.shuffle(&mut rng);
        let (_, t) = max_t(&shuffled, options.min_segment).expect("same length as the data");
        if t >= observed {
            as_extreme += 1;
        }
    }
    let mean = |part: &[f64]| part.iter().sum::<f64>() / part.len() as f64;
    Some(Split {
        index,
        log_ratio: mean(&values[index..]) - mean(&values[..index]),
        p_value: (as_extreme + 1) as f64 / (options.permutations + 1) as f64,
    })
}

/// The split index (first value of the right part) with the largest Welch |t|, and that |t|.
/// Prefix sums make it linear in the segment's length.
fn max_t(values: &[f64], min_segment: usize) -> Option<(usize, f64)> {
    let n = values.len();
    let min_segment = min_segment.max(2);
    if n < 2 * min_segment {
        return None;
    }
    let (total, total_sq) = values
        .iter()
        .fold((0.0, 0.0), |(s, q), v| (s + v, q + v * v));
    let (mut left, mut left_sq) = (0.0, 0.0);
    let mut best: Option<(usize, f64)> = None;
    for (k, value) in values.iter().enumerate().take(n - min_segment) {
        left += value;
        left_sq += value * value;
        let split = k + 1;
        if split < min_segment {
            continue;
        }
        let t = welch_t(
            (left, left_sq, split),
            (total - left, total_sq - left_sq, n - split),
        );
        if best.is_none_or(|(_, b)| t > b) {
            best = Some((split, t));
        }
    }
    best
}

/// |Welch's t| from (sum, sum of squares, count) of two parts. A variance floor keeps
/// identical values (variance 0) from dividing by zero.
fn welch_t(a: (f64, f64, usize), b: (f64, f64, usize)) -> f64 {
    let moments = |(sum, sq, n): (f64, f64, usize)| {
        let n = n as f64;
        let mean = sum / n;
        let variance = ((sq - n * mean * mean) / (n - 1.0)).max(0.0);
        (mean, variance / n)
    };
    let (mean_a, se_a) = moments(a);
    let (mean_b, se_b) = moments(b);
    (mean_a - mean_b).abs() / (se_a + se_b + 1e-12).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;
    use rand_distr::{Distribution, LogNormal};

    /// Log-normal noise around `levels_ms[i]` for `lengths[i]` runs each.
    fn series(levels_ms: &[f64], lengths: &[usize], sigma: f64, seed: u64) -> Vec<f64> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        levels_ms
            .iter()
            .zip(lengths)
            .flat_map(|(level, &n)| {
                let noise = LogNormal::new(0.0, sigma).expect("valid sigma");
                (0..n)
                    .map(|_| level * noise.sample(&mut rng))
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    #[test]
    fn a_step_is_found_at_the_run_that_introduced_it() {
        let data = series(&[20.0, 30.0], &[25, 15], 0.08, 1);
        let found = detect_all(&[data], &ChangeOptions::default());
        assert_eq!(found[0].len(), 1, "{found:?}");
        assert_eq!(found[0][0].index, 25);
        assert!((found[0][0].ratio - 1.5).abs() < 0.1, "{found:?}");
        assert!(found[0][0].p_value <= 0.05);
    }

    #[test]
    fn two_steps_are_both_found() {
        // Seed 2 draws run 40 three σ high (31.7 ms at level 25); the best split is then 41,
        // as it should be, so this history uses seed 3.
        let data = series(&[20.0, 40.0, 25.0], &[20, 20, 20], 0.08, 3);
        let found = detect_all(&[data], &ChangeOptions::default());
        let indexes: Vec<usize> = found[0].iter().map(|p| p.index).collect();
        assert_eq!(indexes, vec![20, 40], "{found:?}");
    }

    #[test]
    fn a_step_is_placed_at_the_exact_run_in_most_histories() {
        // A 1.5× step under σ = 0.1 noise (one run in twenty is 18% off): over 50 histories the
        // shift is found in every one and placed exactly in nearly all; a second, false shift
        // inside one side is rare (each side is tested at half the level).
        let options = ChangeOptions {
            permutations: 199,
            ..ChangeOptions::default()
        };
        let (mut exact, mut extra) = (0, 0);
        for seed in 0..50 {
            let data = series(&[10.0, 15.0], &[15, 15], 0.1, 500 + seed);
            let found = detect_all(&[data], &options);
            assert!(!found[0].is_empty(), "seed {seed}: missed");
            exact += usize::from(found[0].iter().any(|point| point.index == 15));
            extra += found[0].len() - 1;
        }
        assert!(exact >= 45, "{exact} of 50 placed exactly");
        assert!(extra <= 3, "{extra} false second shifts in 50 histories");
    }

    #[test]
    fn flat_noisy_series_raise_no_alarm_over_many_seeds() {
        // 200 histories of 10 queries each, 40 runs, heavy noise (σ = 0.3 in log terms, so
        // single runs differ by 2× often) and an occasional outlier run.
        let options = ChangeOptions {
            permutations: 199,
            ..ChangeOptions::default()
        };
        let mut alarms = 0;
        for seed in 0..200u64 {
            let mut rng = ChaCha8Rng::seed_from_u64(seed + 1000);
            let queries: Vec<Vec<f64>> = (0..10)
                .map(|q| {
                    let mut data = series(&[10.0 + q as f64], &[40], 0.3, seed * 100 + q);
                    if rng.gen_bool(0.3) {
                        let at = rng.gen_range(0..data.len());
                        data[at] *= 8.0;
                    }
                    data
                })
                .collect();
            alarms += usize::from(detect_all(&queries, &options).iter().any(|c| !c.is_empty()));
        }
        // The family-wise rate of BH under the global null is at most the FDR (5%).
        assert!(
            alarms <= 16,
            "{alarms} of 200 flat histories raised an alarm"
        );
    }

    #[test]
    fn a_significant_but_small_shift_is_not_reported() {
        let data = series(&[20.0, 20.6], &[100, 100], 0.01, 3);
        let found = detect_all(&[data], &ChangeOptions::default());
        assert!(
            found[0].is_empty(),
            "3% is under the 10% minimum: {found:?}"
        );
    }

    #[test]
    fn short_and_constant_series_have_no_change_point() {
        let options = ChangeOptions::default();
        assert_eq!(detect_all(&[vec![1.0; 5]], &options), vec![vec![]]);
        assert_eq!(detect_all(&[vec![3.0; 40]], &options), vec![vec![]]);
        assert!(detect_all(&[], &options).is_empty());
    }

    #[test]
    fn the_same_history_gives_the_same_answer() {
        let data = series(&[20.0, 26.0], &[12, 12], 0.15, 4);
        let options = ChangeOptions::default();
        assert_eq!(
            detect_all(std::slice::from_ref(&data), &options),
            detect_all(&[data], &options)
        );
    }
}
