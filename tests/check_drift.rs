//! Machine drift (`docs/check.md`): when the whole workload changes speed between the runs,
//! `pgperf check` warns and judges each query relative to that shift, so that only the queries
//! that got slower than the rest are regressions.

mod check_common;

use check_common::{latencies_us, options, query, run};
use pgperf::check::check;
use pgperf::check::render::{Format, write_report};
use pgperf::model::RunResult;
use pgperf::model::check::{CheckOptions, CheckReport, Verdict};

const QUERIES: usize = 40;
const SAMPLES: usize = 200;

/// Baseline and current runs of 40 queries (medians 2-22 ms), the current side's latencies
/// multiplied by `machine`, and additionally by `extra` for the queries in `affected`.
fn runs(machine: f64, extra: f64, affected: &[usize]) -> (RunResult, RunResult) {
    runs_with(&|i| machine * if affected.contains(&i) { extra } else { 1.0 })
}

/// Baseline and current runs of 40 queries, query `i`'s current latencies multiplied by
/// `factor(i)`.
fn runs_with(factor: &dyn Fn(usize) -> f64) -> (RunResult, RunResult) {
    let side = |factor_of: &dyn Fn(usize) -> f64, seed: u64| {
        (0..QUERIES)
            .map(|i| {
                let median_ms = 2.0 + (i % 11) as f64 * 2.0;
                let samples = latencies_us(SAMPLES, median_ms, seed + i as u64)
                    .into_iter()
                    .map(|v| v * factor_of(i))
                    .collect();
                query(&format!("q{i:02}"), samples)
            })
            .collect()
    };
    (
        run("baseline", side(&|_| 1.0, 1_000)),
        run("current", side(factor, 2_000)),
    )
}

fn regressed(report: &CheckReport) -> Vec<&str> {
    report
        .queries
        .iter()
        .filter(|q| q.verdict == Verdict::Regressed)
        .map(|q| q.name.as_str())
        .collect()
}

#[test]
fn a_machine_twice_and_a_half_slower_regresses_nothing_and_warns() {
    let (baseline, current) = runs(2.5, 1.0, &[]);
    let report = check(&baseline, &current, &options());
    let drift = report.drift.as_ref().expect("the whole workload moved");
    assert!((2.3..2.7).contains(&drift.shift), "shift {}", drift.shift);
    assert_eq!(drift.queries, QUERIES as u64);
    assert!(drift.corrected);
    assert_eq!(regressed(&report), Vec::<&str>::new());
}

#[test]
fn a_machine_change_that_hits_queries_unevenly_regresses_nothing() {
    // Measured on this machine: the per-query log ratios spread by 0.13-0.66 around the shift.
    let uneven = |i: usize| 2.5 * (0.3 * ((i % 7) as f64 - 3.0) / 3.0).exp();
    let (baseline, current) = runs_with(&uneven);
    let report = check(&baseline, &current, &options());
    assert!(report.drift.as_ref().expect("drift").spread > 0.1);
    assert_eq!(regressed(&report), Vec::<&str>::new());
}

#[test]
fn under_drift_only_the_queries_slower_than_the_rest_regress() {
    let (baseline, current) = runs(2.5, 1.5, &[7, 23]);
    let report = check(&baseline, &current, &options());
    assert!(report.drift.is_some());
    assert_eq!(regressed(&report), ["q07", "q23"]);
}

#[test]
fn without_drift_correction_the_drift_is_reported_and_every_query_regresses() {
    let (baseline, current) = runs(2.5, 1.0, &[]);
    let absolute = CheckOptions {
        no_drift_correction: true,
        ..options()
    };
    let report = check(&baseline, &current, &absolute);
    assert!(!report.drift.as_ref().expect("drift").corrected);
    assert_eq!(regressed(&report).len(), QUERIES);
}

#[test]
fn without_drift_nothing_changes() {
    let (baseline, current) = runs(1.0, 1.5, &[7, 23]);
    let report = check(&baseline, &current, &options());
    assert_eq!(report.drift, None);
    assert_eq!(regressed(&report), ["q07", "q23"]);
    let ratio = |name: &str| {
        let query = report
            .queries
            .iter()
            .find(|q| q.name == name)
            .expect("query");
        query.timing.as_ref().expect("timing").ratio
    };
    assert!(ratio("q07") > 1.3);
}

#[test]
fn a_report_without_the_drift_field_still_reads() {
    let (baseline, current) = runs(1.0, 1.0, &[]);
    let report = check(&baseline, &current, &options());
    let mut json = serde_json::to_value(&report).expect("serialisable");
    let object = json.as_object_mut().expect("an object");
    object.remove("drift");
    object["options"]
        .as_object_mut()
        .expect("an object")
        .remove("no_drift_correction");
    let read: CheckReport = serde_json::from_value(json).expect("older reports read");
    assert_eq!(read, report);
}

#[test]
fn the_drift_warning_and_its_remedy_are_printed_in_every_format() {
    let (baseline, current) = runs(2.5, 1.0, &[]);
    let report = check(&baseline, &current, &options());
    for format in [Format::Human, Format::Markdown, Format::Junit] {
        let mut out = Vec::new();
        write_report(&report, format, &mut out).expect("writes to memory");
        let text = String::from_utf8(out).expect("utf-8");
        for wanted in ["changed speed", "docs/ci.md", "drift correction on"] {
            assert!(
                text.contains(wanted),
                "{format:?} lacks {wanted:?}:\n{text}"
            );
        }
    }
}
