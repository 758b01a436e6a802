//! The embedded cluster starts, serves, has its extensions, and leaves nothing behind.

use pgperf::embedded::{Cluster, ClusterOptions};

#[test]
fn cluster_starts_serves_and_is_removed_on_drop() {
    let cluster = Cluster::start(&ClusterOptions::default()).expect("embedded cluster starts");
    let dir = cluster.dir().to_path_buf();
    let mut client = cluster
        .connect("postgres")
        .expect("connects over the socket");
    let row = client
        .query_one(
            "SELECT current_setting('server_version_num')::int, \
                    current_setting('track_io_timing'), \
                    current_setting('listen_addresses'), \
                    (SELECT count(*) FROM pg_extension WHERE extname = 'pg_stat_statements')",
            &[],
        )
        .expect("query");
    assert!(row.get::<_, i32>(0) >= 130000);
    assert_eq!(row.get::<_, String>(1), "on");
    assert_eq!(row.get::<_, String>(2), "");
    assert_eq!(row.get::<_, i64>(3), 1);
    cluster
        .create_database("fresh db")
        .expect("create database");
    let mut fresh = cluster
        .connect("fresh db")
        .expect("connect to new database");
    let extensions: i64 = fresh
        .query_one(
            "SELECT count(*) FROM pg_extension WHERE extname IN ('pg_stat_statements','hypopg')",
            &[],
        )
        .expect("query")
        .get(0);
    assert_eq!(extensions, if cluster.has_hypopg() { 2 } else { 1 });
    let mut by_url = postgres::Client::connect(&cluster.url("postgres"), postgres::NoTls)
        .expect("the URL works");
    by_url.simple_query("SELECT 1").expect("query by url");
    eprintln!("startup {:?}", cluster.startup_time());
    drop((client, fresh, by_url));
    drop(cluster);
    assert!(!dir.exists(), "cluster directory {dir:?} removed");
}

#[test]
fn a_pinned_clock_moves_now_and_current_date_but_not_durations() {
    let clock: chrono::DateTime<chrono::Utc> = "2024-02-29T12:00:00Z".parse().unwrap();
    let cluster = Cluster::start(&ClusterOptions {
        clock: Some(clock),
        ..ClusterOptions::default()
    })
    .expect(
        "embedded cluster starts with a pinned clock (libfaketime installed by scripts/setup.sh)",
    );
    let mut client = cluster.connect("postgres").expect("connects");
    let row = client
        .query_one(
            "SELECT now(), current_date::text, \
                    (SELECT count(*) FROM (SELECT pg_sleep(0.2)) s), clock_timestamp() - now() < interval '5 seconds'",
            &[],
        )
        .expect("query");
    let server_now: chrono::DateTime<chrono::Utc> = row.get(0);
    let drift = (server_now - clock).num_seconds();
    assert!(
        (0..120).contains(&drift),
        "server now() {server_now} should be just after the pinned clock {clock}"
    );
    assert_eq!(row.get::<_, String>(1), "2024-02-29");
    assert!(
        row.get::<_, bool>(3),
        "time still advances at the real rate"
    );
    let plan: String = client
        .query_one("EXPLAIN (ANALYZE, FORMAT JSON) SELECT pg_sleep(0.05)", &[])
        .map(|row| row.get::<_, serde_json::Value>(0).to_string())
        .expect("explain");
    let execution_ms =
        serde_json::from_str::<serde_json::Value>(&plan).unwrap()[0]["Execution Time"]
            .as_f64()
            .unwrap();
    assert!(
        (40.0..5_000.0).contains(&execution_ms),
        "EXPLAIN ANALYZE times with the real monotonic clock: a 50 ms sleep took {execution_ms} ms"
    );
}

/// Child half of the kill tests: started by the parent with `PGPERF_TEST_CHILD=1`, it starts a
/// cluster, prints its directory and postmaster pid, and waits to be killed or interrupted.
#[test]
fn child_holding_a_cluster() {
    if std::env::var_os("PGPERF_TEST_CHILD").is_none() {
        return;
    }
    pgperf::signal::install();
    let cluster = Cluster::start(&ClusterOptions::default()).expect("embedded cluster starts");
    let pid = std::fs::read_to_string(cluster.dir().join("data/postmaster.pid")).expect("pid file");
    println!(
        "READY {} {}",
        cluster.dir().display(),
        pid.lines().next().unwrap_or("")
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !pgperf::signal::interrupted() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

fn kill_child_and_check_nothing_survives(signal: libc::c_int) {
    use std::io::BufRead;
    let mut child = std::process::Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "--exact",
            "child_holding_a_cluster",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("PGPERF_TEST_CHILD", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("child starts");
    let stdout = child.stdout.take().expect("piped stdout");
    let line = std::io::BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .find_map(|line| line.split_once("READY ").map(|(_, rest)| rest.to_string()))
        .expect("child reports its cluster");
    let mut parts = line.split_whitespace();
    let dir = std::path::PathBuf::from(parts.next().expect("dir"));
    let postmaster: i32 = parts.next().expect("pid").parse().expect("numeric pid");
    assert!(dir.exists());
    // SAFETY: kill(2) on our own child.
    unsafe { libc::kill(child.id() as i32, signal) };
    // The child is reaped only at the end: until then it is a zombie, as a pgperf whose parent
    // never reaps it would be, and cleanup must not wait for it.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    let alive = || running(postmaster);
    while (alive() || dir.exists()) && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(!alive(), "postmaster {postmaster} survived signal {signal}");
    assert!(
        !dir.exists(),
        "cluster directory {dir:?} survived signal {signal}"
    );
    let _ = child.wait();
}

/// Exists and is not a zombie (a zombie holds no socket, memory or files; PID 1 in some
/// containers never reaps the orphaned server).
fn running(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            stat.rsplit_once(") ")
                .map(|(_, rest)| rest.starts_with('Z'))
        })
        .is_some_and(|zombie| !zombie)
}

#[test]
fn sigkill_leaves_no_server_and_no_directory() {
    kill_child_and_check_nothing_survives(libc::SIGKILL);
}

#[test]
fn sigterm_leaves_no_server_and_no_directory() {
    kill_child_and_check_nothing_survives(libc::SIGTERM);
}
