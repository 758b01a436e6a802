//! `pgperf check` as a process: exit codes, error messages, files written.

mod check_common;

use std::path::{Path, PathBuf};
use std::process::Output;

use check_common::{latencies_us, mixed_runs, query, run};
use pgperf::model::RunResult;

fn write_run(dir: &Path, name: &str, run: &RunResult) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_string(run).expect("serialisable")).expect("write");
    path
}

/// Runs `pgperf check`, outside GitHub Actions even when the tests run there.
fn pgperf_check(args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_pgperf"))
        .arg("check")
        .args(args)
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITHUB_STEP_SUMMARY")
        .output()
        .expect("pgperf runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("temp paths are UTF-8")
}

#[test]
fn exit_0_when_nothing_fails_and_the_baseline_is_saved() {
    let dir = tempfile::tempdir().expect("temp dir");
    let baseline = write_run(
        dir.path(),
        "a.json",
        &run("a", vec![query("q", latencies_us(200, 5.0, 1))]),
    );
    let current_run = run("b", vec![query("q", latencies_us(200, 5.0, 2))]);
    let current = write_run(dir.path(), "b.json", &current_run);
    let saved = dir.path().join("next-baseline.json");
    let output = pgperf_check(&[
        "--baseline",
        path_str(&baseline),
        "--current",
        path_str(&current),
        "--save-baseline",
        path_str(&saved),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(text(&output.stdout).contains("PASS"));
    assert!(
        text(&output.stderr).contains(&format!("baseline saved to {}", path_str(&saved))),
        "--save-baseline says what it wrote: {}",
        text(&output.stderr)
    );
    let saved: RunResult =
        serde_json::from_str(&std::fs::read_to_string(&saved).expect("saved")).expect("valid");
    assert_eq!(saved, current_run);
}

#[test]
fn exit_1_on_a_regression_in_every_format() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (a, b) = mixed_runs();
    let baseline = write_run(dir.path(), "a.json", &a);
    let current = write_run(dir.path(), "b.json", &b);
    for format in ["human", "json", "markdown", "junit"] {
        let output = pgperf_check(&[
            "--baseline",
            path_str(&baseline),
            "--current",
            path_str(&current),
            "--format",
            format,
        ]);
        assert_eq!(
            output.status.code(),
            Some(1),
            "{format}: {}",
            text(&output.stderr)
        );
        assert!(
            text(&output.stdout).contains("approvals_by_status"),
            "{format}"
        );
    }
}

#[test]
fn one_run_writes_every_output_the_step_summary_and_annotations() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (a, b) = mixed_runs();
    let baseline = write_run(dir.path(), "a.json", &a);
    let current = write_run(dir.path(), "b.json", &b);
    let [markdown, junit, json, summary] =
        ["check.md", "junit.xml", "check.json", "summary.md"].map(|name| dir.path().join(name));
    std::fs::write(&summary, "earlier step\n").expect("write");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_pgperf"))
        .args(["check", "--baseline", path_str(&baseline), "--current"])
        .arg(&current)
        .args(["--format", "json", "--markdown"])
        .arg(&markdown)
        .arg("--junit")
        .arg(&junit)
        .arg("--json")
        .arg(&json)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("GITHUB_ACTIONS", "true")
        .output()
        .expect("pgperf runs");
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    let stdout: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("stdout stays JSON with annotations on");
    let file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).expect("json")).expect("valid");
    assert_eq!(stdout, file);
    let markdown = std::fs::read_to_string(&markdown).expect("markdown");
    assert!(
        markdown.starts_with("## pgperf check: ❌ fail"),
        "{markdown}"
    );
    assert!(
        std::fs::read_to_string(&junit)
            .expect("junit")
            .contains("<failure")
    );
    assert_eq!(
        std::fs::read_to_string(&summary).expect("summary"),
        format!("earlier step\n{markdown}"),
        "the step summary is appended to, not replaced"
    );
    let stderr = text(&output.stderr);
    let annotations: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("::error "))
        .collect();
    let failing = stdout["queries"]
        .as_array()
        .expect("queries")
        .iter()
        .filter(|q| q["fails_gate"] == true)
        .count();
    assert_eq!(annotations.len(), failing, "{stderr}");
    assert!(
        annotations
            .iter()
            .any(|a| a.starts_with("::error title=pgperf%3A approvals_by_status ")),
        "{stderr}"
    );
}

#[test]
fn fail_on_selects_the_signals_that_gate() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (a, b) = mixed_runs();
    let baseline = write_run(dir.path(), "a.json", &a);
    let current = write_run(dir.path(), "b.json", &b);
    // Rows alone: inventory_reorder's rows per call changed, which is now a gating finding.
    let output = pgperf_check(&[
        "--baseline",
        path_str(&baseline),
        "--current",
        path_str(&current),
        "--fail-on",
        "rows",
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    let output = pgperf_check(&[
        "--baseline",
        path_str(&baseline),
        "--current",
        path_str(&current),
        "--fail-on",
        "plan,buffers",
        "--format",
        "json",
    ]);
    assert_eq!(output.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(
        report["options"]["fail_on"],
        serde_json::json!(["plan", "buffers"])
    );
}

#[test]
fn exit_2_on_invalid_json_with_path_line_and_column() {
    let dir = tempfile::tempdir().expect("temp dir");
    let broken = dir.path().join("broken.json");
    std::fs::write(&broken, "{\n  \"schema_version\": 1,\n  oops\n}").expect("write");
    let output = pgperf_check(&[
        "--baseline",
        path_str(&broken),
        "--current",
        path_str(&broken),
    ]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("broken.json is not a pgperf results file"),
        "{stderr}"
    );
    assert!(stderr.contains("line 3 column 3"), "{stderr}");
}

#[test]
fn exit_2_on_unreadable_files_bad_flags_and_a_missing_current() {
    let dir = tempfile::tempdir().expect("temp dir");
    let missing = dir.path().join("missing.json");
    let output = pgperf_check(&[
        "--baseline",
        path_str(&missing),
        "--current",
        path_str(&missing),
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("cannot read the results file"));

    let baseline = write_run(dir.path(), "a.json", &run("a", vec![]));
    let output = pgperf_check(&[
        "--baseline",
        path_str(&baseline),
        "--current",
        path_str(&baseline),
        "--fdr",
        "0",
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("--fdr must lie in (0, 1]"));

    let output = pgperf_check(&[
        "--baseline",
        path_str(&baseline),
        "--fail-on",
        "timing,speed",
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("unknown signal"));
}

#[test]
fn exit_3_when_not_comparable_unless_overridden() {
    let dir = tempfile::tempdir().expect("temp dir");
    let baseline = write_run(
        dir.path(),
        "a.json",
        &run("a", vec![query("q", latencies_us(200, 5.0, 1))]),
    );
    let mut other = run("b", vec![query("q", latencies_us(200, 5.0, 2))]);
    other.environment.workload_hash = "beef".to_owned();
    let current = write_run(dir.path(), "b.json", &other);
    let output = pgperf_check(&[
        "--baseline",
        path_str(&baseline),
        "--current",
        path_str(&current),
    ]);
    assert_eq!(output.status.code(), Some(3));
    assert!(text(&output.stdout).contains("workload hash: 3f2a9c → beef"));
    assert!(text(&output.stderr).contains("not comparable"));
    let output = pgperf_check(&[
        "--baseline",
        path_str(&baseline),
        "--current",
        path_str(&current),
        "--allow-incomparable",
        "--format",
        "markdown",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(text(&output.stdout).contains("--allow-incomparable"));
}

#[test]
fn exit_3_when_timing_gates_and_samples_are_too_few() {
    let dir = tempfile::tempdir().expect("temp dir");
    let baseline = write_run(
        dir.path(),
        "a.json",
        &run("a", vec![query("q", latencies_us(30, 5.0, 1))]),
    );
    let current = write_run(
        dir.path(),
        "b.json",
        &run("b", vec![query("q", latencies_us(30, 5.0, 2))]),
    );
    let output = pgperf_check(&[
        "--baseline",
        path_str(&baseline),
        "--current",
        path_str(&current),
    ]);
    assert_eq!(output.status.code(), Some(3));
    assert!(text(&output.stderr).contains("raise --time-budget"));
}
