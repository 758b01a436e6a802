//! Screening, the first step of verification: which statements the selected indexes can
//! change at all (their plan shapes without and with the indexes, under several parameter
//! draws), which indexes each statement's plans use, one probe execution with the indexes, and
//! the deterministic evidence: shared buffers and rows of one `EXPLAIN (ANALYZE, BUFFERS)`
//! execution without and with the indexes, which do not depend on the machine's load.

use postgres::Client;

use super::AdviseError;
use super::plan;
use super::session::{Statement, explain, explain_analyze};
use super::verify::{Failed, Samples, Side, Trial, build_all, time};
use crate::model::advice::Recommendation;

/// Parameter draws whose plans are compared with and without the indexes.
const SCREEN_DRAWS: usize = 3;

/// Which statements the indexes can change, so are timed: the ones that write (every index
/// is maintained), or whose plan shape (node types, relations, indexes) differs with the
/// indexes built, under any of [`SCREEN_DRAWS`] parameter draws or in any statement it runs
/// that its own plan does not show (`trial.inner`, generic plans). A read whose plans all
/// stay the same executes the same way, so timing it would only add noise and minutes.
/// With the indexes built (in a savepoint rolled back after) it also records which indexes
/// each statement's plans use and times one probe execution of each changed statement (which
/// sizes its "after" side). Returns the indexes that failed to build or are unusable, and the
/// changed statements.
pub(super) fn screen(
    client: &mut Client,
    recommendations: &mut [Recommendation],
    trial: &Trial,
    samples: &mut [Samples],
) -> Result<(Failed, Vec<usize>), AdviseError> {
    let mut variants = Vec::new();
    for (statement, inner) in trial.statements.iter().zip(trial.inner) {
        let mut all = draws(client, trial, statement)?;
        all.extend(inner.iter().map(|s| (*s).clone()));
        variants.push(all);
    }
    let before = shapes(client, &variants)?;
    client.batch_execute("SAVEPOINT pgperf_screen")?;
    let failed = build_all(client, recommendations)?;
    let families = recommendations
        .iter()
        .map(|r| index_family(client, r))
        .collect::<Result<Vec<_>, _>>()?;
    let after = shapes(client, &variants)?;
    let mut changed = Vec::new();
    for (index, plans) in after.iter().enumerate() {
        let used: Vec<String> = plans.iter().flat_map(|(_, used)| used.clone()).collect();
        samples[index].uses = (0..recommendations.len())
            .filter(|i| families[*i].iter().any(|name| used.contains(name)))
            .collect();
        let same = before[index]
            .iter()
            .map(|(shape, _)| shape)
            .eq(plans.iter().map(|(shape, _)| shape));
        if trial.writes[index] || !same {
            changed.push(index);
        }
    }
    time(client, trial, &changed, 1, samples, Side::ProbeAfter)?;
    let firsts: Vec<Option<&Statement>> = variants.iter().map(|v| v.first()).collect();
    let after_counts = analyze_each(client, &firsts, &changed)?;
    client.batch_execute("ROLLBACK TO SAVEPOINT pgperf_screen")?;
    let before_counts = analyze_each(client, &firsts, &changed)?;
    for (&index, (before, after)) in changed
        .iter()
        .zip(before_counts.into_iter().zip(after_counts))
    {
        let evidence = &mut samples[index].evidence;
        (evidence.buffers_before, evidence.rows_before) = before.unzip();
        (evidence.buffers_after, evidence.rows_after) = after.unzip();
    }
    Ok((failed, changed))
}

/// The statement under [`SCREEN_DRAWS`] draws of its workload query's parameters (itself
/// when it has no workload query or no parameters).
fn draws(
    client: &mut Client,
    trial: &Trial,
    statement: &Statement,
) -> Result<Vec<Statement>, AdviseError> {
    let plans = statement
        .query_index
        .map(|i| &trial.workload.queries[i].params)
        .filter(|plans| !plans.is_empty() && statement.params.is_some());
    let Some(plans) = plans else {
        return Ok(vec![(*statement).clone()]);
    };
    Ok(super::session::param_draws(client, plans, SCREEN_DRAWS)?
        .into_iter()
        .map(|params| Statement {
            params: Some(params),
            ..(*statement).clone()
        })
        .collect())
}

/// Per statement and draw: the plan shape (`None` when EXPLAIN failed) and the indexes used.
type Shapes = Vec<Vec<(Option<Vec<String>>, Vec<String>)>>;

fn shapes(client: &mut Client, variants: &[Vec<Statement>]) -> Result<Shapes, AdviseError> {
    let roots = crate::pg::explain::PartitionRoots::new();
    let mut out = Vec::new();
    for statements in variants {
        let mut plans = Vec::new();
        for statement in statements {
            client.batch_execute("SAVEPOINT pgperf_explain")?;
            let explained = explain(client, statement);
            client.batch_execute("ROLLBACK TO SAVEPOINT pgperf_explain")?;
            plans.push(match explained {
                Ok(plan) => {
                    let shape = plan
                        .get(0)
                        .and_then(|top| top.get("Plan"))
                        .map(|node| crate::pg::explain::plan_shape(node, &roots));
                    (shape, plan::index_names(&plan))
                }
                Err(AdviseError::Database(error)) if error.as_db_error().is_some() => {
                    (None, Vec::new())
                }
                Err(other) => return Err(other),
            });
        }
        out.push(plans);
    }
    Ok(out)
}

/// The index's name and, on a partitioned table, the names PostgreSQL gave its partitions'
/// indexes, which are what plans show.
fn index_family(
    client: &mut Client,
    recommendation: &Recommendation,
) -> Result<Vec<String>, AdviseError> {
    let qualified = crate::pg::quote_qualified(&recommendation.spec.schema, &recommendation.name);
    let rows = client.query(
        "SELECT c.relname::text FROM pg_partition_tree(to_regclass($1)) t \
         JOIN pg_class c ON c.oid = t.relid",
        &[&qualified],
    )?;
    let mut names: Vec<String> = rows.iter().map(|row| row.get(0)).collect();
    if !names.contains(&recommendation.name) {
        names.push(recommendation.name.clone());
    }
    Ok(names)
}

/// Shared buffers (hit + read) and rows of one `EXPLAIN (ANALYZE, BUFFERS)` execution of
/// each `targets` statement (its first parameter draw), in a savepoint rolled back after, so
/// writes leave nothing. `None` for a statement that failed or has no parameter values.
fn analyze_each(
    client: &mut Client,
    statements: &[Option<&Statement>],
    targets: &[usize],
) -> Result<Vec<Option<(f64, f64)>>, AdviseError> {
    let mut counts = Vec::with_capacity(targets.len());
    for &target in targets {
        let Some(statement) = statements[target].filter(|s| runnable(s)) else {
            counts.push(None);
            continue;
        };
        client.batch_execute("SAVEPOINT pgperf_analyze")?;
        let analyzed = explain_analyze(client, statement);
        client.batch_execute("ROLLBACK TO SAVEPOINT pgperf_analyze")?;
        counts.push(match analyzed {
            Ok(plan) => buffers_and_rows(&plan),
            Err(AdviseError::Database(error)) if error.as_db_error().is_some() => None,
            Err(other) => return Err(other),
        });
    }
    Ok(counts)
}

/// A statement that can run as it is: no placeholders, or values for them (a generic plan
/// with NULL arguments would measure nothing real).
pub(super) fn runnable(statement: &Statement) -> bool {
    statement.params.is_some() || super::session::param_count(&statement.sql) == 0
}

/// Shared buffers (hit + read, the top node counts its children's) and actual rows of the
/// top plan node of an `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)` document.
pub(super) fn buffers_and_rows(explain: &serde_json::Value) -> Option<(f64, f64)> {
    let top = explain.get(0)?.get("Plan")?;
    let count = |key: &str| top.get(key).and_then(serde_json::Value::as_f64);
    let buffers = count("Shared Hit Blocks")? + count("Shared Read Blocks")?;
    Some((buffers, count("Actual Rows")?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_are_hits_plus_reads_of_the_top_node() {
        let explain = serde_json::json!([{"Plan": {
            "Node Type": "Limit", "Actual Rows": 20.0,
            "Shared Hit Blocks": 120, "Shared Read Blocks": 3,
            "Plans": [{"Node Type": "Index Scan", "Shared Hit Blocks": 119}]
        }}]);
        assert_eq!(buffers_and_rows(&explain), Some((123.0, 20.0)));
        assert_eq!(buffers_and_rows(&serde_json::json!([{}])), None);
    }
}
