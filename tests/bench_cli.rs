//! `pgperf bench` as users run it: exit codes, the results file, the table on stdout, and no
//! password anywhere in the output.

mod cli_support;
use cli_support::pgperf;

use std::process::Command;

use pgperf::embedded::{Cluster, ClusterOptions};
use pgperf::model::RunResult;

const SCHEMA: &str = include_str!("fixtures/shop/schema.sql");

fn fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/shop")
        .join(name)
}

#[test]
fn bench_writes_results_prints_the_table_and_judges_budgets() {
    let cluster = Cluster::start(&ClusterOptions::default()).expect("cluster");
    cluster.create_database("shop").expect("db");
    cluster
        .connect("shop")
        .expect("connect")
        .batch_execute(SCHEMA)
        .expect("schema");
    let url = cluster
        .url("shop")
        .replacen("postgres@", "postgres:hunter2@", 1);
    let out = tempfile::tempdir().expect("temp dir");
    let workload = fixture("workload.toml");
    let args = [
        "bench",
        "--db",
        &url,
        "--workload",
        workload.to_str().expect("utf-8 path"),
        "--iterations",
        "60",
        "--warmup",
        "2",
        "--concurrency",
        "2",
        "--out",
        out.path().to_str().expect("utf-8 path"),
    ];
    let (code, stdout, stderr) = pgperf(&args);
    assert_eq!(code, 0, "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(
        stdout.contains("product_by_id") && stdout.contains("P95 [95% CI]"),
        "{stdout}"
    );
    let run_dir = std::fs::read_dir(out.path())
        .expect("out")
        .next()
        .expect("one run")
        .expect("entry");
    let text = std::fs::read_to_string(run_dir.path().join("results.json")).expect("results.json");
    let result: RunResult = serde_json::from_str(&text).expect("parses");
    assert!(result.complete);
    assert_eq!(result.queries.len(), 4);
    assert_eq!(result.settings.concurrency, 2);
    for text in [&stdout, &stderr, &text] {
        assert!(!text.contains("hunter2"), "the password leaked");
    }

    let strict = out.path().join("strict.toml");
    let original = std::fs::read_to_string(&workload).expect("workload");
    std::fs::write(
        &strict,
        original.replace("read_budget_p95_ms = 100", "read_budget_p95_ms = 0.001"),
    )
    .expect("write");
    let mut args = args.to_vec();
    args[4] = strict.to_str().expect("utf-8 path");
    let (code, stdout, _) = pgperf(&args);
    assert_eq!(code, 1, "a breached budget exits 1:\n{stdout}");
    assert!(stdout.contains('✗'));
}

#[test]
fn invalid_workload_bad_url_and_refused_connection_have_their_exit_codes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "name = \"x\"\n[[query]]\nname = \"a\"\nsql = \"SELECT $1\"\n",
    )
    .expect("write");
    let (code, _, stderr) = pgperf(&[
        "bench",
        "--db",
        "postgresql://u:pw@localhost:1/x",
        "--workload",
        bad.to_str().expect("utf-8"),
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("bad.toml is not a valid workload"),
        "{stderr}"
    );

    let good = fixture("workload.toml");
    let (code, _, stderr) = pgperf(&[
        "bench",
        "--db",
        "postgresql://u:s3cret@127.0.0.1:1/x",
        "--workload",
        good.to_str().expect("utf-8"),
    ]);
    assert_eq!(code, 3, "{stderr}");
    assert!(
        stderr.contains("cannot connect") && !stderr.contains("s3cret"),
        "{stderr}"
    );

    let (code, _, stderr) = pgperf(&[
        "bench",
        "--db",
        "postgresql://u:s3cret@[bad",
        "--workload",
        good.to_str().expect("utf-8"),
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(!stderr.contains("s3cret"), "{stderr}");

    let (code, _, stderr) = pgperf(&[
        "bench",
        "--db",
        "postgresql://u:s3cret@127.0.0.1:1/x",
        "--clock",
        "2026-12-02T12:00:00Z",
        "--workload",
        good.to_str().expect("utf-8"),
    ]);
    assert_eq!(
        code, 2,
        "--clock with a user's database is a usage error: {stderr}"
    );
    assert!(stderr.contains("--clock pins the clock"), "{stderr}");
}

#[test]
fn ctrl_c_writes_partial_results_and_exits_130() {
    let cluster = Cluster::start(&ClusterOptions::default()).expect("cluster");
    cluster.create_database("slow").expect("db");
    let dir = tempfile::tempdir().expect("temp dir");
    let workload = dir.path().join("slow.toml");
    std::fs::write(
        &workload,
        "name = \"slow\"\n[[query]]\nname = \"nap\"\nsql = \"SELECT pg_sleep(0.005)\"\n",
    )
    .expect("write");
    let out = dir.path().join("reports");
    let child = Command::new(env!("CARGO_BIN_EXE_pgperf"))
        .args([
            "bench",
            "--db",
            &cluster.url("slow"),
            "--workload",
            workload.to_str().expect("utf-8"),
        ])
        .args([
            "--iterations",
            "100000",
            "--warmup",
            "1",
            "--out",
            out.to_str().expect("utf-8"),
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("pgperf runs");
    std::thread::sleep(std::time::Duration::from_millis(3000));
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let output = child.wait_with_output().expect("pgperf exits");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    let run_dir = std::fs::read_dir(&out)
        .expect("out")
        .next()
        .expect("one run")
        .expect("entry");
    let text = std::fs::read_to_string(run_dir.path().join("results.json")).expect("results.json");
    let result: RunResult = serde_json::from_str(&text).expect("parses");
    assert!(!result.complete);
    assert!(
        result
            .abort_reason
            .as_deref()
            .is_some_and(|r| r.contains("interrupted"))
    );
    assert!(result.queries[0].samples > 0);
}

/// A `--clock` that cannot be honoured stops before anything is measured: no libfaketime at
/// the given path, or a preload that does not move the server's clock.
#[test]
fn a_clock_that_cannot_be_pinned_is_an_error_not_a_silent_real_clock() {
    let clocked_bench = |library: &str| {
        let output = Command::new(env!("CARGO_BIN_EXE_pgperf"))
            .args([
                "bench",
                "--scale",
                "0.01",
                "--clock",
                "2024-02-29T12:00:00Z",
            ])
            .env_remove("DATABASE_URL")
            .env("PGPERF_LIBFAKETIME", library)
            .output()
            .expect("pgperf runs");
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let (code, stderr) = clocked_bench("/nonexistent/libfaketime.so.1");
    assert_ne!(code, Some(0), "{stderr}");
    assert!(
        stderr.contains("apt-get install -y libfaketime"),
        "{stderr}"
    );

    // A real library that is not libfaketime: it loads, and the clock stays real.
    let (code, stderr) = clocked_bench("/lib/x86_64-linux-gnu/libm.so.6");
    assert_ne!(code, Some(0), "{stderr}");
    assert!(
        stderr.contains("not the pinned 2024-02-29 12:00:00 UTC"),
        "{stderr}"
    );
}
