//! pgperf against `pgbench -M prepared` on the same statement (a primary-key lookup) on the
//! same embedded server, alternated round by round so drift hits both alike.
//!
//! Targets (issue 2): pgperf's P50 within +10 µs of pgbench's; throughput at 2 clients at
//! least 0.9× pgbench's; pgperf's memory (max RSS) flat from 1e4 to 1e6 executions.
//!
//! Run: `cargo bench --bench vs_pgbench` (release). Optional env: `ROUNDS` (default 5),
//! `EXECUTIONS` per side per round (default 10000; split over the clients at 2 clients, so
//! pgperf keeps every sample and its measured phase is timed from them), `MEMORY_MAX`
//! (default 1000000).
//! Prints a Markdown table for docs/benchmarks.md.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use pgperf::bench::{self, BenchContext};
use pgperf::embedded::{Cluster, ClusterOptions};
use pgperf::model::{BenchSettings, Protocol, Target};

const DB: &str = "bench";
const STATEMENT: &str = "SELECT abalance FROM pgbench_accounts WHERE aid = $1";

fn main() {
    let rounds = env_number("ROUNDS", 5);
    let executions = env_number("EXECUTIONS", 10_000);
    let memory_max = env_number("MEMORY_MAX", 1_000_000);
    let cluster = Cluster::start(&ClusterOptions::default()).expect("embedded cluster starts");
    cluster.create_database(DB).expect("database");
    let work = tempfile::tempdir().expect("temp dir");
    let _ = pgbench(&cluster, &["-i", "-q", "-s", "1"], work.path());
    let workload = write_workload(work.path());

    let mut p50 = (Vec::new(), Vec::new());
    let mut tps = (Vec::new(), Vec::new());
    let mut cpu = (Vec::new(), Vec::new());
    for round in 0..rounds {
        p50.0
            .push(pgbench_p50(&cluster, executions, work.path(), round));
        p50.1.push(pgperf_run(&cluster, &workload, executions, 1).0);
        let (pgbench_tps, pgbench_cpu) = pgbench_tps(&cluster, executions, work.path());
        let (_, pgperf_tps, pgperf_cpu) = pgperf_run(&cluster, &workload, executions, 2);
        tps.0.push(pgbench_tps);
        tps.1.push(pgperf_tps);
        cpu.0.push(pgbench_cpu);
        cpu.1.push(pgperf_cpu);
        eprintln!(
            "round {round}: P50 pgbench {:.1} µs pgperf {:.1} µs; 2-client tps pgbench {:.0} pgperf {:.0}; client CPU/execution pgbench {:.1} µs pgperf {:.1} µs",
            p50.0[round], p50.1[round], tps.0[round], tps.1[round], cpu.0[round], cpu.1[round]
        );
    }
    let (small, large) = (10_000.min(memory_max), memory_max);
    let rss_small = cli_max_rss_kib(&cluster, work.path(), small);
    let rss_large = cli_max_rss_kib(&cluster, work.path(), large);

    let (p50_pgbench, p50_pgperf) = (median(&p50.0), median(&p50.1));
    let (tps_pgbench, tps_pgperf) = (median(&tps.0), median(&tps.1));
    println!("| measure | pgbench -M prepared | pgperf --protocol prepared | result | target |");
    println!("|---|---|---|---|---|");
    println!(
        "| P50, 1 client, median of {rounds} rounds × {executions} | {p50_pgbench:.1} µs | {p50_pgperf:.1} µs | {:+.1} µs | ≤ +10 µs |",
        p50_pgperf - p50_pgbench
    );
    println!(
        "| throughput, 2 clients, median of {rounds} rounds × {executions} | {tps_pgbench:.0} q/s | {tps_pgperf:.0} q/s | {:.2}× | ≥ 0.9× |",
        tps_pgperf / tps_pgbench
    );
    println!(
        "| client CPU per execution, 2 clients (median) | {:.1} µs | {:.1} µs (incl. setup, EXPLAIN, warm-up) | {:.2}× | |",
        median(&cpu.0),
        median(&cpu.1),
        median(&cpu.1) / median(&cpu.0)
    );
    println!(
        "| pgperf max RSS, {small} vs {large} executions | | {} KiB vs {} KiB | {:.2}× | flat |",
        rss_small,
        rss_large,
        rss_large as f64 / rss_small as f64
    );
}

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn write_workload(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("pk.toml");
    let text = format!(
        "name = \"pk lookup\"\n[[query]]\nname = \"pk\"\nsql = \"{STATEMENT}\"\nparams = [{{ int_between = [1, 100000] }}]\n"
    );
    std::fs::write(&path, text).expect("workload written");
    path
}

/// Runs pgbench against the cluster's socket and returns its stdout and CPU seconds.
fn pgbench(cluster: &Cluster, args: &[&str], cwd: &Path) -> (String, f64) {
    let config = cluster.config(DB);
    let port = config
        .get_ports()
        .first()
        .copied()
        .unwrap_or(5432)
        .to_string();
    let mut child = Command::new(cluster.bin_dir().join("pgbench"))
        .args([
            "-h",
            &cluster.dir().to_string_lossy(),
            "-p",
            &port,
            "-U",
            "postgres",
        ])
        .args(args)
        .arg(DB)
        .current_dir(cwd)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("pgbench runs");
    let mut stdout = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().expect("piped"), &mut stdout)
        .expect("pgbench output");
    let (status, usage) = wait_with_rusage(child);
    assert_eq!(status, 0, "pgbench failed");
    (stdout, cpu_seconds(&usage))
}

/// Waits for `child` and returns its exit status and its own resource usage.
// The child is reaped by `wait4`, which also reports its rusage (`Child::wait` cannot).
#[allow(clippy::zombie_processes)]
fn wait_with_rusage(child: std::process::Child) -> (i32, libc::rusage) {
    let pid = i32::try_from(child.id()).expect("pid fits");
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value for wait4 to fill.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waiting for our own child with valid pointers.
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(waited, pid, "waited for the child");
    (status, usage)
}

fn cpu_seconds(usage: &libc::rusage) -> f64 {
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

/// CPU seconds this process has used so far.
fn own_cpu_seconds() -> f64 {
    // SAFETY: an all-zero rusage is a valid value for getrusage to fill.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: valid pointer to our own rusage.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    cpu_seconds(&usage)
}

fn script(dir: &Path) -> String {
    let path = dir.join("pk.sql");
    std::fs::write(
        &path,
        "\\set aid random(1, 100000)\nSELECT abalance FROM pgbench_accounts WHERE aid = :aid;\n",
    )
    .expect("script written");
    path.to_string_lossy().into_owned()
}

/// pgbench's per-transaction latencies (its `-l` log), summarised with pgperf's own estimator
/// so both sides use the same Harrell-Davis P50.
fn pgbench_p50(cluster: &Cluster, executions: usize, dir: &Path, round: usize) -> f64 {
    let prefix = format!("log{round}");
    let transactions = executions.to_string();
    let script = script(dir);
    let _ = pgbench(
        cluster,
        &[
            "-n",
            "-M",
            "prepared",
            "-c",
            "1",
            "-t",
            &transactions,
            "-f",
            &script,
            "-l",
            "--log-prefix",
            &prefix,
        ],
        dir,
    );
    let mut latencies_us = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
        if entry
            .file_name()
            .to_string_lossy()
            .starts_with(&format!("{prefix}."))
        {
            let text = std::fs::read_to_string(entry.path()).expect("log");
            latencies_us.extend(
                text.lines()
                    .filter_map(|line| line.split_whitespace().nth(2)?.parse::<f64>().ok()),
            );
        }
    }
    pgperf::stats::summarize(&latencies_us)
        .expect("pgbench logged transactions")
        .p50
        .value_us
}

/// (throughput q/s, client CPU µs per execution) of pgbench at 2 clients.
fn pgbench_tps(cluster: &Cluster, executions: usize, dir: &Path) -> (f64, f64) {
    let transactions = (executions / 2).to_string();
    let script = script(dir);
    let (out, cpu_s) = pgbench(
        cluster,
        &[
            "-n",
            "-M",
            "prepared",
            "-c",
            "2",
            "-j",
            "2",
            "-t",
            &transactions,
            "-f",
            &script,
        ],
        dir,
    );
    let tps = out
        .lines()
        .find_map(|line| {
            line.strip_prefix("tps = ")?
                .split_whitespace()
                .next()?
                .parse()
                .ok()
        })
        .expect("pgbench printed tps");
    (tps, cpu_s * 1e6 / executions as f64)
}

/// (HD P50 µs, throughput q/s of the measured phase, client CPU µs per execution including
/// setup, EXPLAIN and warm-up) of one pgperf run.
fn pgperf_run(
    cluster: &Cluster,
    workload: &Path,
    executions: usize,
    clients: u32,
) -> (f64, f64, f64) {
    let workload = pgperf::workload::load_file(workload).expect("workload");
    let settings = BenchSettings {
        iterations: executions as u64,
        warmup: 200,
        concurrency: clients,
        rate_qps: None,
        protocol: Protocol::Prepared,
        statement_timeout_ms: 30_000,
        rng_seed: 1,
        time_budget: None,
    };
    let context = BenchContext {
        target: Target {
            embedded: true,
            url_redacted: cluster.url(DB),
            database: DB.into(),
            clock: None,
        },
        scale: None,
        seed_rng_seed: None,
        progress: false,
        progress_interval: std::time::Duration::ZERO,
        data_now: None,
    };
    let started = Instant::now();
    let cpu_before = own_cpu_seconds();
    let result =
        bench::run(&cluster.config(DB), &workload, &settings, &context).expect("pgperf run");
    let wall_s = started.elapsed().as_secs_f64();
    let cpu_us = (own_cpu_seconds() - cpu_before) * 1e6 / executions as f64;
    let query = &result.queries[0];
    assert_eq!(query.errors, 0);
    // With ≤ 10,000 executions the reservoir holds every sample, so the measured phase ends
    // with the last sample; otherwise fall back to wall time (setup included: pessimistic).
    let phase_s = if query.raw_samples.len() as u64 == query.samples {
        query
            .raw_samples
            .iter()
            .map(|s| s.at_ms / 1e3 + s.latency_us / 1e6)
            .fold(0.0, f64::max)
    } else {
        wall_s
    };
    (
        query.latency.expect("latency").p50.value_us,
        query.samples as f64 / phase_s,
        cpu_us,
    )
}

/// Max RSS of the release `pgperf bench` CLI for `executions` of the lookup.
fn cli_max_rss_kib(cluster: &Cluster, dir: &Path, executions: usize) -> i64 {
    let workload = dir.join("pk.toml");
    let out = dir.join("reports");
    let child = Command::new(env!("CARGO_BIN_EXE_pgperf"))
        .args([
            "bench",
            "--db",
            &cluster.url(DB),
            "--workload",
            &workload.to_string_lossy(),
        ])
        .args([
            "--iterations",
            &executions.to_string(),
            "--warmup",
            "100",
            "--out",
            &out.to_string_lossy(),
        ])
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("pgperf runs");
    let (status, usage) = wait_with_rusage(child);
    assert_eq!(status, 0, "pgperf bench failed");
    usage.ru_maxrss
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[sorted.len() / 2]
}
