//! The control-center schema's database tests (pgTAP files in `tests/sql/`), run from
//! `cargo test` against the real embedded cluster.
//!
//! The bundled migrations are applied once to a template database (with the `pgtap`
//! extension); each pgTAP file then runs through psql in its own copy of it, so the files are
//! independent and run in parallel. A file passes when psql exits cleanly, every TAP line is
//! `ok`, and the number of tests matches the plan. `pg_prove` is not required: the TAP stream
//! is read here.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use pgperf::embedded::{Cluster, ClusterOptions};

const TEMPLATE: &str = "schema_template";

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The shared cluster, with the template database migrated once.
fn cluster() -> &'static Cluster {
    static CLUSTER: OnceLock<Cluster> = OnceLock::new();
    CLUSTER.get_or_init(|| {
        let cluster = Cluster::start(&ClusterOptions::default()).expect("embedded cluster starts");
        cluster
            .create_database(TEMPLATE)
            .expect("template database is created");
        let mut client = cluster.connect(TEMPLATE).expect("connect to the template");
        let set = pgperf::migrate::load_dir(&manifest_dir().join("migrations"))
            .expect("bundled migrations load");
        pgperf::migrate::up(&mut client, &set, None).expect("bundled migrations apply");
        client
            .batch_execute("CREATE EXTENSION pgtap")
            .expect("pgtap is installed (postgresql-15-pgtap)");
        cluster
    })
}

/// A fresh copy of the migrated template for one test file.
fn database_for(name: &str) -> String {
    let cluster = cluster();
    let mut client = cluster.connect("postgres").expect("connect to postgres");
    client
        .batch_execute(&format!(
            "CREATE DATABASE {} TEMPLATE {}",
            pgperf::pg::quote_ident(name),
            pgperf::pg::quote_ident(TEMPLATE)
        ))
        .expect("copy of the template is created");
    cluster.url(name)
}

/// What a TAP stream says.
#[derive(Debug, Default, PartialEq)]
struct TapSummary {
    planned: Option<usize>,
    passed: usize,
    failed: Vec<String>,
}

fn summarise_tap(output: &str) -> TapSummary {
    let mut summary = TapSummary::default();
    for line in output.lines().map(str::trim) {
        if let Some(count) = line.strip_prefix("1..") {
            summary.planned = count.parse().ok();
        } else if line.starts_with("not ok") {
            summary.failed.push(line.to_string());
        } else if line.starts_with("ok") {
            summary.passed += 1;
        }
    }
    summary
}

/// Runs one pgTAP file in its own database and panics with the whole TAP output on failure.
fn run_pgtap(file: &str) {
    let path: PathBuf = manifest_dir().join("tests/sql").join(file);
    let database = format!("sql_{}", file.trim_end_matches(".sql"));
    let url = database_for(&database);
    let output = Command::new(cluster().bin_dir().join("psql"))
        .args([
            "-X",
            "-q",
            "-A",
            "-t",
            "-v",
            "ON_ERROR_STOP=1",
            "-d",
            &url,
            "-f",
        ])
        .arg(&path)
        .current_dir(path.parent().unwrap_or(Path::new(".")))
        .output()
        .expect("psql runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let summary = summarise_tap(&stdout);
    let complete = summary.planned == Some(summary.passed + summary.failed.len());
    assert!(
        output.status.success() && summary.failed.is_empty() && complete && summary.passed > 0,
        "{file}: psql {}, {} passed, failed {:?}, plan {:?}\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        output.status,
        summary.passed,
        summary.failed,
        summary.planned,
    );
}

#[test]
fn tap_summary_counts_plan_passes_and_failures() {
    let summary = summarise_tap("1..3\nok 1 - a\nnot ok 2 - b\n# diag\nok 3\n");
    assert_eq!(summary.planned, Some(3));
    assert_eq!(summary.passed, 2);
    assert_eq!(summary.failed, vec!["not ok 2 - b".to_string()]);
}

#[test]
fn catalog_rules_hold() {
    run_pgtap("catalog.sql");
}

#[test]
fn rls_matrix_holds_for_every_table_role_and_operation() {
    run_pgtap("rls_matrix.sql");
}

#[test]
fn audit_log_records_every_write_and_is_immutable() {
    run_pgtap("audit.sql");
}

#[test]
fn rpcs_answer_the_hand_checked_fixture() {
    run_pgtap("rpc.sql");
}

#[test]
fn constraint_violations_name_the_constraint() {
    run_pgtap("constraints.sql");
}
