//! The advise corpus: single-query cases as data (`tests/fixtures/advise_corpus/*.toml`, see the
//! README there), one embedded cluster, one database per family. Each case asserts the
//! recommended indexes or "nothing", never costs. Cases the advisor gets wrong today carry
//! `known_failure` and are reported as failing; the test fails on a regression (a case without
//! the mark fails) and on a mark that is no longer true (the case passes), so the pass count in
//! docs/benchmarks.md stays honest. `PGPERF_CORPUS_FAMILY=sort` runs the families whose file
//! name contains the text.

use std::path::{Path, PathBuf};

use pgperf::advise::{AdviseOptions, advise};
use pgperf::embedded::{Cluster, ClusterOptions};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Family {
    family: String,
    setup: String,
    #[serde(default = "yes")]
    analyze: bool,
    #[serde(default)]
    vacuum: bool,
    case: Vec<Case>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    sql: String,
    #[serde(default)]
    params: Vec<String>,
    /// Literal-only queries advised together with `sql`.
    #[serde(default)]
    also: Vec<String>,
    /// Literal-only writes (`kind = "write"`) advised together with `sql`, each with its
    /// weight (calls per session): what the write cost weighs.
    #[serde(default)]
    writes: Vec<Write>,
    /// Verify for real (rolled-back builds and trials, timed): extended statistics are only
    /// proposed by verification, which their trial needs.
    #[serde(default)]
    verify: bool,
    expect: Vec<String>,
    known_failure: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Write {
    sql: String,
    weight: f64,
}

struct Outcome {
    family: String,
    case: String,
    passed: bool,
    known_failure: Option<String>,
    got: Vec<String>,
    rejected: Vec<String>,
}

fn families() -> Vec<(PathBuf, Family)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/advise_corpus");
    let filter = std::env::var("PGPERF_CORPUS_FAMILY").unwrap_or_default();
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("corpus folder")
        .map(|e| e.expect("corpus entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .filter(|p| p.to_string_lossy().contains(&filter))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).expect("corpus file");
            let family =
                toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            (path, family)
        })
        .collect()
}

/// The case as a workload: `case` with its parameter values, then `also_1`, `also_2`, ...
fn workload(case: &Case) -> pgperf::workload::Workload {
    let query = |name: &str, sql: &str, params: &[String]| {
        let mut table = toml::Table::new();
        table.insert("name".into(), name.into());
        table.insert("sql".into(), sql.into());
        if let Some(write) = case.writes.iter().find(|w| w.sql == sql) {
            table.insert("kind".into(), "write".into());
            table.insert("weight".into(), write.weight.into());
        }
        let params = params
            .iter()
            .map(|v| {
                let mut param = toml::Table::new();
                param.insert("value".into(), v.as_str().into());
                toml::Value::Table(param)
            })
            .collect();
        table.insert("params".into(), toml::Value::Array(params));
        toml::Value::Table(table)
    };
    let mut queries = vec![query("case", &case.sql, &case.params)];
    for (number, sql) in case.also.iter().enumerate() {
        queries.push(query(&format!("also_{}", number + 1), sql, &[]));
    }
    for (number, write) in case.writes.iter().enumerate() {
        queries.push(query(&format!("write_{}", number + 1), &write.sql, &[]));
    }
    let mut root = toml::Table::new();
    root.insert("name".into(), case.name.as_str().into());
    root.insert("query".into(), toml::Value::Array(queries));
    let text = toml::to_string(&root).expect("workload text");
    pgperf::workload::load_str(&text, &case.name).expect("valid workload")
}

/// The recommended definitions (extended statistics as `STATISTICS "table" (columns)`),
/// sorted, and each rejected candidate with its reason.
fn run_case(client: &mut postgres::Client, case: &Case) -> (Vec<String>, Vec<String>) {
    let verify = case.verify.then(|| pgperf::advise::VerifyOptions {
        executions: 59,
        ..Default::default()
    });
    let options = AdviseOptions {
        verify,
        ..AdviseOptions::default()
    };
    match advise(client, &workload(case), &options) {
        Ok(advice) => {
            let statistics = |spec: &pgperf::model::advice::StatisticsSpec| {
                let columns: Vec<String> =
                    spec.columns.iter().map(|c| format!("\"{c}\"")).collect();
                format!("STATISTICS \"{}\" ({})", spec.table, columns.join(", "))
            };
            let mut got: Vec<String> = advice
                .recommendations
                .iter()
                .map(|r| short(&r.spec))
                .chain(advice.statistics.iter().map(|s| statistics(&s.spec)))
                .collect();
            got.sort();
            let rejected = advice
                .rejected
                .iter()
                .map(|r| format!("{}: {}", short(&r.spec), r.explanation))
                .chain(
                    advice
                        .rejected_statistics
                        .iter()
                        .map(|r| format!("{}: {}", statistics(&r.spec), r.explanation)),
                )
                .collect();
            (got, rejected)
        }
        Err(error) => (vec![format!("error: {error}")], Vec::new()),
    }
}

/// `VACUUM ANALYZE` until every table's pages are all-visible (what makes index-only scans
/// pay): a concurrent snapshot (autovacuum's ANALYZE of a database just created) can hold the
/// first VACUUM back.
fn vacuum(client: &mut postgres::Client) {
    for _ in 0..20 {
        client.batch_execute("VACUUM ANALYZE").expect("vacuum");
        let behind: i64 = client
            .query_one(
                "SELECT count(*) FROM pg_class WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace AND relallvisible < relpages",
                &[],
            )
            .expect("visibility")
            .get(0);
        if behind == 0 {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
    panic!("VACUUM never made the tables all-visible");
}

/// The definition without `ON "public".`.
fn short(spec: &pgperf::model::advice::IndexSpec) -> String {
    pgperf::advise::ddl::definition(spec)
        .replacen("ON \"public\".", "", 1)
        .trim()
        .to_string()
}

#[test]
fn advise_corpus() {
    let cluster = Cluster::start(&ClusterOptions::default()).expect("embedded cluster");
    let mut outcomes = Vec::new();
    for (number, (path, family)) in families().into_iter().enumerate() {
        let database = format!("corpus_{number}");
        cluster.create_database(&database).expect("create database");
        let mut client = cluster.connect(&database).expect("connect");
        client
            .batch_execute(&family.setup)
            .unwrap_or_else(|e| panic!("{}: setup: {e}", path.display()));
        match (family.vacuum, family.analyze) {
            (true, _) => vacuum(&mut client),
            (false, true) => client.batch_execute("ANALYZE").expect("analyze"),
            (false, false) => {}
        }
        for case in &family.case {
            let (got, rejected) = run_case(&mut client, case);
            let mut expect: Vec<String> =
                case.expect.iter().map(|e| e.trim().to_string()).collect();
            expect.sort();
            outcomes.push(Outcome {
                family: family.family.clone(),
                case: case.name.clone(),
                passed: got == expect,
                known_failure: case.known_failure.clone(),
                got,
                rejected,
            });
        }
    }
    report(&outcomes);
    let regressions: Vec<&Outcome> = outcomes
        .iter()
        .filter(|o| !o.passed && o.known_failure.is_none())
        .collect();
    let fixed: Vec<&str> = outcomes
        .iter()
        .filter(|o| o.passed && o.known_failure.is_some())
        .map(|o| o.case.as_str())
        .collect();
    assert!(
        regressions.is_empty(),
        "cases that should pass fail: {:#?}",
        regressions
            .iter()
            .map(|o| (&o.case, &o.got))
            .collect::<Vec<_>>()
    );
    assert!(
        fixed.is_empty(),
        "known failures that pass now (remove their known_failure): {fixed:?}"
    );
}

fn report(outcomes: &[Outcome]) {
    let mut families: Vec<&str> = outcomes.iter().map(|o| o.family.as_str()).collect();
    families.dedup();
    for family in families {
        let of: Vec<&Outcome> = outcomes.iter().filter(|o| o.family == family).collect();
        let passed = of.iter().filter(|o| o.passed).count();
        println!("{family}: {passed} of {} pass", of.len());
        for outcome in of.iter().filter(|o| !o.passed) {
            println!(
                "  FAIL {}: got {:?}{}",
                outcome.case,
                outcome.got,
                outcome
                    .known_failure
                    .as_ref()
                    .map(|why| format!(" (known: {why})"))
                    .unwrap_or_default()
            );
            for line in &outcome.rejected {
                println!("    rejected {line}");
            }
        }
    }
    let passed = outcomes.iter().filter(|o| o.passed).count();
    println!("advise corpus: {passed} of {} cases pass", outcomes.len());
}
