//! Issue 15: a bench never changes data it was not asked to change. Every test seeds a table,
//! takes a checksum of its rows, runs pgperf, and compares the checksum after.

mod cli_support;
use cli_support::pgperf;

use pgperf::bench::{MeasureOptions, Wrapping, measure_queries};
use pgperf::embedded::{Cluster, ClusterOptions};
use pgperf::model::{Protocol, RunResult};

/// 1 000 rows, and a function a `read` query can call that deletes 320 of them: the parser
/// cannot see through it, only a READ ONLY transaction stops it.
const SCHEMA: &str = "
CREATE TABLE items (id int PRIMARY KEY, v int NOT NULL);
INSERT INTO items SELECT g, g % 17 FROM generate_series(1, 1000) g;
CREATE FUNCTION purge_items() RETURNS bigint LANGUAGE sql AS
  'WITH d AS (DELETE FROM items WHERE id > 680 RETURNING 1) SELECT count(*) FROM d';
ANALYZE items;";

const CHECKSUM: &str =
    "SELECT count(*)::text || ':' || md5(string_agg(id || ',' || v, ';' ORDER BY id)) FROM items";

const WORKLOAD: &str = r#"
name = "safety"

[[query]]
name = "sneaky_read"
sql = "SELECT purge_items()"

[[query]]
name = "sneaky_tile"
kind = "tile"
sql = "SELECT purge_items()"

[[query]]
name = "uncommitted_write"
kind = "write"
sql = "UPDATE items SET v = v + 1 WHERE id <= $1"
params = [{ value = 500 }]

[[query]]
name = "plain_read"
sql = "SELECT count(*) FROM items WHERE v = $1"
params = [{ int_between = [0, 16] }]
"#;

fn seeded(cluster: &Cluster, name: &str) -> postgres::Client {
    cluster.create_database(name).expect("database");
    let mut client = cluster.connect(name).expect("connect");
    client.batch_execute(SCHEMA).expect("schema");
    client
}

fn checksum(client: &mut impl postgres::GenericClient) -> String {
    client.query_one(CHECKSUM, &[]).expect("checksum").get(0)
}

#[test]
fn a_bench_leaves_the_data_as_it_found_it() {
    let cluster = Cluster::start(&ClusterOptions::default()).expect("cluster");
    let mut client = seeded(&cluster, "bench");
    let before = checksum(&mut client);
    let dir = tempfile::tempdir().expect("temp dir");
    let workload = dir.path().join("w.toml");
    std::fs::write(&workload, WORKLOAD).expect("write");
    let url = cluster.url("bench");
    let args = |protocol| {
        vec![
            "bench",
            "--db",
            &url,
            "--workload",
            workload.to_str().expect("utf-8"),
            "--iterations",
            "5",
            "--warmup",
            "1",
            "--protocol",
            protocol,
            "--out",
            dir.path().to_str().expect("utf-8"),
        ]
    };
    for protocol in ["prepared", "simple", "extended"] {
        let mut accepting = args(protocol);
        accepting.push("--accept-errors");
        let (code, stdout, stderr) = pgperf(&accepting);
        assert_eq!(code, 0, "stdout:\n{stdout}\nstderr:\n{stderr}");
        assert!(
            stderr.contains("warning: query \"sneaky_read\" failed on all 5"),
            "{stderr}"
        );
        assert_eq!(
            checksum(&mut client),
            before,
            "the data changed ({protocol})"
        );
    }
    // Issue 15: a query whose every execution fails exited 0. It is a runtime error now,
    // with the results written.
    let (code, _, stderr) = pgperf(&args("prepared"));
    assert_eq!(code, 3, "{stderr}");
    assert!(
        stderr.contains("query \"sneaky_read\" failed on all 5 executions")
            && stderr.contains("read-only transaction")
            && stderr.contains("--accept-errors")
            && stderr.contains("results written to"),
        "{stderr}"
    );
    assert_eq!(checksum(&mut client), before);
    let result = latest_result(dir.path());
    for name in ["sneaky_read", "sneaky_tile"] {
        let query = result.queries.iter().find(|q| q.name == name).expect(name);
        assert_eq!(query.samples, 0, "{name}");
        let error = query.first_error.as_ref().expect("an error");
        assert!(error.message.contains("read-only transaction"), "{error:?}");
    }
    let plain = result.queries.iter().find(|q| q.name == "plain_read");
    assert_eq!(plain.expect("plain_read").errors, 0);
}

/// advise times queries inside its own transaction (around a trial index): reads run in a
/// read-only savepoint, writes are rolled back to it, and the transaction stays read-write.
#[test]
fn measuring_inside_a_transaction_changes_nothing_and_keeps_it_writable() {
    let cluster = Cluster::start(&ClusterOptions::default()).expect("cluster");
    let mut client = seeded(&cluster, "advise");
    let before = checksum(&mut client);
    let workload = pgperf::workload::load_str(WORKLOAD, "w.toml").expect("valid");
    let options = MeasureOptions {
        iterations: 3,
        warmup: 1,
        protocol: Protocol::Prepared,
        rng_seed: 1,
        wrapping: Wrapping::Savepoint,
    };
    client.batch_execute("BEGIN").expect("begin");
    let results = measure_queries(&mut client, &workload.queries, &options).expect("measured");
    assert_eq!(results[0].samples, 0, "the purge must fail");
    assert_eq!(results[2].samples, 3, "the write runs, rolled back");
    client.batch_execute("RESET ROLE").expect("reset");
    assert_eq!(checksum(&mut client), before);
    client
        .batch_execute("CREATE INDEX ON items (v)")
        .expect("the transaction is still read-write");
    client.batch_execute("ROLLBACK").expect("rollback");
}

fn latest_result(out: &std::path::Path) -> RunResult {
    let mut runs: Vec<_> = std::fs::read_dir(out)
        .expect("out")
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.join("results.json").exists())
        .collect();
    runs.sort();
    let text = std::fs::read_to_string(runs.last().expect("a run").join("results.json"))
        .expect("results.json");
    serde_json::from_str(&text).expect("parses")
}

/// Runs `pgperf advise --no-verify` on `db` with `workload`, plus `extra` flags.
fn advise(cluster: &Cluster, db: &str, workload: &str, extra: &[&str]) -> (i32, String, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("w.toml");
    std::fs::write(&path, workload).expect("write");
    let url = cluster.url(db);
    let out = dir.path().join("reports");
    let migrations = dir.path().join("migrations");
    let mut args = vec![
        "advise",
        "--db",
        &url,
        "--workload",
        path.to_str().expect("utf-8"),
        "--out",
        out.to_str().expect("utf-8"),
        "--migrations",
        migrations.to_str().expect("utf-8"),
    ];
    args.extend_from_slice(extra);
    pgperf(&args)
}

const LOOKUP: &str = "name = \"lookup\"\n[[query]]\nname = \"by_v\"\nsql = \"SELECT id FROM items WHERE v = $1\"\nparams = [{ value = 3 }]\n";

/// Issue 15: without HypoPG, `advise --no-verify` built real indexes (which block writes) on a
/// user's database without `--allow-locks`, and the refusal of verification suggested
/// `--no-verify` as the lock-free choice.
#[test]
fn advise_without_hypopg_needs_allow_locks_even_with_no_verify() {
    let cluster = Cluster::start(&ClusterOptions::default()).expect("cluster");
    let mut client = seeded(&cluster, "nohypo");
    client
        .batch_execute("DROP EXTENSION IF EXISTS hypopg")
        .expect("drop hypopg");
    let (code, _, stderr) = advise(&cluster, "nohypo", LOOKUP, &["--no-verify"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("HypoPG is not installed") && stderr.contains("--allow-locks"),
        "{stderr}"
    );
    let (code, _, stderr) = advise(&cluster, "nohypo", LOOKUP, &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("--no-verify does not avoid it here"),
        "{stderr}"
    );
    let (code, _, stderr) = advise(
        &cluster,
        "nohypo",
        LOOKUP,
        &["--no-verify", "--allow-locks"],
    );
    assert_eq!(code, 0, "{stderr}");
}

/// Issue 15: two advise runs on one database interleaved their builds. The second refuses.
#[test]
fn a_second_advise_on_the_same_database_refuses() {
    let cluster = Cluster::start(&ClusterOptions::default()).expect("cluster");
    seeded(&cluster, "busy");
    let mut first = cluster.connect("busy").expect("connect");
    let pid: i32 = first
        .query_one(
            "SELECT pg_advisory_lock($1), pg_backend_pid()",
            &[&pgperf::advise::lock::ADVISE_LOCK_KEY],
        )
        .expect("lock")
        .get(1);
    let (code, _, stderr) = advise(&cluster, "busy", LOOKUP, &["--no-verify", "--allow-locks"]);
    assert_eq!(code, 3, "{stderr}");
    assert!(
        stderr.contains("another pgperf advise is running on this database")
            && stderr.contains(&format!("server process {pid}")),
        "{stderr}"
    );
    drop(first);
    let (code, _, stderr) = advise(&cluster, "busy", LOOKUP, &["--no-verify", "--allow-locks"]);
    assert_eq!(code, 0, "the lock went with its connection: {stderr}");
}

/// Issue 15: advise exited 0 when the server rejected a workload query.
#[test]
fn advise_exits_3_when_the_server_rejects_a_workload_query() {
    let cluster = Cluster::start(&ClusterOptions::default()).expect("cluster");
    seeded(&cluster, "rejects");
    let workload = format!(
        "{LOOKUP}[[query]]\nname = \"typo\"\nsql = \"SELECT nope FROM items WHERE id = $1\"\nparams = [{{ value = 1 }}]\n"
    );
    let flags = ["--no-verify", "--allow-locks"];
    let (code, _, stderr) = advise(&cluster, "rejects", &workload, &flags);
    assert_eq!(code, 3, "{stderr}");
    assert!(
        stderr.contains("the server rejected query \"typo\"")
            && stderr.contains("column \"nope\" does not exist")
            && stderr.contains("--accept-errors"),
        "{stderr}"
    );
    let (code, _, stderr) = advise(
        &cluster,
        "rejects",
        &workload,
        &[&flags[..], &["--accept-errors"]].concat(),
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("warning: the server rejected query \"typo\""),
        "{stderr}"
    );
}

const RLS_SCHEMA: &str = "
CREATE TABLE notes (id int PRIMARY KEY, tenant_id int NOT NULL, org text NOT NULL);
INSERT INTO notes SELECT g, g % 3, 'o' || (g % 2) FROM generate_series(1, 300) g;
ALTER TABLE notes ENABLE ROW LEVEL SECURITY;
CREATE ROLE reader;
GRANT SELECT ON notes TO reader;
CREATE POLICY tenant_rows ON notes FOR SELECT TO reader USING (
  tenant_id = nullif(current_setting('app.tenant_id', true), '')::int
  AND org = (nullif(current_setting('request.jwt.claims', true), '')::json ->> 'org'));";

/// Issue 15 and issue 14 item 6: a persona carries session settings that RLS policies read;
/// one that lacks a claim or a setting the policies read got 0 rows and a ✓. Now it gets a
/// warning naming what is missing, and a read with no rows says so.
#[test]
fn persona_settings_reach_the_policies_and_missing_ones_are_named() {
    let cluster = Cluster::start(&ClusterOptions::default()).expect("cluster");
    cluster.create_database("rls").expect("database");
    let mut client = cluster.connect("rls").expect("connect");
    client.batch_execute(RLS_SCHEMA).expect("schema");
    let workload = r#"
name = "rls"

[personas.tenant]
role = "reader"
claims = { org = "o1" }
settings = { "app.tenant_id" = 2 }

[personas.forgetful]
role = "reader"

[[query]]
name = "as_tenant"
persona = "tenant"
sql = "SELECT id FROM notes"

[[query]]
name = "as_forgetful"
persona = "forgetful"
sql = "SELECT id FROM notes"
"#;
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("w.toml");
    std::fs::write(&path, workload).expect("write");
    let (code, stdout, stderr) = pgperf(&[
        "bench",
        "--db",
        &cluster.url("rls"),
        "--workload",
        path.to_str().expect("utf-8"),
        "--iterations",
        "3",
        "--warmup",
        "0",
        "--out",
        dir.path().to_str().expect("utf-8"),
    ]);
    assert_eq!(code, 0, "stdout:\n{stdout}\nstderr:\n{stderr}");
    let result = latest_result(dir.path());
    let tenant = &result.queries[0];
    assert_eq!(
        tenant.rows_per_call, 50.0,
        "tenant 2 of org o1 sees 50 rows"
    );
    assert_eq!(
        tenant.settings.get("app.tenant_id").map(String::as_str),
        Some("2"),
        "the settings are in results.json"
    );
    let html = pgperf::report::render_run(&result);
    assert!(
        html.contains("session settings") && html.contains("app.tenant_id = 2"),
        "and in the report"
    );
    assert!(
        !tenant
            .warnings
            .iter()
            .any(|w| w.to_string().contains("lacks") || w.to_string().contains("0 rows")),
        "{:?}",
        tenant.warnings
    );
    let forgetful: Vec<String> = result.queries[1]
        .warnings
        .iter()
        .map(ToString::to_string)
        .collect();
    let text = forgetful.join("\n");
    assert!(
        text.contains("persona \"forgetful\" lacks")
            && text
                .contains("setting \"app.tenant_id\" (read by policy tenant_rows on public.notes)")
            && text.contains("claim \"org\"")
            && text.contains("returned 0 rows on every execution"),
        "{text}"
    );
}

/// Issue 15: a `DATABASE_URL` in the environment took over silently. The first line now says
/// where the target came from (and never shows the password).
#[test]
fn the_first_line_says_where_the_target_came_from() {
    let workload =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/shop/workload.toml");
    let run = |env: Option<&str>, flag: Option<&str>| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_pgperf"));
        command.args(["bench", "--workload", workload.to_str().expect("utf-8")]);
        command.env_remove("DATABASE_URL");
        if let Some(url) = env {
            command.env("DATABASE_URL", url);
        }
        if let Some(url) = flag {
            command.args(["--db", url]);
        }
        let output = command.output().expect("pgperf runs");
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    let url = "postgresql://u:s3cret@127.0.0.1:1/x";
    let stderr = run(Some(url), None);
    assert!(
        stderr.starts_with(
            "pgperf: target postgresql://u:***@127.0.0.1:1/x (from DATABASE_URL in the environment)"
        ),
        "{stderr}"
    );
    let stderr = run(Some(url), Some("postgresql://v@127.0.0.1:1/y"));
    assert!(
        stderr.starts_with("pgperf: target postgresql://v@127.0.0.1:1/y (from --db)"),
        "{stderr}"
    );
    assert!(!stderr.contains("s3cret"));
}

/// Issue 15: the remedy for a missing rollback read "add 0002_b.sql with .rollback.sql".
#[test]
fn a_missing_rollback_names_the_file_to_add() {
    let error = pgperf::migrate::pair_files(vec![
        ("0001_a.sql".into(), "SELECT 1;".into()),
        ("0001_a.rollback.sql".into(), "SELECT 1;".into()),
        ("0002_b.sql".into(), "SELECT 1;".into()),
    ])
    .expect_err("0002 has no rollback");
    assert_eq!(
        error.to_string(),
        "0002_b.sql has no rollback file: in pgperf's style every migration must be reversible; add 0002_b.rollback.sql beside it (for a sqlx or Supabase folder pass --migration-style)"
    );
}
