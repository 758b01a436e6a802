//! Workload files are validated before anything runs, and every message says where and what to
//! fix. Messages are snapshot-tested because users read them.

use pgperf::workload::{self, QueryKind, WorkloadError};

fn error(text: &str) -> String {
    workload::load_str(text, "dash.toml")
        .expect_err("the workload is invalid")
        .to_string()
}

#[test]
fn the_shop_fixture_is_valid() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/shop/workload.toml");
    let workload = workload::load_file(&path).expect("valid");
    assert_eq!(workload.queries.len(), 4);
    let place = &workload.queries[3];
    assert_eq!(place.kind, QueryKind::Write);
    assert!(place.rolls_back());
    assert_eq!(workload.queries[0].budget_p95_ms, 100.0);
    assert_eq!(
        workload.queries[2].budget_p95_ms, 3000.0,
        "tiles get the tile budget"
    );
    assert_eq!(
        workload.queries[1].persona.as_ref().expect("persona").name,
        "other_shop"
    );
    assert_eq!(workload.hash.len(), 64);
}

#[test]
fn toml_errors_give_file_line_and_column() {
    let text = "name = \"x\"\n\n[[query]]\nname = \"a\"\nsql = \"SELECT 1\"\nwieght = 2\n";
    match workload::load_str(text, "dash.toml") {
        Err(WorkloadError::Toml { line, column, .. }) => assert_eq!((line, column), (6, 1)),
        other => panic!("expected a TOML error, got {other:?}"),
    }
    insta::assert_snapshot!(error(text));
}

#[test]
fn an_unknown_generator_names_the_generators() {
    let text = "name = \"x\"\n[[query]]\nname = \"a\"\nsql = \"SELECT $1\"\nparams = [{ one_off = [1, 2] }]\n";
    insta::assert_snapshot!(error(text));
}

#[test]
fn a_missing_file_says_which() {
    let missing =
        workload::load_file(std::path::Path::new("/nonexistent/w.toml")).expect_err("missing");
    assert!(
        missing
            .to_string()
            .starts_with("cannot read the workload file /nonexistent/w.toml")
    );
}

#[test]
fn every_semantic_problem_is_reported_at_once() {
    let text = r#"
name = "broken"
[defaults]
persona = "ghost"

[personas.viewer]
role = "authenticated"

[[query]]
name = "count_mismatch"
persona = "viewer"
sql = "SELECT * FROM t WHERE a = $1 AND b = $2 AND c = '$3' -- $4"
params = [{ value = 1 }]

[[query]]
name = "count_mismatch"
persona = "viewer"
sql = "SELECT 1"

[[query]]
name = "gap"
persona = "viewer"
sql = "SELECT $1, $3"
params = [{ value = 1 }, { value = 2 }, { value = 3 }]

[[query]]
name = "unknown_persona"
persona = "admin"
sql = "SELECT 1"

[[query]]
name = "two_statements"
persona = "viewer"
sql = "SELECT 1; SELECT 2"

[[query]]
name = "bad generators"
persona = "viewer"
kind = "read"
commit = true
weight = 0
sql = "SELECT $1, $2, $3"
params = [
  { one_of = ["a", "b"], weights = [1] },
  { ago = "2 fortnights" },
  { int_between = [10, 1] },
]

[[query]]
name = "syntax"
persona = "viewer"
sql = "SELEC 1"
"#;
    insta::assert_snapshot!(error(text));
}

/// Issue 15: a DELETE in a query marked `kind = "read"` ran and committed (1 000 rows became
/// 680, exit 0). The parser now refuses it, naming the query, before anything connects.
#[test]
fn a_data_changing_read_or_tile_is_refused_before_connecting() {
    let text = r#"
name = "sneaky"

[[query]]
name = "purge_old"
kind = "read"
sql = "DELETE FROM orders WHERE id < $1"
params = [{ value = 100 }]

[[query]]
name = "tile_with_cte"
kind = "tile"
sql = "WITH d AS (UPDATE orders SET total = 0 RETURNING 1) SELECT count(*) FROM d"

[[query]]
name = "sample_writes"
sql = "SELECT $1"
params = [{ sample = "DELETE FROM orders RETURNING id" }]

[[query]]
name = "real_write"
kind = "write"
sql = "DELETE FROM orders WHERE id = $1"
params = [{ value = 1 }]
"#;
    insta::assert_snapshot!(error(text));
}
