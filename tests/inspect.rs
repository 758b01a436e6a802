//! `pgperf inspect` on a real embedded cluster: a crafted duplicate index, a prefix-redundant
//! one, an unused one, a sequentially scanned table and a lock one session holds against
//! another are each found; the catalog is unchanged; `--format json` carries the same.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use pgperf::embedded::{Cluster, ClusterOptions};
use pgperf::inspect::{InspectOptions, InspectReport, inspect};

fn cluster() -> &'static Cluster {
    static CLUSTER: OnceLock<Cluster> = OnceLock::new();
    CLUSTER.get_or_init(|| Cluster::start(&ClusterOptions::default()).expect("embedded cluster"))
}

fn database(name: &str) -> postgres::Client {
    cluster().create_database(name).expect("create database");
    let mut client = cluster().connect(name).expect("connect");
    client
        .batch_execute(
            "CREATE TABLE orders (id bigint PRIMARY KEY, customer_id int NOT NULL,
                                  created date NOT NULL, note text);
             INSERT INTO orders SELECT g, g % 500, date '2026-01-01' + g % 300, 'n' || g
               FROM generate_series(1, 20000) g;
             CREATE INDEX orders_customer_idx ON orders (customer_id);
             CREATE INDEX orders_customer_copy_idx ON orders (customer_id);
             CREATE INDEX orders_customer_created_idx ON orders (customer_id, created);
             CREATE INDEX orders_note_idx ON orders (note);
             CREATE TABLE events (id bigint, kind text);
             INSERT INTO events SELECT g, 'k' || g % 7 FROM generate_series(1, 30000) g;
             CREATE TABLE churn (id bigint, payload text);
             ALTER TABLE churn SET (autovacuum_enabled = off);
             INSERT INTO churn SELECT g, repeat('x', 100) FROM generate_series(1, 20000) g;
             DELETE FROM churn WHERE id % 4 <> 0;
             ANALYZE;",
        )
        .expect("setup");
    client
}

fn options() -> InspectOptions {
    InspectOptions {
        large_table_rows: 10_000,
        long_running_ms: 0,
        top_statements: 5,
    }
}

/// Scans `events` sequentially, its statistics flushed for the next reader.
fn scan_events(db: &str) {
    let mut client = cluster().connect(db).expect("connect");
    client
        .batch_execute(
            "SELECT count(*) FROM events WHERE kind = 'k1';
             SELECT count(*) FROM events WHERE kind = 'k2';
             SELECT pg_stat_force_next_flush();",
        )
        .expect("queries");
}

/// Inspects until `ready` holds (statistics and lock waits arrive asynchronously), at most 20 s.
fn inspect_until(
    client: &mut postgres::Client,
    ready: impl Fn(&InspectReport) -> bool,
) -> InspectReport {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let report = inspect(client, &options()).expect("inspect");
        if ready(&report) || Instant::now() > deadline {
            return report;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn finds_duplicate_unused_and_seq_scanned_and_changes_nothing() {
    let mut client = database("inspect_indexes");
    scan_events("inspect_indexes");
    let before = pgperf::migrate::snapshot(&mut client).expect("snapshot");
    let report = inspect_until(&mut client, |r| {
        r.seq_scans
            .iter()
            .any(|s| s.table == "events" && s.seq_scans >= 2)
    });

    let redundant: Vec<(&str, &str, &str)> = report
        .duplicate_indexes
        .iter()
        .map(|d| {
            (
                d.redundant_index.as_str(),
                d.kind.as_str(),
                d.covered_by.as_str(),
            )
        })
        .collect();
    assert!(
        redundant.contains(&(
            "orders_customer_copy_idx",
            "duplicate",
            "orders_customer_idx"
        )),
        "{redundant:?}"
    );
    assert!(
        redundant.contains(&(
            "orders_customer_idx",
            "prefix",
            "orders_customer_created_idx"
        )),
        "{redundant:?}"
    );
    assert!(
        !redundant
            .iter()
            .any(|(index, _, _)| *index == "orders_pkey"),
        "a constraint's index is never redundant"
    );

    let unused: Vec<&str> = report
        .unused_indexes
        .iter()
        .map(|i| i.index.as_str())
        .collect();
    assert!(unused.contains(&"orders_note_idx"), "{unused:?}");
    assert!(!unused.contains(&"orders_pkey"), "enforces the primary key");

    let scanned: Vec<&str> = report.seq_scans.iter().map(|s| s.table.as_str()).collect();
    let events = report.seq_scans.iter().find(|s| s.table == "events");
    assert!(events.is_some_and(|e| e.seq_scans >= 2), "{scanned:?}");
    let bloat = |table: &str| {
        report
            .bloat
            .iter()
            .find(|b| b.table == table)
            .map(|b| b.bloat_ratio)
    };
    // Three rows in four deleted and not vacuumed: most of `churn` is dead space; a table
    // just loaded has little.
    assert!(
        bloat("churn").is_some_and(|r| (0.6..0.9).contains(&r)),
        "{:?}",
        report.bloat
    );
    assert!(
        bloat("events").is_some_and(|r| r < 0.2),
        "{:?}",
        report.bloat
    );
    assert!(
        report.top_statements.is_some(),
        "{:?}",
        report.statements_note
    );
    assert_eq!(
        pgperf::migrate::snapshot(&mut client).expect("snapshot"),
        before,
        "inspect writes nothing"
    );
}

#[test]
fn names_the_session_holding_a_lock_and_the_one_waiting() {
    let mut holder = database("inspect_locks");
    let holder_pid: i32 = holder
        .query_one("SELECT pg_backend_pid()", &[])
        .expect("pid")
        .get(0);
    let mut transaction = holder.transaction().expect("begin");
    transaction
        .execute("UPDATE orders SET note = 'held' WHERE id = 1", &[])
        .expect("lock the row");
    let mut waiter = cluster().connect("inspect_locks").expect("connect");
    let waiter_pid: i32 = waiter
        .query_one("SELECT pg_backend_pid()", &[])
        .expect("pid")
        .get(0);
    let blocked = std::thread::spawn(move || {
        waiter
            .execute("UPDATE orders SET note = 'waits' WHERE id = 1", &[])
            .expect("runs once the lock is released")
    });

    let mut reader = cluster().connect("inspect_locks").expect("connect");
    let report = inspect_until(&mut reader, |r| !r.blocking.is_empty());
    transaction.rollback().expect("release");
    assert_eq!(blocked.join().expect("waiter"), 1);

    assert_eq!(report.blocking.len(), 1, "{:?}", report.blocking);
    let lock = &report.blocking[0];
    assert_eq!(
        (lock.blocked_pid, lock.blocking_pid),
        (waiter_pid, holder_pid)
    );
    assert!(
        lock.blocked_query.contains("'waits'"),
        "{}",
        lock.blocked_query
    );
    assert_eq!(lock.blocking_state, "idle in transaction");
    assert!(
        report
            .long_running
            .iter()
            .any(|l| l.pid == waiter_pid && l.waiting_on.starts_with("Lock")),
        "{:?}",
        report.long_running
    );
}

#[test]
fn the_command_prints_json_and_needs_a_database() {
    database("inspect_cli");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_pgperf"))
        .args([
            "inspect",
            "--format",
            "json",
            "--db",
            &cluster().url("inspect_cli"),
        ])
        .output()
        .expect("pgperf runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(json["database"], "inspect_cli");
    assert!(
        json["unused_indexes"]
            .as_array()
            .is_some_and(|a| !a.is_empty())
    );

    let output = std::process::Command::new(env!("CARGO_BIN_EXE_pgperf"))
        .arg("inspect")
        .env_remove("DATABASE_URL")
        .current_dir(std::env::temp_dir())
        .output()
        .expect("pgperf runs");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--db URL"));
}
