//! Evidence that holds on a busy machine (issue 13), on the dashboard workload seeded at scale 1
//! in one embedded PostgreSQL, through the pgperf binary as a user runs it:
//!
//! 1. `pgperf advise` three times quiet and three times while a load generator keeps busy
//!    processes running: the six recommended index sets must be identical;
//! 2. `pgperf bench` once quiet and once loaded: every P95 budget verdict agrees, except where
//!    an interval straddles the budget;
//! 3. `pgperf check` on A/A pairs of benches, all under the same load: no timing regression.
//!
//! The load generator is `BURNERS` processes `sh -c 'while :; do :; done'`, each under
//! `timeout` (so none outlives a killed benchmark) and stopped by the benchmark itself.
//!
//! The whole bundled schema is migrated, seeded, and then the indexes of the migrations advise
//! itself wrote (`*_pgperf_indexes.sql`) are dropped, so advise has real decisions to make on
//! the schema as it is (the seeder fills every column of the latest migrations, so an older
//! migration level cannot be seeded).
//!
//! Run: `cargo bench --bench robustness`. Optional env: `SCALE` (1),
//! `ADVISE_RUNS` (3 per side), `BURNERS` (2), `BENCH_BUDGET` ("60s"), `AA_PAIRS` (10),
//! `AA_BUDGET` ("20s"), `PARTS` ("advise,bench,check": which of the three to run, e.g. to
//! re-run the advise part alone after a change to the decision rule).
//! Prints a Markdown summary for docs/benchmarks.md; exit 1 when a target is missed.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use pgperf::embedded::{Cluster, ClusterOptions};
use serde_json::Value;

const DB: &str = "robustness";
/// A load generator never runs longer than this, whatever happens to the benchmark.
const LOAD_LIMIT_S: u64 = 3_600;

fn main() {
    let scale = env_text("SCALE", "1");
    let advise_runs: usize = env_text("ADVISE_RUNS", "3").parse().expect("ADVISE_RUNS");
    let burners: usize = env_text("BURNERS", "2").parse().expect("BURNERS");
    let bench_budget = env_text("BENCH_BUDGET", "60s");
    let aa_pairs: usize = env_text("AA_PAIRS", "10").parse().expect("AA_PAIRS");
    let aa_budget = env_text("AA_BUDGET", "20s");
    let parts = env_text("PARTS", "advise,bench,check");
    let runs = |part: &str| parts.split(',').any(|p| p.trim() == part);
    let advise_runs = if runs("advise") { advise_runs } else { 0 };
    let aa_pairs = if runs("check") { aa_pairs } else { 0 };

    let cluster = Cluster::start(&ClusterOptions::default()).expect("embedded cluster starts");
    cluster.create_database(DB).expect("database");
    let url = cluster.url(DB);
    let work = tempfile::tempdir().expect("temp dir");
    let migrations = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let dir = migrations.to_str().expect("utf-8 path");
    let up = ["migrate", "up", "--db", &url, "--dir", dir];
    pgperf(work.path(), &up);
    pgperf(work.path(), &["seed", "--db", &url, "--scale", &scale]);
    // Autovacuum would otherwise re-ANALYZE the freshly loaded tables during the first runs, and
    // new statistics (another random sample) can change what the what-if selects.
    // Separate calls: a multi-statement string is one implicit transaction, and VACUUM refuses
    // to run inside one.
    let mut client = cluster.connect(DB).expect("connect");
    client
        .batch_execute(&drop_advised_indexes(&migrations))
        .expect("drop the advised indexes");
    client
        .batch_execute("VACUUM (ANALYZE)")
        .expect("vacuum analyze");
    eprintln!("seeded at scale {scale}; {}", load_average());

    let mut sets = Vec::new();
    for loaded in [false, true] {
        for run in 0..advise_runs {
            let _load = loaded.then(|| Load::start(burners));
            let started = Instant::now();
            let set = advise(work.path(), &url, &format!("advise-{loaded}-{run}"));
            let seconds = started.elapsed().as_secs_f64();
            eprintln!(
                "advise loaded={loaded} run {run}: {set:?} in {seconds:.0} s; {}",
                load_average()
            );
            sets.push((loaded, set, seconds));
        }
    }

    let (agreeing, straddling, disagreeing) = if runs("bench") {
        let quiet = bench(work.path(), &url, &bench_budget, "bench-quiet");
        let loaded = {
            let _load = Load::start(burners);
            bench(work.path(), &url, &bench_budget, "bench-loaded")
        };
        compare_verdicts(&quiet, &loaded)
    } else {
        (0, 0, Vec::new())
    };
    eprintln!("bench verdicts: {agreeing} agree, {straddling} straddle, {disagreeing:?} disagree");

    let mut regressions = Vec::new();
    {
        let _load = Load::start(burners);
        for pair in 0..aa_pairs {
            let a = bench(work.path(), &url, &aa_budget, &format!("aa-{pair}-a"));
            let b = bench(work.path(), &url, &aa_budget, &format!("aa-{pair}-b"));
            let regressed = check(work.path(), &a, &b);
            eprintln!(
                "A/A pair {pair}: {regressed:?} timing regressions; {}",
                load_average()
            );
            regressions.push(regressed);
        }
    }

    let identical = sets.windows(2).all(|w| w[0].1 == w[1].1);
    let regressed: usize = regressions.iter().map(Vec::len).sum();
    println!("| measure | result | target |");
    println!("|---|---|---|");
    for (loaded, set, seconds) in &sets {
        let side = if *loaded { "loaded" } else { "quiet" };
        println!(
            "| advise ({side}) | {} in {seconds:.0} s | same set every run |",
            set.join(", ")
        );
    }
    println!("| six advise index sets identical | {identical} | true |");
    println!(
        "| bench budget verdicts quiet vs loaded ({bench_budget}) | {agreeing} agree, {straddling} straddle, {} disagree {disagreeing:?} | 0 disagree |",
        disagreeing.len()
    );
    println!(
        "| check A/A pairs under load ({aa_pairs} × {aa_budget}) | {regressed} timing regressions | 0 |"
    );
    println!("\n{}", load_average());
    let missed = !identical || !disagreeing.is_empty() || regressed > 0;
    // `exit` runs no destructors: remove the runs' files and stop the cluster first.
    drop(work);
    drop(cluster);
    if missed {
        std::process::exit(1);
    }
}

/// Busy processes, stopped (killed and reaped) when dropped.
struct Load(Vec<Child>);

impl Load {
    fn start(processes: usize) -> Load {
        Load(
            (0..processes)
                .map(|_| {
                    Command::new("timeout")
                        .args([&LOAD_LIMIT_S.to_string(), "sh", "-c", "while :; do :; done"])
                        .stdin(Stdio::null())
                        .spawn()
                        .expect("start a busy process")
                })
                .collect(),
        )
    }
}

impl Drop for Load {
    fn drop(&mut self) {
        for child in &mut self.0 {
            // `timeout` forwards the signal to the loop it runs.
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let _ = child.wait();
        }
    }
}

/// Runs pgperf in `dir` (so nothing it writes by default lands in the repository); exit 0 or 1
/// (findings) is fine, anything else stops the benchmark.
fn pgperf(dir: &Path, args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_pgperf"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stderr(Stdio::inherit())
        .output()
        .expect("pgperf runs");
    let code = output.status.code();
    assert!(
        matches!(code, Some(0 | 1)),
        "pgperf {args:?} exited {code:?}"
    );
    String::from_utf8(output.stdout).expect("utf-8 output")
}

/// The recommended index names of one advise run, sorted.
fn advise(dir: &Path, url: &str, name: &str) -> Vec<String> {
    let out = dir.join(name);
    let migrations = dir.join(format!("{name}-migrations"));
    let (out_text, migrations_text) = (text(&out), text(&migrations));
    pgperf(
        dir,
        &[
            "advise",
            "--db",
            url,
            "--allow-locks",
            "--out",
            &out_text,
            "--migrations",
            &migrations_text,
        ],
    );
    let advice = read_json(&only_file(&out, "advice.json"));
    let mut names: Vec<String> = advice["recommendations"]
        .as_array()
        .expect("recommendations")
        .iter()
        .map(|r| r["name"].as_str().expect("name").to_string())
        .collect();
    names.sort();
    names
}

/// The results.json of one bench run within `budget`.
fn bench(dir: &Path, url: &str, budget: &str, name: &str) -> PathBuf {
    let out = dir.join(name);
    let out_text = text(&out);
    pgperf(
        dir,
        &[
            "bench",
            "--db",
            url,
            "--time-budget",
            budget,
            "--out",
            &out_text,
        ],
    );
    only_file(&out, "results.json")
}

/// Names of the queries with a timing regression between `baseline` and `current` (other
/// findings, e.g. buffers per call of a query sampled twice, are not what an A/A pair tests).
fn check(dir: &Path, baseline: &Path, current: &Path) -> Vec<String> {
    let report = pgperf(
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
    report["queries"]
        .as_array()
        .expect("queries")
        .iter()
        .filter(|q| {
            q["findings"]
                .as_array()
                .is_some_and(|f| f.iter().any(|f| f["kind"] == "timing_regression"))
        })
        .map(|q| q["name"].as_str().unwrap_or("?").to_string())
        .collect()
}

/// A query's budget verdict: `Some(true)` breached, `Some(false)` within, `None` when its
/// interval (or one-sided bound) straddles the budget or it has none.
fn verdict(query: &Value) -> Option<bool> {
    let budget = query["budget_p95_us"].as_f64()?;
    let p95 = &query["latency"]["p95"];
    match (p95["ci_low_us"].as_f64(), p95["ci_high_us"].as_f64()) {
        (Some(low), Some(high)) if query["samples"].as_u64()? >= 59 => {
            if low > budget {
                Some(true)
            } else if high < budget {
                Some(false)
            } else {
                None
            }
        }
        _ => {
            let bound = query["warnings"]
                .as_array()?
                .iter()
                .find_map(|w| w["p95_at_least_us"].as_f64())?;
            (bound > budget).then_some(true)
        }
    }
}

/// (agreeing, straddling, names of disagreeing) between two runs' verdicts.
fn compare_verdicts(quiet: &Path, loaded: &Path) -> (usize, usize, Vec<String>) {
    let (quiet, loaded) = (read_json(quiet), read_json(loaded));
    let (mut agreeing, mut straddling, mut disagreeing) = (0, 0, Vec::new());
    let queries = quiet["queries"].as_array().expect("queries");
    for (a, b) in queries
        .iter()
        .zip(loaded["queries"].as_array().expect("queries"))
    {
        match (verdict(a), verdict(b)) {
            (Some(x), Some(y)) if x == y => agreeing += 1,
            (Some(_), Some(_)) => disagreeing.push(a["name"].as_str().unwrap_or("?").to_string()),
            _ => straddling += 1,
        }
    }
    (agreeing, straddling, disagreeing)
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

/// `DROP INDEX` statements for every index created by the migrations advise wrote.
fn drop_advised_indexes(migrations: &Path) -> String {
    let mut statements = String::new();
    for entry in std::fs::read_dir(migrations).expect("migrations folder") {
        let path = entry.expect("entry").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if !name.ends_with("_pgperf_indexes.sql") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("migration file");
        for line in text.lines().filter(|l| l.starts_with("CREATE INDEX")) {
            // CREATE INDEX [CONCURRENTLY] IF NOT EXISTS "name" ON "schema"."table" ...
            let quoted: Vec<&str> = line.split('"').skip(1).step_by(2).collect();
            let [index, schema, ..] = quoted[..] else {
                panic!("an index line of {name} without a quoted name and schema: {line}");
            };
            statements.push_str(&format!("DROP INDEX \"{schema}\".\"{index}\";\n"));
        }
    }
    statements
}
