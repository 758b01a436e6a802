//! `pgperf bench --history` adds the run it measured: to a SQLite file, and to a schema of a
//! PostgreSQL database given by URL (whose password appears nowhere in the output).

mod cli_support;
use cli_support::pgperf;

use pgperf::embedded::{Cluster, ClusterOptions};
use pgperf::history::store::postgres::{DEFAULT_SCHEMA, Postgres};
use pgperf::history::store::sqlite::Sqlite;
use pgperf::history::store::{HistoryStore, Store};

const SCHEMA: &str = include_str!("fixtures/shop/schema.sql");

#[test]
fn bench_with_history_adds_the_run_to_a_file_and_to_a_postgres_schema() {
    let cluster = Cluster::start(&ClusterOptions::default()).expect("cluster");
    for database in ["shop", "team"] {
        cluster.create_database(database).expect("db");
    }
    cluster
        .connect("shop")
        .expect("connect")
        .batch_execute(SCHEMA)
        .expect("schema");
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("history.sqlite");
    let team_url = cluster
        .url("team")
        .replacen("postgres@", "postgres:hunter2@", 1);
    let workload = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/shop/workload.toml"
    );
    for history in [file.to_str().expect("utf-8 path"), &team_url] {
        let (code, stdout, stderr) = pgperf(&[
            "bench",
            "--db",
            &cluster.url("shop"),
            "--workload",
            workload,
            "--iterations",
            "10",
            "--warmup",
            "1",
            "--out",
            dir.path().to_str().expect("utf-8 path"),
            "--history",
            history,
        ]);
        assert_eq!(code, 0, "stdout:\n{stdout}\nstderr:\n{stderr}");
        assert!(stderr.contains("added to the history"), "{stderr}");
        assert!(
            !stderr.contains("hunter2") && !stdout.contains("hunter2"),
            "the password leaked"
        );
    }
    let mut sqlite = Store::open(Sqlite::open(&file).expect("opens")).expect("opens");
    let client = cluster.connect("team").expect("connects");
    let mut postgres = Store::open(Postgres::new(client, DEFAULT_SCHEMA, "team")).expect("opens");
    for store in [&mut sqlite as &mut dyn HistoryStore, &mut postgres] {
        let runs = store.runs().expect("reads");
        assert_eq!(runs.len(), 1);
        assert_eq!(runs[0].queries.len(), 4);
        assert!(runs[0].queries.iter().all(|query| query.p95.is_some()));
    }
}
