//! `pgperf check` without `--current`: it benches the workload now with the baseline's
//! settings on a real PostgreSQL, then judges. A/A passes; a new index that changes a query's
//! plan fails the deterministic gate and names that query.

mod cli_support;
use cli_support::pgperf;

use std::path::{Path, PathBuf};

use pgperf::embedded::{Cluster, ClusterOptions};
use pgperf::model::RunResult;

mod check_common;

const SCHEMA: &str = include_str!("fixtures/shop/schema.sql");

fn workload() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/shop/workload.toml")
}

/// The results of the one run in `dir`, which `dir/latest` points at.
fn only_results_file(dir: &Path) -> PathBuf {
    let runs: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("out folder")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| !path.is_symlink())
        .collect();
    assert_eq!(runs.len(), 1, "one run in {}", dir.display());
    let latest = std::fs::read_link(dir.join("latest")).expect("latest is a link");
    assert_eq!(Some(latest.as_os_str()), runs[0].file_name());
    runs[0].join("results.json")
}

#[test]
fn check_benches_the_current_run_itself_and_catches_a_plan_change() {
    let cluster = Cluster::start(&ClusterOptions::default()).expect("cluster");
    cluster.create_database("shop").expect("db");
    cluster
        .connect("shop")
        .expect("connect")
        .batch_execute(SCHEMA)
        .expect("schema");
    let url = cluster.url("shop");
    let workload = workload();
    let workload = workload.to_str().expect("utf-8 path");
    let dir = tempfile::tempdir().expect("temp dir");
    let path = |name: &str| {
        dir.path()
            .join(name)
            .to_str()
            .expect("utf-8 path")
            .to_owned()
    };

    let bench = [
        "bench",
        "--db",
        &url,
        "--workload",
        workload,
        "--iterations",
        "60",
    ];
    let (code, _, stderr) =
        pgperf(&[&bench[..], &["--warmup", "5", "--out", &path("base")]].concat());
    assert_eq!(code, 0, "{stderr}");
    let baseline = only_results_file(&dir.path().join("base"));
    let baseline_path = baseline.to_str().expect("utf-8 path");

    let check = |out: &str| {
        pgperf(&[
            "check",
            "--baseline",
            baseline_path,
            "--db",
            &url,
            "--workload",
            workload,
            "--out",
            out,
            "--fail-on",
            "plan,buffers,rows,errors",
        ])
    };
    let (code, stdout, stderr) = check(&path("same"));
    assert_eq!(code, 0, "A/A must pass:\n{stdout}\n{stderr}");
    let current: RunResult = serde_json::from_str(
        &std::fs::read_to_string(only_results_file(&dir.path().join("same"))).expect("written"),
    )
    .expect("parses");
    let base: RunResult =
        serde_json::from_str(&std::fs::read_to_string(&baseline).expect("baseline"))
            .expect("parses");
    assert_eq!(
        current.settings, base.settings,
        "the baseline's settings were used"
    );

    cluster
        .connect("shop")
        .expect("connect")
        .batch_execute(
            "CREATE INDEX orders_status_created ON orders (status, created_at); ANALYZE orders;",
        )
        .expect("index");
    let (code, stdout, stderr) = check(&path("indexed"));
    assert_eq!(code, 1, "a plan change fails the gate:\n{stdout}\n{stderr}");
    assert!(
        stdout.contains("recent_orders:") && stdout.contains("[FAIL] plan shape changed"),
        "{stdout}"
    );
    // Reads the index cannot affect must pass the gate. Timing may add a non-gating note on
    // a noisy machine (found by a CI run), and the writer place_order may fail on buffers for
    // real: the new index is maintained by every insert (+20-25% buffers per call, around
    // the threshold).
    for unaffected in ["product_by_id", "orders_per_status"] {
        let row = stdout
            .lines()
            .find(|line| line.contains(&format!("│ {unaffected} ")))
            .unwrap_or_else(|| panic!("{unaffected} has a row:\n{stdout}"));
        assert!(
            row.contains("┆ ok"),
            "{unaffected} passes the gate:\n{stdout}"
        );
    }
}

#[test]
fn a_different_workload_stops_before_benching() {
    let dir = tempfile::tempdir().expect("temp dir");
    let other = dir.path().join("other.toml");
    let text = include_str!("fixtures/shop/workload.toml");
    std::fs::write(&other, text.replace("LIMIT 20", "LIMIT 21")).expect("write");
    let baseline = dir.path().join("base.json");
    let run = check_common::run("base", vec![]);
    std::fs::write(&baseline, serde_json::to_string(&run).expect("json")).expect("write");
    // The database URL is unreachable: the check must stop before trying to connect.
    let (code, _, stderr) = pgperf(&[
        "check",
        "--baseline",
        baseline.to_str().expect("utf-8"),
        "--workload",
        other.to_str().expect("utf-8"),
        "--db",
        "postgresql://u:pw@127.0.0.1:1/x",
    ]);
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("is not the baseline's"), "{stderr}");
    assert!(!stderr.contains("cannot connect"), "{stderr}");
}
