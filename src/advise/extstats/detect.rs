//! Finding row misestimates that extended statistics can fix (pure): scan nodes of an
//! `EXPLAIN (ANALYZE, VERBOSE, FORMAT JSON)` whose estimated rows are off from the actual ones
//! by [`MISESTIMATE_FACTOR`] or more, either way, while the scan's own conditions compare two
//! or more plain columns of its table by equality, `IN` or range. PostgreSQL multiplies the
//! selectivities of such conditions as if the columns were independent; when they are
//! correlated (a zip code decides the city) the product is far off, and so is every join and
//! aggregate above it. Only scans: PostgreSQL 15's extended statistics cover columns of one
//! table, so a join's misestimate across tables is not theirs to fix.

use serde_json::Value;

use crate::advise::access::PredicateKind;
use crate::advise::parse::ColumnLookup;
use crate::advise::plan;
use crate::model::advice::StatisticsSpec;

/// A scan's estimate this many times above or below its actual rows is a misestimate.
pub const MISESTIMATE_FACTOR: f64 = 10.0;

/// Most columns one statistics object covers (PostgreSQL allows 8; more columns make ANALYZE
/// slower and the MCV list thinner).
const MAX_COLUMNS: usize = 4;

/// One scan whose estimate was off, on the columns its conditions compare.
#[derive(Debug, Clone, PartialEq)]
pub struct Misestimate {
    pub spec: StatisticsSpec,
    pub estimated_rows: f64,
    pub actual_rows: f64,
}

/// How far an estimate is from the actual rows, as a factor ≥ 1 either way (rows below one
/// count as one: the planner never estimates fewer).
pub fn error_factor(estimated_rows: f64, actual_rows: f64) -> f64 {
    let (estimated, actual) = (estimated_rows.max(1.0), actual_rows.max(1.0));
    (estimated / actual).max(actual / estimated)
}

/// The misestimated scans of the plan whose conditions compare at least two plain columns of
/// the scanned table.
pub fn misestimates(explain: &Value, lookup: &dyn ColumnLookup) -> Vec<Misestimate> {
    let mut out = Vec::new();
    for node in plan::nodes(explain) {
        let number = |key: &str| node.get(key).and_then(Value::as_f64);
        let (Some(table), Some(estimated), Some(actual)) = (
            node.get("Relation Name").and_then(Value::as_str),
            number("Plan Rows"),
            number("Actual Rows"),
        ) else {
            continue;
        };
        // A scan never run (the other side of a join came up empty) says nothing.
        if number("Actual Loops") == Some(0.0)
            || error_factor(estimated, actual) < MISESTIMATE_FACTOR
        {
            continue;
        }
        let columns = compared_columns(explain, node, lookup);
        if columns.len() < 2 {
            continue;
        }
        let schema = node
            .get("Schema")
            .and_then(Value::as_str)
            .unwrap_or("public");
        let found = Misestimate {
            spec: StatisticsSpec {
                schema: schema.to_string(),
                table: table.to_string(),
                columns,
            },
            estimated_rows: estimated,
            actual_rows: actual,
        };
        if !out.contains(&found) {
            out.push(found);
        }
    }
    out
}

/// Plain columns the scan's conditions compare by equality, `IN` or range, sorted, at most
/// [`MAX_COLUMNS`].
fn compared_columns(explain: &Value, node: &Value, lookup: &dyn ColumnLookup) -> Vec<String> {
    let mut columns: Vec<String> = plan::scan_accesses(explain, node, lookup)
        .into_iter()
        .flat_map(|access| access.predicates)
        .filter(|p| {
            matches!(
                p.kind,
                PredicateKind::Equality | PredicateKind::In | PredicateKind::Range
            )
        })
        .filter_map(|p| p.key.column().map(str::to_string))
        .collect();
    columns.sort();
    columns.dedup();
    columns.truncate(MAX_COLUMNS);
    columns
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn lookup() -> BTreeMap<String, Vec<String>> {
        BTreeMap::from([
            (
                "addresses".to_string(),
                vec!["id", "city", "zip", "kind", "note"]
                    .into_iter()
                    .map(String::from)
                    .collect(),
            ),
            (
                "kinds".to_string(),
                vec!["id".to_string(), "kind".to_string()],
            ),
        ])
    }

    fn plan(estimated: f64, actual: f64, filter: &str) -> Value {
        serde_json::json!([{ "Plan": {
            "Node Type": "Nested Loop", "Plan Rows": estimated, "Actual Rows": actual,
            "Actual Loops": 1,
            "Plans": [
                { "Node Type": "Bitmap Heap Scan", "Relation Name": "addresses",
                  "Schema": "app", "Alias": "a", "Plan Rows": estimated,
                  "Actual Rows": actual, "Actual Loops": 1,
                  "Recheck Cond": "(a.zip = 42)", "Filter": filter,
                  "Plans": [{ "Node Type": "Bitmap Index Scan", "Index Name": "addresses_zip_idx",
                              "Index Cond": "(a.zip = 42)", "Plan Rows": 1000.0,
                              "Actual Rows": 1000.0, "Actual Loops": 1 }] },
                { "Node Type": "Seq Scan", "Relation Name": "kinds", "Schema": "app",
                  "Alias": "k", "Plan Rows": 900.0, "Actual Rows": 900.0, "Actual Loops": 1000 }
            ]
        }}])
    }

    #[test]
    fn correlated_equalities_underestimated_100_times_are_found() {
        let found = misestimates(&plan(10.0, 1000.0, "(a.city = 1042)"), &lookup());
        assert_eq!(
            found,
            vec![Misestimate {
                spec: StatisticsSpec {
                    schema: "app".into(),
                    table: "addresses".into(),
                    columns: vec!["city".into(), "zip".into()],
                },
                estimated_rows: 10.0,
                actual_rows: 1000.0,
            }]
        );
    }

    #[test]
    fn overestimates_count_too() {
        let found = misestimates(&plan(2000.0, 0.0, "(a.city > 1050)"), &lookup());
        assert_eq!(found.len(), 1);
    }

    #[test]
    fn an_estimate_within_ten_times_is_no_misestimate() {
        assert!(misestimates(&plan(200.0, 1000.0, "(a.city = 1042)"), &lookup()).is_empty());
    }

    #[test]
    fn one_column_or_a_non_column_condition_is_not_for_statistics() {
        assert!(misestimates(&plan(10.0, 1000.0, "(a.note ~~ 'x%'::text)"), &lookup()).is_empty());
        assert!(
            misestimates(
                &plan(10.0, 1000.0, "(lower(a.note) = 'x'::text)"),
                &lookup()
            )
            .is_empty()
        );
    }

    #[test]
    fn error_factor_is_symmetric_and_floors_rows_at_one() {
        assert_eq!(error_factor(10.0, 1000.0), 100.0);
        assert_eq!(error_factor(1000.0, 10.0), 100.0);
        assert_eq!(error_factor(0.0, 0.0), 1.0);
        assert_eq!(error_factor(5.0, 0.0), 5.0);
    }
}
