//! Migrations against a real embedded cluster: apply, revert, status, checksums,
//! no-transaction files, undo after a failure, verify catching an irreversible rollback, and
//! sqlx and Supabase folders tracked in those tools' own tables.

use std::sync::OnceLock;

use pgperf::embedded::{Cluster, ClusterOptions};
use pgperf::migrate::{self, MigrateError, MigrationState};

fn cluster() -> &'static Cluster {
    static CLUSTER: OnceLock<Cluster> = OnceLock::new();
    CLUSTER.get_or_init(|| Cluster::start(&ClusterOptions::default()).expect("embedded cluster"))
}

fn fresh_db(name: &str) -> postgres::Client {
    cluster().create_database(name).expect("create database");
    cluster().connect(name).expect("connect")
}

fn set(files: &[(&str, &str)]) -> Vec<migrate::Migration> {
    migrate::pair_files(
        files
            .iter()
            .map(|(n, t)| (n.to_string(), t.to_string()))
            .collect(),
    )
    .expect("valid migration set")
}

fn good_set() -> Vec<migrate::Migration> {
    set(&[
        (
            "0001_items.sql",
            "CREATE TABLE items (id bigint PRIMARY KEY, sku text NOT NULL);\nCOMMENT ON TABLE items IS 'things';",
        ),
        ("0001_items.rollback.sql", "DROP TABLE items;"),
        (
            "0002_items_sku.sql",
            "-- pgperf:no-transaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS \"items_sku\" ON items (sku);\nCREATE INDEX CONCURRENTLY IF NOT EXISTS \"items_sku_id\" ON items (sku, id);",
        ),
        (
            "0002_items_sku.rollback.sql",
            "-- pgperf:no-transaction\nDROP INDEX CONCURRENTLY IF EXISTS \"items_sku_id\";\nDROP INDEX CONCURRENTLY IF EXISTS \"items_sku\";",
        ),
    ])
}

fn index_names(client: &mut postgres::Client) -> Vec<String> {
    client
        .query(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'items' ORDER BY 1",
            &[],
        )
        .expect("indexes")
        .iter()
        .map(|r| r.get(0))
        .collect()
}

#[test]
fn up_down_and_status_track_every_migration() {
    let mut client = fresh_db("up_down");
    let migrations = good_set();
    let applied = migrate::up(&mut client, &migrations, None).expect("up");
    assert_eq!(applied.len(), 2);
    assert_eq!(
        index_names(&mut client),
        ["items_pkey", "items_sku", "items_sku_id"]
    );
    assert!(
        migrate::up(&mut client, &migrations, None)
            .expect("up again")
            .is_empty()
    );
    let status = migrate::status(&mut client, &migrations).expect("status");
    assert!(
        status
            .iter()
            .all(|s| matches!(s.state, MigrationState::Applied(_)))
    );

    migrate::down(&mut client, &migrations, 1).expect("down one");
    assert_eq!(index_names(&mut client), ["items_pkey"]);
    let status = migrate::status(&mut client, &migrations).expect("status");
    assert!(matches!(status[1].state, MigrationState::Pending));
}

#[test]
fn a_changed_applied_file_is_an_error_not_a_rerun() {
    let mut client = fresh_db("changed");
    migrate::up(&mut client, &good_set(), Some(1)).expect("up to 1");
    let mut edited = good_set();
    edited[0].up_sql.push_str("\n-- edited");
    edited[0].checksum = migrate::checksum(&edited[0].up_sql);
    let error = migrate::up(&mut client, &edited, None).expect_err("changed file refused");
    assert!(
        matches!(error, MigrateError::ChangedAfterApply { .. }),
        "{error}"
    );
    assert!(error.to_string().contains("0001_items"), "{error}");
}

#[test]
fn a_failing_transactional_migration_leaves_nothing() {
    let mut client = fresh_db("failing_tx");
    let migrations = set(&[
        (
            "0001_two.sql",
            "CREATE TABLE a (id int); CREATE TABLE b (id int REFERENCES nowhere);",
        ),
        ("0001_two.rollback.sql", "DROP TABLE b; DROP TABLE a;"),
    ]);
    let error = migrate::up(&mut client, &migrations, None).expect_err("fails");
    assert!(error.to_string().contains("nowhere"), "{error}");
    let tables: i64 = client
        .query_one(
            "SELECT count(*) FROM pg_tables WHERE tablename IN ('a','b')",
            &[],
        )
        .expect("count")
        .get(0);
    assert_eq!(tables, 0);
    assert!(
        migrate::applied(&mut client, &migrations)
            .expect("applied")
            .is_empty()
    );
}

#[test]
fn a_failing_no_transaction_migration_is_undone_by_its_rollback() {
    let mut client = fresh_db("failing_notx");
    let mut migrations = good_set();
    migrations[1]
        .up_sql
        .push_str("\nCREATE INDEX CONCURRENTLY \"bad\" ON items (no_such_column);");
    migrations[1].checksum = migrate::checksum(&migrations[1].up_sql);
    let error = migrate::up(&mut client, &migrations, None).expect_err("fails");
    assert!(error.to_string().contains("no_such_column"), "{error}");
    assert_eq!(
        index_names(&mut client),
        ["items_pkey"],
        "undone: no half-built index left"
    );
    let applied = migrate::applied(&mut client, &migrations).expect("applied");
    assert_eq!(applied.len(), 1, "0001 applied, 0002 not recorded");
}

#[test]
fn verify_passes_a_reversible_set() {
    let mut client = fresh_db("verify_ok");
    let report = migrate::verify(&mut client, &good_set()).expect("reversible");
    assert_eq!(report.migrations, ["0001_items", "0002_items_sku"]);
}

#[test]
fn verify_names_the_migration_whose_rollback_forgets_something() {
    let mut client = fresh_db("verify_bad");
    let migrations = set(&[
        (
            "0001_items.sql",
            "CREATE TABLE items (id int); CREATE TYPE mood AS ENUM ('ok');",
        ),
        ("0001_items.rollback.sql", "DROP TABLE items;"),
    ]);
    let error = migrate::verify(&mut client, &migrations).expect_err("not reversible");
    let text = error.to_string();
    assert!(
        text.contains("0001_items") && text.contains("mood"),
        "{text}"
    );
}

fn folder(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for (path, text) in files {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }
    dir
}

#[test]
fn a_sqlx_folder_is_tracked_in_sqlx_migrations_with_sha384_checksums() {
    let dir = folder(&[
        (
            "migrations/20240101120000_create_items.sql",
            "CREATE TABLE items (id bigint PRIMARY KEY, sku text);",
        ),
        (
            "migrations/20240102120000_items_sku.up.sql",
            "-- no-transaction\nCREATE INDEX CONCURRENTLY items_sku ON items (sku);",
        ),
        (
            "migrations/20240102120000_items_sku.down.sql",
            "-- no-transaction\nDROP INDEX CONCURRENTLY items_sku;",
        ),
    ]);
    let set = migrate::load_dir(&dir.path().join("migrations")).expect("sqlx folder");
    assert_eq!(set.style, migrate::MigrationStyle::Sqlx);
    let mut client = fresh_db("sqlx_folder");
    migrate::up(&mut client, &set, None).expect("up");
    let rows = client
        .query(
            "SELECT version, description, success, encode(checksum, 'hex'), execution_time > 0
             FROM _sqlx_migrations ORDER BY version",
            &[],
        )
        .expect("sqlx rows");
    assert_eq!(rows.len(), 2);
    assert_eq!(
        rows[1].get::<_, String>(1),
        "items sku",
        "sqlx's description"
    );
    assert!(rows[1].get::<_, bool>(2) && rows[1].get::<_, bool>(4));
    assert_eq!(
        rows[1].get::<_, String>(3),
        set[1].checksum,
        "SHA-384 of the up file"
    );
    assert_eq!(index_names(&mut client), ["items_pkey", "items_sku"]);

    migrate::down(&mut client, &set, 1).expect("reverts the pair");
    assert_eq!(index_names(&mut client), ["items_pkey"]);
    let error = migrate::down(&mut client, &set, 1).expect_err("no down file");
    assert!(matches!(error, MigrateError::NoDownFile { .. }), "{error}");
    assert!(
        error.to_string().contains("20240101120000_create_items"),
        "{error}"
    );
}

#[test]
fn a_supabase_folder_is_tracked_like_the_supabase_cli_and_verify_names_what_has_no_down() {
    let dir = folder(&[
        (
            "supabase/migrations/20240101120000_items.sql",
            "CREATE TABLE items (id bigint PRIMARY KEY, sku text);",
        ),
        (
            "supabase/migrations/20240102120000_items_sku.sql",
            "create index concurrently items_sku on items (sku);",
        ),
        (
            "supabase/rollbacks/20240102120000_items_sku.sql",
            "DROP INDEX CONCURRENTLY items_sku;",
        ),
    ]);
    let set = migrate::load_dir(&dir.path().join("supabase/migrations")).expect("supabase");
    assert_eq!(set.style, migrate::MigrationStyle::Supabase);
    let mut client = fresh_db("supabase_folder");
    migrate::up(&mut client, &set, None).expect("up, the concurrent build on its own");
    let rows = client
        .query(
            "SELECT version, name, statements FROM supabase_migrations.schema_migrations ORDER BY 1",
            &[],
        )
        .expect("supabase rows");
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].get::<_, String>(0), "20240101120000");
    assert_eq!(rows[1].get::<_, String>(1), "items_sku");
    assert_eq!(
        rows[1].get::<_, Vec<String>>(2),
        ["create index concurrently items_sku on items (sku)"]
    );
    migrate::down(&mut client, &set, 2).expect_err("the first has no down file");
    assert_eq!(
        index_names(&mut client),
        ["items_pkey", "items_sku"],
        "refused before running"
    );

    let mut scratch = fresh_db("supabase_verify");
    let report = migrate::verify(&mut scratch, &set).expect("verify");
    assert_eq!(report.unverified, ["20240101120000_items"]);
}

#[test]
fn an_ambiguous_folder_is_a_usage_error_naming_the_styles() {
    let dir = folder(&[("db/20240101120000_init.sql", "SELECT 1;")]);
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_pgperf"))
        .args([
            "migrate",
            "status",
            "--db",
            &cluster().url("postgres"),
            "--dir",
        ])
        .arg(dir.path().join("db"))
        .output()
        .expect("pgperf runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--migration-style sqlx"), "{stderr}");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_pgperf"))
        .args(["migrate", "status", "--migration-style", "sqlx"])
        .args(["--db", &cluster().url("postgres"), "--dir"])
        .arg(dir.path().join("db"))
        .output()
        .expect("pgperf runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("pending") && stdout.contains("_sqlx_migrations"),
        "{stdout}"
    );
}
