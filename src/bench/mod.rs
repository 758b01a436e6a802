//! The replay engine (DESIGN §7): runs a workload's queries under their roles and claims, and
//! produces a [`RunResult`]. The steps are named functions — connect, read the environment,
//! resolve parameters, EXPLAIN, warm up, snapshot, measure, snapshot, EXPLAIN again, summarise,
//! warn — so each can be read (and reused: `advise` calls [`measure_queries`]) on its own.
//!
//! Once measuring has started, a failure no longer loses the run: a lost connection or Ctrl-C
//! gives a [`RunResult`] with `complete = false` and the reason, holding everything measured.

mod engine;
mod executor;
mod recorder;
pub mod results;
pub mod table;
pub mod warnings;

use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};
use indicatif::{ProgressBar, ProgressStyle};
use postgres::Client;

pub use executor::Wrapping;

use crate::model::{
    BenchSettings, Environment, PlanCapture, Protocol, QueryResult, RESULT_SCHEMA_VERSION,
    RunResult, StatementStats, Target,
};
use crate::pg::stat_statements::{self, Snapshot, StatementKey};
use crate::pg::{describe, environment, explain, session::Session};
use crate::workload::{Generator, ParamPlan, Query, Workload, sql};
use engine::{Phase, PhasePlan};
use executor::{Executor, caller_of};
use recorder::QueryRecorder;

/// What a run records about where it ran, beyond the connection itself.
#[derive(Debug, Clone)]
pub struct BenchContext {
    /// The database, as results record it (no password).
    pub target: Target,
    /// Seeder scale, when pgperf seeded the database.
    pub scale: Option<f64>,
    /// Seeder RNG seed, when pgperf seeded the database.
    pub seed_rng_seed: Option<u64>,
    /// Show a progress bar on stderr (only drawn when stderr is a terminal).
    pub progress: bool,
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
    let plan_input = PlanInput {
        queries: &workload.queries,
        generators: &generators,
        protocol: settings.protocol,
        seed: settings.rng_seed,
        run_start: started_at,
        default_timeout_ms: settings.statement_timeout_ms,
    };
    let plans_before = capture_plans(&mut control, &plan_input);
    let mut workers = (0..settings.concurrency.max(1))
        .map(|_| connect(config, context))
        .collect::<Result<Vec<_>, _>>()?;
    let recorders = new_recorders(workload.queries.len(), settings.rng_seed);
    let progress = progress_bar(context.progress, settings, workload.queries.len());
    let measured = measure_phases(
        &mut control,
        &mut workers,
        &recorders,
        &PhaseInput {
            plan: &plan_input,
            settings,
            progress: &progress,
        },
    );
    progress.finish_and_clear();
    let plans_after = match measured.abort_reason {
        None => capture_plans(&mut control, &plan_input),
        Some(_) => vec![None; workload.queries.len()],
    };
    let assembly = Assembly {
        user: &user,
        userids: &userids,
        measured: &measured,
    };
    let queries = assemble(workload, recorders, &assembly, plans_before, plans_after);
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
        settings: settings.clone(),
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
    let recorders = new_recorders(queries.len(), options.rng_seed);
    let hidden = ProgressBar::hidden();
    let mut executor = Executor::new(client, options.protocol, options.wrapping, queries);
    for (count, recorders, offset) in [
        (options.warmup, None, 0),
        (options.iterations, Some(&recorders[..]), 1 << 40),
    ] {
        let phase = Phase::new(PhasePlan {
            queries,
            generators: &generators,
            tasks: engine::schedule(queries.len(), count, options.rng_seed ^ offset),
            stream_offset: offset,
            seed: options.rng_seed,
            run_start: Utc::now(),
            recorders,
            rate_qps: None,
            progress: &hidden,
        });
        phase
            .work(&mut executor)
            .map_err(BenchError::ConnectionLost)?;
    }
    Ok(queries
        .iter()
        .zip(recorders)
        .map(|(query, recorder)| {
            let recorder = recorder.into_inner().expect("workers joined");
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

fn session_user(client: &mut Client) -> Result<String, BenchError> {
    client
        .query_one("SELECT session_user::text", &[])
        .map(|row| row.get(0))
        .map_err(|error| BenchError::Environment(describe(&error)))
}

fn read_environment(
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
    })
}

/// Compiles every query's generators, running `sample` queries once (as the connecting user,
/// so RLS does not hide rows).
fn resolve_generators(
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

fn resolve_one(
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
fn role_oids(client: &mut Client, queries: &[Query]) -> Vec<Option<u32>> {
    queries
        .iter()
        .map(|query| {
            let role = query.persona.as_ref().map(|persona| persona.role.as_str());
            stat_statements::role_oid(client, role).ok()
        })
        .collect()
}

/// What EXPLAIN captures need to reproduce a query's execution.
struct PlanInput<'a> {
    queries: &'a [Query],
    generators: &'a [Vec<Generator>],
    protocol: Protocol,
    seed: u64,
    run_start: DateTime<Utc>,
    default_timeout_ms: u64,
}

/// A plan and the query identifier it reported.
type Captured = Option<(PlanCapture, Option<i64>)>;

/// One EXPLAIN (ANALYZE, BUFFERS) per query, under its persona and with parameters drawn
/// from its generators; writes inside a transaction that is rolled back. A query whose
/// EXPLAIN fails gets no plan (its executions will record the error).
fn capture_plans(client: &mut Client, input: &PlanInput<'_>) -> Vec<Captured> {
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
                input.run_start,
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

fn explain_one(
    client: &mut Client,
    query: &Query,
    params: &[Option<String>],
    protocol: Protocol,
) -> Result<(PlanCapture, Option<i64>), postgres::Error> {
    let writes = query.kind == crate::workload::QueryKind::Write;
    if writes {
        client.batch_execute("BEGIN")?;
    }
    let result = if protocol == Protocol::Simple {
        let inlined = sql::inline_params(&query.sql, &query.placeholders, params);
        explain::explain_analyze(client, &inlined, &[]).map(|(mut plan, id)| {
            plan.params = params.to_vec();
            (plan, id)
        })
    } else {
        explain::explain_analyze(client, &query.sql, params)
    };
    if writes || result.is_err() {
        // After a failed EXPLAIN the transaction (if any) is aborted; outside one this is a no-op warning.
        let _ = client.batch_execute("ROLLBACK");
    }
    result
}

fn new_recorders(count: usize, seed: u64) -> Vec<Mutex<QueryRecorder>> {
    (0..count)
        .map(|index| Mutex::new(QueryRecorder::new(seed.wrapping_add(index as u64))))
        .collect()
}

fn progress_bar(enabled: bool, settings: &BenchSettings, queries: usize) -> ProgressBar {
    if !enabled || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let total = (settings.warmup + settings.iterations) * queries as u64;
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} {bar:40} {pos}/{len} executions, {per_sec}, eta {eta}",
        )
        .expect("the template is valid"),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

struct PhaseInput<'a> {
    plan: &'a PlanInput<'a>,
    settings: &'a BenchSettings,
    progress: &'a ProgressBar,
}

/// What the warm-up and measured phases left behind.
#[derive(Debug, Default)]
struct Measured {
    abort_reason: Option<String>,
    before: Option<Snapshot>,
    after: Option<Snapshot>,
    achieved_qps: f64,
}

impl Measured {
    fn dealloc_delta(&self) -> Option<i64> {
        Some(self.after.as_ref()?.dealloc - self.before.as_ref()?.dealloc)
    }
}

fn measure_phases(
    control: &mut Client,
    workers: &mut [Client],
    recorders: &[Mutex<QueryRecorder>],
    input: &PhaseInput<'_>,
) -> Measured {
    let (plan, settings) = (input.plan, input.settings);
    let mut executors: Vec<Executor<'_>> = workers
        .iter_mut()
        .map(|client| {
            Executor::new(
                client,
                settings.protocol,
                Wrapping::Autocommit,
                plan.queries,
            )
        })
        .collect();
    let phase = |count: u64, offset: u64, recorders, rate_qps| {
        Phase::new(PhasePlan {
            queries: plan.queries,
            generators: plan.generators,
            tasks: engine::schedule(plan.queries.len(), count, settings.rng_seed ^ offset),
            stream_offset: offset,
            seed: settings.rng_seed,
            run_start: plan.run_start,
            recorders,
            rate_qps,
            progress: input.progress,
        })
    };
    let mut measured = Measured::default();
    if let Err(reason) = run_workers(&phase(settings.warmup, 0, None, None), &mut executors) {
        measured.abort_reason = Some(reason);
        return measured;
    }
    measured.before = stat_statements::snapshot(control).ok();
    let main = phase(
        settings.iterations,
        1 << 40,
        Some(recorders),
        settings.rate_qps,
    );
    let outcome = run_workers(&main, &mut executors);
    measured.achieved_qps = main.dispatched() as f64 / main.elapsed().as_secs_f64().max(1e-9);
    measured.after = measured
        .before
        .as_ref()
        .and_then(|_| stat_statements::snapshot(control).ok());
    measured.abort_reason = outcome.err();
    measured
}

/// Runs `phase` with one thread per executor; the first lost connection (or Ctrl-C) is the
/// reason the phase stopped.
fn run_workers(phase: &Phase<'_>, executors: &mut [Executor<'_>]) -> Result<(), String> {
    let outcomes: Vec<Result<(), String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = executors
            .iter_mut()
            .map(|executor| scope.spawn(move || phase.work(executor)))
            .collect();
        handles
            .into_iter()
            .map(|handle| {
                handle
                    .join()
                    .unwrap_or_else(|_| Err("a worker thread panicked".to_string()))
            })
            .collect()
    });
    outcomes.into_iter().collect::<Result<(), String>>()?;
    if crate::signal::interrupted() {
        return Err("interrupted (Ctrl-C)".to_string());
    }
    Ok(())
}

/// What results are assembled with besides recorders and plans.
struct Assembly<'a> {
    /// The connecting user: the role of queries without a persona.
    user: &'a str,
    userids: &'a [Option<u32>],
    measured: &'a Measured,
}

fn assemble(
    workload: &Workload,
    recorders: Vec<Mutex<QueryRecorder>>,
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
            let server = server_delta(assembly.measured, &keys);
            let recorder = recorder.into_inner().expect("workers joined");
            let plan = before.map(|(plan, _)| plan);
            let mut result = query_result(query, assembly.user, recorder, server, plan);
            result.warnings =
                warnings::query_warnings(&result, after.as_ref().map(|(plan, _)| plan));
            result
        })
        .collect()
}

fn server_delta(measured: &Measured, keys: &[StatementKey]) -> Option<StatementStats> {
    let mut keys = keys.to_vec();
    keys.dedup();
    stat_statements::delta(measured.before.as_ref()?, measured.after.as_ref()?, &keys)
}

/// A query's result from its recorder: statistics over the kept samples, the full histogram.
fn query_result(
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
    }
}
