//! EXPLAIN capture and plan shapes. The shape of a plan is what stays equal when only timings
//! and row counts move: node types, strategies, join types, relations, indexes and the tree
//! structure. Its SHA-256 lets `check` and `report` tell "same plan" from "plan changed" without
//! comparing numbers.

use postgres::Client;
use serde_json::Value;

use crate::model::PlanCapture;
use crate::pg::TextParam;

/// Runs `EXPLAIN (ANALYZE, BUFFERS, VERBOSE, FORMAT JSON)` of `sql` with `params` bound as text,
/// on the session as it is (role and claims already set by the caller). VERBOSE adds the
/// query identifier that pg_stat_statements rows are matched by.
pub fn explain_analyze(
    client: &mut Client,
    sql: &str,
    params: &[Option<String>],
) -> Result<(PlanCapture, Option<i64>), postgres::Error> {
    let text = format!("EXPLAIN (ANALYZE, BUFFERS, VERBOSE, FORMAT JSON) {sql}");
    let binds: Vec<TextParam> = params.iter().cloned().map(TextParam).collect();
    let refs: Vec<&(dyn postgres::types::ToSql + Sync)> = binds
        .iter()
        .map(|bind| bind as &(dyn postgres::types::ToSql + Sync))
        .collect();
    let row = client.query_one(&text, &refs)?;
    let explain: Value = row.get(0);
    Ok(capture_from_json(explain, params))
}

/// Builds a capture (and the query identifier, when present) from an EXPLAIN JSON document.
pub fn capture_from_json(explain: Value, params: &[Option<String>]) -> (PlanCapture, Option<i64>) {
    let top = explain.get(0).cloned().unwrap_or(Value::Null);
    let shape = top.get("Plan").map(plan_shape).unwrap_or_default();
    let number = |key: &str| top.get(key).and_then(Value::as_f64).unwrap_or(0.0);
    let query_id = top.get("Query Identifier").and_then(Value::as_i64);
    let capture = PlanCapture {
        shape_hash: crate::workload::hex_sha256(shape.join("\n").as_bytes()),
        shape,
        params: params.to_vec(),
        planning_time_ms: number("Planning Time"),
        execution_time_ms: number("Execution Time"),
        explain,
    };
    (capture, query_id)
}

/// The readable shape lines of a `Plan` node and its children, indented by depth.
pub fn plan_shape(plan: &Value) -> Vec<String> {
    let mut lines = Vec::new();
    walk(plan, 0, &mut lines);
    lines
}

fn walk(node: &Value, depth: usize, lines: &mut Vec<String>) {
    let text = |key: &str| node.get(key).and_then(Value::as_str);
    let mut line = format!("{}{}", "  ".repeat(depth), text("Node Type").unwrap_or("?"));
    for (key, label) in [
        ("Strategy", ""),
        ("Join Type", ""),
        ("Parent Relationship", "as "),
        ("Subplan Name", ""),
    ] {
        if let Some(value) = text(key) {
            line.push_str(&format!(" [{label}{value}]"));
        }
    }
    if let Some(relation) = text("Relation Name") {
        match text("Schema") {
            Some(schema) => line.push_str(&format!(" on {schema}.{relation}")),
            None => line.push_str(&format!(" on {relation}")),
        }
    }
    for (key, label) in [
        ("Index Name", "using"),
        ("Function Name", "function"),
        ("CTE Name", "cte"),
    ] {
        if let Some(value) = text(key) {
            line.push_str(&format!(" {label} {value}"));
        }
    }
    lines.push(line);
    for child in node
        .get("Plans")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        walk(child, depth + 1, lines);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn explain(index: &str, rows: u64) -> Value {
        json!([{
            "Plan": {
                "Node Type": "Nested Loop", "Join Type": "Inner", "Actual Rows": rows,
                "Plans": [
                    {"Node Type": "Seq Scan", "Parent Relationship": "Outer",
                     "Relation Name": "orders", "Schema": "public", "Actual Rows": rows},
                    {"Node Type": "Index Scan", "Parent Relationship": "Inner",
                     "Relation Name": "product", "Schema": "public", "Index Name": index}
                ]
            },
            "Planning Time": 0.2, "Execution Time": 1.5, "Query Identifier": 42
        }])
    }

    #[test]
    fn shape_lists_nodes_relations_and_indexes() {
        let (capture, query_id) = capture_from_json(explain("product_pkey", 5), &[]);
        insta::assert_snapshot!(capture.shape.join("\n"), @r"
        Nested Loop [Inner]
          Seq Scan [as Outer] on public.orders
          Index Scan [as Inner] on public.product using product_pkey
        ");
        assert_eq!(query_id, Some(42));
        assert_eq!(capture.execution_time_ms, 1.5);
    }

    #[test]
    fn hash_ignores_numbers_but_not_indexes() {
        let (a, _) = capture_from_json(explain("product_pkey", 5), &[]);
        let (b, _) = capture_from_json(explain("product_pkey", 500), &[]);
        let (c, _) = capture_from_json(explain("product_name_idx", 5), &[]);
        assert_eq!(a.shape_hash, b.shape_hash);
        assert_ne!(a.shape_hash, c.shape_hash);
        assert_eq!(a.shape_hash.len(), 64);
    }
}
