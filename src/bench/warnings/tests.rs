use super::*;
use crate::model::{LatencySummary, QuantileEstimate, StatementStats};

fn estimate(value_us: f64) -> QuantileEstimate {
    QuantileEstimate {
        value_us,
        ci_low_us: None,
        ci_high_us: None,
    }
}

fn plan(hash: &str) -> PlanCapture {
    PlanCapture {
        shape_hash: hash.to_string(),
        shape: vec![],
        params: vec![],
        explain: serde_json::Value::Null,
        planning_time_ms: 0.0,
        execution_time_ms: 0.0,
        distributed: None,
    }
}

/// A healthy query: 100 samples of 1 ms, warm cache, server time close to client time.
fn healthy() -> QueryResult {
    QueryResult {
        name: "q".into(),
        sql: "SELECT 1".into(),
        tile: None,
        role: String::new(),
        claims: None,
        settings: Default::default(),
        weight: 1.0,
        budget_p95_us: Some(100_000.0),
        samples: 100,
        errors: 0,
        first_error: None,
        latency: Some(LatencySummary {
            n: 100,
            min_us: 900.0,
            max_us: 1100.0,
            mean_us: 1000.0,
            stddev_us: 50.0,
            p50: estimate(1000.0),
            p95: estimate(1080.0),
            p99: estimate(1100.0),
        }),
        raw_samples: vec![],
        histogram: vec![(950, 25), (1000, 50), (1050, 25)],
        rows_per_call: 1.0,
        server: Some(StatementStats {
            calls: 100,
            mean_exec_time_ms: 0.8,
            shared_blks_hit: 1000,
            shared_blks_read: 10,
            ..StatementStats::default()
        }),
        plan: Some(plan("aaaa")),
        warnings: vec![],
        sampling: None,
    }
}

#[test]
fn a_healthy_query_has_no_warning() {
    assert_eq!(query_warnings(&healthy(), Some(&plan("aaaa"))), vec![]);
}

#[test]
fn too_few_samples_and_errors() {
    let mut query = healthy();
    query.samples = 58;
    query.errors = 3;
    assert_eq!(
        query_warnings(&query, None),
        vec![
            Warning::TooFewSamples {
                samples: 58,
                needed: 59,
                p95_at_least_us: p95_lower_bound_us(&query),
            },
            Warning::Errors { count: 3 }
        ]
    );
}

#[test]
fn far_outliers_above_one_percent_are_flagged() {
    let mut query = healthy();
    query.histogram.push((50_000, 2));
    let warnings = query_warnings(&query, None);
    assert_eq!(
        warnings,
        // Q1 = 1000 µs, Q3 = 1050 µs: the far-out fence is 1050 + 3 × 50.
        vec![Warning::Outliers {
            count: 2,
            threshold_us: 1200.0
        }]
    );
    query.histogram = vec![(950, 250), (1000, 500), (1050, 250), (50_000, 2)];
    assert_eq!(
        query_warnings(&query, None),
        vec![],
        "0.2% of executions is noise"
    );
}

#[test]
fn cold_cache_client_overhead_and_missing_stats() {
    let mut query = healthy();
    let server = query.server.as_mut().expect("server");
    server.shared_blks_read = 500;
    server.mean_exec_time_ms = 0.1;
    let warnings = query_warnings(&query, None);
    assert!(
        matches!(warnings[0], Warning::ColdCache { read_ratio } if (read_ratio - 1.0 / 3.0).abs() < 1e-9)
    );
    assert_eq!(
        warnings[1],
        Warning::ClientOverhead {
            client_us: 1000.0,
            server_us: 100.0
        }
    );
    query.server = None;
    assert_eq!(query_warnings(&query, None), vec![Warning::NoServerStats]);
}

#[test]
fn a_changed_plan_is_flagged_with_short_hashes() {
    let before = "0123456789abcdef0123";
    let mut query = healthy();
    query.plan = Some(plan(before));
    assert_eq!(
        query_warnings(&query, Some(&plan("fedcba9876543210fedc"))),
        vec![Warning::PlanChanged {
            before: "0123456789ab".into(),
            after: "fedcba987654".into()
        }]
    );
}

#[test]
fn run_warnings_for_eviction_and_missed_rate() {
    assert_eq!(run_warnings(Some(0), Some((100.0, 95.0))), vec![]);
    assert_eq!(
        run_warnings(Some(4), Some((100.0, 50.0))),
        vec![
            Warning::StatementsEvicted { dealloc_delta: 4 },
            Warning::RateNotReached {
                requested_qps: 100.0,
                achieved_qps: 50.0
            }
        ]
    );
}

#[test]
fn every_warning_names_its_remedy() {
    let text: Vec<String> = [
        Warning::TooFewSamples {
            samples: 10,
            needed: 59,
            p95_at_least_us: None,
        },
        Warning::TooFewSamples {
            samples: 12,
            needed: 59,
            p95_at_least_us: Some(820_000.0),
        },
        Warning::RateNotReached {
            requested_qps: 100.0,
            achieved_qps: 50.0,
        },
        Warning::ColdCache { read_ratio: 0.5 },
    ]
    .iter()
    .map(ToString::to_string)
    .collect();
    insta::assert_snapshot!(text.join("\n"));
}

/// Issue 15: a fence of 40 µs printed as "0.0 ms"; the preload advice was shown for a query
/// that never completed, or when pg_stat_statements was loaded and simply had no row.
#[test]
fn small_fences_in_microseconds_and_preload_advice_only_when_it_applies() {
    let fence = Warning::Outliers {
        count: 3,
        threshold_us: 40.0,
    };
    assert!(
        fence.to_string().starts_with("3 outliers above 40 µs"),
        "{fence}"
    );
    let fence = Warning::Outliers {
        count: 3,
        threshold_us: 1260.0,
    };
    assert!(
        fence.to_string().starts_with("3 outliers above 1.3 ms"),
        "{fence}"
    );

    let mut failed = healthy();
    failed.server = None;
    failed.samples = 0;
    failed.errors = 5;
    assert!(!query_warnings(&failed, None).contains(&Warning::NoServerStats));

    let mut unmatched = healthy();
    unmatched.server = None;
    let mut warnings = query_warnings(&unmatched, None);
    super::stats_were_readable(&mut warnings);
    assert_eq!(warnings, vec![Warning::ServerStatsMissing]);
    assert!(!warnings[0].to_string().contains("shared_preload_libraries"));
}
