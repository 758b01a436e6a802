//! The serialisable data every part of pgperf shares.
//!
//! [`RunResult`] is the one contract between the parts (DESIGN §3): `bench` produces it;
//! `check`, `advise` and `report` consume it. Every field is documented because the JSON file is
//! a public format (`docs/formats.md`). Latencies are in microseconds (`_us`), server times in
//! milliseconds (`_ms`) as PostgreSQL reports them, sizes in bytes; never mixed.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub mod advice;
pub mod check;
pub mod history;
pub mod warning;
pub use warning::Warning;

/// Version of the `results.json` format. Bump on any incompatible change; readers refuse
/// versions they do not know with a message naming both versions.
pub const RESULT_SCHEMA_VERSION: u32 = 1;

/// Everything one `pgperf bench` run measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunResult {
    /// Format version, always [`RESULT_SCHEMA_VERSION`] when written by this pgperf.
    pub schema_version: u32,
    /// Unique id of the run; also the folder name under `reports/`.
    pub run_id: String,
    /// When measurement started.
    pub started_at: DateTime<Utc>,
    /// When the result was written.
    pub finished_at: DateTime<Utc>,
    /// False when the run stopped early (error, Ctrl-C); the queries measured so far are kept.
    pub complete: bool,
    /// Why the run stopped early, when it did.
    pub abort_reason: Option<String>,
    /// What was measured on, so that two results can be compared honestly.
    pub environment: Environment,
    /// The options the run used.
    pub settings: BenchSettings,
    /// One entry per workload query, in workload order.
    pub queries: Vec<QueryResult>,
    /// Warnings about the run as a whole (per-query warnings live on the query).
    pub warnings: Vec<Warning>,
}

/// The environment of a run: server, machine, workload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Environment {
    /// Version of pgperf that wrote the result.
    pub pgperf_version: String,
    /// `server_version` as the server reports it, e.g. `15.18 (Debian 15.18-0+deb12u1)`.
    pub server_version: String,
    /// `server_version_num`, e.g. `150018`.
    pub server_version_num: u32,
    /// Settings that change plans or timings (shared_buffers, work_mem, random_page_cost, jit, ...).
    pub server_settings: BTreeMap<String, String>,
    /// Installed extensions and their versions (pg_stat_statements, hypopg, ...).
    pub extensions: BTreeMap<String, String>,
    /// The database measured, with any password removed.
    pub target: Target,
    /// The machine pgperf ran on.
    pub machine: Machine,
    /// Workload name from the workload file.
    pub workload_name: String,
    /// SHA-256 of the workload file's bytes, hex.
    pub workload_hash: String,
    /// Seeder scale, when pgperf seeded the database (rows grow linearly; 1 ≈ 2.5 M rows).
    pub scale: Option<f64>,
    /// Seeder RNG seed, when pgperf seeded the database.
    pub rng_seed: Option<u64>,
    /// Where the seeded data ends, when pgperf seeded the database; time-relative (`ago`)
    /// parameters counted back from it. `None`: they counted back from the run's start.
    #[serde(default)]
    pub data_now: Option<DateTime<Utc>>,
}

/// The database a run was measured on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Target {
    /// True for pgperf's private throwaway cluster.
    pub embedded: bool,
    /// Connection string with the password removed.
    pub url_redacted: String,
    /// Database name.
    pub database: String,
    /// The instant the embedded server's wall clock was started at (`--clock`), when pinned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clock: Option<DateTime<Utc>>,
}

/// The machine a run was measured on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Machine {
    pub hostname: String,
    pub os: String,
    pub arch: String,
    pub cpu_model: String,
    pub cpus: u32,
    pub memory_bytes: u64,
}

/// How the client sends queries (DESIGN §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Protocol {
    /// Text query with literals inlined, one round trip.
    Simple,
    /// Unnamed statement per execution: parse, bind, execute.
    Extended,
    /// Named statement prepared once per connection, as an application's driver does.
    #[default]
    Prepared,
}

/// Options of a bench run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BenchSettings {
    /// Measured executions per query (after warm-up).
    pub iterations: u64,
    /// Discarded executions per query before measuring.
    pub warmup: u64,
    /// Number of worker connections.
    pub concurrency: u32,
    /// Open-loop target rate in queries per second across all workers; `None` is closed loop.
    pub rate_qps: Option<f64>,
    pub protocol: Protocol,
    /// `statement_timeout` applied to every query unless the workload overrides it.
    pub statement_timeout_ms: u64,
    /// Seed of the parameter generator and of the interleaving shuffle.
    pub rng_seed: u64,
    /// The time budget the run sampled within; `None` when `--iterations` forced a count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_budget: Option<TimeBudget>,
}

/// How a budgeted run (`--time-budget`) chose its sample counts.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TimeBudget {
    /// Time the measured phase may take, milliseconds.
    pub budget_ms: u64,
    /// Time the warm-up (which also probes every query's cost) may take, milliseconds.
    pub warmup_budget_ms: u64,
    /// A query stops once its P95 interval's half-width over its P95 is below this.
    pub target_precision: f64,
    /// Measured phase wall time, milliseconds.
    pub measured_ms: f64,
}

/// Why a query's sampling stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// Its P95 interval became tighter than the target precision.
    Precise,
    /// Its share of the time budget was spent.
    ShareSpent,
    /// The whole time budget was spent while it was still sampling.
    BudgetSpent,
    /// It reached the most samples a budgeted run takes per query.
    SampleCap,
    /// `--iterations` forced the count.
    Iterations,
    /// The run stopped early (Ctrl-C, lost connection).
    Interrupted,
}

/// How one query was sampled in a budgeted run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Sampling {
    /// Why sampling stopped.
    pub stop: StopReason,
    /// Its share of the budget at the end, milliseconds.
    pub share_ms: f64,
    /// Wall time its measured executions took, milliseconds.
    pub spent_ms: f64,
    /// Half-width of its P95 interval over its P95 when sampling stopped, if it had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relative_half_width: Option<f64>,
}

/// Everything measured for one workload query.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueryResult {
    /// Query name from the workload (unique).
    pub name: String,
    /// SQL text as in the workload (with `$n` placeholders).
    pub sql: String,
    /// Dashboard tile the query belongs to, if any.
    pub tile: Option<String>,
    /// Database role the query ran as (`SET ROLE`).
    pub role: String,
    /// JWT claims set in `request.jwt.claims`, if any.
    pub claims: Option<serde_json::Value>,
    /// The persona's session settings (`app.tenant_id` = `42`); absent in older files.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub settings: BTreeMap<String, String>,
    /// Relative frequency from the workload.
    pub weight: f64,
    /// P95 budget in microseconds; a P95 above it is a finding (exit 1).
    pub budget_p95_us: Option<f64>,
    /// Successful measured executions.
    pub samples: u64,
    /// Failed measured executions.
    pub errors: u64,
    /// The first error the server returned, with its SQLSTATE.
    pub first_error: Option<QueryError>,
    /// Client-side latency statistics; `None` when nothing succeeded.
    pub latency: Option<LatencySummary>,
    /// A uniform sample (reservoir) of the raw latencies, in execution order, for statistics
    /// across runs (bootstrap in `check`) and for drift charts.
    pub raw_samples: Vec<Sample>,
    /// Full latency distribution as (value_us, count) pairs from the HdrHistogram.
    pub histogram: Vec<(u64, u64)>,
    /// Mean rows returned per successful execution, as the client counted them.
    pub rows_per_call: f64,
    /// pg_stat_statements delta over the measured phase; `None` when unavailable.
    pub server: Option<StatementStats>,
    /// Out-of-band EXPLAIN (ANALYZE, BUFFERS) capture.
    pub plan: Option<PlanCapture>,
    /// Warnings about this query's measurement, each with its remedy.
    pub warnings: Vec<Warning>,
    /// How a budgeted run sampled it; `None` with `--iterations`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sampling: Option<Sampling>,
}

/// One measured execution.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    /// Milliseconds since measurement started, at the (intended) send time.
    pub at_ms: f64,
    /// Latency in microseconds.
    pub latency_us: f64,
}

/// An error the server (or the connection) returned for a query.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueryError {
    /// SQLSTATE, when the server sent one.
    pub sqlstate: Option<String>,
    /// The server's message (and detail/hint when present).
    pub message: String,
}

/// A quantile estimate with its confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct QuantileEstimate {
    /// Harrell-Davis estimate, microseconds.
    pub value_us: f64,
    /// Lower bound of the 95% distribution-free interval; `None` when too few samples.
    pub ci_low_us: Option<f64>,
    /// Upper bound of the 95% distribution-free interval; `None` when too few samples.
    pub ci_high_us: Option<f64>,
}

/// Latency statistics of one query.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LatencySummary {
    /// Number of samples the statistics are computed from.
    pub n: u64,
    pub min_us: f64,
    pub max_us: f64,
    pub mean_us: f64,
    pub stddev_us: f64,
    pub p50: QuantileEstimate,
    pub p95: QuantileEstimate,
    pub p99: QuantileEstimate,
}

/// pg_stat_statements counters accumulated during the measured phase (after minus before).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct StatementStats {
    /// queryids the rows were matched by (one per role the query ran as).
    pub queryids: Vec<i64>,
    pub calls: i64,
    pub rows: i64,
    pub total_exec_time_ms: f64,
    pub mean_exec_time_ms: f64,
    pub total_plan_time_ms: f64,
    pub shared_blks_hit: i64,
    pub shared_blks_read: i64,
    pub shared_blks_dirtied: i64,
    pub shared_blks_written: i64,
    pub temp_blks_read: i64,
    pub temp_blks_written: i64,
    pub blk_read_time_ms: f64,
    pub wal_records: i64,
    pub wal_bytes: i64,
    /// On Citus: what the query's shard queries did on the workers in the measured phase
    /// (pg_stat_statements of every worker, matched by the shard queries' text). Its block
    /// counters are already added into this entry's, so buffers per call include shard work;
    /// its times are not (the coordinator's time already waits for the workers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workers: Option<Box<StatementStats>>,
}

/// One EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) of a query, taken out of band under the query's
/// role, claims and parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanCapture {
    /// Hex hash of the plan shape (node types, relations, index names, join order); equal
    /// hashes mean the same plan shape.
    pub shape_hash: String,
    /// The shape as readable lines, one per node, indented by depth; what the hash covers.
    pub shape: Vec<String>,
    /// Parameter values used, as text.
    pub params: Vec<Option<String>>,
    /// The EXPLAIN JSON document exactly as the server returned it.
    pub explain: serde_json::Value,
    pub planning_time_ms: f64,
    pub execution_time_ms: f64,
    /// How Citus ran the query, when it went through a distributed table; absent on a
    /// single node and for queries on local tables only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distributed: Option<DistributedPlan>,
}

/// How Citus strategy ran a query: on one shard or on many.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DistributedStrategy {
    /// One task: the query went to one shard (the router executor).
    Router,
    /// Several tasks, one per shard the query needs, run in parallel on the workers.
    MultiShard,
}

/// One Citus task as EXPLAIN ANALYZE showed it: a shard query run on a worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DistributedTask {
    /// The worker, as `host:port`.
    pub node: String,
    /// The query the coordinator sent to the shard.
    pub query: String,
    /// The worker's EXPLAIN of the shard query (its `Plan` node).
    pub plan: serde_json::Value,
    pub planning_time_ms: f64,
    pub execution_time_ms: f64,
    /// Shared buffers the task hit and read on the worker.
    pub shared_blks_hit: i64,
    pub shared_blks_read: i64,
}

/// A query's distributed execution (Citus `Custom Scan (Citus Adaptive)` and its tasks).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DistributedPlan {
    /// Router (one task) or multi-shard.
    pub strategy: DistributedStrategy,
    /// Tasks the query was split into (shards touched), over every Citus scan of the plan.
    pub task_count: u64,
    /// Workers the shown tasks ran on, as `host:port`, sorted.
    pub nodes: Vec<String>,
    /// The task with the longest execution time, with its worker plan.
    pub slowest_task: Option<DistributedTask>,
    /// Time on the coordinator: the query's execution time minus the slowest task's (tasks
    /// run in parallel, so the slowest one is what the coordinator waits for).
    pub coordinator_time_ms: f64,
    /// Execution time summed over the shown tasks, on the workers.
    pub worker_time_ms: f64,
    /// Shared buffers hit and read on the workers, summed over the shown tasks.
    pub worker_shared_blks_hit: i64,
    pub worker_shared_blks_read: i64,
}
