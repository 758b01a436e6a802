//! Hand-built, deterministic RunResults for the report tests: realistic latency shapes
//! (log-normal with a slow warm-up and a drift), HdrHistogram-like (value, count) pairs, server
//! counters, and real EXPLAIN JSON captured from PostgreSQL 15 (`tests/fixtures/report/plans`).
#![allow(dead_code)] // each test file uses a different part

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::{TimeZone, Utc};
use pgperf::model::{
    BenchSettings, Environment, Machine, PlanCapture, Protocol, QueryResult, RESULT_SCHEMA_VERSION,
    RunResult, Sample, StatementStats, Target, Warning,
};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, LogNormal};

pub fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/report")
}

/// A captured EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) document.
pub fn plan_json(name: &str) -> serde_json::Value {
    let path = fixtures_dir().join("plans").join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("captured plans are valid JSON")
}

/// How one synthetic query behaves.
#[derive(Debug, Clone)]
pub struct Shape {
    pub name: &'static str,
    pub sql: &'static str,
    pub samples: usize,
    pub median_us: f64,
    /// Log-normal sigma: 0.2 is tight, 0.8 a long tail.
    pub sigma: f64,
    /// Multiplier of the first 5% of samples (a cold cache at the start).
    pub warmup_factor: f64,
    /// Relative slowdown from the start to the end of the run.
    pub drift: f64,
    pub budget_ms: Option<f64>,
    pub seed: u64,
}

impl Shape {
    pub fn new(name: &'static str, samples: usize, median_us: f64) -> Shape {
        Shape {
            name,
            sql: "select 1",
            samples,
            median_us,
            sigma: 0.35,
            warmup_factor: 1.0,
            drift: 0.0,
            budget_ms: Some(100.0),
            seed: 7,
        }
    }
}

/// Latencies in execution order, 10 executions per second of run time.
pub fn samples(shape: &Shape) -> Vec<Sample> {
    let mut rng = ChaCha8Rng::seed_from_u64(shape.seed);
    let noise = LogNormal::new(0.0, shape.sigma).expect("valid sigma");
    let warmup = shape.samples / 20;
    (0..shape.samples)
        .map(|i| {
            let progress = i as f64 / shape.samples.max(1) as f64;
            let mut latency =
                shape.median_us * noise.sample(&mut rng) * (1.0 + shape.drift * progress);
            if i < warmup {
                latency *= shape.warmup_factor;
            }
            Sample {
                at_ms: (i as f64 * 100.0).round(),
                latency_us: latency.round().max(1.0),
            }
        })
        .collect()
}

/// (value, count) pairs at 3 significant digits, as an HdrHistogram reports them.
pub fn histogram(samples: &[Sample]) -> Vec<(u64, u64)> {
    let mut counts: BTreeMap<u64, u64> = BTreeMap::new();
    for sample in samples {
        let value = sample.latency_us.max(1.0);
        let scale = 10f64.powi((value.log10().floor() as i32 - 2).max(0));
        *counts
            .entry(((value / scale).round() * scale) as u64)
            .or_default() += 1;
    }
    counts.into_iter().collect()
}

/// A query measured with the given shape, with server counters consistent with it.
pub fn query(shape: &Shape) -> QueryResult {
    let raw = samples(shape);
    let latencies: Vec<f64> = raw.iter().map(|s| s.latency_us).collect();
    let latency = pgperf::stats::summarize(&latencies);
    let calls = shape.samples as i64;
    let mean_ms = latency.map_or(0.0, |l| l.mean_us / 1000.0) * 0.85;
    QueryResult {
        name: shape.name.to_string(),
        sql: shape.sql.to_string(),
        tile: None,
        role: "authenticated".to_string(),
        claims: None,
        settings: Default::default(),
        weight: 1.0,
        budget_p95_us: shape.budget_ms.map(|ms| ms * 1000.0),
        samples: shape.samples as u64,
        errors: 0,
        first_error: None,
        latency,
        histogram: histogram(&raw),
        raw_samples: raw,
        rows_per_call: 20.0,
        server: Some(StatementStats {
            queryids: vec![4_242_424_242],
            calls,
            rows: calls * 20,
            total_exec_time_ms: mean_ms * calls as f64,
            mean_exec_time_ms: mean_ms,
            total_plan_time_ms: 0.05 * calls as f64,
            shared_blks_hit: calls * 120,
            shared_blks_read: calls / 10,
            ..StatementStats::default()
        }),
        plan: None,
        warnings: Vec::new(),
        sampling: None,
    }
}

/// A stand-in shape hash: 16 hex digits of SHA-256 of the plan's name.
fn shape_hash(plan: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(plan.as_bytes())
        .iter()
        .take(8)
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// A plan capture around a stored EXPLAIN document.
pub fn capture(plan: &str, params: &[Option<&str>], shape: &[&str]) -> PlanCapture {
    let explain = plan_json(plan);
    let document = &explain[0];
    PlanCapture {
        shape_hash: shape_hash(plan),
        shape: shape.iter().map(|line| line.to_string()).collect(),
        params: params.iter().map(|p| p.map(str::to_string)).collect(),
        planning_time_ms: document["Planning Time"].as_f64().unwrap_or(0.0),
        execution_time_ms: document["Execution Time"].as_f64().unwrap_or(0.0),
        distributed: None,
        explain,
    }
}

/// A run around the given queries, on this machine's kind of environment.
pub fn run(queries: Vec<QueryResult>) -> RunResult {
    let started_at = Utc
        .with_ymd_and_hms(2026, 11, 25, 9, 30, 0)
        .single()
        .expect("valid date");
    let settings = [
        ("jit", "off"),
        ("random_page_cost", "1.1"),
        ("shared_buffers", "128MB"),
        ("track_io_timing", "on"),
        ("work_mem", "4MB"),
    ];
    RunResult {
        schema_version: RESULT_SCHEMA_VERSION,
        run_id: "20261125-093000-dashboard".to_string(),
        started_at,
        finished_at: started_at + chrono::Duration::seconds(212),
        complete: true,
        abort_reason: None,
        environment: Environment {
            pgperf_version: "0.1.0".to_string(),
            server_version: "15.18 (Debian 15.18-0+deb12u1)".to_string(),
            server_version_num: 150018,
            server_settings: settings
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            extensions: [("hypopg", "1.3.1"), ("pg_stat_statements", "1.10")]
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            target: Target {
                embedded: true,
                url_redacted: "postgresql://postgres@%2Fdev%2Fshm%2Fpgperf-8Yq2%2Fsocket/pgperf"
                    .to_string(),
                database: "pgperf".to_string(),
                clock: None,
            },
            machine: Machine {
                hostname: "ci-runner-2".to_string(),
                os: "Debian GNU/Linux 12 (bookworm)".to_string(),
                arch: "x86_64".to_string(),
                cpu_model: "AMD EPYC 7B13".to_string(),
                cpus: 2,
                memory_bytes: 8 * 1024 * 1024 * 1024,
            },
            workload_name: "dashboard".to_string(),
            workload_hash: "3f1c9a7be2d04a51c8e6f0b7d2a94e6c1b5d8f03a7e29c64b1d0f5e8a3c7b912"
                .to_string(),
            scale: Some(1.0),
            rng_seed: Some(42),
            data_now: None,
        },
        settings: BenchSettings {
            iterations: 1500,
            warmup: 50,
            concurrency: 2,
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

/// `n` identical-looking queries with `samples` samples each (for the size test).
pub fn many_queries(n: usize, samples: usize) -> RunResult {
    let queries = (0..n)
        .map(|i| {
            let mut shape = Shape::new("q", samples, 2_000.0 + 500.0 * i as f64);
            shape.seed = i as u64;
            shape.warmup_factor = 3.0;
            let mut query = query(&shape);
            query.name = format!("dashboard_query_{i:02}");
            query.plan = Some(capture(
                "inventory_low_stock",
                &[Some("20")],
                &["Limit", "  Sort", "    Hash Join"],
            ));
            query
        })
        .collect();
    run(queries)
}

/// The dashboard run the example report and the browser test render.
pub fn dashboard_run() -> RunResult {
    let mut queries = Vec::new();
    for spec in dashboard_specs() {
        let mut query = query(&spec.shape);
        query.tile = spec.tile.map(str::to_string);
        query.claims = spec
            .claims
            .map(|claims| serde_json::from_str(claims).expect("valid claims"));
        query.weight = spec.weight;
        query.rows_per_call = spec.rows;
        query.plan = Some(capture(spec.shape.name, &spec.params, &spec.plan_shape));
        query.warnings = spec.warnings.clone();
        if let Some(server) = &mut query.server {
            server.rows = (spec.rows * server.calls as f64) as i64;
            server.shared_blks_hit = server.calls * spec.buffers_hit;
            server.shared_blks_read = server.calls * spec.buffers_read;
        }
        queries.push(query);
    }
    let mut run = run(queries);
    run.warnings
        .push(Warning::StatementsEvicted { dealloc_delta: 3 });
    run
}

struct Spec {
    shape: Shape,
    tile: Option<&'static str>,
    claims: Option<&'static str>,
    weight: f64,
    rows: f64,
    params: Vec<Option<&'static str>>,
    plan_shape: Vec<&'static str>,
    buffers_hit: i64,
    buffers_read: i64,
    warnings: Vec<Warning>,
}

fn spec(
    name: &'static str,
    sql: &'static str,
    samples: usize,
    median_us: f64,
    budget_ms: Option<f64>,
) -> Spec {
    let mut shape = Shape::new(name, samples, median_us);
    shape.sql = sql;
    shape.budget_ms = budget_ms;
    shape.seed = name.len() as u64 * 31;
    Spec {
        shape,
        tile: None,
        claims: Some(
            r#"{"sub":"7d3f2c1a-0000-4000-8000-000000000007","role":"authenticated","app_role":"manager","org_id":7}"#,
        ),
        weight: 1.0,
        rows: 20.0,
        params: Vec::new(),
        plan_shape: Vec::new(),
        buffers_hit: 100,
        buffers_read: 0,
        warnings: Vec::new(),
    }
}

fn dashboard_specs() -> Vec<Spec> {
    let mut specs = Vec::new();

    let mut s = spec(
        "audit_trail_for_row",
        "select id, actor, action, at\n  from audit_log\n where table_name = $1 and row_key = $2\n order by at desc\n limit 20",
        1500,
        21_000.0,
        Some(15.0),
    );
    s.tile = Some("audit");
    s.shape.sigma = 0.25;
    s.shape.warmup_factor = 2.5;
    s.params = vec![Some("approvals"), Some("4242")];
    s.plan_shape = vec!["Limit", "  Sort", "    Seq Scan audit_log"];
    s.rows = 1.0;
    s.buffers_hit = 3_260;
    s.buffers_read = 40;
    s.warnings = vec![Warning::ColdCache { read_ratio: 0.62 }];
    specs.push(s);

    let mut s = spec(
        "approvals_pending_list",
        "select id, org_id, amount, requested_at\n  from approvals\n where org_id = $1 and status = $2\n order by requested_at desc\n limit 50",
        1500,
        26_000.0,
        Some(38.0),
    );
    s.tile = Some("approvals");
    s.shape.sigma = 0.18;
    s.shape.drift = 0.15;
    s.weight = 5.0;
    s.rows = 50.0;
    s.params = vec![Some("7"), Some("pending")];
    s.plan_shape = vec![
        "Limit",
        "  Gather Merge",
        "    Sort",
        "      Seq Scan approvals",
    ];
    s.buffers_hit = 3_740;
    specs.push(s);

    let mut s = spec(
        "inventory_low_stock",
        "select p.sku, p.name, s.on_hand\n  from inventory_snapshots s\n  join products p on p.id = s.product_id\n where s.taken_on = current_date and s.on_hand < $1\n order by s.on_hand\n limit 100",
        1500,
        33_000.0,
        Some(100.0),
    );
    s.tile = Some("inventory");
    s.shape.sigma = 0.3;
    s.params = vec![Some("20")];
    s.plan_shape = vec![
        "Limit",
        "  Sort",
        "    Hash Join",
        "      Seq Scan inventory_snapshots",
        "      Hash",
        "        Seq Scan products",
    ];
    s.rows = 100.0;
    s.buffers_hit = 7_900;
    specs.push(s);

    let mut s = spec(
        "approvals_tile_counts",
        "select status, count(*)\n  from approvals\n where org_id = $1\n group by status",
        1500,
        17_500.0,
        Some(100.0),
    );
    s.tile = Some("approvals");
    s.weight = 3.0;
    s.params = vec![Some("7")];
    s.plan_shape = vec![
        "Aggregate",
        "  Gather Merge",
        "    Sort",
        "      Aggregate",
        "        Seq Scan approvals",
    ];
    s.rows = 3.0;
    s.buffers_hit = 3_752;
    specs.push(s);

    let mut s = spec(
        "ads_performance_30d",
        "select campaign_id, sum(spend) as spend, sum(clicks) as clicks,\n       sum(revenue) / nullif(sum(spend), 0) as roas\n  from ad_daily\n where day >= current_date - $1::int\n group by campaign_id\n order by roas desc\n limit 20",
        1500,
        15_500.0,
        None,
    );
    s.tile = Some("growth");
    s.params = vec![Some("30")];
    s.plan_shape = vec![
        "Limit",
        "  Sort",
        "    Aggregate",
        "      Seq Scan ad_daily",
    ];
    s.buffers_hit = 2_650;
    specs.push(s);

    let mut s = spec(
        "approvals_monday_backlog",
        "select a.id, a.amount, p.name\n  from approvals a\n  join products p on p.id = a.assignee_id\n where extract(dow from a.requested_at) = $1 and a.amount > $2",
        40,
        24_000.0,
        Some(50.0),
    );
    s.tile = Some("approvals");
    s.weight = 0.2;
    s.params = vec![Some("1"), Some("9500")];
    s.plan_shape = vec![
        "Merge Join",
        "  Index Scan products products_pkey",
        "  Sort",
        "    Gather",
        "      Seq Scan approvals",
    ];
    s.rows = 2_842.0;
    s.buffers_hit = 3_740;
    s.warnings = vec![Warning::TooFewSamples {
        samples: 40,
        needed: 59,
        p95_at_least_us: None,
    }];
    specs.push(s);

    let mut s = spec(
        "product_by_sku",
        "select id, sku, name, category from products where sku = $1",
        1500,
        95.0,
        Some(5.0),
    );
    s.tile = Some("inventory");
    s.shape.sigma = 0.3;
    s.weight = 10.0;
    s.rows = 1.0;
    s.params = vec![Some("SKU-1234")];
    s.plan_shape = vec!["Index Scan products products_sku_key"];
    s.buffers_hit = 3;
    s.warnings = vec![Warning::ClientOverhead {
        client_us: 101.0,
        server_us: 14.0,
    }];
    specs.push(s);

    specs
}

fn estimate(value_ms: f64, low_ms: f64, high_ms: f64) -> pgperf::model::QuantileEstimate {
    pgperf::model::QuantileEstimate {
        value_us: value_ms * 1000.0,
        ci_low_us: Some(low_ms * 1000.0),
        ci_high_us: Some(high_ms * 1000.0),
    }
}

fn key(sql: &str, descending: bool) -> pgperf::model::advice::IndexKey {
    pgperf::model::advice::IndexKey {
        sql: sql.to_string(),
        descending,
    }
}

/// An advise run on the dashboard workload: one index recommended, three rejected.
/// 400 verification latencies whose P95 is close to `p95_ms` (log-normal, sigma 0.35).
fn effect_samples(p95_ms: f64, seed: u64) -> Vec<f64> {
    let p95_over_median = (1.645f64 * 0.35).exp();
    let shape = Shape {
        seed,
        ..Shape::new("verify", 400, p95_ms * 1000.0 / p95_over_median)
    };
    samples(&shape).iter().map(|s| s.latency_us).collect()
}

pub fn advice_result() -> pgperf::model::advice::AdviceResult {
    use pgperf::model::advice::*;
    let run = run(Vec::new());
    let spec = IndexSpec {
        schema: "public".into(),
        table: "approvals".into(),
        keys: vec![
            key("\"org_id\"", false),
            key("\"status\"", false),
            key("\"requested_at\"", true),
        ],
        include: Vec::new(),
        predicate: None,
        method: Default::default(),
    };
    let ddl = "CREATE INDEX CONCURRENTLY IF NOT EXISTS \"approvals_org_id_status_requested_at_idx\"\n    ON \"public\".\"approvals\" (\"org_id\", \"status\", \"requested_at\" DESC);";
    let pending = QueryEffect {
        query: "approvals_pending_list".into(),
        cost_before: 7_684.2,
        cost_after: 12.9,
        p95_before: Some(estimate(31.2, 30.1, 32.6)),
        p95_after: Some(estimate(0.61, 0.58, 0.66)),
        samples_before_us: effect_samples(31.2, 11),
        samples_after_us: effect_samples(0.61, 12),
        evidence: None,
    };
    let counts = QueryEffect {
        query: "approvals_tile_counts".into(),
        cost_before: 6_840.9,
        cost_after: 412.3,
        p95_before: Some(estimate(22.4, 21.7, 23.5)),
        p95_after: Some(estimate(2.9, 2.7, 3.2)),
        samples_before_us: effect_samples(22.4, 13),
        samples_after_us: effect_samples(2.9, 14),
        evidence: None,
    };
    let query_advice = |effect: &QueryEffect, weight: f64| QueryAdvice {
        name: effect.query.clone(),
        weight,
        plan_mode: PlanMode::Custom,
        cost_before: Some(effect.cost_before),
        cost_after: Some(effect.cost_after),
        p95_before: effect.p95_before,
        p95_after: effect.p95_after,
        uses: vec!["approvals_org_id_status_requested_at_idx".into()],
        note: None,
    };
    let mut queries = vec![query_advice(&pending, 5.0), query_advice(&counts, 3.0)];
    queries.push(QueryAdvice {
        name: "product_by_sku".into(),
        weight: 10.0,
        plan_mode: PlanMode::Custom,
        cost_before: Some(8.3),
        cost_after: Some(8.3),
        p95_before: None,
        p95_after: None,
        uses: Vec::new(),
        note: Some("already served by products_sku_key".into()),
    });
    AdviceResult {
        schema_version: ADVICE_SCHEMA_VERSION,
        run_id: "20261125-094500-advise".into(),
        started_at: run.started_at,
        finished_at: run.finished_at,
        target: run.environment.target.clone(),
        workload_name: "dashboard".into(),
        what_if: WhatIfMethod::Hypopg,
        verification: Verification::Measured { executions: 200 },
        budget_bytes: Some(256 * 1024 * 1024),
        recommendations: vec![Recommendation {
            name: "approvals_org_id_status_requested_at_idx".into(),
            spec: spec.clone(),
            ddl: ddl.into(),
            partitions: Vec::new(),
            serves: vec!["approvals_pending_list".into(), "approvals_tile_counts".into()],
            estimated_size_bytes: 41_943_040,
            size_bytes: Some(16_269_312),
            benefit: 59_041.2,
            effects: vec![pending, counts],
        }],
        rejected: vec![
            RejectedCandidate {
                spec: IndexSpec { keys: vec![key("\"status\"", false)], ..spec.clone() },
                queries: vec!["approvals_pending_list".into()],
                reason: RejectReason::Superseded { by: "approvals_org_id_status_requested_at_idx".into() },
                explanation: "approvals_org_id_status_requested_at_idx serves the same queries with one index".into(),
            },
            RejectedCandidate {
                spec: IndexSpec { table: "products".into(), keys: vec![key("\"sku\"", false)], ..spec.clone() },
                queries: vec!["product_by_sku".into()],
                reason: RejectReason::AlreadyCovered { index: "products_sku_key".into() },
                explanation: "products_sku_key already has (sku) as its leading column".into(),
            },
            RejectedCandidate {
                spec: IndexSpec { table: "audit_log".into(), keys: vec![key("\"table_name\"", false)], ..spec.clone() },
                queries: vec!["audit_trail_for_row".into()],
                reason: RejectReason::NoMeasuredImprovement { query: "audit_trail_for_row".into() },
                explanation: "P95 21.9 ms → 21.4 ms: the 95% interval of the ratio includes 1".into(),
            },
        ],
        statistics: Vec::new(),
        rejected_statistics: Vec::new(),
        queries,
        existing_indexes: vec![ExistingIndexFinding {
            schema: "public".into(),
            table: "audit_log".into(),
            index: "audit_log_actor_idx".into(),
            issue: ExistingIndexIssue::Unused,
            size_bytes: 9_437_184,
        }],
        migration: Some(MigrationFiles {
            up_path: "migrations/0007_dashboard_indexes.sql".into(),
            down_path: "migrations/0007_dashboard_indexes.rollback.sql".into(),
            up_sql: format!("-- pgperf:no-transaction\n-- serves approvals_pending_list (P95 31.2 ms → 0.61 ms), approvals_tile_counts (P95 22.4 ms → 2.9 ms); 16 MB\n{ddl}\n"),
            down_sql: "-- pgperf:no-transaction\nDROP INDEX CONCURRENTLY IF EXISTS \"public\".\"approvals_org_id_status_requested_at_idx\";\n".into(),
        }),
        notes: Vec::new(),
    }
}

fn timing(
    baseline_p95_ms: f64,
    current_p95_ms: f64,
    interval: Option<(f64, f64)>,
    q_value: Option<f64>,
    outcome: pgperf::model::check::TimingOutcome,
) -> pgperf::model::check::TimingComparison {
    pgperf::model::check::TimingComparison {
        baseline_n: 1500,
        current_n: 1500,
        baseline_p95_us: baseline_p95_ms * 1000.0,
        current_p95_us: current_p95_ms * 1000.0,
        ratio: current_p95_ms / baseline_p95_ms,
        ratio_ci_low: interval.map(|(low, _)| low),
        ratio_ci_high: interval.map(|(_, high)| high),
        p_value: q_value.map(|q| q / 2.0),
        q_value,
        outcome,
    }
}

fn verdict(
    name: &str,
    verdict: pgperf::model::check::Verdict,
    timing: Option<pgperf::model::check::TimingComparison>,
    findings: Vec<pgperf::model::check::FindingKind>,
) -> pgperf::model::check::QueryVerdict {
    let findings: Vec<_> = findings
        .into_iter()
        .map(|kind| pgperf::model::check::Finding {
            fails_gate: kind.signal() != pgperf::model::check::Signal::Rows,
            kind,
        })
        .collect();
    pgperf::model::check::QueryVerdict {
        name: name.to_string(),
        verdict,
        timing,
        fails_gate: findings.iter().any(|finding| finding.fails_gate),
        findings,
    }
}

/// A CI check of a pull request against the dashboard baseline: one regression with a plan
/// change, one improvement, one breached budget, one inconclusive, the rest unchanged.
pub fn check_report() -> pgperf::model::check::CheckReport {
    use pgperf::model::check::*;
    let baseline = run(Vec::new());
    let lines = |lines: &[&str]| {
        lines
            .iter()
            .map(|line| line.to_string())
            .collect::<Vec<_>>()
    };
    let queries = vec![
        verdict(
            "approvals_pending_list",
            Verdict::Improved,
            Some(timing(
                37.6,
                30.9,
                Some((0.79, 0.85)),
                Some(0.002),
                TimingOutcome::Faster,
            )),
            Vec::new(),
        ),
        verdict(
            "audit_trail_for_row",
            Verdict::Regressed,
            Some(timing(
                1.9,
                38.5,
                Some((18.2, 21.9)),
                Some(0.001),
                TimingOutcome::Slower,
            )),
            vec![
                FindingKind::TimingRegression {
                    ratio: 20.3,
                    ratio_ci_low: 18.2,
                    ratio_ci_high: 21.9,
                    difference_us: 36_600.0,
                },
                FindingKind::PlanChanged {
                    before_hash: "7c1e0a9d52b3f418".into(),
                    after_hash: "be1e08c47287358f".into(),
                    before: lines(&[
                        "Limit",
                        "  Index Scan audit_log audit_log_table_name_row_key_at_idx",
                    ]),
                    after: lines(&["Limit", "  Sort", "    Gather", "      Seq Scan audit_log"]),
                },
                FindingKind::BuffersUp {
                    baseline_per_call: 5.0,
                    current_per_call: 3_300.0,
                },
                FindingKind::BudgetBreached {
                    budget_p95_us: 15_000.0,
                    p95_us: 38_500.0,
                },
            ],
        ),
        verdict(
            "inventory_low_stock",
            Verdict::Unchanged,
            Some(timing(
                52.1,
                52.5,
                Some((0.97, 1.04)),
                Some(0.81),
                TimingOutcome::Unchanged,
            )),
            vec![FindingKind::RowsChanged {
                baseline_per_call: 96.0,
                current_per_call: 100.0,
            }],
        ),
        verdict(
            "approvals_tile_counts",
            Verdict::Unchanged,
            Some(timing(
                31.8,
                31.5,
                Some((0.96, 1.02)),
                Some(0.9),
                TimingOutcome::Unchanged,
            )),
            Vec::new(),
        ),
        verdict(
            "approvals_monday_backlog",
            Verdict::Inconclusive,
            Some(TimingComparison {
                baseline_n: 40,
                current_n: 40,
                ..timing(37.0, 38.1, None, None, TimingOutcome::TooFewSamples)
            }),
            Vec::new(),
        ),
        verdict(
            "product_by_sku",
            Verdict::Unchanged,
            Some(timing(
                0.152,
                0.154,
                Some((0.98, 1.03)),
                Some(0.9),
                TimingOutcome::Unchanged,
            )),
            Vec::new(),
        ),
        verdict(
            "ads_performance_30d",
            Verdict::Unchanged,
            Some(timing(
                26.1,
                26.7,
                Some((0.99, 1.06)),
                Some(0.6),
                TimingOutcome::Unchanged,
            )),
            Vec::new(),
        ),
    ];
    CheckReport {
        schema_version: CHECK_SCHEMA_VERSION,
        baseline: RunRef {
            run_id: "20261124-180000-dashboard".into(),
            started_at: baseline.started_at - chrono::Duration::hours(15),
            complete: true,
            abort_reason: None,
        },
        current: RunRef {
            run_id: baseline.run_id.clone(),
            started_at: baseline.started_at,
            complete: true,
            abort_reason: None,
        },
        options: CheckOptions::default(),
        comparability: Comparability::default(),
        queries,
        outcome: GateOutcome::Fail,
        drift: None,
    }
}
