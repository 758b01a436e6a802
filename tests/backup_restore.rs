//! Backup and restore of the control-center database (`scripts/backup.sh`, `scripts/restore.sh`,
//! docs/backup.md), proven by a round trip between two private clusters: the restored catalog
//! (the snapshot `migrate verify` compares) and every table's data are identical, the audit log
//! is still immutable, its partitions and retention still work, its triggers still write, and
//! every persona sees exactly the rows it saw before (RLS holds per role). The second cluster is
//! new, so the cluster-wide roles the grants and policies name must come from the backup too.

use std::path::{Path, PathBuf};
use std::process::Command;

use pgperf::embedded::{Cluster, ClusterOptions};
use pgperf::seed::{PERSONAS, SeedOptions};

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn start() -> Cluster {
    Cluster::start(&ClusterOptions::default()).expect("embedded cluster starts")
}

/// Runs one of the backup scripts with the cluster's own client binaries; (exit code, stderr).
fn script(cluster: &Cluster, name: &str, args: &[&str]) -> (i32, String) {
    let output = Command::new("bash")
        .arg(manifest_dir().join("scripts").join(name))
        .args(args)
        .env("PGPERF_PG_BIN", cluster.bin_dir())
        .output()
        .expect("bash runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// A migrated, seeded control-center database with audit rows written through the triggers
/// and one audit partition old enough for retention to drop.
fn source_database(cluster: &Cluster) -> postgres::Client {
    cluster.create_database("source").expect("create source");
    let mut client = cluster.connect("source").expect("connect source");
    let set = pgperf::migrate::load_dir(&manifest_dir().join("migrations"))
        .expect("bundled migrations load");
    pgperf::migrate::up(&mut client, &set, None).expect("migrations apply");
    // History ends today, so only the 2020 partition below is past the 90-day retention.
    let options = SeedOptions {
        scale: 0.01,
        ..SeedOptions::default()
    };
    pgperf::seed::seed(&mut client, &options).expect("seed");
    client
        .batch_execute(
            "UPDATE app.teams SET name = name || ' (renamed)' WHERE id = 1;
             SELECT audit.ensure_partition('2020-01-01');
             INSERT INTO audit.log (logged_at, db_role, action, table_schema, table_name, row_key, new_row, undo_sql, undo_complete)
             VALUES ('2020-01-15', 'postgres', 'INSERT', 'app', 'teams', '{\"id\": 99}', '{\"id\": 99}',
                     'DELETE FROM app.teams WHERE id = 99', true);",
        )
        .expect("audited write and an old audit partition");
    client
}

/// Every user table (partitions included), in name order.
fn tables(client: &mut postgres::Client) -> Vec<String> {
    client
        .query(
            "SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c
             JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
               AND n.nspname NOT LIKE 'pg_toast%'
             ORDER BY 1",
            &[],
        )
        .expect("list tables")
        .iter()
        .map(|row| row.get(0))
        .collect()
}

/// Each table with its row count and a checksum of its rows that does not depend on their order.
fn checksums(client: &mut postgres::Client) -> Vec<(String, i64, String)> {
    tables(client)
        .into_iter()
        .map(|table| {
            let row = client
                .query_one(
                    &format!(
                        "SELECT count(*), coalesce(md5(string_agg(md5(t::text), ',' ORDER BY md5(t::text))), '')
                         FROM {table} t"
                    ),
                    &[],
                )
                .expect("checksum a table");
            (table, row.get(0), row.get(1))
        })
        .collect()
}

/// For every persona of the dashboard, the rows it can see in each RLS-protected table.
fn visible_rows(client: &mut postgres::Client) -> Vec<(String, String, i64)> {
    let protected: Vec<String> = client
        .query(
            "SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c
             JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE c.relkind IN ('r', 'p') AND c.relrowsecurity AND NOT c.relispartition
             ORDER BY 1",
            &[],
        )
        .expect("list protected tables")
        .iter()
        .map(|row| row.get(0))
        .collect();
    let mut seen = Vec::new();
    for persona in PERSONAS {
        let claims = serde_json::json!({
            "sub": persona.user_id, "role": "authenticated",
            "app_role": persona.app_role, "team_id": persona.team_id,
        });
        let mut transaction = client.transaction().expect("begin");
        pgperf::pg::session::set_local_claims(&mut transaction, &claims, &Default::default())
            .expect("claims");
        transaction
            .batch_execute("SET LOCAL ROLE authenticated")
            .expect("set role");
        for table in &protected {
            let count: i64 = transaction
                .query_one(&format!("SELECT count(*) FROM {table}"), &[])
                .map(|row| row.get(0))
                .unwrap_or(-1); // a table the role may not read at all
            seen.push((persona.name.to_string(), table.clone(), count));
        }
        transaction.rollback().expect("rollback");
    }
    seen
}

fn restore_target(cluster: &Cluster) -> postgres::Client {
    cluster.create_database("restored").expect("create target");
    cluster.connect("restored").expect("connect target")
}

#[test]
fn a_restored_backup_is_the_same_database_with_its_audit_and_rls_intact() {
    let source_cluster = start();
    let mut source = source_database(&source_cluster);
    let work = tempfile::tempdir().expect("temp dir");
    let backup = work.path().join("backup");
    let backup_arg = backup.to_str().expect("utf-8 path");

    let (code, stderr) = script(
        &source_cluster,
        "backup.sh",
        &[&source_cluster.url("source"), backup_arg],
    );
    assert_eq!(code, 0, "backup succeeds: {stderr}");

    // A new cluster: none of the control center's roles exist there yet.
    let target_cluster = start();
    let mut target = restore_target(&target_cluster);
    let (code, stderr) = script(
        &target_cluster,
        "restore.sh",
        &[backup_arg, &target_cluster.url("restored")],
    );
    assert_eq!(code, 0, "restore succeeds: {stderr}");

    let before = pgperf::migrate::snapshot(&mut source).expect("source catalog");
    let after = pgperf::migrate::snapshot(&mut target).expect("restored catalog");
    assert!(
        before == after,
        "the restored catalog differs:\n{}",
        pgperf::migrate::diff_lines(&before, &after)
    );
    let source_data = checksums(&mut source);
    assert!(source_data.len() > 30, "every table is compared");
    assert!(
        source_data
            .iter()
            .any(|(table, rows, _)| table == "audit.log_2020_01" && *rows == 1),
        "the old audit partition is in the source: {source_data:?}"
    );
    assert_eq!(source_data, checksums(&mut target), "every table's data");

    let source_visible = visible_rows(&mut source);
    assert_eq!(
        source_visible,
        visible_rows(&mut target),
        "every persona sees what it saw"
    );
    let team_rows = |persona: &str| {
        source_visible
            .iter()
            .find(|(name, table, _)| name == persona && table == "approvals.approvals")
            .map(|(_, _, count)| *count)
            .expect("approvals are protected")
    };
    let all: i64 = source
        .query_one("SELECT count(*) FROM approvals.approvals", &[])
        .expect("count")
        .get(0);
    assert!(
        team_rows("viewer_t1") > 0 && team_rows("viewer_t1") < all,
        "RLS restricts a team's viewer to its team ({} of {all})",
        team_rows("viewer_t1")
    );

    audit_still_works(&mut target);
}

/// Immutable for every role, retention drops the old partition only, triggers still write.
fn audit_still_works(client: &mut postgres::Client) {
    for (role, change) in [
        ("postgres", "UPDATE audit.log SET db_role = 'x'"),
        ("postgres", "DELETE FROM audit.log"),
        ("postgres", "TRUNCATE audit.log"),
        ("service_role", "UPDATE audit.log SET db_role = 'x'"),
        ("authenticated", "DELETE FROM audit.log"),
    ] {
        let mut transaction = client.transaction().expect("begin");
        transaction
            .batch_execute(&format!("SET LOCAL ROLE {role}"))
            .expect("set role");
        let refused = transaction.batch_execute(change).is_err();
        transaction.rollback().expect("rollback");
        assert!(refused, "{change} as {role} is refused after a restore");
    }

    let audit_rows = |client: &mut postgres::Client| -> i64 {
        client
            .query_one("SELECT count(*) FROM audit.log", &[])
            .expect("count audit rows")
            .get(0)
    };
    let before = audit_rows(client);
    client
        .batch_execute("UPDATE app.teams SET name = name || '.' WHERE id = 2")
        .expect("an audited write");
    assert_eq!(audit_rows(client), before + 1, "the audit trigger writes");

    let mut transaction = client.transaction().expect("begin");
    transaction
        .batch_execute("SET LOCAL ROLE service_role")
        .expect("set role");
    let dropped: Vec<String> = transaction
        .query(
            "SELECT partition_name FROM audit.apply_retention() WHERE action = 'dropped'",
            &[],
        )
        .expect("retention runs as service_role")
        .iter()
        .map(|row| row.get(0))
        .collect();
    transaction.commit().expect("commit");
    assert_eq!(dropped, vec!["log_2020_01".to_string()]);
    assert_eq!(
        audit_rows(client),
        before,
        "only the old partition's row is gone"
    );
}

#[test]
fn restore_refuses_a_database_that_has_tables_and_a_damaged_backup() {
    let cluster = start();
    let mut source = source_database(&cluster);
    let work = tempfile::tempdir().expect("temp dir");
    let backup = work.path().join("backup");
    let backup_arg = backup.to_str().expect("utf-8 path");
    let (code, stderr) = script(&cluster, "backup.sh", &[&cluster.url("source"), backup_arg]);
    assert_eq!(code, 0, "backup succeeds: {stderr}");

    let (code, stderr) = script(&cluster, "backup.sh", &[&cluster.url("source"), backup_arg]);
    assert_eq!(code, 2, "a backup never overwrites another: {stderr}");
    assert!(stderr.contains("is not empty"), "{stderr}");

    let before = checksums(&mut source);
    let (code, stderr) = script(
        &cluster,
        "restore.sh",
        &[backup_arg, &cluster.url("source")],
    );
    assert_eq!(code, 2, "restoring over tables is refused: {stderr}");
    assert!(stderr.contains("already has"), "{stderr}");
    assert_eq!(before, checksums(&mut source), "the database is untouched");

    damage(&backup.join("database.dump"));
    cluster.create_database("empty").expect("create empty");
    let (code, stderr) = script(&cluster, "restore.sh", &[backup_arg, &cluster.url("empty")]);
    assert_eq!(code, 2, "a damaged backup is refused: {stderr}");
    assert!(stderr.contains("damaged"), "{stderr}");
    let mut empty = cluster.connect("empty").expect("connect");
    assert!(tables(&mut empty).is_empty(), "nothing was restored");
}

/// Flips one byte in the middle of `file`.
fn damage(file: &Path) {
    let mut bytes = std::fs::read(file).expect("read dump");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(file, bytes).expect("write dump");
}
