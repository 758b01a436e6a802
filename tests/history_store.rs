//! The two history stores pass the same tests: a SQLite file and a schema of a PostgreSQL
//! database (a private embedded cluster). Runs come back as they went in, oldest first; a run
//! is kept once; a store of a newer format is refused naming both versions; a PostgreSQL
//! history also works through `pgperf history add --history postgresql://...`, and a role that
//! may only read it can open it.

use chrono::{Duration, TimeZone, Utc};
use pgperf::embedded::{Cluster, ClusterOptions};
use pgperf::history::HistoryError;
use pgperf::history::store::postgres::{DEFAULT_SCHEMA, Postgres};
use pgperf::history::store::sqlite::Sqlite;
use pgperf::history::store::{HISTORY_FORMAT_VERSION, HistoryStore, Store};
use pgperf::model::QuantileEstimate;
use pgperf::model::history::{HistoryQuery, HistoryRun};

/// A run whose times are whole microseconds (what timestamptz keeps) and whose values cover
/// every column kind, NULLs included.
fn run(index: i64) -> HistoryRun {
    let start = Utc
        .with_ymd_and_hms(2026, 11, 20, 8, 0, 0)
        .single()
        .expect("valid");
    let estimate = |value_us: f64| QuantileEstimate {
        value_us,
        ci_low_us: Some(value_us * 0.93),
        ci_high_us: Some(value_us * 1.071),
    };
    HistoryRun {
        run_id: format!("run-{index}"),
        // Added out of order on purpose: the store returns them by time.
        started_at: start - Duration::hours(index) + Duration::microseconds(123_456),
        recorded_at: start + Duration::days(1),
        commit: Some(format!("{index:040x}")),
        branch: (index % 2 == 0).then(|| "main".to_owned()),
        workload_name: "dashboard".into(),
        workload_hash: "ab12".into(),
        pgperf_version: "0.1.0".into(),
        server_version: "15.20 (Debian)".into(),
        complete: index != 2,
        queries: vec![
            HistoryQuery {
                name: "approvals \"list\"".into(),
                tile: Some("approvals".into()),
                samples: 200,
                errors: 3,
                budget_p95_us: Some(100_000.0),
                over_budget: Some(7),
                p50: Some(estimate(1_234.567_891)),
                p95: Some(estimate(9876.5)),
                p99: Some(QuantileEstimate {
                    value_us: 20_000.25,
                    ci_low_us: None,
                    ci_high_us: None,
                }),
                buffers_per_call: Some(4.5),
                plan_hash: Some("9f1c0a7e".into()),
            },
            HistoryQuery {
                name: "failing".into(),
                tile: None,
                samples: 0,
                errors: 200,
                budget_p95_us: None,
                over_budget: None,
                p50: None,
                p95: None,
                p99: None,
                buffers_per_call: None,
                plan_hash: None,
            },
        ],
    }
}

/// The shared test body: what every store must do.
fn exercise(store: &mut dyn HistoryStore) {
    assert!(store.runs().expect("reads").is_empty());
    for index in [1, 3, 2] {
        assert!(store.add(&run(index)).expect("adds"), "run {index} is new");
    }
    assert!(!store.add(&run(3)).expect("adds"), "a run is kept once");
    let runs = store.runs().expect("reads");
    assert_eq!(runs, vec![run(3), run(2), run(1)]);
}

#[test]
fn sqlite_store_keeps_runs_and_refuses_a_newer_format() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("nested/history.sqlite");
    let mut store = Store::open(Sqlite::open(&path).expect("opens")).expect("creates");
    exercise(&mut store);
    drop(store);
    let mut reopened = Store::open(Sqlite::open(&path).expect("opens")).expect("reopens");
    assert_eq!(
        reopened.runs().expect("reads").len(),
        3,
        "the file keeps the runs"
    );
    drop(reopened);

    let connection = rusqlite::Connection::open(&path).expect("opens");
    connection
        .execute(
            r#"UPDATE "meta" SET "value" = '2' WHERE "key" = 'format_version'"#,
            [],
        )
        .expect("updates");
    let error = Store::open(Sqlite::open(&path).expect("opens"))
        .err()
        .expect("refused");
    assert!(
        matches!(error, HistoryError::Version { found: 2, .. }),
        "{error}"
    );
    assert!(error.to_string().contains(&format!(
        "this pgperf reads version {HISTORY_FORMAT_VERSION}"
    )));
}

#[test]
fn postgres_store_keeps_runs_in_its_schema_and_refuses_a_newer_format() {
    let cluster = Cluster::start(&ClusterOptions::default()).expect("cluster starts");
    cluster.create_database("team").expect("creates");
    let open = || {
        let client = cluster.connect("team").expect("connects");
        Store::open(Postgres::new(client, DEFAULT_SCHEMA, "team"))
    };
    let mut store = open().expect("creates the schema");
    exercise(&mut store);
    drop(store);
    assert_eq!(open().expect("reopens").runs().expect("reads").len(), 3);

    let mut admin = cluster.connect("team").expect("connects");
    let tables: Vec<String> = admin
        .query(
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1",
            &[&DEFAULT_SCHEMA],
        )
        .expect("lists")
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(tables, vec!["meta", "queries", "runs"]);

    // A role that may only read the history can still open it and read the runs.
    admin
        .batch_execute(
            r#"CREATE ROLE reader LOGIN;
               GRANT USAGE ON SCHEMA "pgperf_history" TO reader;
               GRANT SELECT ON ALL TABLES IN SCHEMA "pgperf_history" TO reader;"#,
        )
        .expect("grants");
    let mut config = cluster.config("team");
    config.user("reader");
    let reader = config.connect(postgres::NoTls).expect("connects as reader");
    let mut read_only = Store::open(Postgres::new(reader, DEFAULT_SCHEMA, "team")).expect("opens");
    assert_eq!(read_only.runs().expect("reads").len(), 3);

    // Through the command line, with the URL as the target.
    let dir = tempfile::tempdir().expect("temp dir");
    let mut result: pgperf::model::RunResult =
        serde_json::from_str(include_str!("fixtures/report/bench_dashboard.json"))
            .expect("fixture");
    result.run_id = "cli-run".into();
    let file = dir.path().join("results.json");
    std::fs::write(&file, serde_json::to_string(&result).expect("serialisable")).expect("write");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_pgperf"))
        .args([
            "history",
            "add",
            file.to_str().expect("UTF-8"),
            "--commit",
            "abc123",
        ])
        .args(["--history", &cluster.url("team")])
        .output()
        .expect("pgperf runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let runs = open().expect("reopens").runs().expect("reads");
    let added = runs
        .iter()
        .find(|run| run.run_id == "cli-run")
        .expect("added");
    assert_eq!(added.commit.as_deref(), Some("abc123"));
    assert_eq!(added.queries.len(), result.queries.len());

    admin
        .execute(
            r#"UPDATE "pgperf_history"."meta" SET "value" = '2' WHERE "key" = 'format_version'"#,
            &[],
        )
        .expect("updates");
    let error = open().err().expect("refused");
    assert!(
        matches!(error, HistoryError::Version { found: 2, .. }),
        "{error}"
    );
}
