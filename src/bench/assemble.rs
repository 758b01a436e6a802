//! Turning recorders, server deltas and plans into [`QueryResult`]s with their warnings.

use super::phases::Measured;
use super::plans::Captured;
use super::recorder::QueryRecorder;
use super::warnings;
use crate::model::{PlanCapture, QueryResult, StatementStats};
use crate::pg::stat_statements::{self, StatementKey};
use crate::workload::{Query, Workload};

/// What results are assembled with besides recorders and plans.
pub(super) struct Assembly<'a> {
    /// The connecting user: the role of queries without a persona.
    pub(super) user: &'a str,
    pub(super) userids: &'a [Option<u32>],
    pub(super) measured: &'a Measured,
}

pub(super) fn assemble(
    workload: &Workload,
    recorders: Vec<QueryRecorder>,
    assembly: &Assembly<'_>,
    plans_before: Vec<Captured>,
    plans_after: Vec<Captured>,
) -> Vec<QueryResult> {
    let iter = workload
        .queries
        .iter()
        .zip(recorders)
        .zip(plans_before.into_iter().zip(plans_after));
    iter.enumerate()
        .map(|(index, ((query, recorder), (before, after)))| {
            let query_ids = [&before, &after]
                .into_iter()
                .flatten()
                .filter_map(|(_, id)| *id);
            let keys: Vec<StatementKey> = query_ids
                .flat_map(|queryid| {
                    assembly.userids[index].map(|userid| StatementKey { queryid, userid })
                })
                .collect();
            let plan = before.map(|(plan, _)| plan);
            let server = with_worker_stats(
                server_delta(assembly.measured, &keys),
                assembly.measured,
                plan.as_ref(),
            );
            let mut result = query_result(query, assembly.user, recorder, server, plan);
            result.warnings =
                warnings::query_warnings(&result, after.as_ref().map(|(plan, _)| plan));
            if assembly.measured.before.is_some() {
                warnings::stats_were_readable(&mut result.warnings);
            }
            result
        })
        .collect()
}

pub(super) fn server_delta(measured: &Measured, keys: &[StatementKey]) -> Option<StatementStats> {
    let mut keys = keys.to_vec();
    keys.dedup();
    stat_statements::delta(measured.before.as_ref()?, measured.after.as_ref()?, &keys)
}

/// On Citus, adds what the query's shard queries did on the workers (matched through the
/// tasks of its plan) to the coordinator's counters, so buffers per call include shard work.
fn with_worker_stats(
    server: Option<StatementStats>,
    measured: &Measured,
    plan: Option<&PlanCapture>,
) -> Option<StatementStats> {
    let Some(plan) = plan else {
        return server;
    };
    let mut server = server?;
    let tasks = crate::citus::plan::task_queries(&plan.explain);
    let (before, after) = (measured.before.as_ref(), measured.after.as_ref());
    let workers = before
        .zip(after)
        .and_then(|(before, after)| stat_statements::worker_delta(before, after, &tasks));
    if let Some(workers) = workers {
        server.shared_blks_hit += workers.shared_blks_hit;
        server.shared_blks_read += workers.shared_blks_read;
        server.shared_blks_dirtied += workers.shared_blks_dirtied;
        server.shared_blks_written += workers.shared_blks_written;
        server.temp_blks_read += workers.temp_blks_read;
        server.temp_blks_written += workers.temp_blks_written;
        server.workers = Some(Box::new(workers));
    }
    Some(server)
}

/// A query's result from its recorder: statistics over the kept samples, the full histogram.
pub(super) fn query_result(
    query: &Query,
    user: &str,
    recorder: QueryRecorder,
    server: Option<StatementStats>,
    plan: Option<PlanCapture>,
) -> QueryResult {
    let raw_samples = recorder.samples();
    let latencies: Vec<f64> = raw_samples.iter().map(|sample| sample.latency_us).collect();
    let successes = recorder.successes();
    QueryResult {
        name: query.name.clone(),
        sql: query.sql.clone(),
        tile: query.tile.clone(),
        role: query
            .persona
            .as_ref()
            .map_or_else(|| user.to_string(), |p| p.role.clone()),
        claims: query.persona.as_ref().and_then(|p| p.claims.clone()),
        settings: query
            .persona
            .as_ref()
            .map(|p| p.settings.clone())
            .unwrap_or_default(),
        weight: query.weight,
        budget_p95_us: Some(query.budget_p95_ms * 1000.0),
        samples: successes,
        errors: recorder.errors,
        first_error: recorder.first_error.clone(),
        latency: crate::stats::summarize(&latencies),
        histogram: recorder.histogram(),
        raw_samples,
        rows_per_call: if successes > 0 {
            recorder.rows as f64 / successes as f64
        } else {
            0.0
        },
        server,
        plan,
        warnings: Vec::new(),
        sampling: None,
    }
}
