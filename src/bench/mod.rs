//! The replay engine (DESIGN §7): runs a workload's queries under their roles and claims, and
//! produces a [`RunResult`]. The steps are named functions — connect, read the environment,
//! resolve parameters, EXPLAIN, warm up, snapshot, measure, snapshot, EXPLAIN again, summarise,
//! warn — so each can be read (and reused: `advise` calls [`measure_queries`]) on its own.
//!
//! Once measuring has started, a failure no longer loses the run: a lost connection or Ctrl-C
//! gives a [`RunResult`] with `complete = false` and the reason, holding everything measured.

mod assemble;
pub mod budget;
mod engine;
mod executor;
pub mod export;
mod phases;
mod plans;
mod prepare;
pub mod progress;
mod recorder;
pub mod results;
mod session_checks;
pub mod table;
pub mod warnings;

use std::time::Duration;

use chrono::{DateTime, Utc};
use postgres::Client;

pub use executor::Wrapping;

use crate::model::{
    BenchSettings, Protocol, QueryResult, RESULT_SCHEMA_VERSION, RunResult, Target,
};
use crate::pg::describe;
use crate::workload::{Query, Workload};
use assemble::{Assembly, assemble, query_result};
use engine::{Phase, PhasePlan, Schedule, Tasks};
use executor::Executor;
use phases::{Measured, PhaseInput, measure_phases};
use plans::{PlanInput, capture_plans};
use prepare::{read_environment, resolve_generators, role_oids, session_user};
use progress::Progress;

/// What a run records about where it ran, beyond the connection itself.
#[derive(Debug, Clone)]
pub struct BenchContext {
    /// The database, as results record it (no password).
    pub target: Target,
    /// Seeder scale, when pgperf seeded the database.
    pub scale: Option<f64>,
    /// Seeder RNG seed, when pgperf seeded the database.
    pub seed_rng_seed: Option<u64>,
    /// Show progress on stderr: a bar on a terminal, else a status line every
    /// `progress_interval` (none when it is zero).
    pub progress: bool,
    pub progress_interval: Duration,
    /// Where the seeded data's history ends, when pgperf seeded the database: `ago`
    /// parameters count back from it instead of the run's start, so runs on other days and at
    /// other hours draw the same windows relative to the data.
    pub data_now: Option<DateTime<Utc>>,
}

/// Options of [`measure_queries`]: timing a set of queries on a connection the caller holds.
#[derive(Debug, Clone, Copy)]
pub struct MeasureOptions {
    pub iterations: u64,
    pub warmup: u64,
    pub protocol: Protocol,
    pub rng_seed: u64,
    /// [`Wrapping::Savepoint`] when the caller has a transaction open (e.g. a trial index).
    pub wrapping: Wrapping,
}

/// Why a run could not start (after it started, failures are in the result instead).
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error(
        "cannot connect to {url}: {reason}; check that the server is running, the URL is right and the user may log in"
    )]
    Connect { url: String, reason: String },
    #[error("cannot read the server's version and settings: {0}")]
    Environment(String),
    #[error(
        "the sample query of parameter ${param} of query \"{query}\" failed: {reason}; fix the sample SQL in the workload"
    )]
    Sample {
        query: String,
        param: usize,
        reason: String,
    },
    #[error(
        "the sample query of parameter ${param} of query \"{query}\" returned no rows; sample from a table that has data"
    )]
    EmptySample { query: String, param: usize },
    #[error("lost the connection while measuring: {0}")]
    ConnectionLost(String),
}

/// Runs `workload` against the database `config` points at and returns the result.
pub fn run(
    config: &postgres::Config,
    workload: &Workload,
    settings: &BenchSettings,
    context: &BenchContext,
) -> Result<RunResult, BenchError> {
    let started_at = Utc::now();
    let mut control = connect(config, context)?;
    let environment = read_environment(&mut control, workload, context)?;
    let user = session_user(&mut control)?;
    let generators = resolve_generators(&mut control, &workload.queries)?;
    let userids = role_oids(&mut control, &workload.queries);
    let persona_warnings = session_checks::persona_warnings(&mut control, &workload.queries);
    let plan_input = PlanInput {
        queries: &workload.queries,
        generators: &generators,
        protocol: settings.protocol,
        seed: settings.rng_seed,
        params_now: context.data_now.unwrap_or(started_at),
        default_timeout_ms: settings.statement_timeout_ms,
    };
    let plans_before = capture_plans(&mut control, &plan_input);
    let mut workers = (0..settings.concurrency.max(1))
        .map(|_| connect(config, context))
        .collect::<Result<Vec<_>, _>>()?;
    let names = workload.queries.iter().map(|q| q.name.clone()).collect();
    let progress = Progress::new(context.progress, context.progress_interval, names);
    let mut measured = measure_phases(
        &mut control,
        &mut workers,
        &PhaseInput {
            plan: &plan_input,
            settings,
            progress: &progress,
        },
    );
    progress.finish();
    let plans_after = match measured.abort_reason {
        None => capture_plans(&mut control, &plan_input),
        Some(_) => vec![None; workload.queries.len()],
    };
    let recorders = std::mem::take(&mut measured.recorders);
    let assembly = Assembly {
        user: &user,
        userids: &userids,
        measured: &measured,
    };
    let mut queries = assemble(workload, recorders, &assembly, plans_before, plans_after);
    session_checks::add_warnings(&mut queries, &workload.queries, persona_warnings);
    attach_sampling(&mut queries, &measured);
    let mut settings = settings.clone();
    if let Some(budget) = &mut settings.time_budget {
        budget.measured_ms = measured.measured_ms;
    }
    let rate = settings
        .rate_qps
        .map(|requested| (requested, measured.achieved_qps));
    Ok(RunResult {
        schema_version: RESULT_SCHEMA_VERSION,
        run_id: results::new_run_id(started_at),
        started_at,
        finished_at: Utc::now(),
        complete: measured.abort_reason.is_none(),
        abort_reason: measured.abort_reason.clone(),
        environment,
        settings,
        queries,
        warnings: warnings::run_warnings(measured.dealloc_delta(), rate),
    })
}

/// Times `queries` on `client` (warm-up, then `iterations` shuffled executions each) and
/// returns their results without server counters or plans. For callers that hold a
/// connection in a particular state, e.g. `advise` around a trial index.
pub fn measure_queries(
    client: &mut Client,
    queries: &[Query],
    options: &MeasureOptions,
) -> Result<Vec<QueryResult>, BenchError> {
    let generators = resolve_generators(client, queries)?;
    let user = session_user(client)?;
    let mut executor = Executor::new(client, options.protocol, options.wrapping, queries);
    let mut outcome = None;
    for (rounds, measuring, offset) in [
        (options.warmup, false, 0),
        (options.iterations, true, 1 << 40),
    ] {
        let schedule = Schedule {
            queries: queries.len(),
            rounds,
            seed: options.rng_seed ^ offset,
        };
        let plan = PhasePlan {
            queries,
            generators: &generators,
            tasks: Tasks::Fixed(schedule),
            stream_offset: offset,
            seed: options.rng_seed,
            params_now: Utc::now(),
            measuring,
            rate_qps: None,
        };
        let phase = Phase::new(plan, None);
        let worked = phase.work(&mut executor, 0);
        if let Some(reason) = worked.lost {
            return Err(BenchError::ConnectionLost(reason));
        }
        outcome = Some(worked.recorders);
    }
    let recorders = outcome.expect("the measured phase ran");
    Ok(queries
        .iter()
        .zip(recorders)
        .map(|(query, recorder)| {
            let mut result = query_result(query, &user, recorder, None, None);
            result.warnings = warnings::query_warnings(&result, None);
            result
                .warnings
                .retain(|w| !matches!(w, crate::model::Warning::NoServerStats));
            result
        })
        .collect())
}

fn connect(config: &postgres::Config, context: &BenchContext) -> Result<Client, BenchError> {
    config
        .connect(postgres::NoTls)
        .map_err(|error| BenchError::Connect {
            url: context.target.url_redacted.clone(),
            reason: describe(&error),
        })
}

/// Records on each query how a budgeted run sampled it.
fn attach_sampling(queries: &mut [QueryResult], measured: &Measured) {
    let Some(outcomes) = &measured.sampling else {
        return;
    };
    for (query, outcome) in queries.iter_mut().zip(outcomes) {
        query.sampling = Some(crate::model::Sampling {
            stop: outcome.stop,
            share_ms: outcome.share_us / 1e3,
            spent_ms: outcome.spent_us / 1e3,
            relative_half_width: outcome.relative_half_width,
        });
    }
}
