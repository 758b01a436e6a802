//! docs/ci.md stays true: its GitHub Actions workflow is read from the page and its bench and
//! compare steps run with bash as the runner runs them (`bash --noprofile --norc -eo pipefail`),
//! with GITHUB_STEP_SUMMARY and GITHUB_ACTIONS set, this repository's migrations as both base
//! and head, and a smaller BENCH; every `--flag` on the page must be one pgperf knows.
//!
//! The reader below understands only the YAML the page uses (steps with `name`, `env` and
//! `run` as a literal block or one line), and the test fails if it finds no such steps.

mod cli_support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

const BENCH_STEP: &str = "Bench base and head, alternated (A B B A)";
const COMPARE_STEP: &str = "Compare";
/// Flags on the page that belong to other tools.
const OTHER_TOOLS_FLAGS: [&str; 3] = ["--no-install-recommends", "--locked", "--git"];

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn ci_page() -> String {
    std::fs::read_to_string(repo().join("docs/ci.md")).expect("docs/ci.md")
}

/// The fenced blocks of `lang` in `page`.
fn code_blocks(page: &str, lang: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in page.lines() {
        match &mut current {
            None if line.trim_start() == format!("```{lang}") => current = Some(String::new()),
            Some(block) if line.trim_start() == "```" => {
                blocks.push(std::mem::take(block));
                current = None;
            }
            Some(block) => {
                block.push_str(line);
                block.push('\n');
            }
            None => {}
        }
    }
    blocks
}

#[derive(Debug, Default)]
struct Step {
    env: BTreeMap<String, String>,
    run: String,
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// The workflow's steps by name.
fn steps(workflow: &str) -> BTreeMap<String, Step> {
    let lines: Vec<&str> = workflow.lines().collect();
    let mut steps = BTreeMap::new();
    let mut index = 0;
    while index < lines.len() {
        let Some(name) = lines[index].trim_start().strip_prefix("- name: ") else {
            index += 1;
            continue;
        };
        let key_indent = indent(lines[index]) + 2;
        let mut step = Step::default();
        index += 1;
        while index < lines.len()
            && (lines[index].trim().is_empty() || indent(lines[index]) >= key_indent)
        {
            let line = lines[index].trim();
            index += 1;
            if line == "env:" {
                while index < lines.len() && indent(lines[index]) > key_indent {
                    let entry = lines[index].trim();
                    let entry = entry.split(" # ").next().expect("split yields one part");
                    let (key, value) = entry.split_once(": ").expect("KEY: value");
                    step.env.insert(key.to_owned(), value.trim().to_owned());
                    index += 1;
                }
            } else if line == "run: |" {
                let body_indent = indent(lines[index]);
                while index < lines.len()
                    && (lines[index].trim().is_empty() || indent(lines[index]) >= body_indent)
                {
                    step.run
                        .push_str(lines[index].get(body_indent..).unwrap_or(""));
                    step.run.push('\n');
                    index += 1;
                }
            } else if let Some(command) = line.strip_prefix("run: ") {
                step.run = format!("{command}\n");
            }
        }
        steps.insert(name.to_owned(), step);
    }
    steps
}

/// Runs a step's script as GitHub's runner does, in `dir`, with pgperf first on PATH.
fn run_step(step: &Step, dir: &Path, env: &[(&str, &Path)]) -> std::process::Output {
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_pgperf"));
    let path = format!(
        "{}:{}",
        binary
            .parent()
            .expect("the binary is in a folder")
            .display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut command = Command::new("bash");
    command
        .args(["--noprofile", "--norc", "-eo", "pipefail", "-c", &step.run])
        .current_dir(dir)
        .env("PATH", path)
        .env("NO_COLOR", "1")
        .env_remove("DATABASE_URL")
        .envs(&step.env);
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().expect("bash runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn the_github_workflow_benches_compares_and_reports_in_every_output() {
    let page = ci_page();
    let workflow = code_blocks(&page, "yaml")
        .into_iter()
        .find(|block| block.contains(".github/workflows/"))
        .expect("docs/ci.md has the workflow");
    let mut steps = steps(&workflow);
    let mut bench = steps.remove(BENCH_STEP).expect("the bench step");
    let compare = steps.remove(COMPARE_STEP).expect("the compare step");
    assert!(bench.env.contains_key("WORKLOAD") && bench.env.contains_key("BENCH"));
    // A smaller run than CI's: the test checks the commands, not the statistics.
    bench.env.insert(
        "BENCH".into(),
        "--scale 0.01 --iterations 60 --warmup 2 --rng-seed 42".into(),
    );

    let work = tempfile::tempdir().expect("temp dir");
    let runner_temp = tempfile::tempdir().expect("temp dir");
    for folder in ["migrations", "workloads"] {
        std::os::unix::fs::symlink(repo().join(folder), work.path().join(folder)).expect("link");
    }
    std::os::unix::fs::symlink(repo(), runner_temp.path().join("base")).expect("link");
    let summary = work.path().join("step-summary.md");
    let env = [
        ("RUNNER_TEMP", runner_temp.path()),
        ("GITHUB_STEP_SUMMARY", summary.as_path()),
        ("GITHUB_ACTIONS", Path::new("true")),
    ];

    let output = run_step(&bench, work.path(), &env);
    assert!(
        output.status.success(),
        "bench step failed:\n{}",
        text(&output.stderr)
    );
    let output = run_step(&compare, work.path(), &env);
    let code = output.status.code();
    let stderr = text(&output.stderr);
    // Base and head are the same migrations: 0, or 1 for a timing false alarm on a loaded
    // machine; never 2 or 3, which would mean the page's commands are wrong.
    assert!(
        matches!(code, Some(0 | 1)),
        "compare step: {code:?}\n{stderr}"
    );
    assert_eq!(
        code == Some(1),
        stderr.contains("::error title=pgperf"),
        "{stderr}"
    );

    let summary = std::fs::read_to_string(&summary).expect("the step summary was written");
    assert_eq!(summary.matches("## pgperf check").count(), 2, "{summary}");
    for round in 1..=2 {
        let junit = std::fs::read_to_string(work.path().join(format!("pgperf-junit-{round}.xml")))
            .expect("JUnit written");
        assert!(junit.contains("<testsuite name=\"pgperf check\""));
        let json = std::fs::read_to_string(work.path().join(format!("pgperf-check-{round}.json")))
            .expect("JSON written");
        let report: pgperf::model::check::CheckReport =
            serde_json::from_str(&json).expect("a check report");
        assert_eq!(report.queries.len(), 42);
    }
}

#[test]
fn every_flag_on_the_ci_page_is_a_pgperf_flag() {
    let help: String = ["bench", "check"]
        .into_iter()
        .map(|command| cli_support::pgperf(&[command, "--help"]).1)
        .collect();
    let page = ci_page();
    let blocks = [code_blocks(&page, "yaml"), code_blocks(&page, "bash")].concat();
    let mut checked = 0;
    for block in blocks {
        for token in block.split(|c: char| c.is_whitespace() || c == '"' || c == '`') {
            let Some(flag) = token
                .strip_prefix("--")
                .map(|rest| rest.split('=').next().expect("split yields one part"))
            else {
                continue;
            };
            if flag.is_empty() || OTHER_TOOLS_FLAGS.contains(&token) {
                continue;
            }
            assert!(
                help.contains(&format!("--{flag} ")) || help.contains(&format!("--{flag}\n")),
                "docs/ci.md uses --{flag}, which neither pgperf bench nor check knows"
            );
            checked += 1;
        }
    }
    assert!(
        checked > 10,
        "only {checked} flags found: is the page's layout still read?"
    );
}
