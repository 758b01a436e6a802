//! Advice beyond indexes against a real embedded cluster: extended statistics kept by their
//! rolled-back trial and written into the migration, or refused when no plan changes, and a
//! query whose candidates only the storage budget refused, and one index per key list (never
//! a plain index and its INCLUDE twin together). Decisions only, never costs or milliseconds.

use pgperf::advise::{AdviseOptions, VerifyOptions, advise};
use pgperf::embedded::{Cluster, ClusterOptions};

/// city, zip and area decide each other: estimated 1 row where 1,000 match, so the planner
/// scans the 900 kinds once per row in a nested loop; with statistics it hashes them. (An
/// index on the three columns ends the nested loop too: the workload's inserts make every
/// index cost more than it saves, so the statistics are what is left to fix it.)
const ADDRESSES: &str = "
CREATE TABLE addresses (
  id bigint PRIMARY KEY, city int NOT NULL, zip int NOT NULL, area int NOT NULL,
  kind int NOT NULL, note text NOT NULL);
INSERT INTO addresses
SELECT g, 1000 + g % 100, g % 100, 2000 + g % 100, g % 900, 'n' || g
FROM generate_series(1, 100000) g;
CREATE INDEX addresses_zip_idx ON addresses (zip);
CREATE TABLE kinds (id bigint PRIMARY KEY, kind int NOT NULL, amount int NOT NULL);
INSERT INTO kinds SELECT g, g % 900, g % 97 FROM generate_series(1, 900) g;
ANALYZE;";

/// A workload of one read with its parameter values and, when given, one write run `weight`
/// times per session.
fn workload(sql: &str, params: &[&str], write: Option<(&str, f64)>) -> pgperf::workload::Workload {
    let params: Vec<String> = params
        .iter()
        .map(|v| format!("{{ value = \"{v}\" }}"))
        .collect();
    let mut text = format!(
        "name = \"case\"\n[[query]]\nname = \"by_place\"\nsql = \"{sql}\"\nparams = [{}]\n",
        params.join(", ")
    );
    if let Some((sql, weight)) = write {
        text.push_str(&format!(
            "[[query]]\nname = \"load\"\nkind = \"write\"\nweight = {weight}\nsql = \"{sql}\"\n"
        ));
    }
    pgperf::workload::load_str(&text, "case").expect("valid workload")
}

#[test]
fn correlated_columns_get_extended_statistics_in_the_migration() {
    let cluster = Cluster::start(&ClusterOptions::default()).expect("embedded cluster");
    cluster.create_database("stats").expect("create database");
    let mut client = cluster.connect("stats").expect("connect");
    client.batch_execute(ADDRESSES).expect("setup");
    let workload = workload(
        "SELECT count(*), sum(k.amount) FROM addresses a JOIN kinds k ON k.kind = a.kind WHERE a.city = $1 AND a.zip = $2 AND a.area = $3",
        &["1042", "42", "2042"],
        Some((
            "INSERT INTO addresses SELECT 100000 + g, 1000 + g % 100, g % 100, 2000 + g % 100, g % 900, 'w' FROM generate_series(1, 100) g",
            5.0,
        )),
    );
    let options = AdviseOptions {
        verify: Some(VerifyOptions {
            executions: 59,
            ..VerifyOptions::default()
        }),
        ..AdviseOptions::default()
    };
    let advice = advise(&mut client, &workload, &options).expect("advise runs");
    let names: Vec<&str> = advice.statistics.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        ["addresses_area_city_zip_stats"],
        "{:#?}",
        advice.rejected_statistics
    );
    assert!(
        advice.recommendations.is_empty(),
        "writes outweigh the indexes"
    );
    let effect = &advice.statistics[0].effects[0];
    assert!(effect.plan_changed);
    assert!(effect.estimated_rows_before * 10.0 <= effect.actual_rows);
    assert!(effect.evidence.judgement.helps(), "{:?}", effect.evidence);
    let (up, down) =
        pgperf::advise::ddl::migration_pair(&advice.recommendations, &advice.statistics);
    assert!(
        up.contains("CREATE STATISTICS IF NOT EXISTS \"public\".\"addresses_area_city_zip_stats\" (dependencies, ndistinct, mcv) ON \"area\", \"city\", \"zip\" FROM \"public\".\"addresses\";\nANALYZE \"public\".\"addresses\";"),
        "{up}"
    );
    assert!(
        down.contains("DROP STATISTICS IF EXISTS \"public\".\"addresses_area_city_zip_stats\";"),
        "{down}"
    );
    let left: i64 = client
        .query_one("SELECT count(*) FROM pg_statistic_ext", &[])
        .expect("catalog")
        .get(0);
    assert_eq!(left, 0, "the trial's statistics were rolled back");
}

#[test]
fn statistics_that_change_no_plan_are_refused_with_the_reason() {
    let cluster = Cluster::start(&ClusterOptions::default()).expect("embedded cluster");
    cluster
        .create_database("same_plan")
        .expect("create database");
    let mut client = cluster.connect("same_plan").expect("connect");
    client.batch_execute(ADDRESSES).expect("setup");
    // Two of the three columns: estimated 10 rows where 1,000 match (100x off), but the hash
    // join is the plan either way.
    let workload = workload(
        "SELECT count(*), sum(k.amount) FROM addresses a JOIN kinds k ON k.kind = a.kind WHERE a.city = $1 AND a.zip = $2",
        &["1042", "42"],
        Some((
            "INSERT INTO addresses SELECT 100000 + g, 1000 + g % 100, g % 100, 2000 + g % 100, g % 900, 'w' FROM generate_series(1, 100) g",
            5.0,
        )),
    );
    let options = AdviseOptions {
        verify: Some(VerifyOptions {
            executions: 59,
            ..VerifyOptions::default()
        }),
        ..AdviseOptions::default()
    };
    let advice = advise(&mut client, &workload, &options).expect("advise runs");
    assert!(advice.statistics.is_empty(), "{:#?}", advice.statistics);
    let refused: Vec<(&str, &str)> = advice
        .rejected_statistics
        .iter()
        .map(|r| (r.name.as_str(), r.explanation.as_str()))
        .collect();
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(refused[0].0, "addresses_city_zip_stats");
    assert!(
        refused[0].1.starts_with("no plan changed with them"),
        "{refused:?}"
    );
}

#[test]
fn a_query_refused_only_for_budget_says_raise_the_budget() {
    let cluster = Cluster::start(&ClusterOptions::default()).expect("embedded cluster");
    cluster.create_database("budget").expect("create database");
    let mut client = cluster.connect("budget").expect("connect");
    client
        .batch_execute(
            "CREATE TABLE events (id bigint PRIMARY KEY, device int NOT NULL, note text NOT NULL);
             INSERT INTO events SELECT g, g % 50000, 'n' || g FROM generate_series(1, 200000) g;
             ANALYZE;",
        )
        .expect("setup");
    let workload = workload(
        "SELECT id, note FROM events WHERE device = $1",
        &["42"],
        None,
    );
    let options = AdviseOptions {
        verify: None,
        budget_bytes: Some(64 * 1024),
        ..AdviseOptions::default()
    };
    let advice = advise(&mut client, &workload, &options).expect("advise runs");
    assert!(advice.recommendations.is_empty());
    let note = advice.queries[0].note.as_deref().unwrap_or_default();
    assert!(
        note.starts_with("candidates refused for the storage budget (needs ")
            && note.contains(" MB more): raise --budget-mb"),
        "{note}"
    );
}

/// Item 7: on a vacuumed table the plain index won the first selection round and its INCLUDE
/// twin was chosen on top of it in the next: both were advised. One is kept, verified, and the
/// other is refused naming it.
#[test]
fn never_the_same_key_columns_twice_with_and_without_include() {
    let cluster = Cluster::start(&ClusterOptions::default()).expect("embedded cluster");
    cluster.create_database("twins").expect("create database");
    let mut client = cluster.connect("twins").expect("connect");
    client
        .batch_execute(
            "CREATE TABLE readings (
               id bigint PRIMARY KEY, device int NOT NULL, zone int NOT NULL, a int NOT NULL,
               b int NOT NULL, note text NOT NULL);
             INSERT INTO readings
             SELECT g, g % 20000, (g * 7) % 20000, g % 13, g % 17, 'note ' || g
             FROM generate_series(1, 200000) g;",
        )
        .expect("setup");
    all_visible(&mut client, "readings");
    let text = "name = \"case\"
[[query]]
name = \"lookup\"
sql = \"SELECT note FROM readings WHERE device = $1\"
params = [{ value = \"42\" }]
[[query]]
name = \"range\"
sql = \"SELECT * FROM readings WHERE device BETWEEN 100 AND 300\"
";
    let workload = pgperf::workload::load_str(text, "case").expect("valid workload");
    let options = AdviseOptions {
        verify: Some(VerifyOptions {
            executions: 59,
            ..VerifyOptions::default()
        }),
        ..AdviseOptions::default()
    };
    let advice = advise(&mut client, &workload, &options).expect("advise runs");
    let kept: Vec<(&[_], &[String])> = advice
        .recommendations
        .iter()
        .map(|r| (r.spec.keys.as_slice(), r.spec.include.as_slice()))
        .collect();
    assert_eq!(kept.len(), 1, "{:#?}", advice.recommendations);
    assert_eq!(kept[0].0[0].sql, "\"device\"");
    let name = &advice.recommendations[0].name;
    let twin = advice
        .rejected
        .iter()
        .find(|r| r.spec.keys == advice.recommendations[0].spec.keys)
        .expect("the twin is refused");
    assert_eq!(
        twin.reason,
        pgperf::model::advice::RejectReason::Superseded { by: name.clone() },
        "{}",
        twin.explanation
    );
    assert!(
        twin.explanation.contains("same key columns"),
        "{}",
        twin.explanation
    );
}

/// `VACUUM ANALYZE` until every page of `table` is all-visible (what makes an index-only scan
/// pay): a concurrent snapshot (autovacuum's ANALYZE of a database just created) can hold the
/// first one back.
fn all_visible(client: &mut postgres::Client, table: &str) {
    for _ in 0..20 {
        client
            .batch_execute(&format!("VACUUM ANALYZE \"{table}\""))
            .expect("vacuum");
        let behind: bool = client
            .query_one(
                "SELECT relallvisible < relpages FROM pg_class WHERE oid = $1::text::regclass",
                &[&table],
            )
            .expect("visibility")
            .get(0);
        if !behind {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
    panic!("VACUUM never made {table} all-visible");
}
