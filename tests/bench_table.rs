//! The terminal summary users read: snapshot-tested, with budget verdicts, at a pipe's
//! unlimited width and at 80 and 120 terminal columns.

mod bench_common;

use bench_common::{query, result};
use pgperf::bench::table::{self, Verdict};
use pgperf::model::*;

#[test]
fn a_warning_many_queries_share_is_printed_once() {
    let mut result = result();
    let outliers = Warning::Outliers {
        count: 3,
        threshold_us: 2500.0,
    };
    for index in 0..5 {
        let mut extra = query(&format!("q{index}"), 200, 850.0, 100.0);
        extra.warnings = vec![outliers.clone()];
        result.queries.push(extra);
    }
    let text = table::render(&result, table::RenderOptions::default());
    let lines: Vec<&str> = text.lines().filter(|l| l.contains("outliers")).collect();
    assert_eq!(
        lines,
        vec![
            "warning: 5 queries (q0, q1, q2, q3, q4): e.g. q0: 3 outliers above 2.5 ms dominate the tail; check for background load or raise --warmup"
        ]
    );
}

#[test]
fn summary_table_shows_intervals_verdicts_and_warnings() {
    let result = result();
    let verdicts: Vec<Verdict> = result.queries.iter().map(table::verdict).collect();
    assert_eq!(
        verdicts,
        vec![
            Verdict::Within,
            Verdict::Breached,
            Verdict::Unjudged,
            Verdict::Unjudged
        ]
    );
    insta::assert_snapshot!(table::render(&result, table::RenderOptions::default()));
}

#[test]
fn results_json_round_trips() {
    let result = result();
    let dir = tempfile::tempdir().expect("temp dir");
    let path = pgperf::bench::results::write(dir.path(), &result).expect("written");
    assert_eq!(
        path,
        dir.path().join("20260101T000000Z-000000/results.json")
    );
    let read: RunResult =
        serde_json::from_str(&std::fs::read_to_string(path).expect("read")).expect("parses");
    assert_eq!(read, result);
}

fn at_width(width: usize) -> String {
    let mut result = result();
    result.queries[0].name = "approvals_list_by_status_and_owner".into();
    table::render(
        &result,
        table::RenderOptions {
            color: false,
            width: Some(width),
        },
    )
}

/// Every table line (borders included) within `width` columns.
fn assert_fits(text: &str, width: usize) {
    for line in text
        .lines()
        .filter(|l| l.starts_with(['┌', '│', '╞', '├', '└']))
    {
        assert!(line.chars().count() <= width, "wider than {width}: {line}");
    }
}

#[test]
fn at_120_columns_the_server_columns_are_dropped_first() {
    let text = at_width(120);
    assert_fits(&text, 120);
    insta::assert_snapshot!(text);
}

#[test]
fn at_80_columns_the_query_p95_and_budget_stay() {
    let text = at_width(80);
    assert_fits(&text, 80);
    for kept in ["approvals_list", "P95 [95% CI]", "budget", "✗ 100 ms"] {
        assert!(text.contains(kept), "{kept} missing:\n{text}");
    }
    insta::assert_snapshot!(text);
}

#[test]
fn the_closing_line_counts_queries_over_budget_and_names_the_exit_code() {
    let text = table::render(&result(), table::RenderOptions::default());
    assert_eq!(
        text.lines().last(),
        Some(
            "1 of 4 queries over budget (2 without a verdict: no budget, or fewer than 59 samples); exit 1"
        )
    );
}
