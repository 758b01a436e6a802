//! `pgperf history` as a process on a synthetic history of 40 runs: one query slows down 2×
//! at commit c018 (and its plan changes there), the others stay flat. The shift must be found
//! at that commit, the flat queries must raise nothing, the burning query must fail
//! `history check`, and the page must render in headless Chromium.

mod check_common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use check_common::{latencies_us, plan, query, run};
use pgperf::model::RunResult;

const RUNS: usize = 40;
const SHIFT_AT: usize = 18;

/// Run `i` of the history: `slow` (median 20 ms, 40 ms with a new plan from run 18 on, budget
/// 40 ms)
/// and two flat queries.
fn history_run(i: usize) -> RunResult {
    let seed = 1000 + i as u64 * 10;
    let shifted = i >= SHIFT_AT;
    let mut slow = query(
        "slow",
        latencies_us(300, if shifted { 40.0 } else { 20.0 }, seed),
    );
    slow.budget_p95_us = Some(40_000.0);
    if shifted {
        slow.plan = Some(plan("5eq5ca11", &["Seq Scan on approvals"]));
    }
    let mut flat = query("flat", latencies_us(300, 5.0, seed + 1));
    flat.budget_p95_us = Some(50_000.0);
    let other = query("other", latencies_us(300, 2.0, seed + 2));
    let mut result = run(&format!("run-{i:02}"), vec![slow, flat, other]);
    result.started_at += chrono::Duration::hours(6 * i as i64);
    result
}

fn pgperf(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pgperf"))
        .args(args)
        .env_remove("PGPERF_HISTORY")
        .output()
        .expect("pgperf runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The process exited with `code` and said `message` on stderr.
fn expect_exit(output: &Output, code: i32, message: &str) {
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(code), "{stderr}");
    assert!(stderr.contains(message), "{stderr}");
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("temp paths are UTF-8")
}

/// Writes the runs and adds them one by one with commits c000, c001, ...
fn build_history(dir: &Path) -> PathBuf {
    let history = dir.join("history.sqlite");
    for i in 0..RUNS {
        let file = dir.join(format!("run-{i:02}.json"));
        std::fs::write(
            &file,
            serde_json::to_string(&history_run(i)).expect("serialisable"),
        )
        .expect("write");
        let commit = format!("c{i:03}");
        let output = pgperf(&[
            "history",
            "add",
            path_str(&file),
            "--history",
            path_str(&history),
            "--commit",
            &commit,
            "--branch",
            "main",
        ]);
        assert!(output.status.success(), "{}", text(&output.stderr));
    }
    history
}

#[test]
fn the_shift_is_found_at_its_commit_and_the_burning_budget_fails_the_check() {
    let dir = tempfile::tempdir().expect("temp dir");
    let history = build_history(dir.path());

    // Adding a run twice keeps one copy.
    let again = pgperf(&[
        "history",
        "add",
        path_str(&dir.path().join("run-00.json")),
        "--history",
        path_str(&history),
    ]);
    assert!(again.status.success());
    assert!(
        text(&again.stderr).contains("already in the history"),
        "{}",
        text(&again.stderr)
    );

    let page = dir.path().join("history.html");
    let output = pgperf(&[
        "history",
        "report",
        "--history",
        path_str(&history),
        "-o",
        path_str(&page),
    ]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let html = std::fs::read_to_string(&page).expect("page written");
    assert!(
        html.contains("at commit c018 (after c017)"),
        "the shift is annotated with its commit"
    );
    assert_eq!(
        html.matches("at commit ").count(),
        1,
        "flat queries raise no shift"
    );
    assert!(html.contains("Plan changed at: run-18 (c018)"));

    // From run 18 on, half of `slow`'s executions are over its 40 ms budget: a burn rate near
    // 10× over the latest 2 and 24 runs, which fires the slow-burn rule (6×) but not the fast
    // one (14.4×), and spends the budget.
    let output = pgperf(&[
        "history",
        "check",
        "--history",
        path_str(&history),
        "--format",
        "markdown",
    ]);
    let stdout = text(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(1),
        "{stdout}{}",
        text(&output.stderr)
    );
    assert!(stdout.contains("| **slow** |"), "{stdout}");
    assert!(stdout.contains("slow burn"), "{stdout}");
    assert!(
        stdout.contains("| flat |") && stdout.contains("| ok |"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("other"),
        "a query without a budget is not judged: {stdout}"
    );

    let annotations = pgperf(&[
        "history",
        "check",
        "--history",
        path_str(&history),
        "--format",
        "github",
    ]);
    assert_eq!(text(&annotations.stdout).lines().count(), 1);
    assert!(text(&annotations.stdout).starts_with("::error title=error budget of slow::"));

    // Before the slowdown, nothing burns.
    let early = dir.path().join("early.sqlite");
    for i in 0..SHIFT_AT {
        let file = dir.path().join(format!("run-{i:02}.json"));
        let output = pgperf(&[
            "history",
            "add",
            path_str(&file),
            "--history",
            path_str(&early),
        ]);
        assert!(output.status.success());
    }
    let output = pgperf(&["history", "check", "--history", path_str(&early)]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stdout));

    page_renders_in_chromium(&page);
}

#[test]
fn check_with_history_adds_the_run_it_judged() {
    let dir = tempfile::tempdir().expect("temp dir");
    let history = dir.path().join("h.sqlite");
    let (baseline, current) = (dir.path().join("a.json"), dir.path().join("b.json"));
    for (path, i) in [(&baseline, 0), (&current, 1)] {
        std::fs::write(
            path,
            serde_json::to_string(&history_run(i)).expect("serialisable"),
        )
        .expect("write");
    }
    let output = Command::new(env!("CARGO_BIN_EXE_pgperf"))
        .args([
            "check",
            "--baseline",
            path_str(&baseline),
            "--current",
            path_str(&current),
        ])
        .args(["--history", path_str(&history)])
        .env("GITHUB_SHA", "feedc0de")
        .env("GITHUB_REF_NAME", "topic")
        .output()
        .expect("pgperf runs");
    expect_exit(&output, 0, "run run-01 (feedc0de) added to the history");
    let output = pgperf(&[
        "history",
        "check",
        "--history",
        path_str(&history),
        "--branch",
        "topic",
        "--format",
        "json",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(report["queries"][0]["runs"], 1);
}

#[test]
fn unreadable_or_newer_results_and_empty_histories_are_usage_errors() {
    let dir = tempfile::tempdir().expect("temp dir");
    let history = dir.path().join("h.sqlite");
    let mut newer = history_run(0);
    newer.schema_version = 99;
    let file = dir.path().join("newer.json");
    std::fs::write(&file, serde_json::to_string(&newer).expect("serialisable")).expect("write");
    let output = pgperf(&[
        "history",
        "add",
        path_str(&file),
        "--history",
        path_str(&history),
    ]);
    expect_exit(&output, 2, "has results format version 99");

    let output = pgperf(&["history", "check", "--history", path_str(&history)]);
    expect_exit(&output, 2, "holds no run yet");

    let output = pgperf(&[
        "history",
        "check",
        "--history",
        path_str(&history),
        "--objective",
        "1.5",
    ]);
    assert_eq!(output.status.code(), Some(2));
}

/// Headless Chromium finds the page's sections and logs nothing to the console (the page has
/// no script, so any console line, a CSP violation included, is a failure). Needs Debian's
/// `chromium`, as tests/report_browser.rs does; without it this test fails.
fn page_renders_in_chromium(page: &Path) {
    let chromium = ["chromium", "chromium-browser"]
        .into_iter()
        .find(|name| Command::new(name).arg("--version").output().is_ok())
        .expect("chromium is installed (scripts/setup.sh installs it)");
    let profile = tempfile::tempdir().expect("profile dir");
    let output = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
        ])
        .args([
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(["--enable-logging=stderr", "--v=0", "--dump-dom"])
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium runs");
    let dom = text(&output.stdout);
    let log = text(&output.stderr);
    assert!(output.status.success(), "{log}");
    assert!(!log.contains(":CONSOLE"), "console messages: {log}");
    for id in ["shifts", "budgets", "queries", "q0"] {
        assert!(
            dom.contains(&format!("id=\"{id}\"")),
            "section #{id} missing"
        );
    }
    assert!(dom.contains("<svg"), "charts are drawn");
}
