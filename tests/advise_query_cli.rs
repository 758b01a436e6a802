//! `pgperf advise --query`: one statement, its values, role, claims and settings on the
//! command line, the recommended DDL (or JSON) on stdout, and a statement the server rejects
//! failing with the server's message.

use std::process::{Command, Output};
use std::sync::OnceLock;

use pgperf::embedded::{Cluster, ClusterOptions};

fn cluster() -> &'static Cluster {
    static CLUSTER: OnceLock<Cluster> = OnceLock::new();
    CLUSTER.get_or_init(|| Cluster::start(&ClusterOptions::default()).expect("embedded cluster"))
}

/// 200k items of 50 tenants, readable by `app_user` only for the tenant in `app.tenant_id`.
fn database(name: &str) {
    cluster().create_database(name).expect("create database");
    let mut client = cluster().connect(name).expect("connect");
    client
        .batch_execute(
            "CREATE TABLE items (id bigint PRIMARY KEY, tenant_id int NOT NULL, customer_id int NOT NULL, total numeric NOT NULL, email text NOT NULL, meta jsonb NOT NULL);
             INSERT INTO items SELECT g, g % 50, g % 20000, g % 1000, 'user' || g || '@example.com', jsonb_build_object('ref', g) FROM generate_series(1, 200000) g;
             ALTER TABLE items ENABLE ROW LEVEL SECURITY;
             DO $$ BEGIN CREATE ROLE app_user; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
             GRANT SELECT ON items TO app_user;
             CREATE POLICY tenant ON items FOR SELECT TO app_user
               USING (tenant_id = current_setting('app.tenant_id')::int);
             ANALYZE items;",
        )
        .expect("setup");
}

/// `pgperf advise --db <db> <args>` in an empty folder, which must stay empty.
fn advise(db: &str, args: &[&str]) -> Output {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = Command::new(env!("CARGO_BIN_EXE_pgperf"))
        .args(["advise", "--db", &cluster().url(db)])
        .args(args)
        .current_dir(dir.path())
        .output()
        .expect("run pgperf");
    let written: Vec<_> = std::fs::read_dir(dir.path())
        .expect("read dir")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert!(written.is_empty(), "--query writes no files: {written:?}");
    output
}

#[test]
fn one_query_prints_its_ddl() {
    database("query_ddl");
    let output = advise(
        "query_ddl",
        &[
            "--query",
            "SELECT id, total FROM items WHERE customer_id = $1",
            "--param",
            "42",
            "--no-verify",
        ],
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("CREATE INDEX CONCURRENTLY IF NOT EXISTS \"items_customer_id_")
            && stdout.contains("ON \"public\".\"items\" USING btree (\"customer_id\")"),
        "{stdout}"
    );
}

#[test]
fn role_and_setting_reach_the_rls_policy() {
    database("query_rls");
    let output = advise(
        "query_rls",
        &[
            "--query",
            "SELECT id, total FROM items",
            "--role",
            "app_user",
            "--claims",
            r#"{"sub": "u1"}"#,
            "--setting",
            "app.tenant_id=7",
            "--format",
            "json",
            "--no-verify",
        ],
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let advice: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(
        advice["recommendations"][0]["spec"]["keys"][0]["sql"], "\"tenant_id\"",
        "the policy's predicate, seen only as app_user: {advice:#}"
    );
}

#[test]
fn nothing_to_recommend_prints_no_ddl_and_says_why() {
    database("query_nothing");
    let output = advise(
        "query_nothing",
        &[
            "--query",
            "SELECT id FROM items WHERE total > $1",
            "--param",
            "1",
            "--no-verify",
        ],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        output.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    assert!(
        stderr.contains("no index recommended")
            && stderr.contains("not recommended: ON \"public\".\"items\" USING btree (\"total\")"),
        "{stderr}"
    );
}

#[test]
fn a_query_the_server_rejects_fails_with_its_message() {
    database("query_rejected");
    let output = advise(
        "query_rejected",
        &["--query", "SELECT nope FROM items", "--no-verify"],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("column \"nope\" does not exist"),
        "{stderr}"
    );
    assert!(output.stdout.is_empty());
}

#[test]
fn a_trigram_gin_index_is_built_and_measured_for_real() {
    database("query_trgm");
    let mut client = cluster().connect("query_trgm").expect("connect");
    let before = pgperf::migrate::snapshot(&mut client).expect("snapshot");
    let output = advise(
        "query_trgm",
        &[
            "--query",
            "SELECT id FROM items WHERE email LIKE '%user4242@%'",
            "--allow-locks",
            "--executions",
            "59",
        ],
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("CREATE EXTENSION IF NOT EXISTS \"pg_trgm\";")
            && stdout.contains("USING gin (\"email\" gin_trgm_ops)")
            && stdout.contains("HypoPG cannot cost it")
            && stdout.contains("P95"),
        "{stdout}"
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("HypoPG cannot create GIN indexes"),
        "{stderr}"
    );
    assert_eq!(
        pgperf::migrate::snapshot(&mut client).expect("snapshot"),
        before,
        "neither the index nor the extension is left behind"
    );
}

#[test]
fn a_jsonb_equality_under_rls_is_explained_not_indexed() {
    database("query_leakproof");
    let output = advise(
        "query_leakproof",
        &[
            "--query",
            "SELECT id FROM items WHERE meta = $1::jsonb",
            "--param",
            r#"{"ref": 4242}"#,
            "--role",
            "app_user",
            "--setting",
            "app.tenant_id=42",
            "--format",
            "json",
            "--no-verify",
        ],
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let advice: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let note = advice["queries"][0]["note"].as_str().unwrap_or_default();
    assert!(
        note.contains("jsonb_eq) is not leakproof") && note.contains("generated column"),
        "{advice:#}"
    );
    let keys: Vec<&serde_json::Value> = advice["recommendations"]
        .as_array()
        .expect("recommendations")
        .iter()
        .map(|r| &r["spec"]["keys"][0]["sql"])
        .collect();
    assert!(
        !keys.iter().any(|k| *k == "\"meta\""),
        "no index on meta can be used under the policy: {keys:?}"
    );
}

#[test]
fn a_gin_candidate_is_refused_not_built_on_a_database_without_allow_locks() {
    database("query_gin_locks");
    let output = advise(
        "query_gin_locks",
        &[
            "--query",
            "SELECT id FROM items WHERE meta @> '{\"ref\": 4242}'",
            "--no-verify",
            "--format",
            "json",
        ],
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let advice: serde_json::Value = serde_json::from_str(&stdout).expect("JSON advice");
    assert_eq!(advice["recommendations"], serde_json::json!([]), "{stdout}");
    let refused = advice["rejected"]
        .as_array()
        .expect("rejected candidates")
        .iter()
        .find(|r| r["spec"]["method"] == "gin")
        .unwrap_or_else(|| panic!("the GIN candidate is listed: {stdout}"));
    assert_eq!(refused["reason"]["kind"], "needs_locks", "{refused}");
    assert!(
        refused["explanation"]
            .as_str()
            .is_some_and(|e| e.contains("--allow-locks")),
        "{refused}"
    );
}
