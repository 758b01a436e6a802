//! Reading EXPLAIN (FORMAT JSON, VERBOSE) plans: total cost, the indexes a plan uses, and table
//! accesses found in the plan's filter and join conditions. Those conditions are where RLS
//! policies and the insides of views and inlined SQL functions show up; each one is turned back
//! into SQL (`SELECT 1 FROM rel alias WHERE <filter>`) and read by the same parser as queries.

use serde_json::Value;

use super::access::{RelName, TableAccess};
use super::parse::{ColumnLookup, extract};
use crate::pg::{quote_ident, quote_qualified};

/// The root node's total cost; on Citus, the workers' (what an index on the shards changes).
pub fn total_cost(explain: &Value) -> f64 {
    if let Some(cost) = crate::citus::plan::distributed_cost(explain) {
        return cost;
    }
    root(explain)
        .and_then(|plan| plan.get("Total Cost"))
        .and_then(Value::as_f64)
        .unwrap_or(0.0)
}

/// Names of the indexes the plan scans; on Citus also those the workers scan on the shards,
/// named as on the distributed table.
pub fn index_names(explain: &Value) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for (plan, on_shard) in plans(explain) {
        walk(plan, &mut |node| {
            if let Some(name) = node.get("Index Name").and_then(Value::as_str) {
                let name = shard_named(name, on_shard);
                if !names.iter().any(|n| n == name) {
                    names.push(name.to_string());
                }
            }
        });
    }
    names
}

/// The plan trees of an EXPLAIN document: its root, and on Citus every task's worker plan
/// (`true`: it names shards, `orders_102008`, not tables).
fn plans(explain: &Value) -> Vec<(&Value, bool)> {
    let on_shards = crate::citus::plan::worker_plans(explain);
    let root = root(explain).into_iter().map(|plan| (plan, false));
    root.chain(on_shards.into_iter().map(|plan| (plan, true)))
        .collect()
}

/// A relation or index name as on the coordinator: a shard's is its table's.
fn shard_named(name: &str, on_shard: bool) -> &str {
    match on_shard {
        true => crate::citus::plan::shard_to_table(name),
        false => name,
    }
}

/// The sequential scan with the most estimated rows read (before its filter): `(relation,
/// rows)`; what no index can remove when a query aggregates a whole table.
pub fn largest_scan(explain: &Value) -> Option<(String, f64)> {
    let mut best: Option<(String, f64)> = None;
    let mut workers: f64 = 0.0;
    walk(root(explain)?, &mut |node| {
        if let Some(planned) = node.get("Workers Planned").and_then(Value::as_f64) {
            workers = workers.max(planned);
        }
    });
    // A parallel scan's rows are per process: PostgreSQL divides by the workers plus the
    // leader's share (1 - 0.3 per worker, at least 0).
    let processes = workers + (1.0 - 0.3 * workers).max(0.0);
    walk(root(explain)?, &mut |node| {
        if node.get("Node Type").and_then(Value::as_str) != Some("Seq Scan") {
            return;
        }
        let per_process = if node.get("Parallel Aware").and_then(Value::as_bool) == Some(true) {
            processes
        } else {
            1.0
        };
        let rows = per_process
            * (node.get("Plan Rows").and_then(Value::as_f64).unwrap_or(0.0)
                + node
                    .get("Rows Removed by Filter")
                    .and_then(Value::as_f64)
                    .unwrap_or(0.0));
        let relation = node.get("Relation Name").and_then(Value::as_str);
        if let Some(relation) = relation
            && best.as_ref().is_none_or(|(_, r)| rows > *r)
        {
            best = Some((relation.to_string(), rows));
        }
    });
    best
}

/// Relations the plan scans, as `(schema, name)`.
pub fn scanned_relations(explain: &Value) -> Vec<RelName> {
    scans(explain).into_iter().map(|(_, rel)| rel).collect()
}

/// Table accesses from every filter and join condition in the plan (on Citus, in the workers'
/// plans too: the coordinator's shows only its Citus scan).
pub fn accesses(explain: &Value, lookup: &dyn ColumnLookup) -> Vec<TableAccess> {
    let scans = scans(explain);
    let mut out = Vec::new();
    for (plan, _) in plans(explain) {
        walk(plan, &mut |node| {
            for field in [
                "Filter",
                "Hash Cond",
                "Merge Cond",
                "Join Filter",
                "Recheck Cond",
            ] {
                let Some(condition) = node.get(field).and_then(Value::as_str) else {
                    continue;
                };
                let Some(sql) = condition_sql(&scans, node, condition) else {
                    continue;
                };
                if let Ok(extraction) = extract(&sql, lookup) {
                    out.extend(extraction.accesses);
                }
            }
        });
    }
    out
}

/// Rows a write's plan writes per execution: the estimated rows under its `ModifyTable` node
/// (at least one).
pub fn written_rows(explain: &Value) -> f64 {
    root(explain)
        .filter(|top| top.get("Node Type").and_then(Value::as_str) == Some("ModifyTable"))
        .and_then(|top| top.get("Plans")?.get(0)?.get("Plan Rows")?.as_f64())
        .unwrap_or(1.0)
        .max(1.0)
}

/// Every node of the plan tree (not the Citus workers' plans), parents before children.
pub fn nodes(explain: &Value) -> Vec<&Value> {
    let mut out = Vec::new();
    if let Some(root) = root(explain) {
        walk(root, &mut |node| out.push(node));
    }
    out
}

/// Table accesses in a scan node's own conditions (`Index Cond`, `Recheck Cond`, `Filter`):
/// the predicates its row estimate rests on.
pub fn scan_accesses(explain: &Value, node: &Value, lookup: &dyn ColumnLookup) -> Vec<TableAccess> {
    let scans = scans(explain);
    ["Index Cond", "Recheck Cond", "Filter"]
        .iter()
        .filter_map(|field| node.get(field).and_then(Value::as_str))
        .filter_map(|condition| condition_sql(&scans, node, condition))
        .filter_map(|sql| extract(&sql, lookup).ok())
        .flat_map(|extraction| extraction.accesses)
        .collect()
}

/// `SELECT 1 FROM <relations in scope> WHERE <condition>`: the node's own relation for a scan
/// filter, every scanned relation (with unique aliases) for a join condition.
fn condition_sql(scans: &[(String, RelName)], node: &Value, condition: &str) -> Option<String> {
    if condition.contains("SubPlan") || condition.contains("InitPlan") {
        return None;
    }
    let from: Vec<String> = match (node.get("Relation Name"), node.get("Alias")) {
        (Some(_), Some(alias)) => {
            let alias = alias.as_str()?;
            let (_, rel) = scans.iter().find(|(a, _)| a == alias)?;
            vec![from_item(alias, rel)]
        }
        _ => {
            let mut seen = Vec::new();
            for (alias, rel) in scans {
                if seen.iter().any(|(a, _): &(String, RelName)| a == alias) {
                    return None;
                }
                seen.push((alias.clone(), rel.clone()));
            }
            seen.iter().map(|(a, r)| from_item(a, r)).collect()
        }
    };
    Some(format!(
        "SELECT 1 FROM {} WHERE {condition}",
        from.join(", ")
    ))
}

fn from_item(alias: &str, rel: &RelName) -> String {
    let name = match &rel.schema {
        Some(schema) => quote_qualified(schema, &rel.name),
        None => quote_ident(&rel.name),
    };
    format!("{name} AS {}", quote_ident(alias))
}

fn scans(explain: &Value) -> Vec<(String, RelName)> {
    let mut out = Vec::new();
    for (plan, on_shard) in plans(explain) {
        walk(plan, &mut |node| {
            let relation = node.get("Relation Name").and_then(Value::as_str);
            let alias = node.get("Alias").and_then(Value::as_str);
            if let (Some(relation), Some(alias)) = (relation, alias) {
                let schema = node.get("Schema").and_then(Value::as_str);
                let relation = shard_named(relation, on_shard);
                let entry = (alias.to_string(), RelName::new(schema, relation));
                if !out.contains(&entry) {
                    out.push(entry);
                }
            }
        });
    }
    out
}

fn root(explain: &Value) -> Option<&Value> {
    explain.get(0)?.get("Plan")
}

fn walk<'v>(node: &'v Value, visit: &mut dyn FnMut(&'v Value)) {
    visit(node);
    if let Some(children) = node.get("Plans").and_then(Value::as_array) {
        for child in children {
            walk(child, visit);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    #[test]
    fn rls_filter_and_hash_join_become_accesses() {
        let explain = serde_json::json!([{ "Plan": {
            "Node Type": "Hash Join", "Total Cost": 2500.5,
            "Hash Cond": "(o.customer_id = c.id)",
            "Plans": [
                { "Node Type": "Seq Scan", "Relation Name": "orders", "Schema": "public",
                  "Alias": "o",
                  "Filter": "((o.owner_id = (current_setting('request.jwt.claims'::text, true))::uuid) AND (o.status = 'open'::text))" },
                { "Node Type": "Index Scan", "Relation Name": "customers", "Schema": "public",
                  "Alias": "c", "Index Name": "customers_pkey" }
            ]
        }}]);
        let mut tables = BTreeMap::new();
        tables.insert(
            "orders".to_string(),
            vec!["owner_id".into(), "status".into(), "customer_id".into()],
        );
        tables.insert("customers".to_string(), vec!["id".into()]);
        assert_eq!(total_cost(&explain), 2500.5);
        assert_eq!(index_names(&explain), vec!["customers_pkey"]);
        let text: Vec<String> = accesses(&explain, &tables)
            .iter()
            .map(|a| format!("{a:?}"))
            .collect();
        insta::assert_snapshot!(text.join("\n"));
    }

    #[test]
    fn worker_plans_give_candidates_under_their_table_names() {
        let explain = crate::citus::plan::tests::citus_explain(1, &[(9701, 0.4)], "Seq Scan");
        let mut explain = explain;
        let task = &mut explain[0]["Plan"]["Distributed Query"]["Job"]["Tasks"][0];
        let plan = &mut task["Remote Plan"][0][0]["Plan"];
        plan["Alias"] = "o".into();
        plan["Filter"] = "(o.status = 'open'::text)".into();
        let tables = BTreeMap::from([("orders".to_string(), vec!["status".to_string()])]);
        assert_eq!(
            scanned_relations(&explain),
            [RelName::new(Some("public"), "orders")]
        );
        assert_eq!(index_names(&explain), ["orders_pkey"]);
        let found = accesses(&explain, &tables);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(
            found[0].relation,
            Some(RelName::new(Some("public"), "orders"))
        );
        assert_eq!(found[0].predicates[0].key.column(), Some("status"));
    }
}
