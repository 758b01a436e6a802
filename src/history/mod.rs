//! Performance over time (`pgperf history`): a store that keeps every run with its commit,
//! branch and time ([`store`]), trends per query with their shifts ([`trend`]) and error
//! budgets with burn-rate alerts ([`budget`]), and the outputs of `history check` ([`render`]).
//!
//! The store keeps a summary of each run ([`HistoryRun`]), not its raw samples: what the trends
//! and budgets need (percentiles with their intervals, executions over budget, buffers, plan
//! hash), so that a year of runs stays small in a SQLite file or a PostgreSQL schema.

pub mod budget;
pub mod render;
pub mod store;
pub mod trend;

use chrono::{DateTime, Utc};

use crate::model::history::{HistoryQuery, HistoryRun};
use crate::model::{QueryResult, RunResult};

/// Where a run came from, as the caller knows it (flags, CI variables, git).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Provenance {
    pub commit: Option<String>,
    pub branch: Option<String>,
}

/// A failure of the history store.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error("cannot create the folder of the history file {path}: {source}")]
    Folder {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot use the history file {path}: {source}")]
    Sqlite {
        path: String,
        #[source]
        source: rusqlite::Error,
    },
    #[error("cannot use the history schema {schema}: {}", crate::pg::describe(.source))]
    Postgres {
        schema: String,
        #[source]
        source: postgres::Error,
    },
    #[error(
        "the history at {place} has format version {found}, this pgperf reads version {expected}: use a newer pgperf, or start a new history with --history"
    )]
    Version {
        place: String,
        found: i64,
        expected: i64,
    },
    #[error(
        "the history at {place} holds a value pgperf cannot read ({what}): it was changed by hand"
    )]
    Corrupt { place: String, what: String },
}

/// The summary of `result` the history keeps.
pub fn summarize(result: &RunResult, provenance: &Provenance, now: DateTime<Utc>) -> HistoryRun {
    HistoryRun {
        run_id: result.run_id.clone(),
        started_at: result.started_at,
        recorded_at: now,
        commit: provenance.commit.clone(),
        branch: provenance.branch.clone(),
        workload_name: result.environment.workload_name.clone(),
        workload_hash: result.environment.workload_hash.clone(),
        pgperf_version: result.environment.pgperf_version.clone(),
        server_version: result.environment.server_version.clone(),
        complete: result.complete,
        queries: result.queries.iter().map(summarize_query).collect(),
    }
}

fn summarize_query(query: &QueryResult) -> HistoryQuery {
    HistoryQuery {
        name: query.name.clone(),
        tile: query.tile.clone(),
        samples: query.samples,
        errors: query.errors,
        budget_p95_us: query.budget_p95_us,
        over_budget: query.budget_p95_us.map(|budget| over_budget(query, budget)),
        p50: query.latency.map(|latency| latency.p50),
        p95: query.latency.map(|latency| latency.p95),
        p99: query.latency.map(|latency| latency.p99),
        buffers_per_call: query
            .server
            .as_ref()
            .filter(|s| s.calls > 0)
            .map(|s| (s.shared_blks_hit + s.shared_blks_read) as f64 / s.calls as f64),
        plan_hash: query.plan.as_ref().map(|plan| plan.shape_hash.clone()),
    }
}

/// Successful executions slower than `budget_us`: counted in the full histogram when there is
/// one, else estimated from the raw-sample reservoir (a uniform sample of the executions).
fn over_budget(query: &QueryResult, budget_us: f64) -> u64 {
    if !query.histogram.is_empty() {
        return query
            .histogram
            .iter()
            .filter(|(value_us, _)| *value_us as f64 > budget_us)
            .map(|(_, count)| count)
            .sum();
    }
    if query.raw_samples.is_empty() {
        return 0;
    }
    let over = query
        .raw_samples
        .iter()
        .filter(|sample| sample.latency_us > budget_us)
        .count();
    (over as f64 / query.raw_samples.len() as f64 * query.samples as f64).round() as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Sample;

    fn query_with(samples_us: &[f64], histogram: Vec<(u64, u64)>) -> QueryResult {
        QueryResult {
            name: "q".into(),
            sql: "SELECT 1".into(),
            tile: None,
            role: "authenticated".into(),
            claims: None,
            settings: Default::default(),
            sampling: None,
            weight: 1.0,
            budget_p95_us: Some(100.0),
            samples: 1000,
            errors: 0,
            first_error: None,
            latency: crate::stats::summarize(samples_us),
            raw_samples: samples_us
                .iter()
                .map(|&latency_us| Sample {
                    at_ms: 0.0,
                    latency_us,
                })
                .collect(),
            histogram,
            rows_per_call: 1.0,
            server: None,
            plan: None,
            warnings: Vec::new(),
        }
    }

    #[test]
    fn executions_over_budget_come_from_the_histogram_when_there_is_one() {
        let query = query_with(
            &[50.0, 150.0],
            vec![(50, 900), (100, 60), (101, 30), (400, 10)],
        );
        assert_eq!(over_budget(&query, 100.0), 40);
    }

    #[test]
    fn without_a_histogram_the_reservoir_share_is_scaled_to_all_executions() {
        let query = query_with(&[50.0, 60.0, 70.0, 150.0], Vec::new());
        assert_eq!(over_budget(&query, 100.0), 250);
    }
}
