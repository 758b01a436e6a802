//! Snapshots of every output format of `pgperf check` on hand-built runs.

mod check_common;

use check_common::{latencies_us, mixed_runs, options, query, run};
use pgperf::check::check;
use pgperf::check::render::{Format, write_annotations, write_human, write_markdown, write_report};
use pgperf::model::check::{CheckOptions, CheckReport, Signal};

fn render(report: &CheckReport, format: Format) -> String {
    let mut out = Vec::new();
    write_report(report, format, &mut out).expect("writing to a Vec cannot fail");
    String::from_utf8(out).expect("reports are UTF-8")
}

fn mixed_report() -> CheckReport {
    let (baseline, current) = mixed_runs();
    check(&baseline, &current, &options())
}

fn incomparable_runs() -> (pgperf::model::RunResult, pgperf::model::RunResult) {
    let baseline = run(
        "run-a",
        vec![query("approvals_list", latencies_us(300, 4.0, 1))],
    );
    let mut current = run(
        "run-b",
        vec![query("approvals_list", latencies_us(300, 4.0, 2))],
    );
    current.environment.scale = Some(10.0);
    current
        .environment
        .server_settings
        .insert("work_mem".to_owned(), "64MB".to_owned());
    (baseline, current)
}

#[test]
fn mixed_human() {
    insta::assert_snapshot!(render(&mixed_report(), Format::Human));
}

#[test]
fn mixed_json() {
    insta::assert_snapshot!(render(&mixed_report(), Format::Json));
}

#[test]
fn mixed_markdown() {
    insta::assert_snapshot!(render(&mixed_report(), Format::Markdown));
}

#[test]
fn mixed_junit() {
    insta::assert_snapshot!(render(&mixed_report(), Format::Junit));
}

#[test]
fn not_comparable_in_every_format() {
    let (baseline, current) = incomparable_runs();
    let report = check(&baseline, &current, &options());
    for (name, format) in [
        ("human", Format::Human),
        ("markdown", Format::Markdown),
        ("junit", Format::Junit),
    ] {
        insta::assert_snapshot!(format!("not_comparable_{name}"), render(&report, format));
    }
}

#[test]
fn override_is_printed_in_every_format() {
    let (baseline, current) = incomparable_runs();
    let anyway = CheckOptions {
        allow_incomparable: true,
        ..options()
    };
    let report = check(&baseline, &current, &anyway);
    for format in [Format::Human, Format::Json, Format::Markdown, Format::Junit] {
        let text = render(&report, format);
        assert!(
            text.contains("allow-incomparable") || text.contains("allow_incomparable"),
            "{format:?} does not mention the override:\n{text}"
        );
        assert!(
            text.contains("work_mem"),
            "{format:?} does not say what differs"
        );
    }
    insta::assert_snapshot!("override_human", render(&report, Format::Human));
}

#[test]
fn markdown_is_truncated_in_whole_sections_and_keeps_failing_queries() {
    let (baseline, mut current) = mixed_runs();
    let (mut base_queries, mut current_queries) = (Vec::new(), Vec::new());
    // 40 samples: too few for a bootstrap, so the many rows cost no replicates.
    for i in 0..300 {
        let name = format!("generated_query_with_a_long_name_{i:03}");
        base_queries.push(query(&name, latencies_us(40, 1.0, 1000 + i)));
        current_queries.push(query(&name, latencies_us(40, 1.0, 2000 + i)));
    }
    let mut baseline = baseline;
    baseline.queries.extend(base_queries);
    current.queries.extend(current_queries);
    let report = check(&baseline, &current, &options());
    let limit = 8_000;
    let mut out = Vec::new();
    write_markdown(&report, limit, &mut out).expect("writing to a Vec cannot fail");
    let text = String::from_utf8(out).expect("UTF-8");
    assert!(text.len() <= limit, "{} bytes", text.len());
    assert!(text.contains("**Truncated**"));
    assert!(
        text.contains("<b>approvals_by_status</b>"),
        "failing query kept"
    );
    assert_eq!(
        text.matches("<details>").count(),
        text.matches("</details>").count()
    );
    insta::assert_snapshot!(text);
}

#[test]
fn a_full_size_markdown_report_fits_the_step_summary() {
    let (baseline, current) = mixed_runs();
    let report = check(&baseline, &current, &options());
    let text = render(&report, Format::Markdown);
    assert!(text.len() < 1 << 20);
    assert!(!text.contains("**Truncated**"));
}

#[test]
fn mixed_github_annotations() {
    let mut out = Vec::new();
    write_annotations(&mixed_report(), &mut out).expect("writing to a Vec cannot fail");
    let text = String::from_utf8(out).expect("UTF-8");
    assert!(
        text.lines().all(|line| line.starts_with("::error title=")),
        "one workflow command per line:\n{text}"
    );
    insta::assert_snapshot!(text);
}

#[test]
fn a_passing_run_with_untimed_queries_does_not_read_as_a_warning() {
    // 40 samples: too few for a P95 verdict; timing is not gated, so the run passes.
    let baseline = run("run-a", vec![query("q", latencies_us(40, 4.0, 1))]);
    let current = run("run-b", vec![query("q", latencies_us(40, 4.0, 2))]);
    let deterministic = CheckOptions {
        fail_on: vec![Signal::Plan, Signal::Buffers],
        ..options()
    };
    let report = check(&baseline, &current, &deterministic);
    let text = render(&report, Format::Markdown);
    assert!(text.contains("✅ pass"), "{text}");
    assert!(!text.contains("inconclusive"), "{text}");
    assert!(text.contains("| q | not timed |"), "{text}");
    assert!(render(&report, Format::Human).contains("not timed"));
    assert!(
        text.contains("1 without a timing verdict (fewer than 59 samples; timing is not gated)"),
        "{text}"
    );
}

#[test]
fn mixed_human_at_80_columns() {
    let mut out = Vec::new();
    write_human(&mixed_report(), Some(80), &mut out).expect("writing to a Vec cannot fail");
    let text = String::from_utf8(out).expect("UTF-8");
    for line in text.lines().filter(|l| l.starts_with(['┌', '│', '╞', '└'])) {
        assert!(line.chars().count() <= 80, "wider than 80: {line}");
    }
    insta::assert_snapshot!(text);
}
