//! The statistics table of one query: client-side latency with intervals, then the server's
//! pg_stat_statements counters per call, so client and server time sit side by side.

use super::format;
use super::view::interval;
use crate::model::{QuantileEstimate, QueryResult, StatementStats};

/// Label/value rows, client first, then server.
pub fn rows(query: &QueryResult) -> Vec<(String, String)> {
    let mut rows = vec![
        ("samples".to_string(), format::count(query.samples as i64)),
        ("errors".to_string(), format::count(query.errors as i64)),
    ];
    if let Some(latency) = &query.latency {
        rows.push(quantile("P50", &latency.p50));
        rows.push(quantile("P95", &latency.p95));
        rows.push(quantile("P99", &latency.p99));
        rows.push((
            "min – max".into(),
            format!(
                "{} – {}",
                format::latency_us(latency.min_us),
                format::latency_us(latency.max_us)
            ),
        ));
        rows.push((
            "client mean ± sd".into(),
            format!(
                "{} ± {}",
                format::latency_us(latency.mean_us),
                format::latency_us(latency.stddev_us)
            ),
        ));
    }
    rows.push((
        "rows per call (client)".into(),
        format::per_call(query.rows_per_call),
    ));
    match &query.server {
        Some(server) => rows.extend(server_rows(server)),
        None => rows.push((
            "server counters".into(),
            "none (pg_stat_statements row not matched)".into(),
        )),
    }
    rows
}

fn quantile(label: &str, estimate: &QuantileEstimate) -> (String, String) {
    let value = format::latency_us(estimate.value_us);
    let text = match interval(estimate) {
        Some(interval) => format!("{value}  (95% interval {interval})"),
        None => format!("{value}  (no interval: too few samples)"),
    };
    (label.to_string(), text)
}

fn server_rows(server: &StatementStats) -> Vec<(String, String)> {
    let calls = server.calls.max(1) as f64;
    let per_call = |value: i64| format::per_call(value as f64 / calls);
    vec![
        ("server calls".into(), format::count(server.calls)),
        (
            "server mean execution".into(),
            format::latency_ms(server.mean_exec_time_ms),
        ),
        (
            "server mean planning".into(),
            format::latency_ms(server.total_plan_time_ms / calls),
        ),
        ("server rows per call".into(), per_call(server.rows)),
        (
            "shared blocks hit / read per call".into(),
            format!(
                "{} / {}",
                per_call(server.shared_blks_hit),
                per_call(server.shared_blks_read)
            ),
        ),
        (
            "temp blocks read / written per call".into(),
            format!(
                "{} / {}",
                per_call(server.temp_blks_read),
                per_call(server.temp_blks_written)
            ),
        ),
        (
            "block read time (total)".into(),
            format::latency_ms(server.blk_read_time_ms),
        ),
        ("WAL bytes per call".into(), per_call(server.wal_bytes)),
    ]
}
