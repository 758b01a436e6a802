//! `pgperf record --from-log` on the real log files of a real cluster (csvlog and jsonlog):
//! extended-protocol calls with parameters and simple-protocol calls with inlined literals are
//! grouped by fingerprint with the values that were really sent.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use pgperf::embedded::{Cluster, ClusterOptions};
use pgperf::record::columns::Catalog;
use pgperf::record::log::LogFormat;
use pgperf::record::{LogOptions, from_log};
use pgperf::workload::{ParamSpec, WorkloadFile};

mod record_support;

fn logging_cluster(destination: &str) -> Cluster {
    let settings = [
        ("log_min_duration_statement", "0"),
        ("log_destination", &format!("'{destination}'")),
        ("logging_collector", "on"),
        ("log_directory", "'log'"),
        ("log_filename", "'postgresql.log'"),
        // Only stderr uses it: user, database and application are what recording needs.
        ("log_line_prefix", "'%m [%p] user=%u,db=%d,app=%a '"),
    ];
    Cluster::start(&ClusterOptions {
        settings: settings
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ..ClusterOptions::default()
    })
    .expect("cluster with logging starts")
}

fn run_application(cluster: &Cluster) {
    let mut admin = cluster.connect("shop").expect("connects");
    admin
        .batch_execute(
            "CREATE TABLE customers (id int PRIMARY KEY, email text NOT NULL, tier text NOT NULL);
             INSERT INTO customers SELECT i, 'c' || i || '@shop.example', CASE WHEN i % 4 = 0 THEN 'gold' ELSE 'basic' END
               FROM generate_series(1, 1000) i;
             ANALYZE customers;
             CREATE ROLE app LOGIN; GRANT SELECT ON customers TO app;",
        )
        .expect("setup");
    let mut app = record_support::app(cluster);
    let by_tier = app
        .prepare("SELECT id FROM customers WHERE tier = $1 AND id < $2")
        .expect("prepares");
    for i in 0..12 {
        let tier = if i % 3 == 0 { "gold" } else { "it's" };
        app.query(&by_tier, &[&tier, &(i * 10)]).expect("runs");
    }
    for id in [5, 6, 7] {
        app.simple_query(&format!("SELECT email FROM customers WHERE id = {id}"))
            .expect("runs");
    }
    app.simple_query("SELECT tier FROM customers WHERE email = 'c9@shop.example'")
        .expect("runs");
}

/// The log file once the collector has written the last statement (it writes asynchronously).
fn read_log(cluster: &Cluster, extension: &str, last: &str) -> Vec<u8> {
    let path: PathBuf = cluster
        .dir()
        .join("data/log")
        .join(format!("postgresql.{extension}"));
    let started = Instant::now();
    loop {
        let bytes = std::fs::read(&path).unwrap_or_default();
        if String::from_utf8_lossy(&bytes).contains(last)
            || started.elapsed() > Duration::from_secs(30)
        {
            return bytes;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn values(spec: &ParamSpec) -> Vec<String> {
    let ParamSpec::Recorded {
        recorded,
        sampled: false,
    } = spec
    else {
        panic!("real values expected: {spec:?}");
    };
    recorded
        .iter()
        .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
        .collect()
}

fn record_and_check(destination: &str, extension: &str, format: LogFormat) {
    let cluster = logging_cluster(destination);
    cluster.create_database("shop").expect("database");
    run_application(&cluster);
    let bytes = read_log(&cluster, extension, "c9@shop.example");
    let mut client = cluster.connect("shop").expect("connects");
    let mut catalog = Catalog::new(&mut client);
    let options = LogOptions {
        format,
        database: Some("shop".into()),
        ..LogOptions::default()
    };
    let recording = from_log::record(&bytes, &options, Some(&mut catalog)).expect("records");
    let find = |fragment: &str| {
        recording
            .drafts
            .iter()
            .find(|d| d.statement.sql.contains(fragment))
            .unwrap_or_else(|| {
                panic!(
                    "{fragment}: {:#?}",
                    recording
                        .drafts
                        .iter()
                        .map(|d| &d.statement.sql)
                        .collect::<Vec<_>>()
                )
            })
    };
    let by_tier = find("tier = $1 AND id < $2");
    assert_eq!(by_tier.calls, 12);
    assert_eq!(by_tier.role.as_deref(), Some("app"));
    let expected_tiers: Vec<String> = (0..12)
        .map(|i| if i % 3 == 0 { "gold" } else { "it's" }.to_string())
        .collect();
    assert_eq!(values(&by_tier.params[0].spec), expected_tiers);
    let expected_ids: Vec<String> = (0..12).map(|i| (i * 10).to_string()).collect();
    assert_eq!(values(&by_tier.params[1].spec), expected_ids);

    let by_id = find("SELECT email FROM customers WHERE id = $1");
    assert_eq!(by_id.calls, 3, "literal statements group by fingerprint");
    assert_eq!(values(&by_id.params[0].spec), ["5", "6", "7"]);

    let by_email = find("WHERE email = $1");
    assert_eq!(
        by_email.params[0].spec,
        ParamSpec::Sample {
            sample: r#"SELECT "email" FROM "public"."customers" WHERE "email" IS NOT NULL"#.into(),
            limit: None
        }
    );
    assert!(
        recording
            .drafts
            .iter()
            .all(|d| d.role.as_deref() == Some("app")),
        "setup statements (pgperf's own connection, DDL) are left out"
    );
    let rendered =
        pgperf::record::write::render("shop", &recording.report, &recording.drafts, None);
    let parsed: WorkloadFile = toml::from_str(&rendered.text).expect("parses back");
    assert_eq!(parsed, rendered.workload);
    assert!(!rendered.text.contains("c9@shop.example"));
    let loaded = pgperf::workload::load_str(&rendered.text, "recorded.toml")
        .unwrap_or_else(|error| panic!("the workload validator accepts the recording: {error}"));
    assert_eq!(loaded.queries.len(), rendered.workload.queries.len());
}

#[test]
fn csvlog_of_a_real_cluster() {
    record_and_check("csvlog", "csv", LogFormat::Auto);
}

#[test]
fn jsonlog_of_a_real_cluster() {
    record_and_check("jsonlog", "json", LogFormat::Jsonlog);
}

#[test]
fn stderr_log_of_a_real_cluster() {
    record_and_check("stderr", "log", LogFormat::Auto);
}
