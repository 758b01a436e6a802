//! A hand-built run shared by the tests of the terminal table and the exports.

use std::collections::BTreeMap;

use pgperf::model::*;

fn estimate(value_us: f64, ci: Option<(f64, f64)>) -> QuantileEstimate {
    QuantileEstimate {
        value_us,
        ci_low_us: ci.map(|c| c.0),
        ci_high_us: ci.map(|c| c.1),
    }
}

pub fn query(name: &str, n: u64, p95_us: f64, budget_ms: f64) -> QueryResult {
    let ci = (n >= 59).then_some((p95_us - 50.0, p95_us + 125.0));
    QueryResult {
        name: name.into(),
        sql: "SELECT 1".into(),
        tile: None,
        role: "authenticated".into(),
        claims: None,
        settings: Default::default(),
        sampling: None,
        weight: 1.0,
        budget_p95_us: Some(budget_ms * 1000.0),
        samples: n,
        errors: 0,
        first_error: None,
        latency: Some(LatencySummary {
            n,
            min_us: p95_us / 4.0,
            max_us: p95_us * 2.0,
            mean_us: p95_us / 2.0,
            stddev_us: p95_us / 5.0,
            p50: estimate(p95_us / 2.0, None),
            p95: estimate(p95_us, ci),
            p99: estimate(p95_us * 1.5, None),
        }),
        raw_samples: vec![],
        histogram: vec![],
        rows_per_call: 20.0,
        server: Some(StatementStats {
            calls: n as i64,
            mean_exec_time_ms: p95_us / 3000.0,
            shared_blks_hit: 1200,
            shared_blks_read: 3,
            ..StatementStats::default()
        }),
        plan: None,
        warnings: vec![],
    }
}

pub fn result() -> RunResult {
    let mut failing = query("broken", 0, 0.0, 100.0);
    failing.latency = None;
    failing.server = None;
    failing.errors = 200;
    failing.first_error = Some(QueryError {
        sqlstate: Some("42P01".into()),
        message: "ERROR: relation \"nope\" does not exist (SQLSTATE 42P01)".into(),
    });
    failing.warnings = vec![Warning::Errors { count: 200 }, Warning::NoServerStats];
    RunResult {
        schema_version: RESULT_SCHEMA_VERSION,
        run_id: "20260101T000000Z-000000".into(),
        started_at: chrono::DateTime::UNIX_EPOCH,
        finished_at: chrono::DateTime::UNIX_EPOCH,
        complete: true,
        abort_reason: None,
        environment: Environment {
            pgperf_version: "0".into(),
            server_version: "15".into(),
            server_version_num: 150000,
            server_settings: BTreeMap::new(),
            extensions: BTreeMap::new(),
            target: Target {
                embedded: true,
                url_redacted: String::new(),
                database: "db".into(),
                clock: None,
            },
            machine: Machine {
                hostname: String::new(),
                os: String::new(),
                arch: String::new(),
                cpu_model: String::new(),
                cpus: 2,
                memory_bytes: 0,
            },
            workload_name: "w".into(),
            workload_hash: String::new(),
            scale: None,
            rng_seed: None,
            data_now: None,
        },
        settings: BenchSettings {
            iterations: 200,
            warmup: 20,
            concurrency: 1,
            rate_qps: None,
            protocol: Protocol::Prepared,
            statement_timeout_ms: 30_000,
            rng_seed: 42,
            time_budget: None,
        },
        queries: vec![
            query("approvals_list", 200, 850.0, 100.0),
            query("seo_anomalies", 200, 152_000.0, 100.0),
            query("tile_ads", 40, 1_250_000.0, 3000.0),
            failing,
        ],
        warnings: vec![Warning::StatementsEvicted { dealloc_delta: 3 }],
    }
}
