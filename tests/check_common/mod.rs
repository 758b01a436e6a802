//! Hand-built RunResults for the `check` tests: a fixed environment and queries whose raw
//! samples come from a seeded lognormal, so every verdict and every snapshot is reproducible.

#![allow(dead_code)] // each test file uses a different part

use std::collections::BTreeMap;

use chrono::{TimeZone, Utc};
use pgperf::model::check::CheckOptions;
use pgperf::model::{
    BenchSettings, Environment, Machine, PlanCapture, Protocol, QueryError, QueryResult,
    RESULT_SCHEMA_VERSION, RunResult, Sample, StatementStats, Target,
};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, LogNormal};

/// `n` latencies with median `median_ms`, lognormal σ = 0.4, from `seed`.
pub fn latencies_us(n: usize, median_ms: f64, seed: u64) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let lognormal = LogNormal::new((median_ms * 1000.0).ln(), 0.4).expect("valid parameters");
    (0..n).map(|_| lognormal.sample(&mut rng).round()).collect()
}

/// A query that ran `latencies_us.len()` times, 10 rows per call, 4 shared buffers per call,
/// with an index scan plan.
pub fn query(name: &str, latencies_us: Vec<f64>) -> QueryResult {
    let n = latencies_us.len();
    QueryResult {
        name: name.to_owned(),
        sql: format!("SELECT * FROM {name} WHERE id = $1"),
        tile: None,
        role: "authenticated".to_owned(),
        claims: None,
        settings: Default::default(),
        weight: 1.0,
        budget_p95_us: None,
        samples: n as u64,
        errors: 0,
        first_error: None,
        latency: pgperf::stats::summarize(&latencies_us),
        raw_samples: latencies_us
            .iter()
            .enumerate()
            .map(|(i, latency_us)| Sample {
                at_ms: i as f64 * 10.0,
                latency_us: *latency_us,
            })
            .collect(),
        histogram: Vec::new(),
        rows_per_call: 10.0,
        server: Some(StatementStats {
            queryids: vec![42],
            calls: n as i64,
            rows: 10 * n as i64,
            shared_blks_hit: 4 * n as i64,
            ..StatementStats::default()
        }),
        plan: Some(plan(
            "9f1c0a7e",
            &["Index Scan using approvals_status_idx on approvals"],
        )),
        warnings: Vec::new(),
        sampling: None,
    }
}

pub fn plan(shape_hash: &str, shape: &[&str]) -> PlanCapture {
    PlanCapture {
        shape_hash: shape_hash.to_owned(),
        shape: shape.iter().map(|line| (*line).to_owned()).collect(),
        params: Vec::new(),
        explain: serde_json::Value::Null,
        planning_time_ms: 0.1,
        execution_time_ms: 1.0,
        distributed: None,
    }
}

/// The same query having lost its index: a sequential scan touching many more buffers.
pub fn lost_index(mut query: QueryResult) -> QueryResult {
    query.plan = Some(plan(
        "51d2be04",
        &[
            "Gather",
            "  Seq Scan on approvals",
            "    Filter: (status = $1)",
        ],
    ));
    if let Some(server) = query.server.as_mut() {
        server.shared_blks_hit *= 40;
        server.shared_blks_read = server.calls * 12;
    }
    query
}

/// The query failing some of the time in the current run.
pub fn failing(mut query: QueryResult, errors: u64) -> QueryResult {
    query.errors = errors;
    query.first_error = Some(QueryError {
        sqlstate: Some("42501".to_owned()),
        message: "permission denied for table content_items".to_owned(),
    });
    query
}

/// A run with a fixed environment.
pub fn run(run_id: &str, queries: Vec<QueryResult>) -> RunResult {
    let started_at = Utc
        .with_ymd_and_hms(2026, 11, 25, 12, 0, 0)
        .single()
        .expect("valid date");
    RunResult {
        schema_version: RESULT_SCHEMA_VERSION,
        run_id: run_id.to_owned(),
        started_at,
        finished_at: started_at + chrono::Duration::seconds(90),
        complete: true,
        abort_reason: None,
        environment: environment(),
        settings: BenchSettings {
            iterations: 500,
            warmup: 50,
            concurrency: 1,
            rate_qps: None,
            protocol: Protocol::Prepared,
            statement_timeout_ms: 30_000,
            rng_seed: 42,
            time_budget: None,
        },
        queries,
        warnings: Vec::new(),
    }
}

fn environment() -> Environment {
    let settings = [
        ("jit", "off"),
        ("random_page_cost", "1.1"),
        ("shared_buffers", "128MB"),
        ("work_mem", "4MB"),
    ];
    Environment {
        pgperf_version: "0.1.0".to_owned(),
        server_version: "15.18 (Debian 15.18-0+deb12u1)".to_owned(),
        server_version_num: 150_018,
        server_settings: settings
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        extensions: BTreeMap::from([("pg_stat_statements".to_owned(), "1.10".to_owned())]),
        target: Target {
            embedded: true,
            url_redacted: "postgresql:///pgperf?host=/dev/shm/pgperf-x".to_owned(),
            database: "pgperf".to_owned(),
            clock: None,
        },
        machine: Machine {
            hostname: "ci".to_owned(),
            os: "linux".to_owned(),
            arch: "x86_64".to_owned(),
            cpu_model: "test cpu".to_owned(),
            cpus: 2,
            memory_bytes: 8 << 30,
        },
        workload_name: "dashboard".to_owned(),
        workload_hash: "3f2a9c".to_owned(),
        scale: Some(1.0),
        rng_seed: Some(42),
        data_now: None,
    }
}

/// Baseline and current runs exercising every verdict.
pub fn mixed_runs() -> (RunResult, RunResult) {
    let mut over_budget = query("ads_performance", latencies_us(400, 6.0, 9));
    over_budget.budget_p95_us = Some(10_000.0);
    let mut over_budget_now = query("ads_performance", latencies_us(400, 6.0, 10));
    over_budget_now.budget_p95_us = Some(10_000.0);
    let mut rows_now = query("inventory_reorder", latencies_us(400, 3.0, 12));
    rows_now.rows_per_call = 12.5;
    let baseline = run(
        "run-baseline",
        vec![
            query("approvals_list", latencies_us(400, 4.0, 1)),
            query("approvals_by_status", latencies_us(400, 5.0, 3)),
            query("seo_anomalies", latencies_us(400, 20.0, 5)),
            query("tile_counts", latencies_us(40, 2.0, 7)),
            over_budget,
            query("content_engagement", latencies_us(400, 3.0, 13)),
            query("inventory_reorder", latencies_us(400, 3.0, 11)),
            query("retired_tile", latencies_us(400, 3.0, 15)),
        ],
    );
    let current = run(
        "run-current",
        vec![
            query("approvals_list", latencies_us(380, 4.0, 2)),
            lost_index(query("approvals_by_status", latencies_us(400, 9.0, 4))),
            query("seo_anomalies", latencies_us(400, 11.0, 6)),
            query("tile_counts", latencies_us(40, 2.0, 8)),
            over_budget_now,
            failing(query("content_engagement", latencies_us(390, 3.0, 14)), 10),
            rows_now,
            query("new_tile", latencies_us(400, 2.0, 16)),
        ],
    );
    (baseline, current)
}

/// Default options with fewer bootstrap resamples (tests run unoptimised).
pub fn options() -> CheckOptions {
    CheckOptions {
        resamples: 500,
        ..CheckOptions::default()
    }
}
