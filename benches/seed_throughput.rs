//! Seeding throughput against psql: the seeder's COPY phase (generation + binary COPY of every
//! table in one transaction, triggers silenced) versus psql loading the very same rows from
//! text files with `\copy … FROM` in one transaction under the same settings, on the same
//! embedded cluster, alternated. Rows/s of each, and their ratio (target ≥ 0.8).
//!
//! Run: `cargo bench --bench seed_throughput` (SCALE=1, RUNS=3 by default).

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use pgperf::embedded::{Cluster, ClusterOptions};
use pgperf::pg::quote_qualified;
use pgperf::seed::{SeedOptions, SeedReport, seed};

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let scale: f64 = env_or("SCALE", 1.0);
    let runs: usize = env_or("RUNS", 3);
    let cluster = Cluster::start(&ClusterOptions::default()).expect("embedded cluster starts");
    let files = tempfile::tempdir().expect("temp dir");
    let mut seeder = migrated(&cluster, "seeder");
    let mut options = SeedOptions {
        scale,
        ..SeedOptions::default()
    };
    let first = seed(&mut seeder, &options).expect("seeding succeeds");
    let tables: Vec<String> = first
        .tables
        .iter()
        .map(|table| {
            let (schema, name) = table.table.split_once('.').expect("schema.table");
            quote_qualified(schema, name)
        })
        .collect();
    export(&cluster, &tables, files.path());
    let mut loader = migrated(&cluster, "psql");
    let script = load_script(&tables, files.path());
    options.truncate = true;
    let mut seeder_rows_per_s = vec![rows_per_s(&first)];
    let mut psql_rows_per_s = Vec::new();
    for run in 0..runs {
        if run > 0 {
            seeder_rows_per_s.push(rows_per_s(&seed(&mut seeder, &options).expect("reseed")));
        }
        psql_rows_per_s.push(first.total_rows() as f64 / psql_load_s(&cluster, &script));
        let loaded: i64 = tables
            .iter()
            .map(|table| {
                let sql = format!("SELECT count(*) FROM {table}");
                loader.query_one(&sql, &[]).expect("count").get::<_, i64>(0)
            })
            .sum();
        assert_eq!(loaded as u64, first.total_rows(), "psql loaded every row");
    }
    println!(
        "scale {scale}: {} rows in {} tables",
        first.total_rows(),
        tables.len()
    );
    let seeder_median = median(&mut seeder_rows_per_s);
    let psql_median = median(&mut psql_rows_per_s);
    println!(
        "pgperf seed (binary COPY, generated): median {seeder_median:.0} rows/s over {runs} runs {seeder_rows_per_s:.0?}"
    );
    println!(
        "psql \\copy FROM text files:          median {psql_median:.0} rows/s over {runs} runs {psql_rows_per_s:.0?}"
    );
    println!("ratio seeder / psql: {:.2}", seeder_median / psql_median);
}

fn migrated(cluster: &Cluster, name: &str) -> postgres::Client {
    cluster.create_database(name).expect("create database");
    let mut client = cluster.connect(name).expect("connect");
    let set = pgperf::migrate::pair_files(pgperf::bundled::migration_files())
        .expect("bundled migrations pair up");
    pgperf::migrate::up(&mut client, &set, None).expect("migrations apply");
    client
}

fn rows_per_s(report: &SeedReport) -> f64 {
    report.rows_per_s()
}

/// Writes every seeded table to `dir/<n>.txt` in COPY text format, with psql.
fn export(cluster: &Cluster, tables: &[String], dir: &Path) {
    let script: String = tables
        .iter()
        .enumerate()
        .map(|(n, table)| {
            // The query form: a partitioned table (the audit log) cannot be copied directly.
            let file = dir.join(format!("{n}.txt"));
            format!("\\copy (SELECT * FROM {table}) TO '{}'\n", file.display())
        })
        .collect();
    run_psql(cluster, "seeder", &script);
}

/// One transaction, audit triggers silenced as the seeder does, tables emptied, then `\copy`.
fn load_script(tables: &[String], dir: &Path) -> String {
    let mut script = format!(
        "BEGIN;\nSET LOCAL session_replication_role = replica;\nTRUNCATE {};\n",
        tables.join(", ")
    );
    for (n, table) in tables.iter().enumerate() {
        script.push_str(&format!(
            "\\copy {table} FROM '{}'\n",
            dir.join(format!("{n}.txt")).display()
        ));
    }
    script.push_str("COMMIT;\n");
    script
}

fn psql_load_s(cluster: &Cluster, script: &str) -> f64 {
    let started = Instant::now();
    run_psql(cluster, "psql", script);
    started.elapsed().as_secs_f64()
}

/// Runs `script` with `psql -f` (meta-commands such as `\copy` cannot go through `-c`).
fn run_psql(cluster: &Cluster, database: &str, script: &str) {
    let file = tempfile::NamedTempFile::new().expect("script file");
    std::fs::write(file.path(), script).expect("write script");
    let output = Command::new(cluster.bin_dir().join("psql"))
        .args([
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-d",
            &cluster.url(database),
            "-f",
        ])
        .arg(file.path())
        .output()
        .expect("psql runs");
    assert!(
        output.status.success(),
        "psql failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}
