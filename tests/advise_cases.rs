//! Advisor decisions against a real embedded cluster (one per test binary, one database per
//! case), each on a table of 100k+ rows after ANALYZE. Assertions are about decisions (which
//! columns in which order, or no index and why), never about costs or milliseconds.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

use pgperf::advise::{Advice, AdviseOptions, VerifyOptions, advise};
use pgperf::embedded::{Cluster, ClusterOptions};
use pgperf::model::advice::{RejectReason, Verification};
use pgperf::workload::format::WorkloadFile;

fn cluster() -> &'static Cluster {
    static CLUSTER: OnceLock<Cluster> = OnceLock::new();
    CLUSTER.get_or_init(|| Cluster::start(&ClusterOptions::default()).expect("embedded cluster"))
}

/// A fresh database with `setup` applied and analyzed.
fn database(setup: &str) -> postgres::Client {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let name = format!("advise_{}", NEXT.fetch_add(1, Ordering::SeqCst));
    cluster().create_database(&name).expect("create database");
    let mut client = cluster().connect(&name).expect("connect");
    client.batch_execute(setup).expect("setup");
    client.batch_execute("ANALYZE").expect("analyze");
    client
}

/// The usual table: 200k orders, customer_id ~20k distinct, status skewed (98% 'done').
const ORDERS: &str = "
CREATE TABLE orders (
  id bigint PRIMARY KEY, customer_id int NOT NULL, status text NOT NULL,
  region text NOT NULL, created_at timestamptz NOT NULL, total numeric NOT NULL,
  email text NOT NULL, payload jsonb NOT NULL, flag boolean NOT NULL);
INSERT INTO orders
SELECT g, g % 20000, CASE WHEN g % 50 = 0 THEN 'pending' ELSE 'done' END,
       (ARRAY['eu','us','apac'])[1 + g % 3], now() - (g || ' minutes')::interval,
       (g % 1000) / 10.0, 'User' || g || '@Example.com',
       jsonb_build_object('kind', 'k' || (g % 5000)), g % 2 = 0
FROM generate_series(1, 200000) g;";

fn options(verify: bool) -> AdviseOptions {
    AdviseOptions {
        verify: verify.then(|| VerifyOptions {
            executions: 60,
            ..VerifyOptions::default()
        }),
        ..AdviseOptions::default()
    }
}

fn workload(toml_text: &str) -> WorkloadFile {
    toml::from_str(&format!("name = \"case\"\n{toml_text}")).expect("valid workload")
}

fn run(client: &mut postgres::Client, toml_text: &str, verify: bool) -> Advice {
    advise(client, &workload(toml_text), &options(verify)).expect("advise runs")
}

/// `table(key, key DESC) INCLUDE (..) WHERE ..` for each recommendation.
fn decided(advice: &Advice) -> Vec<String> {
    advice
        .recommendations
        .iter()
        .map(|r| pgperf::advise::ddl::definition(&r.spec))
        .collect()
}

fn rejected_reasons(advice: &Advice) -> Vec<RejectReason> {
    advice.rejected.iter().map(|r| r.reason.clone()).collect()
}

fn assert_single(advice: &Advice, expected: &str) {
    assert_eq!(
        decided(advice),
        vec![expected.to_string()],
        "rejected: {:#?}",
        advice.rejected
    );
}

#[test]
fn single_equality() {
    let mut client = database(ORDERS);
    let advice = run(
        &mut client,
        r#"[[query]]
name = "by_customer"
sql = "SELECT id, total FROM orders WHERE customer_id = $1"
params = [{ value = 42 }]"#,
        true,
    );
    assert!(matches!(advice.verification, Verification::Measured { .. }));
    assert_eq!(advice.recommendations.len(), 1, "{:#?}", advice.rejected);
    let spec = &advice.recommendations[0].spec;
    assert_eq!(spec.keys[0].sql, "\"customer_id\"");
    let effect = &advice.recommendations[0].effects[0];
    assert!(effect.p95_before.is_some() && effect.p95_after.is_some());
}

#[test]
fn tiny_table_gets_nothing() {
    let mut client = database(
        "CREATE TABLE tiny (id int PRIMARY KEY, kind text); INSERT INTO tiny SELECT g, 'k' || g FROM generate_series(1, 100) g;",
    );
    let advice = run(
        &mut client,
        r#"[[query]]
name = "tiny"
sql = "SELECT * FROM tiny WHERE kind = 'k5'""#,
        false,
    );
    assert!(advice.recommendations.is_empty());
    assert!(
        rejected_reasons(&advice)
            .iter()
            .all(|r| matches!(r, RejectReason::TinyTable { .. }))
    );
}
