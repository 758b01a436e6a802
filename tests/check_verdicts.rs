//! `pgperf::check::check` on hand-built runs: the verdict of each query, the findings and
//! whether they fail the gate, comparability, and the overall outcome.

mod check_common;

use check_common::{latencies_us, lost_index, mixed_runs, options, query, run};
use pgperf::check::check;
use pgperf::model::check::{
    CheckOptions, CheckReport, FindingKind, GateOutcome, Signal, TimingOutcome, Verdict,
};

fn verdicts(report: &CheckReport) -> Vec<(&str, Verdict, bool)> {
    report
        .queries
        .iter()
        .map(|q| (q.name.as_str(), q.verdict, q.fails_gate))
        .collect()
}

#[test]
fn every_verdict_of_the_mixed_runs() {
    let (baseline, current) = mixed_runs();
    let report = check(&baseline, &current, &options());
    assert_eq!(
        verdicts(&report),
        [
            ("approvals_list", Verdict::Unchanged, false),
            ("approvals_by_status", Verdict::Regressed, true),
            ("seo_anomalies", Verdict::Improved, false),
            ("tile_counts", Verdict::Inconclusive, false),
            ("ads_performance", Verdict::BudgetBreached, true),
            ("content_engagement", Verdict::Error, true),
            ("inventory_reorder", Verdict::Unchanged, false),
            ("retired_tile", Verdict::Missing, false),
            ("new_tile", Verdict::New, false),
        ]
    );
    assert_eq!(report.outcome, GateOutcome::Fail);
    assert_eq!(report.outcome.exit_code(), 1);
}

#[test]
fn a_lost_index_shows_in_timing_plan_and_buffers() {
    let (baseline, current) = mixed_runs();
    let report = check(&baseline, &current, &options());
    let lost = &report.queries[1];
    let signals: Vec<(Signal, bool)> = lost
        .findings
        .iter()
        .map(|f| (f.kind.signal(), f.fails_gate))
        .collect();
    assert_eq!(
        signals,
        [
            (Signal::Timing, true),
            (Signal::Plan, true),
            (Signal::Buffers, true)
        ]
    );
    let timing = lost.timing.as_ref().expect("both sides measured");
    assert_eq!(timing.outcome, TimingOutcome::Slower);
    assert!(timing.ratio_ci_low.expect("enough samples") > 1.1);
}

#[test]
fn rows_are_reported_but_gate_only_when_asked() {
    let (baseline, current) = mixed_runs();
    let report = check(&baseline, &current, &options());
    let rows = &report.queries[6];
    assert!(matches!(
        rows.findings[0].kind,
        FindingKind::RowsChanged { .. }
    ));
    assert!(!rows.fails_gate);
    let strict = CheckOptions {
        fail_on: vec![Signal::Rows],
        ..options()
    };
    let report = check(&baseline, &current, &strict);
    assert_eq!(report.queries[6].verdict, Verdict::Regressed);
    assert!(report.queries[6].fails_gate);
}

#[test]
fn deterministic_signals_alone_catch_a_lost_index_on_a_noisy_machine() {
    // Same latency distribution (the machine hides the difference), plan and buffers differ.
    let baseline = run("a", vec![query("q", latencies_us(200, 5.0, 1))]);
    let current = run("b", vec![lost_index(query("q", latencies_us(200, 5.0, 2)))]);
    let only_deterministic = CheckOptions {
        fail_on: vec![Signal::Plan, Signal::Buffers, Signal::Rows],
        ..options()
    };
    let report = check(&baseline, &current, &only_deterministic);
    assert_eq!(verdicts(&report), [("q", Verdict::Regressed, true)]);
    let timing = report.queries[0].timing.as_ref().expect("measured");
    assert_eq!(timing.outcome, TimingOutcome::Unchanged);
}

#[test]
fn identical_runs_pass() {
    let baseline = run(
        "a",
        (0..5)
            .map(|i| query(&format!("q{i}"), latencies_us(300, 5.0, i)))
            .collect(),
    );
    let current = run(
        "b",
        (0..5)
            .map(|i| query(&format!("q{i}"), latencies_us(300, 5.0, 100 + i)))
            .collect(),
    );
    let report = check(&baseline, &current, &options());
    assert!(
        report
            .queries
            .iter()
            .all(|q| q.verdict == Verdict::Unchanged)
    );
    assert_eq!(report.outcome, GateOutcome::Pass);
}

#[test]
fn too_few_samples_is_inconclusive_not_a_pass_when_timing_gates() {
    let baseline = run("a", vec![query("q", latencies_us(58, 5.0, 1))]);
    let current = run("b", vec![query("q", latencies_us(500, 50.0, 2))]);
    let report = check(&baseline, &current, &options());
    assert_eq!(verdicts(&report), [("q", Verdict::Inconclusive, false)]);
    assert_eq!(report.outcome, GateOutcome::Inconclusive);
    assert_eq!(report.outcome.exit_code(), 3);
    let deterministic = CheckOptions {
        fail_on: vec![Signal::Plan],
        ..options()
    };
    assert_eq!(
        check(&baseline, &current, &deterministic).outcome,
        GateOutcome::Pass
    );
}

#[test]
fn incomparable_runs_are_refused_with_every_difference() {
    let baseline = run("a", vec![query("q", latencies_us(300, 5.0, 1))]);
    let mut current = run("b", vec![query("q", latencies_us(300, 5.0, 2))]);
    current.environment.workload_hash = "beef".to_owned();
    current.environment.scale = Some(2.0);
    current.environment.server_version_num = 160_002;
    current
        .environment
        .server_settings
        .insert("work_mem".to_owned(), "64MB".to_owned());
    current.environment.server_settings.remove("jit");
    current.environment.machine.hostname = "elsewhere".to_owned();
    current.settings.concurrency = 8;
    current.settings.rng_seed = 7;
    current.environment.rng_seed = None;
    let report = check(&baseline, &current, &options());
    let found: Vec<String> = report
        .comparability
        .differences
        .iter()
        .map(|d| format!("{}: {} -> {}", d.what, d.baseline, d.current))
        .collect();
    assert_eq!(
        found,
        [
            "workload hash: 3f2a9c -> beef",
            "scale: 1 -> 2",
            "seeder seed: 42 -> (none)",
            "server major version: 15 -> 16",
            "setting jit: off -> (none)",
            "setting work_mem: 4MB -> 64MB",
            "concurrency: 1 -> 8",
            "parameter seed: 42 -> 7",
        ]
    );
    assert_eq!(report.outcome, GateOutcome::NotComparable);
    assert!(report.queries.is_empty());
    assert_eq!(report.outcome.exit_code(), 3);

    let anyway = CheckOptions {
        allow_incomparable: true,
        ..options()
    };
    let report = check(&baseline, &current, &anyway);
    assert!(report.comparability.overridden);
    assert_eq!(report.outcome, GateOutcome::Pass);
    assert_eq!(report.queries.len(), 1);
}

#[test]
fn a_minor_version_or_another_machine_is_still_comparable() {
    let baseline = run("a", vec![]);
    let mut current = run("b", vec![]);
    current.environment.server_version_num = 150_019;
    current.environment.machine.cpus = 4;
    assert!(
        check(&baseline, &current, &options())
            .comparability
            .comparable()
    );
}

#[test]
fn a_lone_regression_among_many_queries_survives_the_correction() {
    // With a fixed 500 replicates the smallest p-value is 2/501 and BH over 60 queries would
    // lift it to 0.24: the replicate count must grow with the number of queries.
    let baseline = run(
        "a",
        (0..60)
            .map(|i| query(&format!("q{i}"), latencies_us(100, 5.0, i)))
            .collect(),
    );
    let current = run(
        "b",
        (0..60)
            .map(|i| {
                let median_ms = if i == 17 { 10.0 } else { 5.0 };
                query(&format!("q{i}"), latencies_us(100, median_ms, 100 + i))
            })
            .collect(),
    );
    let report = check(&baseline, &current, &options());
    let regressed: Vec<&str> = report
        .queries
        .iter()
        .filter(|q| q.verdict == Verdict::Regressed)
        .map(|q| q.name.as_str())
        .collect();
    assert_eq!(regressed, ["q17"]);
}

#[test]
fn a_current_run_that_stopped_early_cannot_pass() {
    let baseline = run(
        "a",
        vec![
            query("q1", latencies_us(200, 5.0, 1)),
            query("q2", latencies_us(200, 5.0, 2)),
        ],
    );
    let mut current = run("b", vec![query("q1", latencies_us(200, 5.0, 3))]);
    current.complete = false;
    current.abort_reason = Some("interrupted (Ctrl-C)".to_owned());
    let report = check(&baseline, &current, &options());
    assert_eq!(
        verdicts(&report),
        [
            ("q1", Verdict::Unchanged, false),
            ("q2", Verdict::Missing, false)
        ]
    );
    assert_eq!(report.outcome, GateOutcome::Inconclusive);
    assert_eq!(
        report.current.abort_reason.as_deref(),
        Some("interrupted (Ctrl-C)")
    );
}
