//! Trends per query over a history's runs: the points to draw, plan changes, and the shifts of
//! the P95 found by [`crate::stats::detect_change_points`], each annotated with the commit of
//! the first run that has it.

use std::collections::BTreeMap;

use crate::model::history::{HistoryRun, QueryTrend, RunPoint, Shift, TrendPoint, TrendReport};
use crate::stats::{ChangeOptions, detect_change_points};

/// Trends of every query of `runs` (oldest first). Queries appear in the order of their first
/// run; a query missing from a run has no point there.
pub fn trends(runs: &[HistoryRun], options: &ChangeOptions) -> TrendReport {
    let points = runs
        .iter()
        .map(|run| RunPoint {
            run_id: run.run_id.clone(),
            started_at: run.started_at,
            commit: run.commit.clone(),
            branch: run.branch.clone(),
        })
        .collect();
    let mut queries = query_trends(runs);
    let series: Vec<Vec<f64>> = queries
        .iter()
        .map(|query| p95_series(query).into_iter().map(|(_, p95)| p95).collect())
        .collect();
    let found = detect_change_points(&series, options);
    for (query, change_points) in queries.iter_mut().zip(found) {
        let runs_with_p95: Vec<usize> = p95_series(query).into_iter().map(|(run, _)| run).collect();
        query.shifts = change_points
            .iter()
            .map(|point| {
                let run = runs_with_p95[point.index];
                let previous = runs_with_p95[point.index - 1];
                Shift {
                    run,
                    commit: runs[run].commit.clone(),
                    previous_commit: runs[previous].commit.clone(),
                    ratio: point.ratio,
                    q_value: point.p_value,
                }
            })
            .collect();
    }
    TrendReport {
        runs: points,
        queries,
        method: method(options),
        budgets: None,
    }
}

/// The detector's settings in words, shown on the page.
pub fn method(options: &ChangeOptions) -> String {
    format!(
        "binary segmentation on log P95 per run, max-t permutation test ({} shuffles), Benjamini-Hochberg at FDR {} across queries, shifts under {:.0}% ignored, at least {} runs per side",
        options.permutations,
        options.fdr,
        options.min_effect * 100.0,
        options.min_segment
    )
}

fn query_trends(runs: &[HistoryRun]) -> Vec<QueryTrend> {
    let mut order: Vec<String> = Vec::new();
    let mut by_name: BTreeMap<String, QueryTrend> = BTreeMap::new();
    for (index, run) in runs.iter().enumerate() {
        for query in &run.queries {
            let trend = by_name.entry(query.name.clone()).or_insert_with(|| {
                order.push(query.name.clone());
                QueryTrend {
                    name: query.name.clone(),
                    tile: query.tile.clone(),
                    budget_p95_us: None,
                    points: Vec::new(),
                    shifts: Vec::new(),
                }
            });
            let previous_plan = trend.points.iter().rev().find_map(|p| p.plan_hash.as_ref());
            let plan_changed = matches!(
                (previous_plan, &query.plan_hash),
                (Some(before), Some(after)) if before != after
            );
            trend.tile = query.tile.clone();
            trend.budget_p95_us = query.budget_p95_us;
            trend.points.push(TrendPoint {
                run: index,
                p50: query.p50,
                p95: query.p95,
                p99: query.p99,
                buffers_per_call: query.buffers_per_call,
                plan_hash: query.plan_hash.clone(),
                plan_changed,
            });
        }
    }
    order
        .into_iter()
        .filter_map(|name| by_name.remove(&name))
        .collect()
}

/// (run index, P95 in µs) of the points that have a P95.
fn p95_series(query: &QueryTrend) -> Vec<(usize, f64)> {
    query
        .points
        .iter()
        .filter_map(|point| point.p95.map(|p95| (point.run, p95.value_us)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::QuantileEstimate;
    use crate::model::history::HistoryQuery;
    use chrono::{Duration, TimeZone, Utc};
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;
    use rand_distr::{Distribution, LogNormal};

    fn run(index: usize, queries: Vec<HistoryQuery>) -> HistoryRun {
        let start = Utc
            .with_ymd_and_hms(2026, 11, 1, 0, 0, 0)
            .single()
            .expect("valid");
        HistoryRun {
            run_id: format!("run-{index:03}"),
            started_at: start + Duration::hours(index as i64),
            recorded_at: start + Duration::hours(index as i64),
            commit: Some(format!("c{index:03}")),
            branch: Some("main".into()),
            workload_name: "w".into(),
            workload_hash: "h".into(),
            pgperf_version: "0.1.0".into(),
            server_version: "15".into(),
            complete: true,
            queries,
        }
    }

    fn query(name: &str, p95_us: f64, plan: &str) -> HistoryQuery {
        let estimate = |value_us| QuantileEstimate {
            value_us,
            ci_low_us: Some(value_us * 0.9),
            ci_high_us: Some(value_us * 1.1),
        };
        HistoryQuery {
            name: name.into(),
            tile: None,
            samples: 200,
            errors: 0,
            budget_p95_us: Some(50_000.0),
            over_budget: Some(0),
            p50: Some(estimate(p95_us / 2.0)),
            p95: Some(estimate(p95_us)),
            p99: Some(estimate(p95_us * 1.5)),
            buffers_per_call: Some(4.0),
            plan_hash: Some(plan.into()),
        }
    }

    #[test]
    fn a_slowdown_is_annotated_with_the_commit_that_introduced_it() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let noise = LogNormal::new(0.0, 0.1).expect("valid");
        let runs: Vec<HistoryRun> = (0..30)
            .map(|i| {
                let (level, plan) = if i < 18 {
                    (10_000.0, "a")
                } else {
                    (16_000.0, "b")
                };
                let flat = 5_000.0 * noise.sample(&mut rng);
                run(
                    i,
                    vec![
                        query("slow", level * noise.sample(&mut rng), plan),
                        query("flat", flat, "x"),
                    ],
                )
            })
            .collect();
        let report = trends(&runs, &ChangeOptions::default());
        let slow = &report.queries[0];
        assert_eq!(slow.shifts.len(), 1, "{:?}", slow.shifts);
        assert_eq!(slow.shifts[0].commit.as_deref(), Some("c018"));
        assert_eq!(slow.shifts[0].previous_commit.as_deref(), Some("c017"));
        assert!(slow.shifts[0].ratio > 1.4);
        let changed: Vec<usize> = slow
            .points
            .iter()
            .filter(|p| p.plan_changed)
            .map(|p| p.run)
            .collect();
        assert_eq!(changed, vec![18]);
        assert!(report.queries[1].shifts.is_empty());
    }

    #[test]
    fn a_query_missing_from_some_runs_keeps_its_run_indexes() {
        let runs = vec![
            run(0, vec![query("a", 1000.0, "p")]),
            run(1, vec![query("b", 1000.0, "p")]),
            run(2, vec![query("a", 1000.0, "p"), query("b", 1000.0, "p")]),
        ];
        let report = trends(&runs, &ChangeOptions::default());
        let names: Vec<&str> = report.queries.iter().map(|q| q.name.as_str()).collect();
        assert_eq!(names, vec!["a", "b"]);
        let a_runs: Vec<usize> = report.queries[0].points.iter().map(|p| p.run).collect();
        assert_eq!(a_runs, vec![0, 2]);
    }
}
