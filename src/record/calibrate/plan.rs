//! What a plan (`EXPLAIN (VERBOSE, FORMAT JSON)`, no ANALYZE) predicts for one call: the rows
//! it returns and, roughly, the shared buffers it touches, to compare with pg_stat_statements'
//! rows and shared blocks per call; or, with `--measure`, what an analysed call did.
//!
//! The buffer figure is a deliberately crude model, used only to rank candidate values of the
//! same statement against each other: a sequential scan reads its table's `relpages`; an index
//! scan one page per estimated row plus its index descent (each row may be on another page), a
//! bitmap heap scan one page per row up to the table's size;
//! the inner side of a nested loop repeats per outer row; below a `LIMIT`, scans that stream
//! stop early in proportion to the rows the limit keeps, while blocking nodes (sort, hash,
//! aggregate) read their input whole. Partitions pruned at plan time are absent from the plan,
//! so pruning counts.

use serde_json::Value;

use super::choose::Estimate;

/// The estimate of the plan's root. `relpages(schema, table)` gives a table's size in pages.
pub fn estimate(explain: &Value, relpages: &mut dyn FnMut(&str, &str) -> f64) -> Option<Estimate> {
    let root = explain.get(0)?.get("Plan")?;
    let returned = match node_type(root) {
        // A write without RETURNING returns nothing; pg_stat_statements counts touched rows.
        "ModifyTable" => children(root).first().map_or(0.0, plan_rows),
        _ => plan_rows(root),
    };
    Some(Estimate {
        rows: returned,
        pages: pages(root, 1.0, 1.0, relpages),
    })
}

/// What one call did, from `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)`: the rows the root
/// returned and the shared blocks hit and read below it (a node's buffer counts include its
/// children's), the same measurements as pg_stat_statements' rows and blocks per call.
pub fn measured(explain: &Value) -> Option<Estimate> {
    let root = explain.get(0)?.get("Plan")?;
    let number = |key: &str| root.get(key).and_then(Value::as_f64);
    Some(Estimate {
        rows: number("Actual Rows")? * number("Actual Loops").unwrap_or(1.0),
        pages: number("Shared Hit Blocks").unwrap_or(0.0)
            + number("Shared Read Blocks").unwrap_or(0.0),
    })
}

/// Pages of `node` and below, run `loops` times, each run reading `share` of its input.
fn pages(node: &Value, loops: f64, share: f64, relpages: &mut dyn FnMut(&str, &str) -> f64) -> f64 {
    let own = match node_type(node) {
        "Seq Scan" => table_pages(node, relpages) * share,
        // Each fetched row may sit on another page (an index not correlated with the heap):
        // not capped at the table, as a bitmap scan is.
        "Index Scan" | "Index Only Scan" => plan_rows(node) * share + 1.0,
        "Bitmap Heap Scan" => plan_rows(node).min(table_pages(node, relpages)) * share,
        "Bitmap Index Scan" => 1.0,
        _ => 0.0,
    } * loops;
    let kids = children(node);
    let below = match node_type(node) {
        "Limit" => {
            let input = kids.first().map_or(0.0, plan_rows);
            let kept = if input > 0.0 {
                (plan_rows(node) / input).min(1.0)
            } else {
                1.0
            };
            sum(&kids, loops, share * kept, relpages)
        }
        "Nested Loop" => match kids.as_slice() {
            [outer, inner, rest @ ..] => {
                pages(outer, loops, share, relpages)
                    + pages(
                        inner,
                        loops * plan_rows(outer).max(1.0) * share,
                        1.0,
                        relpages,
                    )
                    + sum(rest, loops, 1.0, relpages)
            }
            _ => sum(&kids, loops, share, relpages),
        },
        blocking if is_blocking(blocking) => sum(&kids, loops, 1.0, relpages),
        _ => sum(&kids, loops, share, relpages),
    };
    own + below
}

fn sum(
    nodes: &[Value],
    loops: f64,
    share: f64,
    relpages: &mut dyn FnMut(&str, &str) -> f64,
) -> f64 {
    nodes.iter().map(|n| pages(n, loops, share, relpages)).sum()
}

/// Nodes that consume their whole input before returning a row.
fn is_blocking(node_type: &str) -> bool {
    matches!(
        node_type,
        "Sort" | "Aggregate" | "Hash" | "Materialize" | "WindowAgg" | "SetOp"
    )
}

fn table_pages(node: &Value, relpages: &mut dyn FnMut(&str, &str) -> f64) -> f64 {
    match (text(node, "Schema"), text(node, "Relation Name")) {
        (Some(schema), Some(table)) => relpages(schema, table),
        _ => 1.0,
    }
}

fn node_type(node: &Value) -> &str {
    text(node, "Node Type").unwrap_or_default()
}

fn text<'a>(node: &'a Value, key: &str) -> Option<&'a str> {
    node.get(key).and_then(Value::as_str)
}

fn plan_rows(node: &Value) -> f64 {
    node.get("Plan Rows").and_then(Value::as_f64).unwrap_or(0.0)
}

fn children(node: &Value) -> Vec<Value> {
    node.get("Plans")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn scan(kind: &str, table: &str, rows: f64) -> Value {
        json!({"Node Type": kind, "Schema": "s", "Relation Name": table, "Plan Rows": rows})
    }

    fn sizes(_schema: &str, table: &str) -> f64 {
        match table {
            "big" => 10_000.0,
            _ => 10.0,
        }
    }

    #[test]
    fn a_sorted_limit_reads_everything_a_streaming_one_stops_early() {
        let sorted = json!([{"Plan": {"Node Type": "Limit", "Plan Rows": 100.0, "Plans": [
            {"Node Type": "Sort", "Plan Rows": 50_000.0, "Plans": [scan("Seq Scan", "big", 50_000.0)]}
        ]}}]);
        let streaming = json!([{"Plan": {"Node Type": "Limit", "Plan Rows": 100.0, "Plans": [
            scan("Index Scan", "big", 50_000.0)
        ]}}]);
        let sorted = estimate(&sorted, &mut sizes).expect("estimate");
        let streaming = estimate(&streaming, &mut sizes).expect("estimate");
        assert_eq!(sorted.rows, 100.0);
        assert_eq!(sorted.pages, 10_000.0);
        assert_eq!(streaming.pages, 100.0 + 1.0);
    }

    #[test]
    fn the_inner_side_of_a_nested_loop_repeats_and_writes_count_touched_rows() {
        let join = json!([{"Plan": {"Node Type": "Nested Loop", "Plan Rows": 30.0, "Plans": [
            scan("Seq Scan", "small", 30.0),
            scan("Index Scan", "big", 1.0)
        ]}}]);
        let join = estimate(&join, &mut sizes).expect("estimate");
        assert_eq!(join.pages, 10.0 + 30.0 * 2.0);
        let update = json!([{"Plan": {"Node Type": "ModifyTable", "Plan Rows": 0.0, "Plans": [
            scan("Index Scan", "big", 3.0)
        ]}}]);
        assert_eq!(estimate(&update, &mut sizes).expect("estimate").rows, 3.0);
        assert_eq!(estimate(&json!([]), &mut sizes), None);
    }

    #[test]
    fn a_measured_call_is_its_roots_rows_and_shared_blocks() {
        let analysed = json!([{"Plan": {"Node Type": "Aggregate", "Plan Rows": 1.0,
            "Actual Rows": 4.0, "Actual Loops": 1.0,
            "Shared Hit Blocks": 14_000.0, "Shared Read Blocks": 105.0,
            "Plans": [scan("Seq Scan", "big", 50_000.0)]}}]);
        assert_eq!(
            measured(&analysed),
            Some(Estimate {
                rows: 4.0,
                pages: 14_105.0
            })
        );
        // A plain EXPLAIN has no actual rows: nothing was measured.
        assert_eq!(
            measured(&json!([{"Plan": scan("Seq Scan", "big", 5.0)}])),
            None
        );
    }
}
