//! EXPLAIN capture and plan shapes. The shape of a plan is what stays equal when only timings
//! and row counts move: node types, strategies, join types, relations, indexes and the tree
//! structure. Its SHA-256 lets `check` and `report` tell "same plan" from "plan changed" without
//! comparing numbers.
//!
//! Partitions are named by their partitioned root, and identical member scans under an Append
//! are kept once: time-partitioned tables gain a partition every month and prune a different
//! set as the calendar moves, which must not read as a plan change, while a member switching
//! from a sequential to an index scan still does.

use std::collections::HashMap;

use postgres::Client;
use serde_json::Value;

use crate::citus;
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
    // On Citus, show every task so the nodes touched and the slowest task are known; a
    // no-op where Citus is not loaded (the setting does not exist there).
    client.batch_execute(SHOW_ALL_CITUS_TASKS_SQL)?;
    let text = format!("EXPLAIN (ANALYZE, BUFFERS, VERBOSE, FORMAT JSON) {sql}");
    let binds: Vec<TextParam> = params.iter().cloned().map(TextParam).collect();
    let refs: Vec<&(dyn postgres::types::ToSql + Sync)> = binds
        .iter()
        .map(|bind| bind as &(dyn postgres::types::ToSql + Sync))
        .collect();
    let row = client.query_one(&text, &refs)?;
    let explain: Value = row.get(0);
    let roots = partition_roots(client, &explain)?;
    Ok(capture_from_json(explain, params, &roots))
}

const SHOW_ALL_CITUS_TASKS_SQL: &str = "SELECT set_config('citus.explain_all_tasks', 'on', false) \
     WHERE current_setting('citus.explain_all_tasks', true) IS NOT NULL";

/// `schema.name` of a partition (table or index) → `schema.name` of its partitioned root.
pub type PartitionRoots = HashMap<String, String>;

const PARTITION_ROOTS_SQL: &str = "
SELECT q.qualified, format('%s.%s', rn.nspname, r.relname)
FROM unnest($1::text[], $2::text[]) AS x(schema_name, rel_name)
CROSS JOIN LATERAL (SELECT x.schema_name || '.' || x.rel_name AS qualified) q
JOIN pg_namespace n ON n.nspname = x.schema_name
JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = x.rel_name AND c.relispartition
JOIN pg_class r ON r.oid = pg_partition_root(c.oid)
JOIN pg_namespace rn ON rn.oid = r.relnamespace";

/// Looks up the partitioned roots of every relation and index the plan names, in one query.
pub fn partition_roots(
    client: &mut Client,
    explain: &Value,
) -> Result<PartitionRoots, postgres::Error> {
    let mut names = Vec::new();
    if let Some(plan) = explain.get(0).and_then(|top| top.get("Plan")) {
        collect_names(plan, &mut names);
    }
    if names.is_empty() {
        return Ok(PartitionRoots::new());
    }
    let (schemas, relations): (Vec<String>, Vec<String>) = names.into_iter().unzip();
    let rows = client.query(PARTITION_ROOTS_SQL, &[&schemas, &relations])?;
    Ok(rows.iter().map(|row| (row.get(0), row.get(1))).collect())
}

/// (schema, name) of every relation and index in the plan; an index lives in its table's schema.
fn collect_names(node: &Value, names: &mut Vec<(String, String)>) {
    let text = |key: &str| node.get(key).and_then(Value::as_str);
    if let Some(schema) = text("Schema") {
        for key in ["Relation Name", "Index Name"] {
            if let Some(name) = text(key) {
                names.push((schema.to_string(), name.to_string()));
            }
        }
    }
    for child in children(node) {
        collect_names(child, names);
    }
}

fn children(node: &Value) -> impl Iterator<Item = &Value> {
    node.get("Plans")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

/// Builds a capture (and the query identifier, when present) from an EXPLAIN JSON document,
/// naming partitions by their roots.
pub fn capture_from_json(
    explain: Value,
    params: &[Option<String>],
    roots: &PartitionRoots,
) -> (PlanCapture, Option<i64>) {
    let top = explain.get(0).cloned().unwrap_or(Value::Null);
    let shape = top
        .get("Plan")
        .map(|plan| plan_shape(plan, roots))
        .unwrap_or_default();
    let number = |key: &str| top.get(key).and_then(Value::as_f64).unwrap_or(0.0);
    let query_id = top.get("Query Identifier").and_then(Value::as_i64);
    let capture = PlanCapture {
        shape_hash: crate::workload::hex_sha256(shape.join("\n").as_bytes()),
        shape,
        params: params.to_vec(),
        planning_time_ms: number("Planning Time"),
        execution_time_ms: number("Execution Time"),
        distributed: citus::plan::read(&explain),
        explain,
    };
    (capture, query_id)
}

/// The readable shape lines of a `Plan` node and its children, indented by depth.
pub fn plan_shape(plan: &Value, roots: &PartitionRoots) -> Vec<String> {
    let mut lines = Vec::new();
    walk(plan, 0, roots, &mut lines);
    lines
}

/// Names in a worker plan are shards (`orders_102008`): named by their table instead, which
/// is what stays equal between tasks and runs.
fn walk_shard(node: &Value, depth: usize, lines: &mut Vec<String>) {
    let mut shape = Vec::new();
    walk(node, depth, &PartitionRoots::new(), &mut shape);
    lines.extend(shape.into_iter().map(|line| {
        line.split(' ')
            .map(|word| citus::plan::shard_to_table(word).to_string())
            .collect::<Vec<_>>()
            .join(" ")
    }));
}

/// A Citus scan's strategy (router: one task; multi-shard) and its distinct task plans, each
/// under a `Task` line: going from one task to all shards, or a task changing its plan, is a
/// plan change.
fn walk_citus_job(job: &Value, depth: usize, line: &mut String) -> Vec<String> {
    let label = match citus::plan::strategy(citus::plan::task_count(job)) {
        crate::model::DistributedStrategy::Router => "router",
        crate::model::DistributedStrategy::MultiShard => "multi-shard",
    };
    line.push_str(&format!(" [{label}]"));
    let mut tasks: Vec<Vec<String>> = Vec::new();
    for task in citus::plan::tasks(job) {
        let mut subtree = vec![format!("{}Task", "  ".repeat(depth + 1))];
        if let Some(plan) = citus::plan::remote_plan(task).and_then(|remote| remote.get("Plan")) {
            walk_shard(plan, depth + 2, &mut subtree);
        }
        if !tasks.contains(&subtree) {
            tasks.push(subtree);
        }
    }
    tasks.sort();
    tasks.concat()
}

fn walk(node: &Value, depth: usize, roots: &PartitionRoots, lines: &mut Vec<String>) {
    let text = |key: &str| node.get(key).and_then(Value::as_str);
    let rooted = |name: &str| match text("Schema") {
        Some(schema) => {
            let qualified = format!("{schema}.{name}");
            roots.get(&qualified).cloned().unwrap_or(qualified)
        }
        None => name.to_string(),
    };
    let mut line = format!("{}{}", "  ".repeat(depth), text("Node Type").unwrap_or("?"));
    for (key, label) in [
        ("Strategy", ""),
        ("Join Type", ""),
        ("Custom Plan Provider", ""),
        ("Parent Relationship", "as "),
        ("Subplan Name", ""),
    ] {
        if let Some(value) = text(key) {
            line.push_str(&format!(" [{label}{value}]"));
        }
    }
    if let Some(relation) = text("Relation Name") {
        line.push_str(&format!(" on {}", rooted(relation)));
    }
    if let Some(index) = text("Index Name") {
        let index = rooted(index);
        // Index names are shown unqualified, as EXPLAIN does.
        let name = index
            .split_once('.')
            .map_or(index.as_str(), |(_, name)| name);
        line.push_str(&format!(" using {name}"));
    }
    for (key, label) in [("Function Name", "function"), ("CTE Name", "cte")] {
        if let Some(value) = text(key) {
            line.push_str(&format!(" {label} {value}"));
        }
    }
    let tasks = match citus::plan::job(node) {
        Some(job) => walk_citus_job(job, depth, &mut line),
        None => Vec::new(),
    };
    lines.push(line);
    lines.extend(tasks);
    for subplan in citus::plan::subplans(node) {
        lines.push(format!("{}Subplan", "  ".repeat(depth + 1)));
        walk(subplan, depth + 2, roots, lines);
    }
    let folds_members = matches!(text("Node Type"), Some("Append" | "Merge Append"));
    let mut seen: Vec<Vec<String>> = Vec::new();
    for child in children(node) {
        let mut subtree = Vec::new();
        walk(child, depth + 1, roots, &mut subtree);
        if folds_members && seen.contains(&subtree) {
            continue;
        }
        lines.extend(subtree.iter().cloned());
        seen.push(subtree);
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
        let (capture, query_id) =
            capture_from_json(explain("product_pkey", 5), &[], &PartitionRoots::new());
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
        let (a, _) = capture_from_json(explain("product_pkey", 5), &[], &PartitionRoots::new());
        let (b, _) = capture_from_json(explain("product_pkey", 500), &[], &PartitionRoots::new());
        let (c, _) = capture_from_json(explain("product_name_idx", 5), &[], &PartitionRoots::new());
        assert_eq!(a.shape_hash, b.shape_hash);
        assert_ne!(a.shape_hash, c.shape_hash);
        assert_eq!(a.shape_hash.len(), 64);
    }

    fn partitioned(months: &[&str], member_node: &str) -> Value {
        let members: Vec<Value> = months
            .iter()
            .map(|month| {
                json!({"Node Type": member_node, "Parent Relationship": "Member",
                       "Relation Name": format!("log_{month}"), "Schema": "audit",
                       "Index Name": format!("log_{month}_team_id_idx")})
            })
            .collect();
        json!([{"Plan": {"Node Type": "Append", "Plans": members}}])
    }

    fn roots(months: &[&str]) -> PartitionRoots {
        months
            .iter()
            .flat_map(|month| {
                [
                    (format!("audit.log_{month}"), "audit.log".to_string()),
                    (
                        format!("audit.log_{month}_team_id_idx"),
                        "audit.log_team_id_idx".to_string(),
                    ),
                ]
            })
            .collect()
    }

    #[test]
    fn a_new_month_of_partitions_is_not_a_plan_change() {
        let october = ["2026_08", "2026_09", "2026_10"];
        let december = ["2026_10", "2026_11", "2026_12", "2027_01"];
        let (a, _) = capture_from_json(partitioned(&october, "Index Scan"), &[], &roots(&october));
        let (b, _) =
            capture_from_json(partitioned(&december, "Index Scan"), &[], &roots(&december));
        assert_eq!(a.shape, b.shape);
        insta::assert_snapshot!(a.shape.join("\n"), @r"
        Append
          Index Scan [as Member] on audit.log using log_team_id_idx
        ");
        let (seq, _) =
            capture_from_json(partitioned(&december, "Seq Scan"), &[], &roots(&december));
        assert_ne!(
            a.shape_hash, seq.shape_hash,
            "a member changing scan type is a change"
        );
    }

    #[test]
    fn one_task_to_all_shards_is_a_plan_change() {
        use crate::citus::plan::tests::citus_explain;
        let roots = PartitionRoots::new();
        let (router, _) =
            capture_from_json(citus_explain(1, &[(9701, 0.4)], "Index Scan"), &[], &roots);
        let (other_shard, _) =
            capture_from_json(citus_explain(1, &[(9702, 0.6)], "Index Scan"), &[], &roots);
        let tasks = [(9701, 0.4), (9702, 0.3), (9701, 0.5)];
        let (all_shards, _) =
            capture_from_json(citus_explain(3, &tasks, "Index Scan"), &[], &roots);
        assert_eq!(
            router.shape_hash, other_shard.shape_hash,
            "another shard, same plan"
        );
        assert_ne!(router.shape_hash, all_shards.shape_hash);
        insta::assert_snapshot!(router.shape.join("\n"), @r"
        Custom Scan [Citus Adaptive] [router]
          Task
            Index Scan on public.orders using orders_pkey
        ");
        insta::assert_snapshot!(all_shards.shape.join("\n"), @r"
        Custom Scan [Citus Adaptive] [multi-shard]
          Task
            Index Scan on public.orders using orders_pkey
        ");
        assert_eq!(router.distributed.map(|plan| plan.task_count), Some(1));
    }
}
