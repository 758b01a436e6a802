//! Speed of the statistics behind `bench` and `check`, and the gate's error rates at production
//! settings. Run: `cargo bench --bench check_speed` (PAIRS=1000 sets the simulated pairs).
//!
//! - `summarize` (HD P50/P95/P99 + intervals) for 1k, 10k and 100k samples;
//! - one bootstrap replicate of the HD P95 by the O(window) resampler versus the naive
//!   draw-sort-estimate bootstrap, at 10k samples;
//! - `check` of a 40-query workload with 10k raw samples per query and side (2,000 resamples);
//! - false positive rate and power of the timing verdict with the default options (2,000
//!   resamples), n 200-1000 per side, lognormal latencies.

#[path = "../tests/check_common/mod.rs"]
mod check_common;

use std::time::Instant;

use check_common::{latencies_us, query, run};
use pgperf::check::check;
use pgperf::model::check::{CheckOptions, Signal, TimingOutcome};
use pgperf::stats::{HdWeights, QuantileResampler, summarize};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn main() {
    for n in [1_000, 10_000, 100_000] {
        let samples = latencies_us(n, 5.0, 1);
        let ms = median_ms(21, || {
            std::hint::black_box(summarize(&samples));
        });
        println!("summarize, n = {n}: median {ms:.3} ms");
    }
    bootstrap_replicates();
    whole_check();
    error_rates();
}

fn bootstrap_replicates() {
    let mut sorted = latencies_us(10_000, 5.0, 2);
    sorted.sort_by(f64::total_cmp);
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let mut resampler = QuantileResampler::new(&sorted, 0.95);
    let fast_us = median_ms(11, || {
        for _ in 0..2_000 {
            std::hint::black_box(resampler.draw(&mut rng));
        }
    }) * 1000.0
        / 2_000.0;
    let weights = HdWeights::new(sorted.len(), 0.95);
    let naive_us = median_ms(5, || {
        for _ in 0..50 {
            let mut resample: Vec<f64> = (0..sorted.len())
                .map(|_| sorted[rng.gen_range(0..sorted.len())])
                .collect();
            resample.sort_by(f64::total_cmp);
            std::hint::black_box(weights.estimate(&resample));
        }
    }) * 1000.0
        / 50.0;
    println!(
        "one HD P95 bootstrap replicate, n = 10000: window resampler {fast_us:.2} µs, naive draw+sort {naive_us:.0} µs ({:.0}× faster)",
        naive_us / fast_us
    );
}

fn whole_check() {
    let side = |offset: u64| {
        let queries = (0..40)
            .map(|i| query(&format!("q{i}"), latencies_us(10_000, 5.0, offset + i)))
            .collect();
        run("r", queries)
    };
    let (baseline, current) = (side(0), side(1_000));
    let options = CheckOptions::default();
    let ms = median_ms(5, || {
        std::hint::black_box(check(&baseline, &current, &options));
    });
    println!("check, 40 queries × 10000 samples per side, 2000 resamples: median {ms:.0} ms");
}

fn error_rates() {
    let pairs: u64 = std::env::var("PAIRS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000);
    let options = CheckOptions {
        fail_on: vec![Signal::Timing],
        ..CheckOptions::default()
    };
    let calibration = CheckOptions {
        threshold: 0.0,
        floor_us: 0.0,
        ..options.clone()
    };
    for (what, scale, options) in [
        (
            "false positive rate, identical distributions",
            1.0,
            &options,
        ),
        ("false positive rate, τ = 0 and no floor", 1.0, &calibration),
        ("power, P95 × 1.3", 1.3, &options),
        ("power, P95 × 1.5", 1.5, &options),
    ] {
        let slower = rate_slower(pairs, scale, options);
        println!("{what}: {slower:.3} over {pairs} pairs (n 200-1000, 2000 resamples)");
    }
}

/// Share of `pairs` simulated comparisons judged slower; the current side is scaled by `scale`.
fn rate_slower(pairs: u64, scale: f64, options: &CheckOptions) -> f64 {
    let mut rng = ChaCha8Rng::seed_from_u64(77);
    let mut slower = 0;
    for pair in 0..pairs {
        let baseline = latencies_us(rng.gen_range(200..=1000), 5.0, 2 * pair);
        let current: Vec<f64> = latencies_us(rng.gen_range(200..=1000), 5.0, 2 * pair + 1)
            .into_iter()
            .map(|v| v * scale)
            .collect();
        let report = check(
            &run("a", vec![query("q", baseline)]),
            &run("b", vec![query("q", current)]),
            options,
        );
        let timing = report.queries[0]
            .timing
            .as_ref()
            .expect("both sides measured");
        slower += u32::from(timing.outcome == TimingOutcome::Slower);
    }
    f64::from(slower) / pairs as f64
}

fn median_ms(runs: usize, mut work: impl FnMut()) -> f64 {
    let mut times: Vec<f64> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            work();
            start.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[runs / 2]
}
