//! Start-to-ready time of the embedded PostgreSQL: from `Cluster::start` being called to a
//! server that accepts connections with pg_stat_statements (and HypoPG) created, initdb
//! included; then the time to stop and remove it. Run: `cargo bench --bench embedded_startup`.

use std::time::Instant;

use pgperf::embedded::{Cluster, ClusterOptions};

fn main() {
    let runs: usize = std::env::var("RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let mut ready_ms = Vec::with_capacity(runs);
    let mut teardown_ms = Vec::with_capacity(runs);
    for _ in 0..runs {
        let cluster = Cluster::start(&ClusterOptions::default()).expect("embedded cluster starts");
        ready_ms.push(cluster.startup_time().as_secs_f64() * 1e3);
        let dir = cluster.dir().to_path_buf();
        let stopping = Instant::now();
        drop(cluster);
        teardown_ms.push(stopping.elapsed().as_secs_f64() * 1e3);
        assert!(!dir.exists(), "directory removed");
    }
    report(
        "start-to-ready (initdb + start + extensions)",
        &mut ready_ms,
    );
    report("stop and remove", &mut teardown_ms);
}

fn report(what: &str, values: &mut [f64]) {
    values.sort_by(f64::total_cmp);
    let median = values[values.len() / 2];
    println!(
        "{what}: median {median:.0} ms, min {:.0} ms, max {:.0} ms over {} runs",
        values[0],
        values[values.len() - 1],
        values.len()
    );
}
