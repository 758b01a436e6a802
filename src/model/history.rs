//! The data of `pgperf history`: what the history store keeps of each run ([`HistoryRun`]),
//! the trends drawn from it ([`TrendReport`]) and the error budgets judged on it
//! ([`BudgetReport`]). Latencies in microseconds, as in [`super::RunResult`].

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::QuantileEstimate;

/// One run as the history keeps it: where it came from and a summary per query (no raw
/// samples, so a year of runs stays small).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryRun {
    /// The run's id from its results file; a run is kept once.
    pub run_id: String,
    /// When measurement started; the history's time axis.
    pub started_at: DateTime<Utc>,
    /// When the run was added to the history.
    pub recorded_at: DateTime<Utc>,
    /// Git commit the run measured, when known.
    pub commit: Option<String>,
    /// Git branch the run measured, when known.
    pub branch: Option<String>,
    pub workload_name: String,
    pub workload_hash: String,
    pub pgperf_version: String,
    pub server_version: String,
    /// False when the run stopped early.
    pub complete: bool,
    /// One entry per query, in workload order.
    pub queries: Vec<HistoryQuery>,
}

/// One query of one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryQuery {
    pub name: String,
    pub tile: Option<String>,
    /// Successful measured executions.
    pub samples: u64,
    /// Failed measured executions; they count against the error budget.
    pub errors: u64,
    /// The query's P95 budget at the time of the run.
    pub budget_p95_us: Option<f64>,
    /// Successful executions slower than the budget (from the full histogram); `None` without
    /// a budget.
    pub over_budget: Option<u64>,
    pub p50: Option<QuantileEstimate>,
    pub p95: Option<QuantileEstimate>,
    pub p99: Option<QuantileEstimate>,
    /// Shared buffers (hit + read) per call from pg_stat_statements.
    pub buffers_per_call: Option<f64>,
    /// Plan shape hash of the out-of-band EXPLAIN.
    pub plan_hash: Option<String>,
}

/// A run as a point on the time axis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunPoint {
    pub run_id: String,
    pub started_at: DateTime<Utc>,
    pub commit: Option<String>,
    pub branch: Option<String>,
}

/// Trends of every query over the runs of a history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrendReport {
    /// The history's runs, oldest first; points refer to them by index.
    pub runs: Vec<RunPoint>,
    pub queries: Vec<QueryTrend>,
    /// The detector's settings, in words.
    pub method: String,
    /// Error budgets, when judged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budgets: Option<BudgetReport>,
}

/// One query over the runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueryTrend {
    pub name: String,
    pub tile: Option<String>,
    /// The latest budget.
    pub budget_p95_us: Option<f64>,
    pub points: Vec<TrendPoint>,
    /// Detected shifts of the P95, oldest first.
    pub shifts: Vec<Shift>,
}

/// The query in one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrendPoint {
    /// Index into [`TrendReport::runs`].
    pub run: usize,
    pub p50: Option<QuantileEstimate>,
    pub p95: Option<QuantileEstimate>,
    pub p99: Option<QuantileEstimate>,
    pub buffers_per_call: Option<f64>,
    pub plan_hash: Option<String>,
    /// The plan shape differs from the query's previous run with a plan.
    pub plan_changed: bool,
}

/// A shift of a query's P95 first seen at one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Shift {
    /// Index into [`TrendReport::runs`] of the first run after the shift.
    pub run: usize,
    /// The commit of that run: the first measured commit with the shift.
    pub commit: Option<String>,
    /// The commit of the run before: the shift came in after it.
    pub previous_commit: Option<String>,
    /// Geometric mean P95 after / before.
    pub ratio: f64,
    /// Permutation p-value (Benjamini-Hochberg adjusted across queries for a query's first shift).
    pub q_value: f64,
}

/// A multi-window burn-rate rule (Google SRE workbook, "Alerting on SLOs"), with windows
/// counted in runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BurnRule {
    pub name: String,
    /// Runs in the long window.
    pub long_runs: usize,
    /// Runs in the short window (the latest runs), which makes the alert stop soon after the
    /// burning stops.
    pub short_runs: usize,
    /// Burn rate both windows must reach.
    pub burn_rate: f64,
}

/// Error budgets of every query with a budget.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BudgetReport {
    /// Share of executions that must finish under the budget, e.g. 0.95.
    pub objective: f64,
    /// The SLO window, in days back from the latest run.
    pub window_days: u32,
    /// True when the objectives are set per dashboard tile, not per query.
    #[serde(default)]
    pub per_tile: bool,
    pub rules: Vec<BurnRule>,
    /// One entry per query (or per tile with `per_tile`).
    pub queries: Vec<QueryBudget>,
    /// True when some query's budget is exhausted or burning too fast.
    pub fails: bool,
}

/// The error budget of one query, or of one tile (its queries' executions together).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueryBudget {
    /// The query's name, or the tile's.
    pub name: String,
    pub tile: Option<String>,
    /// The query's P95 budget; `None` for a tile, whose queries each have their own.
    pub budget_p95_us: Option<f64>,
    /// Runs of the query inside the SLO window.
    pub runs: usize,
    /// Executions (successful and failed) inside the window.
    pub executions: u64,
    /// Executions over budget or failed inside the window.
    pub bad: u64,
    /// Share of the window's error budget spent: 1.0 is all of it.
    pub spent: f64,
    /// Burn rate of the latest run: 1.0 spends the budget exactly over the window.
    pub latest_burn_rate: f64,
    /// The burn rate of each run in the window, oldest first (for the page).
    pub burn_rates: Vec<f64>,
    /// Rules that fire, with both windows' burn rates.
    pub alerts: Vec<Alert>,
}

impl QueryBudget {
    /// The budget is spent.
    pub fn exhausted(&self) -> bool {
        self.spent >= 1.0
    }

    /// The query fails `pgperf history check`.
    pub fn fails(&self) -> bool {
        self.exhausted() || !self.alerts.is_empty()
    }
}

/// A burn-rate rule that fires.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    pub rule: String,
    pub long_burn_rate: f64,
    pub short_burn_rate: f64,
    pub threshold: f64,
}
