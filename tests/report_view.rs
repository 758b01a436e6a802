//! Snapshot tests of the report's structured context (what a reader sees, as data).

mod report_support;

use pgperf::report::{advice, chart_data, check, view};
use report_support::{Shape, dashboard_run, query};

#[test]
fn dashboard_report_context() {
    let view = view::build(&dashboard_run());
    insta::assert_json_snapshot!("dashboard_view", view);
}

#[test]
fn summary_is_worst_first_by_p95_over_budget() {
    let view = view::build(&dashboard_run());
    let order: Vec<(&str, &str)> = view
        .summary
        .iter()
        .map(|row| (row.name.as_str(), row.status.label()))
        .collect();
    assert_eq!(
        order,
        [
            ("audit_trail_for_row", "breached"),
            ("approvals_pending_list", "borderline"),
            ("approvals_monday_backlog", "no verdict"),
            ("inventory_low_stock", "holds"),
            ("approvals_tile_counts", "holds"),
            ("product_by_sku", "holds"),
            ("ads_performance_30d", "no budget"),
        ]
    );
}

#[test]
fn chart_data_of_one_query() {
    let mut shape = Shape::new("warm_start", 600, 3_000.0);
    shape.warmup_factor = 4.0;
    let charts = chart_data::query_charts(&query(&shape));
    assert!(charts.histogram.len() <= chart_data::MAX_BINS);
    assert!(charts.cdf.len() <= chart_data::CDF_POINTS + 1);
    insta::assert_snapshot!("warm_start_charts", charts_text(&charts));
}

/// The chart data as short lines: every bin, every 20th CDF point, every 10th drift point.
fn charts_text(charts: &chart_data::QueryCharts) -> String {
    let ms = |us: f64| pgperf::report::format::latency_us(us);
    let markers: Vec<String> = charts
        .markers
        .iter()
        .map(|(label, us)| format!("{label} {}", ms(*us)))
        .collect();
    let mut lines = vec![format!(
        "markers {} · budget {}",
        markers.join(", "),
        charts.budget_us.map_or("none".into(), ms)
    )];
    for bin in &charts.histogram {
        lines.push(format!(
            "bin {} – {}: {}",
            ms(bin.low_us),
            ms(bin.high_us),
            bin.count
        ));
    }
    for point in charts.cdf.iter().step_by(20) {
        lines.push(format!("cdf {} {:.3}", ms(point[0]), point[1]));
    }
    if let Some(drift) = &charts.drift {
        lines.push(format!("drift window {}", drift.window));
        for point in drift.points.iter().step_by(10) {
            lines.push(format!(
                "drift {:.1} s p50 {} p95 {}",
                point.at_s,
                ms(point.p50_us),
                ms(point.p95_us)
            ));
        }
    }
    lines.join("\n")
}

#[test]
fn a_failed_query_sorts_first_and_says_so() {
    let mut run = dashboard_run();
    let failed = &mut run.queries[3];
    failed.latency = None;
    failed.errors = 1500;
    failed.samples = 0;
    failed.first_error = Some(pgperf::model::QueryError {
        sqlstate: Some("42501".into()),
        message: "permission denied for table approvals".into(),
    });
    let view = view::build(&run);
    assert_eq!(view.summary[0].name, "approvals_tile_counts");
    assert_eq!(view.summary[0].status, view::BudgetStatus::Failed);
    assert_eq!(
        view.queries[0].first_error.as_deref(),
        Some("42501: permission denied for table approvals")
    );
    assert_eq!(view.headline.failed, 1);
}

#[test]
fn advice_context() {
    let advice = report_support::advice_result();
    insta::assert_json_snapshot!("advice_view", advice::build(&advice));
}

#[test]
fn check_context() {
    insta::assert_json_snapshot!("check_view", check::build(&report_support::check_report()));
}

#[test]
fn plan_diff_marks_only_the_lines_that_differ() {
    let lines = |text: &str| text.split('|').map(str::to_string).collect::<Vec<_>>();
    let (before, after) = check::changed_lines(
        &lines("Limit|Sort|Seq Scan a"),
        &lines("Limit|Sort|Index Scan a a_idx"),
    );
    assert_eq!(before, [false, false, true]);
    assert_eq!(after, [false, false, true]);
}
