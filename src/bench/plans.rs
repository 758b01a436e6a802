//! Out-of-band EXPLAIN (ANALYZE, BUFFERS) of every query, before and after the measured phase.

use chrono::{DateTime, Utc};
use postgres::Client;

use super::engine;
use super::executor::{caller_of, reads_only};
use crate::model::{PlanCapture, Protocol};
use crate::pg::{explain, session::Session};
use crate::workload::{Generator, Query, sql};

/// What EXPLAIN captures need to reproduce a query's execution.
pub(super) struct PlanInput<'a> {
    pub(super) queries: &'a [Query],
    pub(super) generators: &'a [Vec<Generator>],
    pub(super) protocol: Protocol,
    pub(super) seed: u64,
    pub(super) params_now: DateTime<Utc>,
    pub(super) default_timeout_ms: u64,
}

/// A plan and the query identifier it reported.
pub(super) type Captured = Option<(PlanCapture, Option<i64>)>;

/// One EXPLAIN (ANALYZE, BUFFERS) per query, under its persona and with parameters drawn
/// from its generators; inside a transaction that is rolled back (READ ONLY for reads). A query whose
/// EXPLAIN fails gets no plan (its executions will record the error).
pub(super) fn capture_plans(client: &mut Client, input: &PlanInput<'_>) -> Vec<Captured> {
    let mut session = Session::new();
    let plans = input
        .queries
        .iter()
        .enumerate()
        .map(|(index, query)| {
            let params = engine::draw_params(
                &input.generators[index],
                input.seed,
                u64::MAX - index as u64,
                input.params_now,
            );
            session
                .apply(
                    client,
                    caller_of(query).as_ref(),
                    query.statement_timeout_ms,
                )
                .ok()?;
            explain_one(client, query, &params, input.protocol).ok()
        })
        .collect();
    // Back to the connecting user: pg_stat_statements hides other users' queryids from a
    // role without pg_read_all_stats, and snapshots run on this connection.
    let _ = session.apply(client, None, input.default_timeout_ms);
    plans
}

pub(super) fn explain_one(
    client: &mut Client,
    query: &Query,
    params: &[Option<String>],
    protocol: Protocol,
) -> Result<(PlanCapture, Option<i64>), postgres::Error> {
    // EXPLAIN ANALYZE executes: reads in a READ ONLY transaction, everything rolled back.
    client.batch_execute(if reads_only(query) {
        "BEGIN READ ONLY"
    } else {
        "BEGIN"
    })?;
    let result = if protocol == Protocol::Simple {
        let inlined = sql::inline_params(&query.sql, &query.placeholders, params);
        explain::explain_analyze(client, &inlined, &[]).map(|(mut plan, id)| {
            plan.params = params.to_vec();
            (plan, id)
        })
    } else {
        explain::explain_analyze(client, &query.sql, params)
    };
    let rolled_back = client.batch_execute("ROLLBACK");
    let captured = result?;
    rolled_back?;
    Ok(captured)
}
