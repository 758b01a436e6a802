//! Advise on an analytic workload within its time bound, and no harm anywhere (issues 13.4 and
//! 14.11), through the pgperf binary as a user runs it, in one embedded PostgreSQL:
//!
//! 1. load `benches/analytic/` (a TPC-H-like star, primary keys only) at scale `SCALE`
//!    (1: 6 M lineitem rows), `VACUUM (ANALYZE)`;
//! 2. `pgperf advise` with its defaults: wall time, time per phase (its stderr line), indexes
//!    kept and rejected with their reasons, the queries judged on one execution per side;
//! 3. `pgperf bench` of the workload (`ITERATIONS` executions per query: a time budget leaves
//!    multi-second queries one or two), the advice migration applied (`pgperf migrate up`), the
//!    same bench again, and `pgperf check` between the two. No query may be slower by more than
//!    10%: counted both as check's timing regressions and as medians more than 1.1 times the
//!    one before (a handful of executions per side: a hint, not a test).
//!
//! Run: `cargo bench --bench analytic_advise`. Optional env: `SCALE` ("1"), `ITERATIONS` ("5").
//! Prints a Markdown summary for docs/benchmarks.md; exit 1 when advise took 10 minutes or more
//! or check found a timing regression.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use pgperf::embedded::{Cluster, ClusterOptions};
use serde_json::Value;

const DB: &str = "analytic";
/// Rejection reasons that come from verification's measurements (the others are the planner's).
const MEASURED: [&str; 3] = ["slows_other_query", "no_measured_improvement", "not_used"];
/// Issue 13, item 4: advise on an analytic workload with multi-second queries.
const ADVISE_LIMIT_S: f64 = 600.0;

fn main() {
    let scale = env_text("SCALE", "1");
    let iterations = env_text("ITERATIONS", "5");
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/analytic");
    let workload = text(&fixture.join("workload.toml"));

    let cluster = Cluster::start(&ClusterOptions::default()).expect("embedded cluster starts");
    cluster.create_database(DB).expect("database");
    let url = cluster.url(DB);
    let work = tempfile::tempdir().expect("temp dir");
    let seeding = Instant::now();
    load(&cluster, &fixture, &scale);
    eprintln!(
        "loaded scale {scale} in {:.0} s; {}",
        seeding.elapsed().as_secs_f64(),
        load_average()
    );

    let started = Instant::now();
    let migrations = work.path().join("migrations");
    let out = work.path().join("advise");
    let stderr = pgperf(
        work.path(),
        &[
            "advise",
            "--db",
            &url,
            "--allow-locks",
            "--workload",
            &workload,
            "--out",
            &text(&out),
            "--migrations",
            &text(&migrations),
        ],
    )
    .1;
    let advise_s = started.elapsed().as_secs_f64();
    let phases = stderr
        .lines()
        .find_map(|line| line.strip_prefix("pgperf: advise took "))
        .unwrap_or("(no timing line)")
        .to_string();
    let advice = read_json(&only_file(&out, "advice.json"));
    eprintln!("advise took {advise_s:.0} s: {phases}; {}", load_average());

    let before = bench(work.path(), &url, &workload, &iterations, "bench-before");
    let migrate_started = Instant::now();
    pgperf(
        work.path(),
        &["migrate", "up", "--db", &url, "--dir", &text(&migrations)],
    );
    let migrate_s = migrate_started.elapsed().as_secs_f64();
    let after = bench(work.path(), &url, &workload, &iterations, "bench-after");
    let regressed = check(work.path(), &before, &after);

    let slower = report(&advice, advise_s, &phases, migrate_s, (&before, &after));
    println!("\n| measure | result | target |\n|---|---|---|");
    println!("| advise wall time | {advise_s:.0} s | < {ADVISE_LIMIT_S:.0} s |");
    println!(
        "| queries with a timing regression after the advice (check) | {} {regressed:?} | 0 |",
        regressed.len()
    );
    println!(
        "| queries whose median is more than 1.1 times the one before | {} {slower:?} | 0 |",
        slower.len()
    );
    println!("\n{}", load_average());
    let missed = advise_s >= ADVISE_LIMIT_S || !regressed.is_empty();
    // `exit` runs no destructors: remove the runs' files and stop the cluster first.
    drop(work);
    drop(cluster);
    if missed {
        std::process::exit(1);
    }
}

/// Creates the schema and seeds it at `scale`, then `VACUUM (ANALYZE)` so that plans and
/// index-only scans behave as on a settled database.
fn load(cluster: &Cluster, fixture: &Path, scale: &str) {
    let mut client = cluster.connect(DB).expect("connect");
    let read = |name: &str| std::fs::read_to_string(fixture.join(name)).expect("fixture file");
    client.batch_execute(&read("schema.sql")).expect("schema");
    client
        .execute("SELECT set_config('analytic.scale', $1, false)", &[&scale])
        .expect("scale");
    client.batch_execute(&read("seed.sql")).expect("seed");
    client.batch_execute("VACUUM (ANALYZE)").expect("vacuum");
}

/// The Markdown tables: advise's phases, kept and rejected indexes, and the median and P95 of
/// each query before → after. Returns the queries whose median rose more than 10%.
fn report(
    advice: &Value,
    advise_s: f64,
    phases: &str,
    migrate_s: f64,
    runs: (&Path, &Path),
) -> Vec<String> {
    println!("advise: {advise_s:.0} s wall ({phases}); migration applied in {migrate_s:.0} s\n");
    println!("| kept index | serves | size |");
    println!("|---|---|---|");
    for r in array(&advice["recommendations"]) {
        println!(
            "| `{}` | {} | {} kB |",
            r["name"].as_str().unwrap_or("?"),
            names(&r["serves"]),
            r["size_bytes"].as_u64().unwrap_or(0) / 1024
        );
    }
    let mut reasons = std::collections::BTreeMap::<&str, usize>::new();
    for r in array(&advice["rejected"]) {
        *reasons
            .entry(r["reason"]["kind"].as_str().unwrap_or("?"))
            .or_default() += 1;
    }
    println!("\nrejected candidates by reason: {reasons:?}\n");
    println!("| rejected by verification | reason |");
    println!("|---|---|");
    for r in array(&advice["rejected"])
        .iter()
        .filter(|r| MEASURED.contains(&r["reason"]["kind"].as_str().unwrap_or("?")))
    {
        let spec = &r["spec"];
        let keys: Vec<&str> = array(&spec["keys"])
            .iter()
            .filter_map(|k| k["sql"].as_str())
            .collect();
        let explanation: String = r["explanation"]
            .as_str()
            .unwrap_or("?")
            .chars()
            .take(160)
            .collect();
        println!(
            "| {} ({}) | {}… |",
            spec["table"].as_str().unwrap_or("?"),
            keys.join(", "),
            explanation.replace('|', "\\|")
        );
    }
    println!("\nnotes:");
    for note in array(&advice["notes"]) {
        println!("- {}", note.as_str().unwrap_or("?"));
    }
    let (before, after) = (read_json(runs.0), read_json(runs.1));
    println!(
        "\n| query | median before → after (ms) | ratio | P95 before → after (ms) | samples |"
    );
    println!("|---|---|---|---|---|");
    let mut slower = Vec::new();
    for (b, a) in array(&before["queries"])
        .iter()
        .zip(array(&after["queries"]))
    {
        let ms = |q: &Value, quantile: &str| {
            q["latency"][quantile]["value_us"]
                .as_f64()
                .unwrap_or(f64::NAN)
                / 1e3
        };
        let name = b["name"].as_str().unwrap_or("?");
        let ratio = ms(a, "p50") / ms(b, "p50");
        if ratio > 1.1 {
            slower.push(name.to_string());
        }
        println!(
            "| {name} | {:.0} → {:.0} | {ratio:.2} | {:.0} → {:.0} | {} / {} |",
            ms(b, "p50"),
            ms(a, "p50"),
            ms(b, "p95"),
            ms(a, "p95"),
            b["samples"],
            a["samples"]
        );
    }
    slower
}

/// Runs pgperf in `dir` (so nothing it writes by default lands in the repository); exit 0 or 1
/// (findings) is fine, anything else stops the benchmark. Returns stdout and stderr; stderr is
/// also echoed.
fn pgperf(dir: &Path, args: &[&str]) -> (String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_pgperf"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .expect("pgperf runs");
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    eprint!("{stderr}");
    let code = output.status.code();
    assert!(
        matches!(code, Some(0 | 1)),
        "pgperf {args:?} exited {code:?}"
    );
    (
        String::from_utf8(output.stdout).expect("utf-8 output"),
        stderr,
    )
}

/// The results.json of one bench run of the workload, `iterations` executions per query.
fn bench(dir: &Path, url: &str, workload: &str, iterations: &str, name: &str) -> PathBuf {
    let out = dir.join(name);
    let out_text = text(&out);
    let args = [
        "bench",
        "--db",
        url,
        "--workload",
        workload,
        "--iterations",
        iterations,
        "--out",
        &out_text,
    ];
    pgperf(dir, &args);
    only_file(&out, "results.json")
}

/// Names of the queries with a timing regression from `baseline` to `current`.
fn check(dir: &Path, baseline: &Path, current: &Path) -> Vec<String> {
    let (report, _) = pgperf(
        dir,
        &[
            "check",
            "--baseline",
            &text(baseline),
            "--current",
            &text(current),
            "--format",
            "json",
        ],
    );
    let report: Value = serde_json::from_str(&report).expect("check JSON");
    array(&report["queries"])
        .iter()
        .filter(|q| {
            array(&q["findings"])
                .iter()
                .any(|f| f["kind"] == "timing_regression")
        })
        .map(|q| q["name"].as_str().unwrap_or("?").to_string())
        .collect()
}

fn array(value: &Value) -> &[Value] {
    value.as_array().map(Vec::as_slice).unwrap_or_default()
}

fn names(value: &Value) -> String {
    array(value)
        .iter()
        .filter_map(Value::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The one file called `name` in a run folder under `out`.
fn only_file(out: &Path, name: &str) -> PathBuf {
    std::fs::read_dir(out)
        .expect("output folder")
        .filter_map(Result::ok)
        .map(|entry| entry.path().join(name))
        .find(|path| path.is_file())
        .unwrap_or_else(|| panic!("no {name} under {}", out.display()))
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("readable")).expect("JSON")
}

fn text(path: &Path) -> String {
    path.to_str().expect("utf-8 path").to_string()
}

fn env_text(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_string())
}

fn load_average() -> String {
    let text = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    format!(
        "load average {}",
        text.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    )
}
