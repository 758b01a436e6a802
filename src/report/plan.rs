//! Reads the EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) document of a [`PlanCapture`] into a flat
//! list of nodes with their depth, ready to show as an indented tree: node type, relation,
//! index, time and loops, estimated versus actual rows (large misestimates flagged), buffers.

use serde::Serialize;
use serde_json::Value;

use super::format;
use crate::model::PlanCapture;

/// A row-count misestimate at or above this factor is highlighted.
pub const LARGE_MISESTIMATE: f64 = 10.0;

/// Plan keys shown as detail lines under a node, in this order.
const DETAIL_KEYS: [&str; 18] = [
    "Custom Plan Provider",
    "Subplan Name",
    "CTE Name",
    "Function Name",
    "Index Cond",
    "Recheck Cond",
    "Hash Cond",
    "Merge Cond",
    "Join Filter",
    "Filter",
    "Rows Removed by Filter",
    "Rows Removed by Index Recheck",
    "Heap Fetches",
    "Sort Key",
    "Group Key",
    "Sort Method",
    "Workers Launched",
    "Hash Batches",
];

/// The plan of one query.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlanView {
    pub shape_hash: String,
    pub params: Vec<String>,
    pub planning_time: String,
    pub execution_time: String,
    /// Nodes in depth-first order; `depth` gives the indentation.
    pub nodes: Vec<PlanNodeView>,
    /// Set when the EXPLAIN document could not be read; the shape lines are shown instead.
    pub unreadable: Option<String>,
    pub shape: Vec<String>,
}

/// One plan node.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlanNodeView {
    pub depth: usize,
    /// Node type with join type, strategy or scan direction: `Hash Join (Left)`.
    pub label: String,
    /// `schema.relation alias`.
    pub relation: Option<String>,
    pub index: Option<String>,
    pub details: Vec<String>,
    /// Actual total time per loop, when ANALYZE ran.
    pub actual_time: Option<String>,
    pub loops: Option<u64>,
    pub rows_estimated: String,
    /// Actual rows per loop, when ANALYZE ran.
    pub rows_actual: Option<String>,
    /// `"42× under"` (more rows than estimated) or `"12× over"`, when off by 2× or more.
    pub misestimate: Option<String>,
    /// True when off by [`LARGE_MISESTIMATE`] or more.
    pub misestimate_large: bool,
    pub shared_hit: Option<String>,
    pub shared_read: Option<String>,
    /// ANALYZE ran but this node never did (`loops = 0`).
    pub never_executed: bool,
}

/// Builds the plan view; an unreadable document yields the shape lines and the reason.
pub fn plan_view(capture: &PlanCapture) -> PlanView {
    let mut nodes = Vec::new();
    let unreadable = match root_plan(&capture.explain) {
        Some(root) => {
            walk(root, 0, 1.0, &mut nodes);
            None
        }
        None => Some("the EXPLAIN document has no \"Plan\" object".to_string()),
    };
    PlanView {
        shape_hash: capture.shape_hash.clone(),
        params: capture
            .params
            .iter()
            .map(|param| param.clone().unwrap_or_else(|| "NULL".to_string()))
            .collect(),
        planning_time: format::latency_ms(capture.planning_time_ms),
        execution_time: format::latency_ms(capture.execution_time_ms),
        nodes,
        unreadable,
        shape: capture.shape.clone(),
    }
}

/// `[{"Plan": ...}]` as the server returns it, or `{"Plan": ...}`.
fn root_plan(explain: &Value) -> Option<&Value> {
    let document = match explain {
        Value::Array(items) => items.first()?,
        other => other,
    };
    document.get("Plan").filter(|plan| plan.is_object())
}

fn walk(node: &Value, depth: usize, read_fraction: f64, out: &mut Vec<PlanNodeView>) {
    out.push(node_view(node, depth, read_fraction));
    if let Some(job) = crate::citus::plan::job(node) {
        slowest_task(job, depth + 1, out);
    }
    let merge_join = text(node, "Node Type").as_deref() == Some("Merge Join");
    if let Some(children) = node.get("Plans").and_then(Value::as_array) {
        for (position, child) in children.iter().enumerate() {
            let first = out.len();
            let fraction = child_read_fraction(node, read_fraction, position, child);
            walk(child, depth + 1, fraction, out);
            if merge_join {
                forgive_overestimate(&mut out[first]);
            }
        }
    }
}

/// The share of a child's full output its parent read. A Limit that stopped early read only
/// its own actual rows of the child's estimate; nodes that pass rows on as they come (a Nested
/// Loop's or Hash Join's outer side, a Subquery Scan, an Append) read their inputs as far as
/// they were read themselves; anything that reads its input to the end first (Sort, Hash,
/// Aggregate, Materialize) reads all of it. Estimates are scaled by this share before they are
/// compared, so a Nested Loop's outer scan under `LIMIT 20` is not "65× over".
fn child_read_fraction(
    parent: &Value,
    parent_fraction: f64,
    position: usize,
    child: &Value,
) -> f64 {
    match text(parent, "Node Type").as_deref() {
        Some("Limit") => match (number(parent, "Actual Rows"), number(child, "Plan Rows")) {
            (Some(consumed), Some(estimated)) if estimated > 0.0 => (consumed / estimated).min(1.0),
            _ => 1.0,
        },
        Some("Nested Loop" | "Hash Join") if position == 0 => parent_fraction,
        Some("Subquery Scan" | "Result" | "Append" | "Unique" | "ProjectSet") => parent_fraction,
        _ => 1.0,
    }
}

/// A Citus scan's slowest task (the one the coordinator waited for) with its worker plan under
/// it; the other tasks are counted, not drawn (a multi-shard query has one per shard).
fn slowest_task(job: &Value, depth: usize, out: &mut Vec<PlanNodeView>) {
    let time = |task: &Value| {
        crate::citus::plan::remote_plan(task)
            .and_then(|remote| number(remote, "Execution Time"))
            .unwrap_or(0.0)
    };
    let Some(task) = crate::citus::plan::tasks(job).max_by(|a, b| time(a).total_cmp(&time(b)))
    else {
        return;
    };
    let count = crate::citus::plan::task_count(job);
    let label = match count {
        1 => "Task (router: one shard)".to_string(),
        _ => format!("Task (slowest of {count}, one per shard)"),
    };
    let mut view = node_view(&serde_json::json!({ "Node Type": label }), depth, 1.0);
    view.details = ["Node", "Query"]
        .iter()
        .filter_map(|key| Some(format!("{key}: {}", text(task, key)?)))
        .collect();
    view.actual_time = Some(format::latency_ms(time(task)));
    out.push(view);
    if let Some(plan) = crate::citus::plan::remote_plan(task).and_then(|remote| remote.get("Plan"))
    {
        walk(plan, depth + 1, 1.0, out);
    }
}

/// A Merge Join stops reading one input when the other ends, so its children may return fewer
/// rows than the planner estimated for a full read: that is not a misestimate.
fn forgive_overestimate(child: &mut PlanNodeView) {
    if child
        .misestimate
        .as_deref()
        .is_some_and(|text| text.ends_with("over"))
    {
        child.misestimate = None;
        child.misestimate_large = false;
        child
            .details
            .push("fewer rows than estimated because its parent stopped reading early".to_string());
    }
}

fn node_view(node: &Value, depth: usize, read_fraction: f64) -> PlanNodeView {
    let loops = node.get("Actual Loops").and_then(Value::as_u64);
    let estimated = number(node, "Plan Rows").unwrap_or(0.0);
    let actual = number(node, "Actual Rows");
    let executed = loops.is_some_and(|loops| loops > 0);
    let expected = estimated * read_fraction;
    let ratio = actual
        .filter(|_| executed)
        .map(|actual| misestimate_ratio(expected, actual));
    let mut details = details(node);
    // Say so only where the scaling changed the verdict: a full read's estimate would flag it.
    let flagged_unscaled = actual
        .filter(|_| executed)
        .is_some_and(|actual| misestimate_ratio(estimated, actual).0 >= 2.0);
    if read_fraction < 1.0 && flagged_unscaled && ratio.is_some_and(|(factor, _)| factor < 2.0) {
        details.push(format!(
            "read only in part: a Limit above stopped early, so about {} of the {} estimated rows were expected",
            format::per_call(expected),
            format::per_call(estimated)
        ));
    }
    PlanNodeView {
        depth,
        label: label(node),
        relation: relation(node),
        index: text(node, "Index Name"),
        details,
        actual_time: number(node, "Actual Total Time")
            .filter(|_| executed)
            .map(format::latency_ms),
        loops,
        rows_estimated: format::per_call(estimated),
        rows_actual: actual.filter(|_| executed).map(format::per_call),
        misestimate: ratio
            .filter(|(factor, _)| *factor >= 2.0)
            .map(|(factor, direction)| format!("{}× {direction}", format::significant(factor, 2))),
        misestimate_large: ratio.is_some_and(|(factor, _)| factor >= LARGE_MISESTIMATE),
        shared_hit: number(node, "Shared Hit Blocks").map(|blocks| format::count(blocks as i64)),
        shared_read: number(node, "Shared Read Blocks").map(|blocks| format::count(blocks as i64)),
        never_executed: loops == Some(0),
    }
}

/// Factor between estimated and actual rows (both floored at 1 row) and which way it is off.
pub fn misestimate_ratio(estimated: f64, actual: f64) -> (f64, &'static str) {
    let estimated = estimated.max(1.0);
    let actual = actual.max(1.0);
    if actual >= estimated {
        (actual / estimated, "under")
    } else {
        (estimated / actual, "over")
    }
}

fn label(node: &Value) -> String {
    let node_type = text(node, "Node Type").unwrap_or_else(|| "?".to_string());
    let node_type = match (node_type.as_str(), text(node, "Strategy").as_deref()) {
        ("Aggregate", Some("Sorted")) => "GroupAggregate".to_string(),
        ("Aggregate", Some("Hashed")) => "HashAggregate".to_string(),
        ("Aggregate", Some("Mixed")) => "MixedAggregate".to_string(),
        _ => node_type,
    };
    let mut prefix = String::new();
    if let Some(mode) = text(node, "Partial Mode").filter(|mode| mode != "Simple") {
        prefix = format!("{mode} ");
    }
    if node.get("Parallel Aware").and_then(Value::as_bool) == Some(true) {
        prefix.push_str("Parallel ");
    }
    let qualifier = ["Join Type", "Scan Direction", "Command"]
        .iter()
        .filter_map(|key| text(node, key))
        .find(|value| !matches!(value.as_str(), "Forward" | "Inner"));
    match qualifier {
        Some(qualifier) => format!("{prefix}{node_type} ({qualifier})"),
        None => format!("{prefix}{node_type}"),
    }
}

fn relation(node: &Value) -> Option<String> {
    let name = text(node, "Relation Name")?;
    let qualified = match text(node, "Schema") {
        Some(schema) => format!("{schema}.{name}"),
        None => name.clone(),
    };
    match text(node, "Alias") {
        Some(alias) if alias != name => Some(format!("{qualified} {alias}")),
        _ => Some(qualified),
    }
}

fn details(node: &Value) -> Vec<String> {
    DETAIL_KEYS
        .iter()
        .filter_map(|key| {
            let value = match node.get(*key)? {
                Value::String(text) => text.clone(),
                Value::Array(items) => items.iter().map(scalar_text).collect::<Vec<_>>().join(", "),
                other => scalar_text(other),
            };
            Some(format!("{key}: {value}"))
        })
        .collect()
}

fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

fn text(node: &Value, key: &str) -> Option<String> {
    node.get(key).and_then(Value::as_str).map(str::to_string)
}

fn number(node: &Value, key: &str) -> Option<f64> {
    node.get(key).and_then(Value::as_f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn capture(explain: Value) -> PlanCapture {
        PlanCapture {
            shape_hash: "abc".into(),
            shape: vec!["Seq Scan t".into()],
            params: vec![Some("7".into()), None],
            explain,
            planning_time_ms: 0.1,
            execution_time_ms: 2.5,
            distributed: None,
        }
    }

    #[test]
    fn a_citus_scan_draws_its_slowest_task_and_worker_plan() {
        let tasks = [(9701, 0.5), (9702, 2.0), (9701, 1.0)];
        let explain = crate::citus::plan::tests::citus_explain(3, &tasks, "Seq Scan");
        let view = plan_view(&capture(explain));
        let labels: Vec<_> = view
            .nodes
            .iter()
            .map(|n| (n.depth, n.label.as_str()))
            .collect();
        assert_eq!(
            labels,
            [
                (0, "Custom Scan"),
                (1, "Task (slowest of 3, one per shard)"),
                (2, "Seq Scan")
            ]
        );
        assert!(
            view.nodes[0]
                .details
                .contains(&"Custom Plan Provider: Citus Adaptive".to_string())
        );
        assert!(view.nodes[1].details[0].ends_with("port=9702 dbname=pgperf"));
        assert_eq!(
            view.nodes[2].relation.as_deref(),
            Some("public.orders_102009")
        );
    }

    #[test]
    fn nested_nodes_are_flattened_with_depth_and_misestimates_flagged() {
        let explain = json!([{ "Plan": {
            "Node Type": "Hash Join", "Join Type": "Left", "Plan Rows": 10, "Actual Rows": 500,
            "Actual Loops": 1, "Actual Total Time": 3.2, "Hash Cond": "(a.id = b.a_id)",
            "Plans": [
                { "Node Type": "Seq Scan", "Relation Name": "a", "Schema": "public", "Alias": "a",
                  "Plan Rows": 100, "Actual Rows": 90, "Actual Loops": 1, "Shared Hit Blocks": 12,
                  "Shared Read Blocks": 3, "Actual Total Time": 0.5 },
                { "Node Type": "Index Scan", "Relation Name": "b", "Alias": "bb", "Index Name": "b_pkey",
                  "Plan Rows": 5, "Actual Rows": 0, "Actual Loops": 0 }
            ]
        }}]);
        let view = plan_view(&capture(explain));
        let labels: Vec<_> = view
            .nodes
            .iter()
            .map(|n| (n.depth, n.label.as_str()))
            .collect();
        assert_eq!(
            labels,
            [(0, "Hash Join (Left)"), (1, "Seq Scan"), (1, "Index Scan")]
        );
        assert_eq!(view.nodes[0].misestimate.as_deref(), Some("50× under"));
        assert!(view.nodes[0].misestimate_large);
        assert_eq!(view.nodes[1].relation.as_deref(), Some("public.a"));
        assert!(view.nodes[1].misestimate.is_none());
        assert_eq!(view.nodes[2].relation.as_deref(), Some("b bb"));
        assert!(view.nodes[2].never_executed);
        assert_eq!(view.nodes[2].rows_actual, None);
        assert_eq!(view.params, ["7", "NULL"]);
    }

    #[test]
    fn rows_cut_short_by_a_limit_are_not_a_misestimate() {
        let explain = json!([{ "Plan": {
            "Node Type": "Limit", "Plan Rows": 50, "Actual Rows": 50, "Actual Loops": 1,
            "Plans": [{ "Node Type": "Sort", "Plan Rows": 2036, "Actual Rows": 50, "Actual Loops": 1,
                "Plans": [{ "Node Type": "Seq Scan", "Relation Name": "t", "Plan Rows": 2036,
                    "Actual Rows": 50, "Actual Loops": 1 }] }]
        }}]);
        let view = plan_view(&capture(explain));
        assert_eq!(
            view.nodes[1].misestimate, None,
            "the Limit stopped the Sort early"
        );
        assert!(
            view.nodes[1]
                .details
                .last()
                .is_some_and(|d| d.starts_with("read only in part: a Limit above stopped early")),
            "{:?}",
            view.nodes[1].details
        );
        assert!(
            view.nodes[2].misestimate_large,
            "the scan under the Sort read everything"
        );
    }

    #[test]
    fn a_nested_loops_outer_side_under_a_limit_is_not_a_false_misestimate() {
        // LIMIT 20 over a Nested Loop: the outer scan stopped after 20 of 1,300 estimated rows,
        // which was reported as "65× over".
        let explain = json!([{ "Plan": {
            "Node Type": "Limit", "Plan Rows": 20, "Actual Rows": 20, "Actual Loops": 1,
            "Plans": [{ "Node Type": "Nested Loop", "Plan Rows": 1300, "Actual Rows": 20, "Actual Loops": 1,
                "Plans": [
                    { "Node Type": "Index Scan", "Relation Name": "orders", "Plan Rows": 1300,
                      "Actual Rows": 20, "Actual Loops": 1 },
                    { "Node Type": "Index Scan", "Relation Name": "customers", "Plan Rows": 1,
                      "Actual Rows": 1, "Actual Loops": 20 }
                ] }]
        }}]);
        let view = plan_view(&capture(explain));
        let misestimates: Vec<_> = view
            .nodes
            .iter()
            .map(|n| n.misestimate.as_deref())
            .collect();
        assert_eq!(misestimates, [None, None, None, None]);
    }

    #[test]
    fn an_underestimate_under_a_limit_is_still_flagged() {
        // The Limit read 20 rows, but the outer scan returned 2,000 of them to the Nested Loop
        // (a filter on the inner side threw most away): more than a full read's estimate.
        let explain = json!([{ "Plan": {
            "Node Type": "Limit", "Plan Rows": 20, "Actual Rows": 20, "Actual Loops": 1,
            "Plans": [{ "Node Type": "Nested Loop", "Plan Rows": 1000, "Actual Rows": 20, "Actual Loops": 1,
                "Plans": [
                    { "Node Type": "Seq Scan", "Relation Name": "orders", "Plan Rows": 1000,
                      "Actual Rows": 2000, "Actual Loops": 1 },
                    { "Node Type": "Index Scan", "Relation Name": "customers", "Plan Rows": 1,
                      "Actual Rows": 0, "Actual Loops": 2000 }
                ] }]
        }}]);
        let view = plan_view(&capture(explain));
        assert_eq!(view.nodes[2].misestimate.as_deref(), Some("100× under"));
    }

    #[test]
    fn a_document_without_a_plan_is_reported_not_hidden() {
        let view = plan_view(&capture(json!({"oops": 1})));
        assert!(view.nodes.is_empty());
        assert!(view.unreadable.is_some());
        assert_eq!(view.shape, ["Seq Scan t"]);
    }

    #[test]
    fn misestimate_floors_zero_rows_at_one() {
        assert_eq!(misestimate_ratio(0.0, 0.0), (1.0, "under"));
        assert_eq!(misestimate_ratio(200.0, 0.0), (200.0, "over"));
    }
}
