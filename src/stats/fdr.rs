//! Benjamini-Hochberg false discovery rate control (Benjamini & Hochberg, 1995, JRSS B 57(1)).
//!
//! The CI gate tests every query of a workload at once; without a correction, 40 queries at
//! a 5% level would flag about two regressions by chance alone on every run.

/// BH-adjusted p-values ("q-values", R's `p.adjust(p, "BH")`) in the input order: reject the
/// hypotheses whose adjusted value is at most the target false discovery rate.
pub fn benjamini_hochberg(p_values: &[f64]) -> Vec<f64> {
    let m = p_values.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| p_values[a].total_cmp(&p_values[b]));
    let mut adjusted = vec![0.0; m];
    let mut running_min = 1.0_f64;
    for (rank, &index) in order.iter().enumerate().rev() {
        let scaled = p_values[index] * m as f64 / (rank + 1) as f64;
        running_min = running_min.min(scaled);
        adjusted[index] = running_min;
    }
    adjusted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_scipy_false_discovery_control() {
        // Reference: scipy.stats.false_discovery_control(p, method="bh"), SciPy 1.17.
        let p = [
            0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205, 0.212, 0.216,
        ];
        let expected = [
            0.01,
            0.04,
            0.084,
            0.084,
            0.084,
            0.1,
            0.105_714_285_714_285_7,
            0.216,
            0.216,
            0.216,
        ];
        let got = benjamini_hochberg(&p);
        for (g, e) in got.iter().zip(expected) {
            assert!((g - e).abs() < 1e-12, "{got:?}");
        }
    }

    #[test]
    fn keeps_input_order_and_handles_empty_input() {
        assert!(benjamini_hochberg(&[]).is_empty());
        let got = benjamini_hochberg(&[0.04, 0.01]);
        assert_eq!(got, vec![0.04, 0.02]);
    }
}
