//! Seeding the control-center schema: deterministic, linear in scale, complete, and valid
//! against every constraint (foreign keys included, which loading does not check).

use std::collections::BTreeMap;

use pgperf::embedded::{Cluster, ClusterOptions};
use pgperf::pg::quote_qualified;
use pgperf::seed::{PERSONAS, SeedError, SeedOptions, SeedReport, seed};

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
    let set = pgperf::migrate::pair_files(pgperf::bundled::migration_files())
        .expect("bundled migrations pair up");
    pgperf::migrate::up(&mut client, &set, None).expect("migrations apply");
    client
}

fn seeded(cluster: &Cluster, name: &str, options: &SeedOptions) -> (postgres::Client, SeedReport) {
    let mut client = migrated(cluster, name);
    let report = seed(&mut client, options).expect("seeding succeeds");
    (client, report)
}

/// md5 of every seeded table's rows in a fixed order, by table name.
fn checksums(client: &mut postgres::Client, report: &SeedReport) -> BTreeMap<String, String> {
    report
        .tables
        .iter()
        .map(|table| {
            let (schema, name) = table.table.split_once('.').expect("schema.table");
            let sql = format!(
                "SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM {} t",
                quote_qualified(schema, name)
            );
            let sum: String = client.query_one(&sql, &[]).expect("checksum").get(0);
            (table.table.clone(), sum)
        })
        .collect()
}

fn row_counts(report: &SeedReport) -> BTreeMap<String, u64> {
    report
        .tables
        .iter()
        .map(|table| (table.table.clone(), table.rows))
        .collect()
}

#[test]
fn same_seed_gives_identical_data_and_another_seed_does_not() {
    let cluster = Cluster::start(&ClusterOptions::default()).expect("cluster");
    let (mut first, first_report) = seeded(&cluster, "first", &options(0.01, 42));
    let (mut second, second_report) = seeded(&cluster, "second", &options(0.01, 42));
    let (mut other, other_report) = seeded(&cluster, "other", &options(0.01, 7));
    let first_sums = checksums(&mut first, &first_report);
    assert_eq!(first_sums, checksums(&mut second, &second_report));
    let other_sums = checksums(&mut other, &other_report);
    let differing = first_sums
        .iter()
        .filter(|(table, sum)| other_sums.get(*table) != Some(*sum))
        .count();
    // teams and SLA targets are fixed reference data; every other table draws randomness.
    assert!(
        differing >= first_sums.len() - 2,
        "only {differing} tables differ"
    );
    assert_ne!(
        first_sums["approvals.approvals"],
        other_sums["approvals.approvals"]
    );
}

#[test]
fn rows_grow_linearly_with_scale() {
    let cluster = Cluster::start(&ClusterOptions::default()).expect("cluster");
    let (_, small) = seeded(&cluster, "small", &options(0.01, 42));
    let (_, double) = seeded(&cluster, "double", &options(0.02, 42));
    let (small, double) = (row_counts(&small), row_counts(&double));
    for fixed in ["app.teams", "inventory.locations", "cx.sla_targets"] {
        assert_eq!(small[fixed], double[fixed], "{fixed} has a fixed size");
    }
    for (table, rows) in small.iter().filter(|(_, rows)| **rows >= 1_000) {
        let ratio = double[table] as f64 / *rows as f64;
        assert!(
            (1.8..=2.2).contains(&ratio),
            "{table}: {rows} → {} rows",
            double[table]
        );
    }
    let total_ratio = double.values().sum::<u64>() as f64 / small.values().sum::<u64>() as f64;
    assert!(
        (1.9..=2.1).contains(&total_ratio),
        "total grew {total_ratio}×"
    );
}

#[test]
fn seeded_rows_satisfy_every_foreign_key_and_the_personas_exist() {
    let cluster = Cluster::start(&ClusterOptions::default()).expect("cluster");
    let (mut client, report) = seeded(&cluster, "valid", &options(0.02, 42));
    assert!(
        report.skipped_tables.is_empty(),
        "no generator for {:?}",
        report.skipped_tables
    );
    for table in &report.tables {
        assert!(table.rows > 0, "{} is empty", table.table);
    }
    // Loading skips foreign-key triggers: re-adding each constraint validates every row.
    let constraints = client
        .query(
            "SELECT conrelid::regclass::text, pg_get_constraintdef(oid) FROM pg_constraint \
             WHERE contype = 'f' AND conparentid = 0 \
               AND connamespace::regnamespace::text IN ('app', 'approvals', 'inventory', 'cx', 'growth', 'audit')",
            &[],
        )
        .expect("list foreign keys");
    assert!(
        constraints.len() >= 20,
        "found {} foreign keys",
        constraints.len()
    );
    let mut tx = client.transaction().expect("begin");
    for constraint in &constraints {
        let (table, definition): (String, String) = (constraint.get(0), constraint.get(1));
        tx.batch_execute(&format!(
            "ALTER TABLE {table} ADD CONSTRAINT seed_check {definition}"
        ))
        .unwrap_or_else(|e| panic!("{table} {definition}: {}", pgperf::pg::describe(&e)));
        tx.batch_execute(&format!("ALTER TABLE {table} DROP CONSTRAINT seed_check"))
            .expect("drop the check");
    }
    tx.rollback().expect("rollback");
    for persona in PERSONAS {
        let row = client
            .query_one(
                "SELECT team_id, app_role::text FROM app.users WHERE id = $1::text::uuid",
                &[&persona.user_id],
            )
            .expect("persona user exists");
        assert_eq!(
            (row.get::<_, i64>(0), row.get::<_, String>(1)),
            (persona.team_id, persona.app_role.to_string())
        );
    }
    let pending_share: f64 = client
        .query_one(
            "SELECT avg((status = 'pending')::int)::float8 FROM approvals.approvals",
            &[],
        )
        .expect("pending share")
        .get(0);
    assert!(
        (0.01..=0.05).contains(&pending_share),
        "pending share {pending_share}"
    );
}

#[test]
fn refuses_a_database_with_rows_unless_truncate_is_given() {
    let cluster = Cluster::start(&ClusterOptions::default()).expect("cluster");
    let (mut client, report) = seeded(&cluster, "again", &options(0.01, 42));
    let before = checksums(&mut client, &report);
    let refused = seed(&mut client, &options(0.01, 42)).expect_err("rows are there");
    assert!(matches!(refused, SeedError::NotEmpty { .. }), "{refused}");
    assert!(refused.to_string().contains("--truncate"), "{refused}");
    let truncate = SeedOptions {
        truncate: true,
        ..options(0.01, 42)
    };
    let report = seed(&mut client, &truncate).expect("reseeding with --truncate");
    assert_eq!(before, checksums(&mut client, &report));
}

#[test]
fn refuses_a_role_that_is_not_a_superuser() {
    let cluster = Cluster::start(&ClusterOptions::default()).expect("cluster");
    let mut client = migrated(&cluster, "plain");
    client
        .batch_execute("CREATE ROLE plain_owner LOGIN; SET ROLE plain_owner")
        .expect("a plain role");
    let refused = seed(&mut client, &options(0.01, 42)).expect_err("not a superuser");
    assert!(
        matches!(refused, SeedError::NotSuperuser { .. }),
        "{refused}"
    );
}
