//! Reading Citus distributed plans from EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) on the
//! coordinator: a `Custom Scan` whose `Distributed Query` → `Job` holds the task count and the
//! tasks shown (every task with `citus.explain_all_tasks = on`), each with its worker (`Node`)
//! and the worker's own plan (`Remote Plan`). Pure functions over the JSON.

use serde_json::Value;

use crate::model::{DistributedPlan, DistributedStrategy, DistributedTask};

/// The `Job` of a Citus scan node, when `node` is one.
pub fn job(node: &Value) -> Option<&Value> {
    node.get("Distributed Query")?.get("Job")
}

/// Task count of a Citus job.
pub fn task_count(job: &Value) -> u64 {
    job.get("Task Count").and_then(Value::as_u64).unwrap_or(0)
}

/// The router/multi-shard label of a job with `tasks` tasks.
pub fn strategy(tasks: u64) -> DistributedStrategy {
    match tasks {
        0 | 1 => DistributedStrategy::Router,
        _ => DistributedStrategy::MultiShard,
    }
}

/// The worker plan (`{"Plan": .., "Execution Time": ..}`) of a task: Citus nests it in one or
/// two arrays depending on the version.
pub fn remote_plan(task: &Value) -> Option<&Value> {
    let mut value = task.get("Remote Plan")?;
    while let Some(first) = value.as_array().and_then(|items| items.first()) {
        value = first;
    }
    value.get("Plan").map(|_| value)
}

/// The tasks a job shows.
pub fn tasks(job: &Value) -> impl Iterator<Item = &Value> {
    job.get("Tasks")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

/// Plans nested under a Citus scan that run on the coordinator first (CTEs and subqueries
/// Citus plans separately, "Subplans").
pub fn subplans(node: &Value) -> impl Iterator<Item = &Value> {
    node.get("Distributed Query")
        .and_then(|query| query.get("Subplans"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|subplan| {
            let statement = subplan.get("PlannedStmt")?;
            statement
                .as_array()
                .and_then(|items| items.first())
                .unwrap_or(statement)
                .get("Plan")
        })
}

/// A shard's name as its table's: Citus names shards `<table>_<shard id>` and their indexes
/// `<index>_<shard id>`, and the shard id differs between runs and between tasks.
pub fn shard_to_table(name: &str) -> &str {
    match name.rsplit_once('_') {
        Some((table, id))
            if !table.is_empty() && id.len() >= 6 && id.bytes().all(|b| b.is_ascii_digit()) =>
        {
            table
        }
        _ => name,
    }
}

/// `text` with every shard name (`orders_102008`) written as its table's (`orders`): shard
/// queries of one distributed query differ only there.
pub fn without_shard_ids(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut index = 0;
    while index < bytes.len() {
        let digits = bytes[index + 1..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        let end = index + 1 + digits;
        let ends_word = bytes
            .get(end)
            .is_none_or(|b| !(b.is_ascii_alphanumeric() || *b == b'_'));
        if bytes[index] == b'_' && digits >= 6 && ends_word {
            out.push_str(&text[copied..index]);
            copied = end;
            index = end;
        } else {
            index += 1;
        }
    }
    out.push_str(&text[copied..]);
    out
}

/// The shard queries of every task shown, as the coordinator sent them.
pub fn task_queries(explain: &Value) -> Vec<&str> {
    jobs(explain)
        .into_iter()
        .flat_map(tasks)
        .filter_map(|task| task.get("Query")?.as_str())
        .collect()
}

/// `host=127.0.0.1 port=9701 dbname=x` → `127.0.0.1:9701`.
fn node_name(task: &Value) -> String {
    let text = task.get("Node").and_then(Value::as_str).unwrap_or("?");
    let field = |key: &str| {
        text.split_whitespace()
            .find_map(|part| part.strip_prefix(key))
            .unwrap_or("?")
    };
    format!("{}:{}", field("host="), field("port="))
}

fn read_task(task: &Value) -> Option<DistributedTask> {
    let remote = remote_plan(task)?;
    let plan = remote.get("Plan")?;
    let number = |value: &Value, key: &str| value.get(key).and_then(Value::as_f64).unwrap_or(0.0);
    let blocks = |key: &str| plan.get(key).and_then(Value::as_i64).unwrap_or(0);
    Some(DistributedTask {
        node: node_name(task),
        query: task
            .get("Query")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        plan: plan.clone(),
        planning_time_ms: number(remote, "Planning Time"),
        execution_time_ms: number(remote, "Execution Time"),
        shared_blks_hit: blocks("Shared Hit Blocks"),
        shared_blks_read: blocks("Shared Read Blocks"),
    })
}

/// Every Citus job in a plan tree, subplans included.
fn collect_jobs<'a>(node: &'a Value, jobs: &mut Vec<&'a Value>) {
    if let Some(job) = job(node) {
        jobs.push(job);
    }
    for subplan in subplans(node) {
        collect_jobs(subplan, jobs);
    }
    for child in node
        .get("Plans")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        collect_jobs(child, jobs);
    }
}

/// Every Citus job of an EXPLAIN document.
fn jobs(explain: &Value) -> Vec<&Value> {
    let mut jobs = Vec::new();
    if let Some(plan) = explain.get(0).and_then(|top| top.get("Plan")) {
        collect_jobs(plan, &mut jobs);
    }
    jobs
}

/// The worker plans (`Plan` nodes) of every task shown in an EXPLAIN document.
pub fn worker_plans(explain: &Value) -> Vec<&Value> {
    jobs(explain)
        .into_iter()
        .flat_map(tasks)
        .filter_map(|task| remote_plan(task)?.get("Plan"))
        .collect()
}

/// The planner's cost of the work on the workers: per job, its most expensive task shown
/// (tasks run in parallel). The coordinator's own cost of a Citus scan is a constant, so
/// without this an index on the shards would not change a distributed query's cost.
pub fn worker_cost(explain: &Value) -> f64 {
    jobs(explain)
        .into_iter()
        .map(|job| {
            tasks(job)
                .filter_map(|task| remote_plan(task)?.get("Plan")?.get("Total Cost")?.as_f64())
                .fold(0.0, f64::max)
        })
        .sum()
}

/// The cost an index can change in a distributed plan: the workers' ([`worker_cost`]);
/// `None` when no Citus scan ran. The coordinator's own costs are not comparable: Citus
/// prices its scans with a constant and a made-up row count (100 000 rows to sort above a
/// multi-shard scan), which would drown any saving on the shards.
pub fn distributed_cost(explain: &Value) -> Option<f64> {
    (!jobs(explain).is_empty()).then(|| worker_cost(explain))
}

/// The distributed execution of an EXPLAIN document, or `None` when no Citus scan ran.
pub fn read(explain: &Value) -> Option<DistributedPlan> {
    let top = explain.get(0)?;
    let jobs = jobs(explain);
    if jobs.is_empty() {
        return None;
    }
    let task_count: u64 = jobs.iter().map(|job| task_count(job)).sum();
    let tasks: Vec<DistributedTask> = jobs
        .iter()
        .flat_map(|job| tasks(job))
        .filter_map(read_task)
        .collect();
    let mut nodes: Vec<String> = tasks.iter().map(|task| task.node.clone()).collect();
    nodes.sort();
    nodes.dedup();
    let slowest_task = tasks
        .iter()
        .max_by(|a, b| a.execution_time_ms.total_cmp(&b.execution_time_ms))
        .cloned();
    let execution_ms = top
        .get("Execution Time")
        .and_then(Value::as_f64)
        .unwrap_or(0.0);
    let slowest_ms = slowest_task
        .as_ref()
        .map_or(0.0, |task| task.execution_time_ms);
    Some(DistributedPlan {
        strategy: match jobs.len() {
            1 => strategy(task_count),
            _ => DistributedStrategy::MultiShard,
        },
        task_count,
        nodes,
        coordinator_time_ms: (execution_ms - slowest_ms).max(0.0),
        worker_time_ms: tasks.iter().map(|task| task.execution_time_ms).sum(),
        worker_shared_blks_hit: tasks.iter().map(|task| task.shared_blks_hit).sum(),
        worker_shared_blks_read: tasks.iter().map(|task| task.shared_blks_read).sum(),
        slowest_task,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::json;

    /// A coordinator EXPLAIN with one task per (port, execution ms) on shards of `orders`.
    pub(crate) fn citus_explain(task_count: u64, tasks: &[(u16, f64)], scan: &str) -> Value {
        let tasks: Vec<Value> = tasks
            .iter()
            .enumerate()
            .map(|(index, (port, ms))| {
                json!({
                    "Query": format!("SELECT id FROM public.orders_{} orders WHERE true", 102008 + index),
                    "Node": format!("host=127.0.0.1 port={port} dbname=pgperf"),
                    "Remote Plan": [[{
                        "Plan": {"Node Type": scan, "Relation Name": format!("orders_{}", 102008 + index),
                                 "Schema": "public", "Index Name": format!("orders_pkey_{}", 102008 + index),
                                 "Shared Hit Blocks": 3, "Shared Read Blocks": 1},
                        "Planning Time": 0.1, "Execution Time": ms
                    }]]
                })
            })
            .collect();
        json!([{
            "Plan": {
                "Node Type": "Custom Scan", "Custom Plan Provider": "Citus Adaptive",
                "Distributed Query": {"Job": {"Task Count": task_count, "Tasks Shown": "All", "Tasks": tasks}}
            },
            "Planning Time": 0.2, "Execution Time": 5.0
        }])
    }

    #[test]
    fn a_router_query_has_one_task_on_one_node() {
        let plan = read(&citus_explain(1, &[(9701, 0.5)], "Index Scan")).expect("distributed");
        assert_eq!(plan.strategy, DistributedStrategy::Router);
        assert_eq!(plan.task_count, 1);
        assert_eq!(plan.nodes, ["127.0.0.1:9701"]);
        assert_eq!(plan.worker_shared_blks_hit, 3);
        assert_eq!(plan.coordinator_time_ms, 4.5);
    }

    #[test]
    fn a_multi_shard_query_names_its_nodes_and_slowest_task() {
        let plan = read(&citus_explain(
            3,
            &[(9701, 0.5), (9702, 2.0), (9701, 1.0)],
            "Seq Scan",
        ))
        .expect("distributed");
        assert_eq!(plan.strategy, DistributedStrategy::MultiShard);
        assert_eq!(plan.nodes, ["127.0.0.1:9701", "127.0.0.1:9702"]);
        let slowest = plan.slowest_task.expect("a task");
        assert_eq!(slowest.node, "127.0.0.1:9702");
        assert_eq!(slowest.execution_time_ms, 2.0);
        assert_eq!(plan.worker_time_ms, 3.5);
        assert_eq!(plan.worker_shared_blks_read, 3);
    }

    #[test]
    fn worker_cost_is_the_most_expensive_task() {
        let mut explain = citus_explain(2, &[(9701, 0.5), (9702, 2.0)], "Seq Scan");
        let tasks = explain[0]["Plan"]["Distributed Query"]["Job"]["Tasks"]
            .as_array_mut()
            .expect("tasks");
        for (task, cost) in tasks.iter_mut().zip([10.0, 25.0]) {
            task["Remote Plan"][0][0]["Plan"]["Total Cost"] = json!(cost);
        }
        assert_eq!(worker_cost(&explain), 25.0);
        assert_eq!(distributed_cost(&explain), Some(25.0));
        assert_eq!(
            distributed_cost(&json!([{"Plan": {"Total Cost": 9.0}}])),
            None
        );
        assert_eq!(worker_plans(&explain).len(), 2);
    }

    #[test]
    fn a_plain_plan_is_not_distributed() {
        let explain = json!([{"Plan": {"Node Type": "Seq Scan", "Relation Name": "t"}}]);
        assert_eq!(read(&explain), None);
    }

    #[test]
    fn shard_names_in_query_text_become_table_names() {
        assert_eq!(
            without_shard_ids("SELECT id FROM public.orders_102008 orders WHERE id = 1020080"),
            "SELECT id FROM public.orders orders WHERE id = 1020080"
        );
        assert_eq!(without_shard_ids("x_102008_y_2026"), "x_102008_y_2026");
        assert_eq!(without_shard_ids("t_1020081"), "t");
    }

    #[test]
    fn shard_suffixes_are_removed_and_other_numbers_kept() {
        assert_eq!(shard_to_table("orders_102008"), "orders");
        assert_eq!(shard_to_table("orders_pkey_102040"), "orders_pkey");
        assert_eq!(shard_to_table("log_2026_08"), "log_2026_08");
        assert_eq!(shard_to_table("orders"), "orders");
    }
}
