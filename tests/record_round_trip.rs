//! The issue's round trip on a small shop workload: bench it with statement logging on,
//! record it from the log and from pg_stat_statements (`--reference` keeps the names so the
//! runs compare query by query), bench the recordings, and let `pgperf check` judge the P95s.
//! The log recording replays the values really sent; the pg_stat_statements recordings sample
//! values from `pg_stats` instead, calibrated once by planner estimates and once by measured
//! runs (`--measure`).
//!
//! Asserted: the recordings keep every query under its original name and persona, load
//! through the workload validator, bench without a failed execution, and compare with the
//! original (check exits 0 or 1, never 2 or 3). The timing verdicts are printed, not asserted:
//! on this shared 2-core machine a P95 is machine load as much as query (house rule: no timed
//! assertions); docs/benchmarks.md has the verdicts of repeated runs.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use pgperf::embedded::{Cluster, ClusterOptions};
use pgperf::model::RunResult;

mod record_support;

const SETUP: &str = "
    CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL);
    INSERT INTO customers SELECT i, 'customer ' || i FROM generate_series(1, 2000) i;
    CREATE TABLE orders (
        id bigserial PRIMARY KEY,
        customer_id int NOT NULL REFERENCES customers,
        status text NOT NULL,
        total numeric NOT NULL,
        created_at timestamptz NOT NULL
    );
    INSERT INTO orders (customer_id, status, total, created_at)
    SELECT 1 + (i * 7919) % 2000,
           CASE WHEN i % 50 = 0 THEN 'pending' WHEN i % 10 = 1 THEN 'open' ELSE 'done' END,
           (i % 1000) / 10.0,
           now() - (i % 720) * interval '1 hour'
      FROM generate_series(1, 50000) AS i;
    CREATE INDEX ON orders (customer_id);
    ANALYZE;
    CREATE ROLE app;
    GRANT SELECT ON customers, orders TO app;";

const WORKLOAD: &str = r#"
name = "shop"

[personas.shopper]
role = "app"

[[query]]
name = "order_lookup"
sql = "SELECT id, total FROM orders WHERE customer_id = $1 AND status = $2"
persona = "shopper"
weight = 5
params = [{ int_between = [1, 2000] }, { one_of = ["done", "open", "pending"], weights = [8, 1, 1] }]

[[query]]
name = "customer_summary"
sql = "SELECT c.name, count(*), sum(o.total) FROM customers c JOIN orders o ON o.customer_id = c.id WHERE c.id = $1 GROUP BY c.name"
persona = "shopper"
weight = 3
params = [{ int_between = [1, 2000] }]

[[query]]
name = "recent_by_status"
sql = "SELECT status, count(*), sum(total) FROM orders WHERE created_at > $1 GROUP BY status"
persona = "shopper"
weight = 1
params = [{ ago = "7 days" }]
"#;

fn pgperf(args: &[&str], paths: &[&Path]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_pgperf"));
    command
        .args(args)
        .args(paths)
        .env_remove("DATABASE_URL")
        .env("NO_COLOR", "1");
    command.output().expect("pgperf runs")
}

fn ok(output: Output, what: &str) -> Output {
    assert!(
        output.status.success(),
        "{what} failed ({}):\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Benches `workload` and returns its results file. Exit 1 (a P95 budget breached) is a
/// finding, not a failure: this machine is busy.
fn bench(url: &str, workload: &Path, out: &Path, iterations: &str) -> PathBuf {
    let started = std::time::Instant::now();
    let output = pgperf(
        &[
            "bench",
            "--db",
            url,
            "--iterations",
            iterations,
            "--warmup",
            "10",
            "--workload",
        ],
        &[workload, Path::new("--out"), out],
    );
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "bench failed ({}):\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    eprintln!(
        "bench {} took {:.0} s",
        workload.display(),
        started.elapsed().as_secs_f64()
    );
    let run = std::fs::read_dir(out)
        .expect("results folder")
        .map(|entry| entry.expect("entry").path())
        .find(|path| path.join("results.json").exists())
        .expect("a run folder");
    run.join("results.json")
}

/// `pgperf check` on the timing gate: its exit code and its human output.
fn check(baseline: &Path, current: &Path) -> (Option<i32>, String) {
    let output = pgperf(
        &[
            "check",
            "--fail-on",
            "timing",
            "--allow-incomparable",
            "--format",
            "human",
            "--baseline",
        ],
        &[baseline, Path::new("--current"), current],
    );
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.code(), text)
}

/// A cluster logging every statement to `data/log/postgresql.csv`.
fn logging_cluster() -> Cluster {
    let settings = [
        ("log_min_duration_statement", "0"),
        ("log_destination", "'csvlog'"),
        ("logging_collector", "on"),
        ("log_directory", "'log'"),
        ("log_filename", "'postgresql.log'"),
    ];
    Cluster::start(&ClusterOptions {
        settings: settings
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ..ClusterOptions::default()
    })
    .expect("cluster starts")
}

/// Records `log` and pg_stat_statements (estimated and `--measure`d) against `original`,
/// benches the recordings and checks them against `baseline`, beside a control run of the
/// original (its verdicts show the machine's noise), printing the verdicts. Returns the texts
/// of the four workloads: the original, the log's, pg_stat_statements' and the measured one.
fn record_bench_and_check(
    url: &str,
    log: &Path,
    original: &Path,
    baseline: &Path,
    dir: &Path,
    iterations: &str,
) -> Vec<String> {
    let from_log = dir.join("from-log.toml");
    ok(
        pgperf(
            &[
                "record",
                "--include-pgperf",
                "--min-calls",
                "20",
                "--top",
                "100",
                "--from-log",
            ],
            &[
                log,
                Path::new("--reference"),
                original,
                Path::new("--out"),
                &from_log,
            ],
        ),
        "record --from-log",
    );
    let from_stats = dir.join("from-stats.toml");
    record_from_stats(url, original, &from_stats, &[]);
    let measured = dir.join("from-stats-measured.toml");
    record_from_stats(url, original, &measured, &["--measure"]);
    let runs = [
        ("the original again (control)", original),
        ("the log", from_log.as_path()),
        ("pg_stat_statements", from_stats.as_path()),
        ("pg_stat_statements --measure", measured.as_path()),
    ];
    let mut texts = Vec::new();
    for (index, (label, workload)) in runs.into_iter().enumerate() {
        let run = bench(url, workload, &dir.join(format!("run-{index}")), iterations);
        let results: RunResult =
            serde_json::from_str(&std::fs::read_to_string(&run).expect("results")).expect("parses");
        assert!(results.complete);
        for query in &results.queries {
            assert_eq!(
                query.errors, 0,
                "{label}: {}: {:?}",
                query.name, query.first_error
            );
        }
        let (code, verdicts) = check(baseline, &run);
        eprintln!("original vs {label} (check exit {code:?}):\n{verdicts}");
        assert!(
            matches!(code, Some(0 | 1)),
            "check compares the runs:\n{verdicts}"
        );
        texts.push(std::fs::read_to_string(workload).expect("workload"));
    }
    keep(&[&from_log, &from_stats, &measured]);
    texts
}

/// `pgperf record --from-stat-statements` of `url` against `original` into `out`, with
/// `extra` options; prints how long it took (measuring runs every candidate).
fn record_from_stats(url: &str, original: &Path, out: &Path, extra: &[&str]) {
    let mut args = vec![
        "record",
        "--db",
        url,
        "--from-stat-statements",
        "--min-calls",
        "20",
        "--top",
        "100",
    ];
    args.extend_from_slice(extra);
    args.push("--reference");
    let started = std::time::Instant::now();
    ok(
        pgperf(&args, &[original, Path::new("--out"), out]),
        "record --from-stat-statements",
    );
    eprintln!(
        "record --from-stat-statements {} took {:.1} s",
        extra.join(" "),
        started.elapsed().as_secs_f64()
    );
}

/// Copies the recorded workloads to `PGPERF_ROUND_TRIP_KEEP` (a folder), when it is set, so
/// a person can read what was recorded after the cluster is gone.
fn keep(files: &[&Path]) {
    let Some(dir) = std::env::var_os("PGPERF_ROUND_TRIP_KEEP") else {
        return;
    };
    std::fs::create_dir_all(&dir).expect("keep folder");
    for file in files {
        let name = file.file_name().expect("a file name");
        std::fs::copy(file, Path::new(&dir).join(name)).expect("copy the recording");
    }
}

/// Runs at scale 0.05 in the suite (about a minute); `PGPERF_ROUND_TRIP_SCALE=1` runs the
/// scale the benchmark figures in docs/benchmarks.md come from (7-13 min on 2 busy cores).
#[test]
fn the_dashboard_workload_round_trips() {
    let scale = std::env::var("PGPERF_ROUND_TRIP_SCALE").unwrap_or_else(|_| "0.05".into());
    let cluster = logging_cluster();
    cluster.create_database("pgperf").expect("database");
    let url = cluster.url("pgperf");
    let migrations = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let started = std::time::Instant::now();
    ok(
        pgperf(&["migrate", "--db", &url, "up", "--dir"], &[&migrations]),
        "migrate",
    );
    ok(
        pgperf(
            &[
                "seed",
                "--db",
                &url,
                "--scale",
                &scale,
                "--anchor-date",
                "2026-11-01",
            ],
            &[],
        ),
        "seed",
    );
    eprintln!(
        "migrate and seed took {:.0} s",
        started.elapsed().as_secs_f64()
    );
    cluster
        .connect("pgperf")
        .expect("connects")
        .batch_execute("ANALYZE; SELECT pg_stat_statements_reset()")
        .expect("reset");
    let dir = tempfile::tempdir().expect("temp dir");
    let original = Path::new(env!("CARGO_MANIFEST_DIR")).join("workloads/dashboard.toml");
    let baseline = bench(&url, &original, &dir.path().join("original-run"), "60");
    let log = cluster.dir().join("data/log/postgresql.csv");
    let texts = record_bench_and_check(&url, &log, &original, &baseline, dir.path(), "60");
    let reference: pgperf::workload::WorkloadFile =
        toml::from_str(&texts[0]).expect("dashboard parses");
    for (label, text) in [("log", &texts[1]), ("pg_stat_statements", &texts[2])] {
        let recorded: pgperf::workload::WorkloadFile = toml::from_str(text).expect("parses");
        let missing: Vec<&str> = reference
            .queries
            .iter()
            .map(|q| q.name.as_str())
            .filter(|name| !recorded.queries.iter().any(|r| r.name == *name))
            .collect();
        eprintln!(
            "recorded from {label}: {} queries; dashboard queries not matched: {missing:?}",
            recorded.queries.len()
        );
    }
    // pg_stat_statements made the row history's constants parameters; the reference gives
    // them back, and the row id (a typed column since 0010) stays a parameter whose values
    // come from the rows: sampled from the column, or the calls' own values.
    for text in &texts[2..] {
        let from_stats: pgperf::workload::WorkloadFile = toml::from_str(text).expect("parses");
        let history = from_stats
            .queries
            .iter()
            .find(|q| q.name == "audit.row_history")
            .expect("the row history is recorded from pg_stat_statements");
        assert!(
            history.sql.contains("table_name = 'approvals'") && history.sql.contains("row_id = $1"),
            "{}",
            history.sql
        );
        assert!(
            matches!(
                history.params.as_slice(),
                [pgperf::workload::ParamSpec::Sample { .. }
                    | pgperf::workload::ParamSpec::Recorded { .. }]
            ),
            "{:?}",
            history.params
        );
    }
}

#[test]
fn recorded_workloads_bench_like_the_original() {
    let cluster = logging_cluster();
    record_support::shop(&cluster, SETUP);
    let url = cluster.url("shop");
    let dir = tempfile::tempdir().expect("temp dir");
    let original = dir.path().join("original.toml");
    std::fs::write(&original, WORKLOAD).expect("write workload");

    let baseline = bench(&url, &original, &dir.path().join("original-run"), "80");
    let log = cluster.dir().join("data/log/postgresql.csv");
    let texts = record_bench_and_check(&url, &log, &original, &baseline, dir.path(), "80");
    for text in &texts {
        for name in ["order_lookup", "customer_summary", "recent_by_status"] {
            assert!(
                text.contains(&format!("name = \"{name}\"")),
                "{name} in:\n{text}"
            );
        }
        assert!(text.contains("[personas.shopper]"), "{text}");
    }
}
