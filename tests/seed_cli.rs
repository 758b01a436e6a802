//! `pgperf seed` as a user runs it: refusing a database that has rows is a usage error
//! (exit 2) that names `--truncate`, and the URL's password never appears.

use std::process::Command;

use pgperf::embedded::{Cluster, ClusterOptions};
use pgperf::seed::{SeedOptions, seed};

#[test]
fn seeding_a_database_with_rows_exits_2_and_names_truncate() {
    let cluster = Cluster::start(&ClusterOptions::default()).expect("cluster");
    cluster.create_database("filled").expect("create database");
    let mut client = cluster.connect("filled").expect("connect");
    let set = pgperf::migrate::pair_files(pgperf::bundled::migration_files())
        .expect("bundled migrations pair up");
    pgperf::migrate::up(&mut client, &set, None).expect("migrations apply");
    let options = SeedOptions {
        scale: 0.01,
        ..SeedOptions::default()
    };
    seed(&mut client, &options).expect("first seeding");
    let url = format!(
        "{}&password=s3cret",
        cluster
            .url("filled")
            .replace("/filled", "/filled?application_name=t")
    );
    let output = Command::new(env!("CARGO_BIN_EXE_pgperf"))
        .args(["seed", "--db", &url])
        .env_remove("DATABASE_URL")
        .output()
        .expect("pgperf runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--truncate"), "{stderr}");
    assert!(!stderr.contains("s3cret"), "{stderr}");
}
