//! Speed of `pgperf history` and the detector's error rates. Run:
//! `cargo bench --bench history_speed` (HISTORIES=200 sets the simulated flat histories).
//!
//! - shift detection (999 shuffles) for 40 queries × 50, 200 and 1,000 runs;
//! - adding 1,000 runs of 40 queries to a SQLite history, one transaction per run, and reading
//!   them back;
//! - the share of flat noisy histories (10 queries, 40 runs, σ = 0.3) with any alarm, and the
//!   share of 1.3× steps found at the exact run (σ = 0.1, 20 runs per side).

use std::time::Instant;

use chrono::{Duration, TimeZone, Utc};
use pgperf::history::store::sqlite::Sqlite;
use pgperf::history::store::{HistoryStore, Store};
use pgperf::model::QuantileEstimate;
use pgperf::model::history::{HistoryQuery, HistoryRun};
use pgperf::stats::{ChangeOptions, detect_change_points};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, LogNormal};

fn main() {
    for runs in [50, 200, 1_000] {
        let series: Vec<Vec<f64>> = (0..40).map(|q| noisy(10.0, runs, 0.2, q)).collect();
        let started = Instant::now();
        std::hint::black_box(detect_change_points(&series, &ChangeOptions::default()));
        println!(
            "shift detection, 40 queries × {runs} runs: {:.2} s",
            started.elapsed().as_secs_f64()
        );
    }
    store_speed();
    error_rates();
}

/// `n` log-normal values around `level`.
fn noisy(level: f64, n: usize, sigma: f64, seed: u64) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let noise = LogNormal::new(0.0, sigma).expect("valid sigma");
    (0..n).map(|_| level * noise.sample(&mut rng)).collect()
}

fn store_speed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut store =
        Store::open(Sqlite::open(&dir.path().join("h.sqlite")).expect("opens")).expect("creates");
    let start = Utc
        .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
        .single()
        .expect("valid");
    let estimate = |value_us: f64| QuantileEstimate {
        value_us,
        ci_low_us: Some(value_us * 0.9),
        ci_high_us: Some(value_us * 1.1),
    };
    let runs: Vec<HistoryRun> = (0..1_000)
        .map(|i| HistoryRun {
            run_id: format!("run-{i}"),
            started_at: start + Duration::hours(i),
            recorded_at: start + Duration::hours(i),
            commit: Some(format!("{i:040x}")),
            branch: Some("main".into()),
            workload_name: "dashboard".into(),
            workload_hash: "h".into(),
            pgperf_version: "0.1.0".into(),
            server_version: "15".into(),
            complete: true,
            queries: (0..40)
                .map(|q| HistoryQuery {
                    name: format!("query_{q}"),
                    tile: None,
                    samples: 200,
                    errors: 0,
                    budget_p95_us: Some(100_000.0),
                    over_budget: Some(3),
                    p50: Some(estimate(1_000.0)),
                    p95: Some(estimate(5_000.0)),
                    p99: Some(estimate(9_000.0)),
                    buffers_per_call: Some(4.0),
                    plan_hash: Some("9f1c0a7e".into()),
                })
                .collect(),
        })
        .collect();
    let started = Instant::now();
    for run in &runs {
        store.add(run).expect("adds");
    }
    let added = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let read = store.runs().expect("reads");
    println!(
        "SQLite history: 1,000 runs × 40 queries added in {added:.2} s ({:.1} ms per run), read back in {:.2} s ({} runs)",
        added * 1000.0 / runs.len() as f64,
        started.elapsed().as_secs_f64(),
        read.len()
    );
}

fn error_rates() {
    let histories: u64 = std::env::var("HISTORIES")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(200);
    let options = ChangeOptions::default();
    let alarms = (0..histories)
        .filter(|seed| {
            let queries: Vec<Vec<f64>> = (0..10)
                .map(|q| noisy(10.0, 40, 0.3, seed * 100 + q))
                .collect();
            detect_change_points(&queries, &options)
                .iter()
                .any(|found| !found.is_empty())
        })
        .count();
    let exact = (0..histories)
        .filter(|seed| {
            let mut series = noisy(10.0, 20, 0.1, 10_000 + seed);
            series.extend(noisy(13.0, 20, 0.1, 20_000 + seed));
            detect_change_points(&[series], &options)[0]
                .iter()
                .any(|point| point.index == 20)
        })
        .count();
    println!(
        "flat histories with an alarm: {alarms} of {histories}; 1.3× steps found at the exact run: {exact} of {histories}"
    );
}
