//! Seeding the control-center schema: deterministic, linear in scale, complete, and valid
//! against every constraint (foreign keys included, which loading does not check).

use pgperf::embedded::{Cluster, ClusterOptions};
use pgperf::seed::{SeedOptions, SeedReport, seed};

/// A fixed last day, so the test's data does not depend on the day it runs.
fn anchor() -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2026, 3, 15).expect("valid date")
}

fn options(scale: f64, rng_seed: u64) -> SeedOptions {
    SeedOptions {
        scale,
        rng_seed,
        truncate: false,
        anchor_date: Some(anchor()),
    }
}

/// A new database with the bundled migrations applied.
fn migrated(cluster: &Cluster, name: &str) -> postgres::Client {
    cluster.create_database(name).expect("create database");
    let mut client = cluster.connect(name).expect("connect");
    let set = pgperf::migrate::pair_files(pgperf::bundled::migration_files()).expect("bundled migrations pair up");
    pgperf::migrate::up(&mut client, &set, None).expect("migrations apply");
    client
}

fn seeded(cluster: &Cluster, name: &str, options: &SeedOptions) -> (postgres::Client, SeedReport) {
    let mut client = migrated(cluster, name);
    let report = seed(&mut client, options).expect("seeding succeeds");
    (client, report)
}

#[test]
fn small_scale_seeds_every_table_with_valid_rows() {
    let cluster = Cluster::start(&ClusterOptions::default()).expect("cluster");
    let (mut client, report) = seeded(&cluster, "valid", &options(0.02, 42));
    eprintln!("{report:#?}");
    assert!(report.skipped_tables.is_empty(), "no generator for {:?}", report.skipped_tables);
    for table in &report.tables {
        assert!(table.rows > 0, "{} is empty", table.table);
    }
}
