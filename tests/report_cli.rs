//! `pgperf report` end to end: exit codes and messages for bad input, the file written for good.

mod report_support;

use std::path::Path;
use std::process::{Command, Output};

use report_support::fixtures_dir;

fn pgperf(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pgperf"))
        .args(args)
        .output()
        .expect("the pgperf binary runs")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("temp dir is writable");
    path.display().to_string()
}

#[test]
fn a_missing_file_is_a_usage_error_naming_the_path() {
    let output = pgperf(&["report", "/nonexistent/results.json"]);
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(
        message.contains("cannot read /nonexistent/results.json"),
        "{message}"
    );
}

#[test]
fn invalid_json_reports_line_and_column() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = write(
        dir.path(),
        "results.json",
        "{\n  \"schema_version\": 1,\n  oops\n}",
    );
    let output = pgperf(&["report", &path]);
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(
        message.contains(&path) && message.contains("line 3, column 3"),
        "{message}"
    );
}

#[test]
fn a_wrong_shape_reports_where() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = write(
        dir.path(),
        "results.json",
        "{\"schema_version\": 1, \"environment\": {}, \"queries\": []}",
    );
    let output = pgperf(&["report", &path]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("not a valid bench result at line 1"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn an_unknown_document_or_version_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let other = write(dir.path(), "other.json", "{\"hello\": 1}");
    let output = pgperf(&["report", &other]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("not a pgperf results file"),
        "{}",
        stderr(&output)
    );
    let future = write(
        dir.path(),
        "future.json",
        "{\"schema_version\": 99, \"environment\": {}, \"queries\": []}",
    );
    let output = pgperf(&["report", &future]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("format version 99"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn the_report_is_written_beside_the_results_by_default() {
    let dir = tempfile::tempdir().expect("temp dir");
    let results = dir.path().join("results.json");
    std::fs::copy(fixtures_dir().join("bench_dashboard.json"), &results).expect("copy fixture");
    let output = pgperf(&["report", &results.display().to_string()]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let html = std::fs::read_to_string(dir.path().join("report.html")).expect("report written");
    assert!(html.starts_with("<!DOCTYPE html>") && html.contains("id=\"summary\""));
}

#[test]
fn bench_and_advice_render_on_one_page_to_stdout() {
    let bench = fixtures_dir()
        .join("bench_dashboard.json")
        .display()
        .to_string();
    let advice = fixtures_dir()
        .join("advice_dashboard.json")
        .display()
        .to_string();
    let output = pgperf(&["report", &bench, &advice, "-o", "-"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let html = String::from_utf8(output.stdout).expect("HTML is UTF-8");
    assert!(html.contains("id=\"queries\"") && html.contains("id=\"advice\""));
    let twice = pgperf(&["report", &bench, &bench, "-o", "-"]);
    assert_eq!(twice.status.code(), Some(2));
}
