//! `pgperf record --from-stat-statements` against a real embedded cluster: an application role
//! runs parameterised queries, the recorder picks the top statements, leaves out utility,
//! catalog and trivial ones, and samples parameter values from `pg_stats`.

use std::collections::BTreeSet;

use pgperf::embedded::{Cluster, ClusterOptions};
use pgperf::pg::TextParam;
use pgperf::record::{StatOptions, from_stats};
use pgperf::workload::{ParamSpec, WorkloadFile};

mod record_support;

const SETUP: &str = "
    CREATE TABLE orders (
        id bigserial PRIMARY KEY,
        customer_id int NOT NULL,
        status text NOT NULL,
        total numeric NOT NULL,
        created_at timestamptz NOT NULL
    );
    INSERT INTO orders (customer_id, status, total, created_at)
    SELECT 1 + (i * 7919) % 500,
           CASE WHEN i % 50 = 0 THEN 'pending' WHEN i % 10 = 1 THEN 'open' ELSE 'done' END,
           (i % 1000) / 10.0,
           now() - (i % 720) * interval '1 hour'
      FROM generate_series(1, 20000) AS i;
    ANALYZE orders;
    CREATE ROLE app LOGIN;
    GRANT SELECT ON orders TO app;";

fn run_application(cluster: &Cluster) {
    let mut app = record_support::app(cluster);
    let by_customer = app
        .prepare("SELECT id, total FROM orders o WHERE o.customer_id = $1 AND status = $2")
        .expect("prepares");
    for i in 0..30 {
        let status = if i % 3 == 0 { "pending" } else { "done" };
        app.query(&by_customer, &[&(i % 17 + 1), &status])
            .expect("runs");
    }
    for _ in 0..5 {
        app.query(
            "SELECT count(*) FROM orders WHERE created_at > now() - $1::interval LIMIT 10",
            &[&TextParam(Some("7 days".into()))],
        )
        .expect("runs");
    }
    for id in 1..=4_i64 {
        app.query(
            "SELECT jsonb_build_object('id', id, 'total', total) FROM orders WHERE id = $1",
            &[&id],
        )
        .expect("runs");
    }
    for _ in 0..10 {
        app.query(
            "SELECT relname FROM pg_class WHERE relname = $1",
            &[&"orders"],
        )
        .expect("runs");
    }
    app.batch_execute("SET work_mem = '8MB'; SELECT 1; SHOW work_mem")
        .expect("runs");
}

#[test]
fn top_statements_are_recorded_with_sampled_values() {
    let cluster = Cluster::start(&ClusterOptions::default()).expect("cluster starts");
    let mut admin = record_support::shop(&cluster, SETUP);
    run_application(&cluster);

    let options = StatOptions {
        top: 10,
        min_calls: 1,
        keep_literals: false,
        reference: None,
        measure: false,
    };
    let recording = from_stats::record(&mut admin, &options).expect("records");
    let sqls: Vec<&str> = recording
        .drafts
        .iter()
        .map(|d| d.statement.sql.as_str())
        .collect();
    assert_eq!(
        recording.drafts.len(),
        3,
        "only the application's statements: {sqls:#?}"
    );

    let orders = recording
        .drafts
        .iter()
        .find(|d| d.statement.sql.contains("customer_id = $1"))
        .expect("the customer query");
    assert_eq!(orders.calls, 30);
    assert_eq!(orders.role.as_deref(), Some("app"));
    let ParamSpec::Recorded {
        recorded: customers,
        sampled: true,
    } = &orders.params[0].spec
    else {
        panic!("sampled customer ids: {:?}", orders.params[0]);
    };
    assert!(
        customers
            .iter()
            .all(|v| v.as_integer().is_some_and(|id| (1..=500).contains(&id)))
    );
    let ParamSpec::Recorded {
        recorded: statuses,
        sampled: true,
    } = &orders.params[1].spec
    else {
        panic!("sampled statuses: {:?}", orders.params[1]);
    };
    let distinct: BTreeSet<&str> = statuses.iter().filter_map(|v| v.as_str()).collect();
    assert_eq!(distinct, BTreeSet::from(["done", "open", "pending"]));
    let done = statuses
        .iter()
        .filter(|v| v.as_str() == Some("done"))
        .count();
    assert!(
        done > statuses.len() / 2,
        "drawn by frequency: {done} of {}",
        statuses.len()
    );

    let window = recording
        .drafts
        .iter()
        .find(|d| d.statement.sql.contains("interval"))
        .expect("the time-window query");
    assert_eq!(window.calls, 5);
    assert!(window.params[0].placeholder, "{:?}", window.params);
    // `count(*)` returned one row per call: a LIMIT of 1 returns as many as the hidden 10,
    // and goes back into the text as the constant it was.
    assert_eq!(window.params.len(), 1, "{:?}", window.params);
    assert!(
        window.statement.sql.ends_with("LIMIT 1"),
        "{}",
        window.statement.sql
    );

    let object = recording
        .drafts
        .iter()
        .find(|d| d.statement.sql.contains("jsonb_build_object"))
        .expect("the jsonb query");
    assert!(
        object
            .statement
            .sql
            .contains("jsonb_build_object($2::text, id, $3::text, total)"),
        "keys the server cannot type are cast to text: {}",
        object.statement.sql
    );
    admin
        .prepare(&object.statement.sql)
        .expect("the recorded statement prepares");
    assert!(!object.params[0].placeholder, "id sampled from pg_stats");
    assert!(object.params[1].placeholder && object.params[2].placeholder);
    assert_eq!(recording.placeholders().len(), 1 + 2);

    let rendered =
        pgperf::record::write::render("shop", &recording.report, &recording.drafts, None);
    let parsed: WorkloadFile = toml::from_str(&rendered.text).expect("parses back");
    assert_eq!(parsed, rendered.workload);
    assert_eq!(parsed.personas["app"].role, "app");
    let loaded = pgperf::workload::load_str(&rendered.text, "recorded.toml")
        .unwrap_or_else(|error| panic!("the workload validator accepts the recording: {error}"));
    assert_eq!(loaded.queries.len(), rendered.workload.queries.len());
}

#[test]
fn a_database_without_pg_stat_statements_says_what_to_do() {
    let cluster = Cluster::start(&ClusterOptions::default()).expect("cluster starts");
    cluster.create_database("bare").expect("database");
    let mut client = cluster.connect("bare").expect("connects");
    client
        .batch_execute("DROP EXTENSION pg_stat_statements")
        .expect("drop");
    let options = StatOptions {
        top: 10,
        min_calls: 1,
        keep_literals: false,
        reference: None,
        measure: false,
    };
    let error = from_stats::record(&mut client, &options).expect_err("no extension");
    assert!(
        error
            .to_string()
            .contains("CREATE EXTENSION pg_stat_statements"),
        "{error}"
    );
}
