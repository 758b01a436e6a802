//! hyperfine's JSON layout (`{"results": [{"command": ..., "mean": ..., "times": [...]}]}`, in
//! seconds), so its plotting scripts read a pgperf export unchanged; the query name is the
//! `command`, the P50 is the `median`, and the pgperf quantiles and counts are extra keys.

use std::io;

use serde::Serialize;

use super::{Exporter, figures};
use crate::model::{QueryResult, RunResult};

pub(super) struct JsonExporter;

#[derive(Serialize)]
struct Export<'a> {
    run_id: &'a str,
    workload: &'a str,
    results: Vec<Entry<'a>>,
}

#[derive(Serialize)]
struct Entry<'a> {
    command: &'a str,
    mean: Option<f64>,
    stddev: Option<f64>,
    median: Option<f64>,
    min: Option<f64>,
    max: Option<f64>,
    p95: Option<f64>,
    p95_ci_low: Option<f64>,
    p95_ci_high: Option<f64>,
    p99: Option<f64>,
    budget_p95: Option<f64>,
    n: u64,
    errors: u64,
    /// The reservoir of raw latencies, seconds, in execution order.
    times: Vec<f64>,
}

impl Exporter for JsonExporter {
    fn write(&self, result: &RunResult, out: &mut dyn io::Write) -> io::Result<()> {
        let export = Export {
            run_id: &result.run_id,
            workload: &result.environment.workload_name,
            results: result.queries.iter().map(entry).collect(),
        };
        serde_json::to_writer_pretty(&mut *out, &export)?;
        writeln!(out)
    }
}

fn entry(query: &QueryResult) -> Entry<'_> {
    let f = figures(query);
    let get = |pick: fn(&super::Figures) -> f64| f.as_ref().map(pick);
    Entry {
        command: &query.name,
        mean: get(|f| f.mean_s),
        stddev: get(|f| f.stddev_s),
        median: get(|f| f.median_s),
        min: get(|f| f.min_s),
        max: get(|f| f.max_s),
        p95: get(|f| f.p95_s),
        p95_ci_low: f.as_ref().and_then(|f| f.p95_ci_s).map(|c| c.0),
        p95_ci_high: f.as_ref().and_then(|f| f.p95_ci_s).map(|c| c.1),
        p99: get(|f| f.p99_s),
        budget_p95: query.budget_p95_us.map(|us| us / 1e6),
        n: query.samples,
        errors: query.errors,
        times: query
            .raw_samples
            .iter()
            .map(|s| s.latency_us / 1e6)
            .collect(),
    }
}
