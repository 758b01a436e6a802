//! The result of `pgperf advise` (`reports/<run-id>/advice.json`), which the terminal table and
//! the HTML report render. Costs are the planner's unitless estimates; latencies are in
//! microseconds (`_us`), sizes in bytes; never mixed.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{QuantileEstimate, Target};

/// Version of the `advice.json` format. Bump on any incompatible change.
pub const ADVICE_SCHEMA_VERSION: u32 = 1;

/// Everything one `pgperf advise` run decided, with its evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdviceResult {
    /// Always [`ADVICE_SCHEMA_VERSION`] when written by this pgperf.
    pub schema_version: u32,
    /// Unique id of the run; also the folder name under `reports/`.
    pub run_id: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    /// The database advised, without password.
    pub target: Target,
    /// Workload name from the workload file.
    pub workload_name: String,
    /// How candidate indexes were costed.
    pub what_if: WhatIfMethod,
    /// Whether and how the selected indexes were measured for real.
    pub verification: Verification,
    /// Storage budget for new indexes, when `--budget-mb` was given.
    pub budget_bytes: Option<u64>,
    /// Indexes to create, in migration order.
    pub recommendations: Vec<Recommendation>,
    /// Every candidate that was considered and not recommended, each with its reason.
    pub rejected: Vec<RejectedCandidate>,
    /// Extended statistics to create, in migration order (after the indexes); empty in advice
    /// files written before pgperf proposed them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub statistics: Vec<StatisticsRecommendation>,
    /// Extended statistics tried and not recommended, each with its reason.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rejected_statistics: Vec<RejectedStatistics>,
    /// One entry per workload query, in workload order.
    pub queries: Vec<QueryAdvice>,
    /// Existing indexes that look unused or duplicated. Reported only; pgperf never drops them.
    pub existing_indexes: Vec<ExistingIndexFinding>,
    /// The migration pair written, when there was anything to write.
    pub migration: Option<MigrationFiles>,
    /// Sentences the user must read (fallbacks taken, generic plans used, ...).
    pub notes: Vec<String>,
}

/// How the planner was asked "what if this index existed".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WhatIfMethod {
    /// HypoPG hypothetical indexes on one held connection.
    Hypopg,
    /// HypoPG is not installed (or the database is Citus, whose workers never see the
    /// coordinator's hypothetical indexes): each candidate was built for real in a rolled-back
    /// transaction.
    RealBuild,
}

/// Whether the selected indexes were measured for real.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Verification {
    /// Built inside `BEGIN … ROLLBACK`; each affected query executed `executions` times before
    /// and after, alternated in the same transaction.
    Measured { executions: u64 },
    /// Not measured; recommendations rest on planner estimates only.
    Skipped { reason: String },
}

/// One key column or expression of an index.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct IndexKey {
    /// A quoted column name (`"status"`) or a parenthesised expression (`(lower("email"))`),
    /// exactly as it appears in `CREATE INDEX`.
    pub sql: String,
    /// `DESC` ordering (for ORDER BY … DESC with LIMIT).
    pub descending: bool,
}

/// The definition of an index, independent of its name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct IndexSpec {
    pub schema: String,
    pub table: String,
    /// Key columns in order: equality columns first, then one range or sort column.
    pub keys: Vec<IndexKey>,
    /// Quoted non-key columns stored in the leaf pages, for index-only scans.
    pub include: Vec<String>,
    /// `WHERE` clause of a partial index, as SQL.
    pub predicate: Option<String>,
    /// Access method; B-tree when absent (advice written before other methods existed).
    #[serde(default, skip_serializing_if = "IndexMethod::is_btree")]
    pub method: IndexMethod,
}

/// The index access method of an [`IndexSpec`].
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum IndexMethod {
    #[default]
    Btree,
    /// jsonb containment and keys, arrays, full text, pg_trgm patterns. HypoPG cannot cost it,
    /// so it is built for real in a rolled-back transaction.
    Gin,
    /// Block ranges: a tiny index for a column whose values follow the table's physical order
    /// (an append-only time column).
    Brin,
}

impl IndexMethod {
    pub fn is_btree(&self) -> bool {
        *self == IndexMethod::Btree
    }

    /// The name after `USING`.
    pub fn sql(self) -> &'static str {
        match self {
            IndexMethod::Btree => "btree",
            IndexMethod::Gin => "gin",
            IndexMethod::Brin => "brin",
        }
    }
}

/// An index pgperf recommends creating.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recommendation {
    /// Deterministic index name (same spec, same name).
    pub name: String,
    pub spec: IndexSpec,
    /// The migration's statement for this index: `CREATE INDEX CONCURRENTLY IF NOT EXISTS`,
    /// or for a partitioned table a plain `CREATE INDEX IF NOT EXISTS` on the parent after
    /// comment lines (the write lock, and the online per-partition alternative).
    pub ddl: String,
    /// The partitions of a partitioned table at advise time (`schema.name`), which the
    /// parent's index covers; empty for a plain table.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub partitions: Vec<String>,
    /// Names of the workload queries whose plan uses this index.
    pub serves: Vec<String>,
    /// HypoPG's size estimate (pessimistic: no B-tree deduplication).
    pub estimated_size_bytes: u64,
    /// Size after the real build, when it was built.
    pub size_bytes: Option<u64>,
    /// Workload benefit: Σ weight × planner cost saved.
    pub benefit: f64,
    /// Per-query evidence.
    pub effects: Vec<QueryEffect>,
}

/// What an index did to one query.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueryEffect {
    pub query: String,
    /// Planner total cost without and with the index.
    pub cost_before: f64,
    pub cost_after: f64,
    /// Measured P95 without and with the index, when verified.
    pub p95_before: Option<QuantileEstimate>,
    pub p95_after: Option<QuantileEstimate>,
    /// Measured latencies without the index, in measurement order: at most 2,000, evenly
    /// thinned when more were taken. For the report's distribution chart; empty when not
    /// verified or in advice files written before this field existed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub samples_before_us: Vec<f64>,
    /// Measured latencies with the index, thinned like `samples_before_us`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub samples_after_us: Vec<f64>,
    /// What verification measured and concluded for this query; `None` when not verified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<EffectEvidence>,
}

/// Both kinds of evidence verification weighs for one query (`src/advise/decide.rs`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EffectEvidence {
    /// Shared buffers (hit + read) of one execution without / with the index
    /// (`EXPLAIN (ANALYZE, BUFFERS)`): they do not depend on the machine's load.
    pub buffers_before: Option<f64>,
    pub buffers_after: Option<f64>,
    /// Rows of that execution without / with the index.
    pub rows_before: Option<f64>,
    pub rows_after: Option<f64>,
    /// The plan with the index uses it.
    pub uses_index: bool,
    /// The quantile both sides were compared on (the median when a side had < 59 executions).
    pub compared_on: Option<Quantile>,
    /// After over before, of that quantile.
    pub ratio: Option<f64>,
    /// After over before, of each side's fastest execution (load only ever raises it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub floor_ratio: Option<f64>,
    /// The two 95% intervals do not overlap.
    pub significant: bool,
    /// Executions timed without / with the index.
    pub executions_before: u64,
    pub executions_after: u64,
    pub judgement: Judgement,
}

impl EffectEvidence {
    /// One line for terminals and reports: `buffers 40000 -> 120, rows 10 -> 10, index used;
    /// P95 x0.93 in noise: fewer buffers`.
    pub fn summary(&self) -> String {
        let pair = |before: Option<f64>, after: Option<f64>| match (before, after) {
            (Some(b), Some(a)) => format!("{b:.0} -> {a:.0}"),
            _ => "?".to_string(),
        };
        let mut parts = vec![
            format!("buffers {}", pair(self.buffers_before, self.buffers_after)),
            format!("rows {}", pair(self.rows_before, self.rows_after)),
        ];
        parts.push(
            if self.uses_index {
                "index used"
            } else {
                "index not used"
            }
            .to_string(),
        );
        let timing = self.timing_summary();
        format!(
            "{}; {timing}: {}",
            parts.join(", "),
            self.judgement.describe()
        )
    }
}

impl EffectEvidence {
    /// `P95 x0.93 in noise (59+59 runs)`, or `time not compared`.
    pub fn timing_summary(&self) -> String {
        match (self.compared_on, self.ratio) {
            (Some(quantile), Some(ratio)) => format!(
                "{} x{ratio:.2} {}{} ({}+{} runs)",
                match quantile {
                    Quantile::P95 => "P95",
                    Quantile::P50 => "P50",
                },
                if self.significant {
                    "beyond noise"
                } else {
                    "in noise"
                },
                self.floor_ratio
                    .map(|floor| format!(", fastest x{floor:.2}"))
                    .unwrap_or_default(),
                self.executions_before,
                self.executions_after
            ),
            _ => "time not compared".to_string(),
        }
    }
}

impl StatisticsEffect {
    /// One line for terminals and migrations: `q: estimated rows 1 -> 973 (actual 1000), plan
    /// changed; buffers 5738 -> 743; P50 x0.00 beyond noise (12+12 runs): fewer buffers`.
    pub fn summary(&self) -> String {
        let evidence = &self.evidence;
        let pair = |before: Option<f64>, after: Option<f64>| match (before, after) {
            (Some(b), Some(a)) => format!("{b:.0} -> {a:.0}"),
            _ => "?".to_string(),
        };
        format!(
            "{}: estimated rows {:.0} -> {:.0} (actual {:.0}), plan {}; buffers {}; {}: {}",
            self.query,
            self.estimated_rows_before,
            self.estimated_rows_after,
            self.actual_rows,
            if self.plan_changed {
                "changed"
            } else {
                "unchanged"
            },
            pair(evidence.buffers_before, evidence.buffers_after),
            evidence.timing_summary(),
            evidence.judgement.describe()
        )
    }
}

/// Which quantile two sides were compared on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Quantile {
    P95,
    /// The median: a side had fewer than 59 executions.
    P50,
}

/// What the evidence says about one query.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Judgement {
    /// Many times fewer buffers with the index in its plan, and not significantly slower.
    FewerBuffers,
    /// At least twice as fast, down to the fastest execution, not reading more buffers; or
    /// at least 20% faster so, reading half the buffers with a plan that uses the index.
    Faster,
    /// More than 10% slower, beyond noise or with many more buffers.
    Slower,
    /// Neither helped nor harmed.
    NoDifference,
    /// A side could not be measured.
    Unmeasured,
}

impl Judgement {
    /// The index helped this query.
    pub fn helps(self) -> bool {
        matches!(self, Judgement::FewerBuffers | Judgement::Faster)
    }

    /// A few words for tables and reports.
    pub fn describe(self) -> &'static str {
        match self {
            Judgement::FewerBuffers => "fewer buffers",
            Judgement::Faster => "faster",
            Judgement::Slower => "slower",
            Judgement::NoDifference => "no difference",
            Judgement::Unmeasured => "unmeasured",
        }
    }
}

/// Why a candidate was not recommended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RejectReason {
    /// An existing index already serves this access path (prefix rule).
    AlreadyCovered { index: String },
    /// The table is so small that a sequential scan is as good.
    TinyTable { rows: f64 },
    /// The planner does not use the index (the predicate keeps too many rows) or saves too little.
    NoPlanImprovement { best_saving_pct: f64 },
    /// Another recommended index serves the same queries (near-duplicate or wider prefix).
    Superseded { by: String },
    /// Adding it would exceed `--budget-mb`.
    OverBudget {
        size_bytes: u64,
        remaining_bytes: u64,
    },
    /// Written by pgperf before the write penalty became a cost: writes were over 90% of
    /// the table's row operations. Read from older advice files only.
    WriteHeavy { writes: i64, benefit: f64 },
    /// Maintaining the index on every row written costs at least what the reads gain, per
    /// workload session in planner cost units (`src/advise/writecost.rs`).
    WriteCost {
        /// Σ weight × planner cost saved on the queries it serves.
        read_benefit: f64,
        /// `writes_per_session × cost_per_row`.
        write_cost: f64,
        writes_per_session: f64,
        /// Planner cost units per written row (pages an insert descends).
        cost_per_row: f64,
        source: WriteSource,
    },
    /// Built for real, the index was not used by the queries it was meant for.
    NotUsed,
    /// Built for real, `indcheckxmin` made it unusable inside the verification transaction.
    CheckXmin,
    /// Measured P95 did not improve beyond noise.
    NoMeasuredImprovement { query: String },
    /// It made another query slower (the planner switched to a plan it wrongly thought cheaper).
    SlowsOtherQuery { query: String },
    /// The server refused to build it.
    BuildFailed { message: String },
    /// Costing it needs a real build (GIN), and real builds were not allowed (`--allow-locks`).
    NeedsLocks,
}

/// Extended statistics (`CREATE STATISTICS … (dependencies, ndistinct, mcv)`) pgperf recommends
/// creating, because a query's row estimate on correlated columns of one table was off by
/// [`crate::advise::extstats::MISESTIMATE_FACTOR`] or more and, with them, the estimate got
/// closer, the plan changed and the query got no slower (`src/advise/extstats/`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatisticsRecommendation {
    /// Deterministic name: `<table>_<columns>_stats`.
    pub name: String,
    pub spec: StatisticsSpec,
    /// The migration's statements: `CREATE STATISTICS IF NOT EXISTS …; ANALYZE …`.
    pub ddl: String,
    /// Names of the workload queries whose estimate was off on these columns.
    pub serves: Vec<String>,
    /// Per-query evidence.
    pub effects: Vec<StatisticsEffect>,
}

/// Columns of one table that extended statistics cover.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct StatisticsSpec {
    pub schema: String,
    pub table: String,
    /// Column names, sorted (the statistics do not depend on their order).
    pub columns: Vec<String>,
}

/// What extended statistics did to one query's plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatisticsEffect {
    pub query: String,
    /// Rows the planner expected from the scan of the table, without / with the statistics,
    /// and the rows it returned (per loop).
    pub estimated_rows_before: f64,
    pub estimated_rows_after: f64,
    pub actual_rows: f64,
    /// The plan shape (node types, relations, indexes) differs with the statistics.
    pub plan_changed: bool,
    /// Buffers and timing without / with the statistics; `uses_index` here means the plan
    /// changed.
    pub evidence: EffectEvidence,
}

/// Extended statistics that were tried and not recommended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RejectedStatistics {
    pub name: String,
    pub spec: StatisticsSpec,
    /// Names of the queries whose estimate was off.
    pub queries: Vec<String>,
    /// The reason as a sentence, with the evidence.
    pub explanation: String,
}

/// Where a table's writes per session come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WriteSource {
    /// The workload's own write statements (weight × rows written per execution).
    Workload,
    /// `pg_stat_user_tables`: rows written per scan, times the workload's reads of the table.
    TableStatistics,
}

/// A candidate that was considered and not recommended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RejectedCandidate {
    pub spec: IndexSpec,
    /// Names of the queries the candidate came from.
    pub queries: Vec<String>,
    pub reason: RejectReason,
    /// The reason as a sentence, with the evidence.
    pub explanation: String,
}

/// How a query's plan was costed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanMode {
    /// With the workload's real parameter values.
    Custom,
    /// No parameter values known: `PREPARE` + `plan_cache_mode = force_generic_plan`.
    Generic,
}

/// The advice as seen from one workload query.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueryAdvice {
    pub name: String,
    pub weight: f64,
    pub plan_mode: PlanMode,
    /// Planner cost with the current indexes, and with the recommended ones.
    pub cost_before: Option<f64>,
    pub cost_after: Option<f64>,
    /// Measured P95 without and with the recommended indexes, when verified.
    pub p95_before: Option<QuantileEstimate>,
    pub p95_after: Option<QuantileEstimate>,
    /// Names of recommended indexes this query uses.
    pub uses: Vec<String>,
    /// Why nothing helps this query, or the error it raised, when that is the case.
    pub note: Option<String>,
}

/// How [`QueryAdvice::note`] starts when the server refused to plan the query.
pub const SERVER_REJECTED_NOTE: &str = "the server rejected the query: ";

impl QueryAdvice {
    /// The server's error, when it refused to plan this query (nothing was advised for it).
    pub fn server_error(&self) -> Option<&str> {
        self.note.as_deref()?.strip_prefix(SERVER_REJECTED_NOTE)
    }
}

/// What looks wrong with an existing index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ExistingIndexIssue {
    /// `pg_stat_user_indexes.idx_scan = 0` since statistics were last reset.
    Unused,
    /// Its keys are a prefix of (or equal to) another index's keys on the same table.
    Duplicate { of: String },
}

/// An existing index worth a look. pgperf never drops indexes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExistingIndexFinding {
    pub schema: String,
    pub table: String,
    pub index: String,
    pub issue: ExistingIndexIssue,
    pub size_bytes: u64,
}

/// The migration pair written by advise.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MigrationFiles {
    pub up_path: String,
    pub down_path: String,
    pub up_sql: String,
    pub down_sql: String,
}
