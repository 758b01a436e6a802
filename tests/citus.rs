//! pgperf on a real distributed cluster: a Citus coordinator and 2 workers started by the
//! product's own code (`pgperf::citus::CitusCluster`), a small multi-tenant workload benched
//! through the coordinator with its distributed plans recorded, `check` catching a query that
//! went from one shard to all of them, and `advise` end to end on a distributed table.

mod cli_support;
use cli_support::pgperf;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use pgperf::citus::CitusCluster;
use pgperf::embedded::ClusterOptions;
use pgperf::model::{DistributedStrategy, QueryResult, RunResult};

const SCHEMA: &str = include_str!("fixtures/citus/schema.sql");

fn cluster() -> &'static CitusCluster {
    static CLUSTER: OnceLock<CitusCluster> = OnceLock::new();
    CLUSTER.get_or_init(|| {
        CitusCluster::start(&ClusterOptions::default(), 2, "postgres_citus").expect("citus cluster")
    })
}

/// A fresh database on every node with the fixture schema, distributed and loaded; its URL.
fn database(name: &str) -> String {
    cluster()
        .create_database(name)
        .expect("database on every node");
    let mut client = cluster().coordinator.connect(name).expect("connect");
    // Citus refuses some of these in one transaction: one statement per call.
    for statement in SCHEMA.split(";\n") {
        let code: String = statement
            .lines()
            .filter(|line| !line.trim_start().starts_with("--"))
            .collect::<Vec<_>>()
            .join("\n");
        if !code.trim().is_empty() {
            client
                .batch_execute(&code)
                .unwrap_or_else(|e| panic!("{code}: {}", pgperf::pg::describe(&e)));
        }
    }
    cluster().coordinator.url(name)
}

fn workload() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/citus/workload.toml")
}

/// The results of the one run under `dir` (beside it, the `latest` link to it).
fn only_results_file(dir: &Path) -> PathBuf {
    let runs: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("out folder")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| !path.is_symlink())
        .collect();
    assert_eq!(runs.len(), 1, "one run in {}", dir.display());
    runs[0].join("results.json")
}

fn query<'a>(run: &'a RunResult, name: &str) -> &'a QueryResult {
    run.queries
        .iter()
        .find(|query| query.name == name)
        .unwrap_or_else(|| panic!("{name} in the results"))
}

fn bench(url: &str, out: &Path) -> RunResult {
    let workload = workload();
    let (code, stdout, stderr) = pgperf(&[
        "bench",
        "--db",
        url,
        "--workload",
        workload.to_str().expect("utf-8 path"),
        "--iterations",
        "30",
        "--warmup",
        "3",
        "--out",
        out.to_str().expect("utf-8 path"),
    ]);
    assert_eq!(code, 0, "stdout:\n{stdout}\nstderr:\n{stderr}");
    let text = std::fs::read_to_string(only_results_file(out)).expect("results.json");
    serde_json::from_str(&text).expect("a RunResult")
}

#[test]
fn bench_records_distributed_plans_and_check_catches_one_shard_to_all() {
    let url = database("bench_check");
    let dir = tempfile::tempdir().expect("temp dir");
    let run = bench(&url, &dir.path().join("base"));

    let router = query(&run, "team_open_tickets");
    let plan = router.plan.as_ref().expect("a plan");
    let distributed = plan.distributed.as_ref().expect("distributed");
    assert_eq!(distributed.strategy, DistributedStrategy::Router);
    assert_eq!(distributed.task_count, 1);
    assert_eq!(distributed.nodes.len(), 1);
    let task = distributed.slowest_task.as_ref().expect("its task");
    assert!(
        task.plan.get("Node Type").is_some(),
        "the worker plan: {task:?}"
    );
    assert!(
        plan.shape.iter().any(|line| line.contains("[router]")),
        "{:?}",
        plan.shape
    );

    let all_shards = query(&run, "tickets_by_priority");
    let distributed = all_shards
        .plan
        .as_ref()
        .and_then(|plan| plan.distributed.as_ref())
        .expect("distributed");
    assert_eq!(distributed.strategy, DistributedStrategy::MultiShard);
    assert_eq!(distributed.task_count, 4, "one task per shard");
    assert_eq!(distributed.nodes.len(), 2, "both workers");
    assert!(distributed.worker_shared_blks_hit + distributed.worker_shared_blks_read > 0);
    for name in ["team_open_tickets", "tickets_by_priority"] {
        let server = query(&run, name)
            .server
            .as_ref()
            .expect("pg_stat_statements");
        let workers = server
            .workers
            .as_ref()
            .unwrap_or_else(|| panic!("{name}: the workers' pg_stat_statements: {server:?}"));
        assert!(
            workers.calls >= 30,
            "{name}: shard queries ran: {workers:?}"
        );
        assert!(
            server.shared_blks_hit >= workers.shared_blks_hit && workers.shared_blks_hit > 0,
            "{name}: shard buffers are counted: {server:?}"
        );
    }

    // Redistributing tickets by id sends the team's query to every shard.
    cluster()
        .coordinator
        .connect("bench_check")
        .expect("connect")
        .batch_execute("SELECT alter_distributed_table('tickets', distribution_column := 'id')")
        .expect("redistribute");
    let baseline = only_results_file(&dir.path().join("base"));
    let workload = workload();
    let (code, stdout, stderr) = pgperf(&[
        "check",
        "--baseline",
        baseline.to_str().expect("utf-8 path"),
        "--db",
        &url,
        "--workload",
        workload.to_str().expect("utf-8 path"),
        "--out",
        dir.path().join("after").to_str().expect("utf-8 path"),
        "--fail-on",
        "plan",
    ]);
    assert_eq!(code, 1, "a plan regression:\n{stdout}\n{stderr}");
    let changed: Vec<&str> = stdout
        .lines()
        .filter(|line| line.contains("team_open_tickets"))
        .collect();
    assert!(!changed.is_empty(), "{stdout}");
    assert!(
        stdout.contains("multi-shard"),
        "the new shape shows all shards:\n{stdout}"
    );
}

/// Indexes on the shards of `table` on every worker.
fn shard_indexes(database: &str, table: &str) -> Vec<String> {
    let mut names = Vec::new();
    for worker in &cluster().workers {
        let mut client = worker.connect(database).expect("connect to a worker");
        // Citus hides shards from catalog queries on workers unless asked.
        client
            .batch_execute("SET citus.override_table_visibility TO off")
            .expect("show shards");
        let rows = client
            .query(
                "SELECT indexname::text FROM pg_indexes WHERE tablename ~ ('^' || $1 || '_[0-9]+$')",
                &[&table],
            )
            .expect("indexes");
        names.extend(rows.iter().map(|row| row.get::<_, String>(0)));
    }
    names
}

#[test]
fn advise_measures_an_index_on_the_shards_and_advises_the_distribution() {
    let url = database("advise");
    let before = shard_indexes("advise", "tickets");
    assert_eq!(before.len(), 4, "the primary key of each shard: {before:?}");
    let dir = tempfile::tempdir().expect("temp dir");
    let workload = workload();
    let (code, stdout, stderr) = pgperf(&[
        "advise",
        "--db",
        &url,
        "--allow-locks",
        "--workload",
        workload.to_str().expect("utf-8 path"),
        "--migrations",
        dir.path().join("migrations").to_str().expect("utf-8 path"),
        "--out",
        dir.path().join("reports").to_str().expect("utf-8 path"),
        "--executions",
        "60",
    ]);
    assert_eq!(code, 0, "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert_eq!(
        shard_indexes("advise", "tickets"),
        before,
        "verification rolled back on every worker"
    );
    let up = std::fs::read_to_string(dir.path().join("migrations/0001_pgperf_indexes.sql"))
        .unwrap_or_else(|_| panic!("a migration:\n{stdout}\n{stderr}"));
    assert!(
        up.contains("CREATE INDEX CONCURRENTLY") && up.contains("\"tickets\""),
        "{up}"
    );
    assert!(
        stdout.contains("distribute public.ticket_events by team_id instead of id"),
        "{stdout}"
    );

    // The migration applied through the coordinator builds the index on every shard.
    let set = pgperf::migrate::load_dir(&dir.path().join("migrations")).expect("pair");
    let mut client = cluster().coordinator.connect("advise").expect("connect");
    pgperf::migrate::up(&mut client, &set, None).expect("migrate up");
    let on_tickets = up
        .lines()
        .filter(|line| {
            line.starts_with("CREATE INDEX CONCURRENTLY") && line.contains("\"tickets\"")
        })
        .count();
    let built = shard_indexes("advise", "tickets").len() - before.len();
    assert!(on_tickets > 0, "{up}");
    assert_eq!(
        built,
        4 * on_tickets,
        "each index on every one of the 4 shards"
    );
}

/// The node directories next to `coordinator` whose server listens on one of `ports`.
fn worker_dirs(coordinator: &Path, ports: &[u16]) -> Vec<PathBuf> {
    let parent = coordinator.parent().expect("a parent folder");
    std::fs::read_dir(parent)
        .expect("parent folder")
        .filter_map(|entry| Some(entry.ok()?.path()))
        .filter(|dir| {
            let conf = std::fs::read_to_string(dir.join("data/postgresql.auto.conf"));
            // Citus rewrites the file with ALTER SYSTEM, which quotes the value.
            conf.is_ok_and(|conf| {
                let quoted = |port: &u16| conf.contains(&format!("port = '{port}'\n"));
                ports.iter().any(quoted)
            })
        })
        .collect()
}

#[test]
fn sigkill_leaves_no_node_behind() {
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_pgperf"))
        .args(["seed", "--citus-workers", "2", "--scale", "0.05"])
        .env_remove("DATABASE_URL")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("pgperf starts");
    let stderr = child.stderr.take().expect("piped stderr");
    // Kept open until the end: a closed pipe would end pgperf at its next message.
    let mut lines = std::io::BufReader::new(stderr).lines();
    let line = lines
        .by_ref()
        .map_while(Result::ok)
        .find(|line| line.contains("started a private Citus cluster"))
        .expect("pgperf reports its cluster");
    // "... coordinator in DIR, workers on ports A, B (1.23 s)"
    let (_, rest) = line.split_once("coordinator in ").expect("the coordinator");
    let (dir, rest) = rest.split_once(", ").expect("the workers");
    let coordinator = PathBuf::from(dir);
    let ports: Vec<u16> = rest
        .split_once("ports ")
        .and_then(|(_, ports)| ports.split_once(" ("))
        .expect("ports")
        .0
        .split(", ")
        .map(|port| port.parse().expect("a port"))
        .collect();
    let workers = worker_dirs(&coordinator, &ports);
    assert_eq!(workers.len(), 2, "{line}");
    // SAFETY: kill(2) on our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
    let listening = |port: &u16| std::net::TcpStream::connect(("127.0.0.1", *port)).is_ok();
    let survivors = || {
        let dirs = workers
            .iter()
            .chain([&coordinator])
            .filter(|dir| dir.exists());
        dirs.count() + ports.iter().filter(|port| listening(port)).count()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while survivors() > 0 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(survivors(), 0, "a node survived SIGKILL: {line}");
    let _ = child.wait();
    drop(lines);
}

#[test]
fn citus_workers_seeds_through_the_coordinator_and_refuses_a_user_database() {
    let (code, _, stderr) = pgperf(&["seed", "--citus-workers", "1", "--scale", "0.01"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("started a private Citus cluster") && stderr.contains("workers on ports"),
        "{stderr}"
    );
    let (code, _, stderr) = pgperf(&[
        "bench",
        "--db",
        "postgresql://nobody@127.0.0.1:1/x",
        "--citus-workers",
        "2",
    ]);
    assert_eq!(code, 2, "a usage error: {stderr}");
    assert!(stderr.contains("--citus-workers"), "{stderr}");
}

#[test]
fn migrate_verify_proves_a_distributing_migration_on_a_throwaway_citus_cluster() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("0001_tickets.sql"),
        "CREATE TABLE tickets (team_id bigint NOT NULL, id bigint NOT NULL, PRIMARY KEY (team_id, id));\n\
         SELECT create_distributed_table('tickets', 'team_id');\n",
    )
    .expect("up file");
    std::fs::write(
        dir.path().join("0001_tickets.rollback.sql"),
        "DROP TABLE tickets;\n",
    )
    .expect("rollback file");
    let folder = dir.path().to_str().expect("utf-8 path");
    let (code, stdout, stderr) =
        pgperf(&["migrate", "verify", "--dir", folder, "--citus-workers", "1"]);
    assert_eq!(code, 0, "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.contains("verified 1 of 1 migrations"), "{stdout}");
    assert!(stderr.contains("private Citus cluster"), "{stderr}");

    // Without Citus the same folder fails: the function does not exist on plain PostgreSQL.
    let (code, _, stderr) = pgperf(&["migrate", "verify", "--dir", folder]);
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("create_distributed_table"), "{stderr}");

    let (code, _, stderr) = pgperf(&[
        "migrate",
        "up",
        "--dir",
        folder,
        "--db",
        "postgresql://nobody@127.0.0.1:1/x",
        "--citus-workers",
        "1",
    ]);
    assert_eq!(code, 2, "a usage error: {stderr}");
    assert!(stderr.contains("--citus-workers"), "{stderr}");
}
