//! The report's structured context: everything the page shows, already ordered and formatted,
//! built from model types only. Rendering ([`super::html`]) just lays it out, so what a reader
//! sees is snapshot-tested here as data.

use serde::Serialize;

use super::chart_data::{self, QueryCharts};
use super::format;
use super::plan::{self, PlanView};
use crate::model::{QuantileEstimate, QueryResult, RunResult, Warning};

/// The whole bench report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReportView {
    pub title: String,
    pub run: RunView,
    pub headline: Headline,
    /// One row per query, worst first (P95 over budget, descending).
    pub summary: Vec<SummaryRow>,
    pub run_warnings: Vec<WarningView>,
    /// Query sections, in the summary's order.
    pub queries: Vec<QueryView>,
    pub environment: Vec<Group>,
}

/// When and what was run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunView {
    pub run_id: String,
    pub workload: String,
    pub started_at: String,
    pub duration: String,
    pub complete: bool,
    pub abort_reason: Option<String>,
}

/// Counts for the top of the page.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Headline {
    pub queries: usize,
    pub breached: usize,
    pub borderline: usize,
    pub holds: usize,
    pub no_verdict: usize,
    pub no_budget: usize,
    pub failed: usize,
}

/// A query's P95 against its budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BudgetStatus {
    /// Nothing succeeded.
    Failed,
    /// P95 and its whole interval above the budget.
    Breached,
    /// The P95 interval contains the budget.
    Borderline,
    /// P95 and its whole interval within the budget.
    Holds,
    /// Too few samples for an interval (DESIGN §7: fewer than 59).
    NoVerdict,
    NoBudget,
}

impl BudgetStatus {
    /// Short text for the summary table.
    pub fn label(self) -> &'static str {
        match self {
            BudgetStatus::Failed => "failed",
            BudgetStatus::Breached => "breached",
            BudgetStatus::Borderline => "borderline",
            BudgetStatus::Holds => "holds",
            BudgetStatus::NoVerdict => "no verdict",
            BudgetStatus::NoBudget => "no budget",
        }
    }

    /// What the label means, for a tooltip and the legend.
    pub fn explanation(self) -> &'static str {
        match self {
            BudgetStatus::Failed => "every execution failed",
            BudgetStatus::Breached => "P95 and its 95% interval are above the budget",
            BudgetStatus::Borderline => "the 95% interval of P95 contains the budget",
            BudgetStatus::Holds => "P95 and its 95% interval are within the budget",
            BudgetStatus::NoVerdict => "too few samples for a P95 interval (59 needed)",
            BudgetStatus::NoBudget => "the workload sets no P95 budget for this query",
        }
    }
}

/// One line of the summary table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SummaryRow {
    pub anchor: String,
    pub name: String,
    pub tile: Option<String>,
    pub n: String,
    pub p50: String,
    pub p95: String,
    pub p95_interval: Option<String>,
    pub p99: String,
    pub budget: Option<String>,
    /// P95 as a multiple of the budget: `"1.8×"`.
    pub budget_ratio: Option<String>,
    pub status: BudgetStatus,
    pub calls: Option<String>,
    pub rows_per_call: String,
    pub shared_hit_per_call: Option<String>,
    pub shared_read_per_call: Option<String>,
    pub server_mean: Option<String>,
    pub client_mean: Option<String>,
    /// Warnings of the query; the summary shows their kinds, with the remedy as a tooltip.
    pub warnings: Vec<WarningView>,
    pub errors: u64,
}

/// A warning and its remedy.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WarningView {
    pub kind: String,
    pub message: String,
}

/// A titled list of key/value pairs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Group {
    pub title: String,
    pub rows: Vec<(String, String)>,
}

/// Everything shown for one query.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QueryView {
    pub anchor: String,
    pub name: String,
    pub tile: Option<String>,
    pub status: BudgetStatus,
    pub headline: String,
    pub role: String,
    pub claims: Option<String>,
    /// The persona's session settings as `name = value, ...`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub settings: Option<String>,
    pub weight: String,
    pub sql: String,
    pub statistics: Vec<(String, String)>,
    pub warnings: Vec<WarningView>,
    pub first_error: Option<String>,
    pub plan: Option<PlanView>,
    /// Chart data; snapshot-tested on its own (it is long), drawn by [`super::svg`].
    #[serde(skip)]
    pub charts: QueryCharts,
}

/// The page title of a run's report.
pub fn title(run: &RunResult) -> String {
    format!("pgperf bench report: {}", run.environment.workload_name)
}

/// Builds the bench report's context from a run.
pub fn build(run: &RunResult) -> ReportView {
    let mut order: Vec<(usize, &QueryResult)> = run.queries.iter().enumerate().collect();
    order.sort_by(|a, b| {
        let (group_a, key_a) = severity(a.1);
        let (group_b, key_b) = severity(b.1);
        group_a.cmp(&group_b).then(key_a.total_cmp(&key_b))
    });
    let summary: Vec<SummaryRow> = order.iter().map(|(i, q)| summary_row(*i, q)).collect();
    let mut headline = Headline {
        queries: summary.len(),
        ..Headline::default()
    };
    for row in &summary {
        *headline_slot(&mut headline, row.status) += 1;
    }
    ReportView {
        title: title(run),
        run: run_view(run),
        headline,
        summary,
        run_warnings: run.warnings.iter().map(warning_view).collect(),
        queries: order.iter().map(|(i, q)| query_view(*i, q)).collect(),
        environment: super::environment::groups(run),
    }
}

fn headline_slot(headline: &mut Headline, status: BudgetStatus) -> &mut usize {
    match status {
        BudgetStatus::Failed => &mut headline.failed,
        BudgetStatus::Breached => &mut headline.breached,
        BudgetStatus::Borderline => &mut headline.borderline,
        BudgetStatus::Holds => &mut headline.holds,
        BudgetStatus::NoVerdict => &mut headline.no_verdict,
        BudgetStatus::NoBudget => &mut headline.no_budget,
    }
}

/// Sort key, smallest first: failed queries, then P95/budget descending, then queries without a
/// budget by P95 descending. Ties keep workload order (the sort is stable).
fn severity(query: &QueryResult) -> (u8, f64) {
    match (&query.latency, query.budget_p95_us) {
        (None, _) => (0, 0.0),
        (Some(latency), Some(budget)) if budget > 0.0 => (1, -latency.p95.value_us / budget),
        (Some(latency), _) => (2, -latency.p95.value_us),
    }
}

/// The budget verdict of one query.
pub fn budget_status(query: &QueryResult) -> BudgetStatus {
    let Some(latency) = &query.latency else {
        return BudgetStatus::Failed;
    };
    let Some(budget) = query.budget_p95_us else {
        return BudgetStatus::NoBudget;
    };
    let p95 = latency.p95;
    let (Some(low), Some(high)) = (p95.ci_low_us, p95.ci_high_us) else {
        return BudgetStatus::NoVerdict;
    };
    if low > budget {
        BudgetStatus::Breached
    } else if high <= budget && p95.value_us <= budget {
        BudgetStatus::Holds
    } else {
        BudgetStatus::Borderline
    }
}

/// `"12.1 ms – 14.3 ms"`, when the estimate has an interval.
pub fn interval(estimate: &QuantileEstimate) -> Option<String> {
    let (low, high) = (estimate.ci_low_us?, estimate.ci_high_us?);
    Some(format!(
        "{} – {}",
        format::latency_us(low),
        format::latency_us(high)
    ))
}

/// Anchor id of a query section: position plus a slug of the name (names may repeat after
/// slugging, positions do not).
pub fn anchor(index: usize, name: &str) -> String {
    let slug: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .take(40)
        .collect();
    format!("q{index}-{}", slug.trim_matches('-'))
}

fn summary_row(index: usize, query: &QueryResult) -> SummaryRow {
    let latency = query.latency.as_ref();
    let server = query.server.as_ref();
    let per_call = |blocks: i64| {
        server
            .filter(|s| s.calls > 0)
            .map(|s| format::per_call(blocks as f64 / s.calls as f64))
    };
    let ratio = latency
        .zip(query.budget_p95_us)
        .filter(|(_, budget)| *budget > 0.0);
    SummaryRow {
        anchor: anchor(index, &query.name),
        name: query.name.clone(),
        tile: query.tile.clone(),
        n: format::count(latency.map_or(0, |l| l.n as i64)),
        p50: latency.map_or("–".into(), |l| format::latency_us(l.p50.value_us)),
        p95: latency.map_or("–".into(), |l| format::latency_us(l.p95.value_us)),
        p95_interval: latency.and_then(|l| interval(&l.p95)),
        p99: latency.map_or("–".into(), |l| format::latency_us(l.p99.value_us)),
        budget: query.budget_p95_us.map(format::latency_us),
        budget_ratio: ratio
            .map(|(l, budget)| format!("{}×", format::significant(l.p95.value_us / budget, 2))),
        status: budget_status(query),
        calls: server.map(|s| format::count(s.calls)),
        rows_per_call: format::per_call(query.rows_per_call),
        shared_hit_per_call: server.and_then(|s| per_call(s.shared_blks_hit)),
        shared_read_per_call: server.and_then(|s| per_call(s.shared_blks_read)),
        server_mean: server
            .filter(|s| s.calls > 0)
            .map(|s| format::latency_ms(s.mean_exec_time_ms)),
        client_mean: latency.map(|l| format::latency_us(l.mean_us)),
        warnings: query.warnings.iter().map(warning_view).collect(),
        errors: query.errors,
    }
}

fn query_view(index: usize, query: &QueryResult) -> QueryView {
    let status = budget_status(query);
    QueryView {
        anchor: anchor(index, &query.name),
        name: query.name.clone(),
        tile: query.tile.clone(),
        status,
        headline: query_headline(query, status),
        role: query.role.clone(),
        claims: query.claims.as_ref().map(|claims| claims.to_string()),
        settings: (!query.settings.is_empty()).then(|| {
            let pairs: Vec<String> = query
                .settings
                .iter()
                .map(|(name, value)| format!("{name} = {value}"))
                .collect();
            pairs.join(", ")
        }),
        weight: format::significant(query.weight, 3),
        sql: query.sql.clone(),
        statistics: super::statistics::rows(query),
        warnings: query.warnings.iter().map(warning_view).collect(),
        first_error: query
            .first_error
            .as_ref()
            .map(|error| match &error.sqlstate {
                Some(code) => format!("{code}: {}", super::environment::redact(&error.message)),
                None => super::environment::redact(&error.message),
            }),
        plan: query.plan.as_ref().map(plan::plan_view),
        charts: chart_data::query_charts(query),
    }
}

fn query_headline(query: &QueryResult, status: BudgetStatus) -> String {
    let Some(latency) = &query.latency else {
        return format!("all {} executions failed", query.errors);
    };
    let p95 = format::latency_us(latency.p95.value_us);
    match query.budget_p95_us {
        Some(budget) => format!(
            "P95 {p95} vs budget {}: {}",
            format::latency_us(budget),
            status.label()
        ),
        None => format!("P95 {p95}"),
    }
}

fn warning_view(warning: &Warning) -> WarningView {
    let kind = serde_json::to_value(warning)
        .ok()
        .and_then(|value| {
            value
                .get("kind")
                .and_then(|kind| kind.as_str().map(str::to_string))
        })
        .unwrap_or_default();
    WarningView {
        kind: kind.replace('_', " "),
        message: warning.to_string(),
    }
}

fn run_view(run: &RunResult) -> RunView {
    let seconds = (run.finished_at - run.started_at).num_milliseconds() as f64 / 1000.0;
    RunView {
        run_id: run.run_id.clone(),
        workload: run.environment.workload_name.clone(),
        started_at: run.started_at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
        duration: format!("{} s", format::significant(seconds.max(0.0), 3)),
        complete: run.complete,
        abort_reason: run.abort_reason.as_deref().map(super::environment::redact),
    }
}
