//! Error budgets over a history (Beyer et al., *The Site Reliability Workbook*, 2018, ch. 5
//! "Alerting on SLOs"). The objective of a query with a P95 budget is a share of executions
//! under that budget over a window of days (by default 95% over 30 days, which is what a P95
//! budget says). An execution over budget or failed is "bad"; the error budget is the share of
//! bad executions allowed, `1 - objective`.
//!
//! The burn rate of a set of runs is their share of bad executions divided by that allowance:
//! at 1.0 the budget lasts exactly the window. The workbook's multi-window alerts fire when a
//! long and a short window both burn faster than a factor (1 h and 5 min at 14.4×, 6 h and
//! 30 min at 6×). A history has runs, not a continuous stream, so its windows are counted in
//! runs with the workbook's 12:1 ratio: [`BudgetOptions::default`] fires on the latest run and
//! the last 12 both burning at 14.4×, or the last 2 and the last 24 at 6×. The short window
//! makes an alert stop as soon as a fixed run comes in; the long one keeps a single noisy run
//! from firing alone when there is history before it.

use chrono::Duration;

use crate::model::history::{Alert, BudgetReport, BurnRule, HistoryQuery, HistoryRun, QueryBudget};

/// The objective, window and alert rules.
#[derive(Debug, Clone, PartialEq)]
pub struct BudgetOptions {
    /// Share of executions that must finish under the budget.
    pub objective: f64,
    /// The SLO window in days back from the latest run.
    pub window_days: u32,
    pub scope: Scope,
    pub rules: Vec<BurnRule>,
}

impl Default for BudgetOptions {
    fn default() -> Self {
        BudgetOptions {
            objective: 0.95,
            window_days: 30,
            scope: Scope::Query,
            rules: vec![
                BurnRule {
                    name: "fast burn".into(),
                    long_runs: 12,
                    short_runs: 1,
                    burn_rate: 14.4,
                },
                BurnRule {
                    name: "slow burn".into(),
                    long_runs: 24,
                    short_runs: 2,
                    burn_rate: 6.0,
                },
            ],
        }
    }
}

/// What an objective is set on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scope {
    /// Each query with a P95 budget.
    #[default]
    Query,
    /// Each dashboard tile: the executions of all its queries with a budget, each judged
    /// against its own budget.
    Tile,
}

impl Scope {
    /// The query's key in this scope; `None` when the query has no part in it.
    fn key(self, query: &HistoryQuery) -> Option<&str> {
        match self {
            Scope::Query => Some(&query.name),
            Scope::Tile => query.tile.as_deref(),
        }
    }
}

/// Judges the error budget of every query (or tile) that has a P95 budget, over `runs`
/// (oldest first).
pub fn budgets(runs: &[HistoryRun], options: &BudgetOptions) -> BudgetReport {
    let window = window(runs, options.window_days);
    let mut keys: Vec<&str> = Vec::new();
    for query in window.iter().flat_map(|run| &run.queries) {
        if let Some(key) = options.scope.key(query).filter(|key| !keys.contains(key)) {
            keys.push(key);
        }
    }
    let queries: Vec<QueryBudget> = keys
        .into_iter()
        .filter_map(|key| judge(window, key, options))
        .collect();
    BudgetReport {
        objective: options.objective,
        window_days: options.window_days,
        per_tile: options.scope == Scope::Tile,
        rules: options.rules.clone(),
        fails: queries.iter().any(QueryBudget::fails),
        queries,
    }
}

/// The runs inside the SLO window that ends at the latest run.
fn window(runs: &[HistoryRun], days: u32) -> &[HistoryRun] {
    let Some(latest) = runs.last() else {
        return runs;
    };
    let start = latest.started_at - Duration::days(i64::from(days));
    let first = runs.partition_point(|run| run.started_at < start);
    &runs[first..]
}

/// (executions, bad executions) of one query or tile in one run.
type Tally = (u64, u64);

/// The tally of the queries under `key` in one run: those measured with a budget (a run
/// without one counted no executions over it). `None` when there is nothing to count.
fn tally(run: &HistoryRun, key: &str, scope: Scope) -> Option<Tally> {
    let (executions, bad) = run
        .queries
        .iter()
        .filter(|query| scope.key(query) == Some(key))
        .filter_map(|query| {
            let over = query.over_budget?;
            Some((query.samples + query.errors, over + query.errors))
        })
        .fold((0, 0), |(e, b), (qe, qb)| (e + qe, b + qb));
    (executions > 0).then_some((executions, bad))
}

fn judge(window: &[HistoryRun], key: &str, options: &BudgetOptions) -> Option<QueryBudget> {
    let members = || {
        window
            .iter()
            .flat_map(|run| &run.queries)
            .filter(|query| options.scope.key(query) == Some(key))
    };
    let latest = members().next_back()?;
    // A query is judged against its latest budget; a tile's queries each against their own.
    let budget_p95_us = match options.scope {
        Scope::Query => Some(latest.budget_p95_us?),
        Scope::Tile => {
            members().find(|query| query.budget_p95_us.is_some())?;
            None
        }
    };
    let tallies: Vec<Tally> = window
        .iter()
        .filter_map(|run| tally(run, key, options.scope))
        .collect();
    let mut judged = assess(&tallies, options);
    judged.name = key.to_owned();
    judged.tile = latest.tile.clone();
    judged.budget_p95_us = budget_p95_us;
    Some(judged)
}

/// Spent budget, burn rates and alerts of a series of tallies (oldest first).
fn assess(tallies: &[Tally], options: &BudgetOptions) -> QueryBudget {
    let allowance = 1.0 - options.objective;
    let burn = |tallies: &[Tally]| {
        let (executions, bad) = tallies
            .iter()
            .fold((0, 0), |(e, b), (te, tb)| (e + te, b + tb));
        if executions == 0 {
            0.0
        } else {
            bad as f64 / executions as f64 / allowance
        }
    };
    let last = |n: usize| &tallies[tallies.len().saturating_sub(n)..];
    let alerts = options
        .rules
        .iter()
        .filter_map(|rule| {
            let (long, short) = (burn(last(rule.long_runs)), burn(last(rule.short_runs)));
            (!tallies.is_empty() && long >= rule.burn_rate && short >= rule.burn_rate).then(|| {
                Alert {
                    rule: rule.name.clone(),
                    long_burn_rate: long,
                    short_burn_rate: short,
                    threshold: rule.burn_rate,
                }
            })
        })
        .collect();
    QueryBudget {
        name: String::new(),
        tile: None,
        budget_p95_us: None,
        runs: tallies.len(),
        executions: tallies.iter().map(|(e, _)| e).sum(),
        bad: tallies.iter().map(|(_, b)| b).sum(),
        spent: burn(tallies),
        latest_burn_rate: burn(last(1)),
        burn_rates: tallies
            .iter()
            .map(|tally| burn(std::slice::from_ref(tally)))
            .collect(),
        alerts,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    /// Runs a day apart whose query had `bad[i]` of 200 executions over its budget.
    fn history(bad: &[u64]) -> Vec<HistoryRun> {
        let start = Utc
            .with_ymd_and_hms(2026, 11, 1, 0, 0, 0)
            .single()
            .expect("valid");
        bad.iter()
            .enumerate()
            .map(|(i, &over)| HistoryRun {
                run_id: format!("r{i}"),
                started_at: start + Duration::days(i as i64),
                recorded_at: start,
                commit: None,
                branch: None,
                workload_name: "w".into(),
                workload_hash: "h".into(),
                pgperf_version: "0.1.0".into(),
                server_version: "15".into(),
                complete: true,
                queries: vec![HistoryQuery {
                    name: "q".into(),
                    tile: None,
                    samples: 200,
                    errors: 0,
                    budget_p95_us: Some(100_000.0),
                    over_budget: Some(over),
                    p50: None,
                    p95: None,
                    p99: None,
                    buffers_per_call: None,
                    plan_hash: None,
                }],
            })
            .collect()
    }

    #[test]
    fn a_healthy_history_spends_little_and_fires_nothing() {
        let report = budgets(
            &history(&[2, 4, 3, 5, 1, 2, 6, 3]),
            &BudgetOptions::default(),
        );
        let query = &report.queries[0];
        // 26 of 1600 bad against 5% allowed: 1.625% / 5% = 0.325 of the budget.
        assert!((query.spent - 0.325).abs() < 1e-9, "{query:?}");
        assert!(query.alerts.is_empty());
        assert!(!report.fails);
    }

    #[test]
    fn a_sudden_regression_fires_the_fast_burn_rule() {
        let mut bad = vec![2; 20];
        bad.push(190);
        let report = budgets(&history(&bad), &BudgetOptions::default());
        let query = &report.queries[0];
        assert!((query.latest_burn_rate - 19.0).abs() < 1e-9);
        // Long window: 11 × 2 + 190 = 212 of 2400 → 8.8% / 5% = 1.77 < 14.4: one run alone
        // does not fire the fast rule while there are healthy runs before it.
        assert!(query.alerts.is_empty(), "{query:?}");
        let mut sustained = vec![2; 10];
        sustained.extend([190; 12]);
        let report = budgets(&history(&sustained), &BudgetOptions::default());
        let names: Vec<&str> = report.queries[0]
            .alerts
            .iter()
            .map(|a| a.rule.as_str())
            .collect();
        assert_eq!(names, vec!["fast burn", "slow burn"]);
        assert!(report.fails);
    }

    #[test]
    fn a_fixed_regression_stops_alerting_but_the_spent_budget_remains() {
        let mut bad = vec![120; 12];
        bad.extend([1, 1]);
        let report = budgets(&history(&bad), &BudgetOptions::default());
        let query = &report.queries[0];
        assert!(
            query.alerts.is_empty(),
            "the short windows are healthy again"
        );
        assert!(query.exhausted(), "{query:?}");
        assert!(report.fails);
    }

    #[test]
    fn runs_older_than_the_window_do_not_count() {
        let mut bad = vec![200; 5];
        bad.extend(vec![0; 31]);
        let report = budgets(&history(&bad), &BudgetOptions::default());
        assert_eq!(report.queries[0].runs, 31);
        assert_eq!(report.queries[0].bad, 0);
    }

    #[test]
    fn a_tile_counts_the_executions_of_all_its_queries() {
        let mut runs = history(&[2, 4]);
        for run in &mut runs {
            let mut second = run.queries[0].clone();
            second.name = "q2".into();
            second.over_budget = Some(40);
            run.queries.push(second);
            for query in &mut run.queries {
                query.tile = Some("approvals".into());
            }
        }
        let options = BudgetOptions {
            scope: Scope::Tile,
            ..BudgetOptions::default()
        };
        let report = budgets(&runs, &options);
        assert_eq!(report.queries.len(), 1);
        let tile = &report.queries[0];
        assert_eq!(
            (tile.name.as_str(), tile.budget_p95_us),
            ("approvals", None)
        );
        assert_eq!((tile.executions, tile.bad), (800, 86));
    }

    #[test]
    fn queries_without_a_budget_are_not_judged() {
        let mut runs = history(&[1, 2]);
        for run in &mut runs {
            run.queries[0].budget_p95_us = None;
            run.queries[0].over_budget = None;
        }
        assert!(budgets(&runs, &BudgetOptions::default()).queries.is_empty());
    }
}
