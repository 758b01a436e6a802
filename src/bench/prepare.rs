//! What a run needs before it measures: the connecting user, the environment, parameter
//! generators with their `sample` queries resolved, and each query's role oid for matching
//! pg_stat_statements rows.

use postgres::Client;

use super::{BenchContext, BenchError};
use crate::model::Environment;
use crate::pg::{describe, environment, stat_statements};
use crate::workload::{Generator, ParamPlan, Query, Workload};

pub(super) fn session_user(client: &mut Client) -> Result<String, BenchError> {
    client
        .query_one("SELECT session_user::text", &[])
        .map(|row| row.get(0))
        .map_err(|error| BenchError::Environment(describe(&error)))
}

pub(super) fn read_environment(
    client: &mut Client,
    workload: &Workload,
    context: &BenchContext,
) -> Result<Environment, BenchError> {
    let server = environment::server_info(client)
        .map_err(|error| BenchError::Environment(describe(&error)))?;
    Ok(Environment {
        pgperf_version: env!("CARGO_PKG_VERSION").to_string(),
        server_version: server.version,
        server_version_num: server.version_num,
        server_settings: server.settings,
        extensions: server.extensions,
        target: context.target.clone(),
        machine: environment::machine(),
        workload_name: workload.name.clone(),
        workload_hash: workload.hash.clone(),
        scale: context.scale,
        rng_seed: context.seed_rng_seed,
        data_now: context.data_now,
    })
}

/// Compiles every query's generators, running `sample` queries once (as the connecting user,
/// so RLS does not hide rows).
pub(super) fn resolve_generators(
    client: &mut Client,
    queries: &[Query],
) -> Result<Vec<Vec<Generator>>, BenchError> {
    queries
        .iter()
        .map(|query| {
            query
                .params
                .iter()
                .enumerate()
                .map(|(index, plan)| resolve_one(client, query, index + 1, plan))
                .collect()
        })
        .collect()
}

pub(super) fn resolve_one(
    client: &mut Client,
    query: &Query,
    param: usize,
    plan: &ParamPlan,
) -> Result<Generator, BenchError> {
    let (sample_sql, limit) = match plan {
        ParamPlan::Ready(generator) => return Ok(generator.clone()),
        ParamPlan::Sample { sql, limit } => (sql, *limit),
    };
    let failed = |reason: String| BenchError::Sample {
        query: query.name.clone(),
        param,
        reason,
    };
    let messages = client
        .simple_query(sample_sql)
        .map_err(|error| failed(describe(&error)))?;
    let values: Vec<Option<String>> = messages
        .iter()
        .filter_map(|message| match message {
            postgres::SimpleQueryMessage::Row(row) => Some(row.get(0).map(str::to_string)),
            _ => None,
        })
        .take(usize::try_from(limit).unwrap_or(usize::MAX))
        .collect();
    if values.is_empty() {
        return Err(BenchError::EmptySample {
            query: query.name.clone(),
            param,
        });
    }
    Ok(Generator::from_rows(values))
}

/// The role oid each query's pg_stat_statements rows carry, when the role exists.
pub(super) fn role_oids(client: &mut Client, queries: &[Query]) -> Vec<Option<u32>> {
    queries
        .iter()
        .map(|query| {
            let role = query.persona.as_ref().map(|persona| persona.role.as_str());
            stat_statements::role_oid(client, role).ok()
        })
        .collect()
}
