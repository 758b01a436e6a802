//! The workload file format (DESIGN §6), as it is read from TOML and written by `pgperf record`.
//! Field docs here are the reference; `docs/workload-format.md` explains them with examples.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A recorded dashboard session: the file as written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkloadFile {
    /// Human name, shown in reports.
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Values used where a query does not set its own.
    #[serde(default)]
    pub defaults: Defaults,
    /// Named callers: a database role plus the JWT claims it arrives with.
    #[serde(default)]
    pub personas: BTreeMap<String, Persona>,
    /// The queries, in the order reports list them.
    #[serde(rename = "query", default)]
    pub queries: Vec<QuerySpec>,
}

/// Workload-wide defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Defaults {
    /// Persona used by queries that name none; `None` means the connecting user, no claims.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub persona: Option<String>,
    /// P95 budget of a query whose kind is `read` (milliseconds).
    #[serde(default = "Defaults::read_budget")]
    pub read_budget_p95_ms: f64,
    /// P95 budget of a query whose kind is `tile` (milliseconds).
    #[serde(default = "Defaults::tile_budget")]
    pub tile_budget_p95_ms: f64,
    /// `statement_timeout` per execution (milliseconds).
    #[serde(default = "Defaults::statement_timeout")]
    pub statement_timeout_ms: u64,
}

impl Defaults {
    fn read_budget() -> f64 {
        100.0
    }
    fn tile_budget() -> f64 {
        3000.0
    }
    fn statement_timeout() -> u64 {
        30_000
    }
}

impl Default for Defaults {
    fn default() -> Self {
        Defaults {
            persona: None,
            read_budget_p95_ms: Self::read_budget(),
            tile_budget_p95_ms: Self::tile_budget(),
            statement_timeout_ms: Self::statement_timeout(),
        }
    }
}

/// A caller: `SET ROLE role` and `request.jwt.claims` = `claims` (as Supabase's PostgREST does),
/// plus any session `settings`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Persona {
    /// Database role to `SET ROLE` to, e.g. `authenticated`.
    pub role: String,
    /// JWT claims, serialised to JSON into `request.jwt.claims`; also `request.jwt.claim.<k>`
    /// for top-level string claims, as older PostgREST versions did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claims: Option<toml::Table>,
    /// Session settings set with `set_config` beside the claims, e.g.
    /// `settings = { "app.tenant_id" = "42" }`, for row-level security policies that read
    /// `current_setting('app.tenant_id')`. Values are sent as text.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub settings: BTreeMap<String, toml::Value>,
}

/// What a query is, which decides its default budget and whether it may write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum QueryKind {
    /// A dashboard read: budget `read_budget_p95_ms` (100 ms).
    #[default]
    Read,
    /// A whole tile load (an aggregate RPC or view): budget `tile_budget_p95_ms` (3 s).
    Tile,
    /// A write. Runs inside a transaction that is rolled back unless `commit = true`.
    Write,
}

/// One named query of the workload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuerySpec {
    /// Unique name, `[A-Za-z0-9_.-]+`.
    pub name: String,
    /// SQL with `$1..$n` placeholders; one statement.
    pub sql: String,
    #[serde(default)]
    pub kind: QueryKind,
    /// Dashboard tile the query belongs to (grouping in reports).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tile: Option<String>,
    /// Persona to run as; falls back to `defaults.persona`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub persona: Option<String>,
    /// Relative frequency in the recorded session (calls per session).
    #[serde(default = "QuerySpec::default_weight")]
    pub weight: f64,
    /// P95 budget in milliseconds; falls back to the kind's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget_p95_ms: Option<f64>,
    /// `statement_timeout` override in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statement_timeout_ms: Option<u64>,
    /// Let a write commit. Without it every execution of a write is rolled back.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub commit: bool,
    /// One generator per `$n`, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub params: Vec<ParamSpec>,
}

impl QuerySpec {
    fn default_weight() -> f64 {
        1.0
    }
}

/// How the value of one `$n` is drawn for each execution. Values are sent as text and typed by
/// the server, so one generator works for any parameter type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged, deny_unknown_fields)]
pub enum ParamSpec {
    /// Always this value (`{ value = "pending" }`); `null` sends SQL NULL.
    Value { value: toml::Value },
    /// One of these, uniformly or by `weights` (`{ one_of = ["a", "b"], weights = [9, 1] }`).
    OneOf {
        one_of: Vec<toml::Value>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        weights: Option<Vec<f64>>,
    },
    /// A uniform integer in `[min, max]` (`{ int_between = [1, 500] }`).
    IntBetween { int_between: [i64; 2] },
    /// A uniform float in `[min, max)`.
    FloatBetween { float_between: [f64; 2] },
    /// A timestamp relative to the run's start (`{ ago = "30 days" }`), optionally with a random
    /// jitter of up to `jitter` earlier (`{ ago = "7 days", jitter = "1 day" }`).
    /// Units: seconds, minutes, hours, days, weeks.
    Ago {
        ago: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        jitter: Option<String>,
    },
    /// A value drawn from the seeded data: `sample` is a query returning one column; it runs once
    /// before the bench (as the connecting user, so RLS does not hide rows) and each execution
    /// picks one of its rows (`limit` rows at most, default 1000).
    Sample {
        sample: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        limit: Option<u32>,
    },
    /// Values recorded from a live database (`pgperf record`); `sampled = true` marks values
    /// taken from column statistics rather than seen in a real call.
    Recorded {
        recorded: Vec<toml::Value>,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        sampled: bool,
    },
}
