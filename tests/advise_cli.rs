//! `pgperf advise` as a user runs it: the binary against a database, the migration pair it
//! writes applied and reverted with `pgperf::migrate`, the catalog untouched by the advise run
//! itself, and a pgperf SIGKILLed during verification leaving nothing behind.

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use pgperf::embedded::{Cluster, ClusterOptions};
use pgperf::model::advice::AdviceResult;

fn cluster() -> &'static Cluster {
    static CLUSTER: OnceLock<Cluster> = OnceLock::new();
    CLUSTER.get_or_init(|| Cluster::start(&ClusterOptions::default()).expect("embedded cluster"))
}

fn database(name: &str, rows: u32) -> postgres::Client {
    cluster().create_database(name).expect("create database");
    let mut client = cluster().connect(name).expect("connect");
    client
        .batch_execute(&format!(
            "CREATE TABLE orders (id bigint PRIMARY KEY, customer_id int NOT NULL, total numeric NOT NULL);
             INSERT INTO orders SELECT g, g % 20000, g % 1000 FROM generate_series(1, {rows}) g;
             ANALYZE orders;"
        ))
        .expect("setup");
    client
}

const WORKLOAD: &str = "name = \"cli\"\n[[query]]\nname = \"by_customer\"\nsql = \"SELECT id, total FROM orders WHERE customer_id = $1\"\nparams = [{ int_between = [1, 19999] }]\n";

/// A second query that takes 10 ms whatever the indexes: it stretches the "after" phase so
/// the kill test can land inside it.
const SLOW_QUERY: &str = "[[query]]\nname = \"steady\"\nsql = \"SELECT pg_sleep(0.01)\"\n";

fn write_workload(dir: &Path, text: &str) -> std::path::PathBuf {
    let path = dir.join("workload.toml");
    std::fs::write(&path, text).expect("write workload");
    path
}

fn advise_command(db: &str, dir: &Path, workload: &str, executions: u32) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_pgperf"));
    command
        .args(["advise", "--db", &cluster().url(db), "--allow-locks"])
        .arg("--workload")
        .arg(write_workload(dir, workload))
        .arg("--migrations")
        .arg(dir.join("migrations"))
        .arg("--out")
        .arg(dir.join("reports"))
        .args(["--executions", &executions.to_string()]);
    command
}

#[test]
fn writes_a_migration_pair_that_applies_and_reverts() {
    let mut client = database("cli_pair", 200_000);
    let before = pgperf::migrate::snapshot(&mut client).expect("snapshot");
    let dir = tempfile::tempdir().expect("tempdir");
    let output = advise_command("cli_pair", dir.path(), WORKLOAD, 60)
        .output()
        .expect("run pgperf");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        pgperf::migrate::snapshot(&mut client).expect("snapshot"),
        before,
        "advise leaves the catalog as it was"
    );
    let up = std::fs::read_to_string(dir.path().join("migrations/0001_pgperf_indexes.sql"))
        .expect("up file");
    assert!(up.starts_with("-- pgperf:no-transaction\n"), "{up}");
    assert!(
        up.contains("ON \"public\".\"orders\" USING btree (\"customer_id\")"),
        "{up}"
    );
    assert!(up.contains("-- by_customer: P95 "), "{up}");
    let set = pgperf::migrate::load_dir(&dir.path().join("migrations")).expect("pair");
    pgperf::migrate::up(&mut client, &set, None).expect("migrate up");
    let indexes = |client: &mut postgres::Client| -> i64 {
        client
            .query_one(
                "SELECT count(*) FROM pg_indexes WHERE tablename = 'orders'",
                &[],
            )
            .expect("count")
            .get(0)
    };
    assert_eq!(indexes(&mut client), 2);
    pgperf::migrate::down(&mut client, &set, 1).expect("migrate down");
    assert_eq!(indexes(&mut client), 1);
    let report = std::fs::read_dir(dir.path().join("reports"))
        .expect("reports")
        .next()
        .expect("a run folder")
        .expect("entry")
        .path()
        .join("advice.json");
    let advice: AdviceResult =
        serde_json::from_str(&std::fs::read_to_string(report).expect("advice.json"))
            .expect("valid advice.json");
    assert_eq!(advice.recommendations.len(), 1);
    assert!(advice.recommendations[0].size_bytes.is_some());
}

#[test]
fn refuses_to_verify_on_a_user_database_without_allow_locks() {
    database("cli_locks", 10);
    let dir = tempfile::tempdir().expect("tempdir");
    let output = Command::new(env!("CARGO_BIN_EXE_pgperf"))
        .args(["advise", "--db", &cluster().url("cli_locks")])
        .arg("--workload")
        .arg(write_workload(dir.path(), WORKLOAD))
        .output()
        .expect("run pgperf");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--allow-locks"));
}

#[test]
fn sigkill_during_verification_leaves_nothing_behind() {
    let mut client = database("cli_kill", 100_000);
    let before = pgperf::migrate::snapshot(&mut client).expect("snapshot");
    let dir = tempfile::tempdir().expect("tempdir");
    let mut child = advise_command(
        "cli_kill",
        dir.path(),
        &format!("{WORKLOAD}{SLOW_QUERY}"),
        200,
    )
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .spawn()
    .expect("run pgperf");
    let building_or_built = "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid) \
         WHERE a.application_name = 'pgperf' AND l.mode = 'ShareLock' \
           AND l.relation = 'orders'::regclass";
    let started = Instant::now();
    loop {
        let held: i64 = client
            .query_one(building_or_built, &[])
            .expect("locks")
            .get(0);
        if held > 0 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "verification never started"
        );
        assert!(
            child.try_wait().expect("child").is_none(),
            "pgperf exited early"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().expect("SIGKILL");
    child.wait().expect("reap");
    let started = Instant::now();
    while client
        .query_one(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pgperf' AND pid <> pg_backend_pid()",
            &[],
        )
        .expect("activity")
        .get::<_, i64>(0)
        > 0
    {
        if started.elapsed() > Duration::from_secs(30) {
            let rows = client
                .query(
                    "SELECT pid, state, query, backend_type FROM pg_stat_activity WHERE application_name = 'pgperf'",
                    &[],
                )
                .expect("activity");
            let rows: Vec<String> = rows
                .iter()
                .map(|r| format!("{} {:?} {:?} {:?}", r.get::<_, i32>(0), r.get::<_, Option<String>>(1), r.get::<_, Option<String>>(2), r.get::<_, Option<String>>(3)))
                .collect();
            panic!("the killed backend lingers: {rows:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        pgperf::migrate::snapshot(&mut client).expect("snapshot"),
        before
    );
    assert!(
        !dir.path()
            .join("migrations/0001_pgperf_indexes.sql")
            .exists()
    );
}

/// Runs advise --no-verify on `db` from `cwd`, with `--migrations` when given; returns stderr.
fn advise_into(db: &str, cwd: &Path, migrations: Option<&Path>) -> String {
    let mut command = Command::new(env!("CARGO_BIN_EXE_pgperf"));
    command
        .current_dir(cwd)
        .args(["advise", "--no-verify", "--db", &cluster().url(db)])
        .arg("--workload")
        .arg(write_workload(cwd, WORKLOAD));
    if let Some(dir) = migrations {
        command.arg("--migrations").arg(dir);
    }
    let output = command.output().expect("run pgperf");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "{stderr}");
    stderr
}

fn sql_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[test]
fn writes_in_the_folders_own_style_and_says_where_before_it_starts() {
    let mut client = database("cli_styles", 200_000);
    let dir = tempfile::tempdir().expect("tempdir");

    // A Supabase project: a timestamped file, its rollback outside supabase/migrations.
    let supabase = dir.path().join("supabase/migrations");
    std::fs::create_dir_all(&supabase).expect("mkdir");
    std::fs::write(supabase.join("20240101120000_init.sql"), "SELECT 1;").expect("write");
    let stderr = advise_into("cli_styles", dir.path(), None);
    let first = stderr.lines().next().unwrap_or_default();
    assert!(
        first.contains("advise will write its migration (supabase style, after 20240101120000_init) into supabase/migrations"),
        "{stderr}"
    );
    let files = sql_files(&supabase);
    assert_eq!(files.len(), 2, "{files:?}");
    assert!(
        files[1].ends_with("_pgperf_indexes.sql") && files[1].len() == 14 + 19,
        "{files:?}"
    );
    assert_eq!(
        sql_files(&dir.path().join("supabase/rollbacks")),
        [files[1].clone()]
    );
    let set = pgperf::migrate::load_dir(&supabase).expect("a Supabase folder");
    pgperf::migrate::up(&mut client, &set, None).expect("applies");
    let recorded: i64 = client
        .query_one(
            "SELECT count(*) FROM supabase_migrations.schema_migrations",
            &[],
        )
        .expect("count")
        .get(0);
    assert_eq!(recorded, 2);
    pgperf::migrate::down(&mut client, &set, 1).expect("its rollback reverts it");

    // A sqlx folder numbered sequentially: the next number, a -- no-transaction pair.
    let sqlx = dir.path().join("db");
    std::fs::create_dir_all(&sqlx).expect("mkdir");
    std::fs::write(sqlx.join("0001_init.up.sql"), "SELECT 1;").expect("write");
    std::fs::write(sqlx.join("0001_init.down.sql"), "SELECT 1;").expect("write");
    advise_into("cli_styles", dir.path(), Some(&sqlx));
    let files = sql_files(&sqlx);
    assert_eq!(files.len(), 4, "{files:?}");
    assert!(files[0].starts_with("0001_init"), "{files:?}");
    assert!(
        files[2].starts_with("0002_pgperf_orders_customer_id_") && files[2].ends_with(".down.sql")
    );
    let up = std::fs::read_to_string(sqlx.join(&files[3])).expect("up");
    assert!(up.starts_with("-- no-transaction\n"), "{up}");

    // No folder named and none found: the run's report folder, never ./migrations.
    let elsewhere = tempfile::tempdir().expect("tempdir");
    let stderr = advise_into("cli_styles", elsewhere.path(), None);
    assert!(
        stderr
            .lines()
            .next()
            .unwrap_or_default()
            .contains("reports/"),
        "{stderr}"
    );
    assert!(!elsewhere.path().join("migrations").exists());
    let run = std::fs::read_dir(elsewhere.path().join("reports"))
        .expect("reports")
        .next()
        .expect("a run")
        .expect("entry")
        .path();
    assert_eq!(
        sql_files(&run.join("migrations")),
        [
            "0001_pgperf_indexes.rollback.sql",
            "0001_pgperf_indexes.sql"
        ]
    );
}
