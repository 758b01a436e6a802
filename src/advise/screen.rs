//! Screening, the first step of verification: which statements the selected indexes can
//! change at all (their plan shapes without and with the indexes, under several parameter
//! draws), which indexes each statement's plans use, and one `EXPLAIN (ANALYZE, BUFFERS)`
//! execution of each statement without and with the indexes: the deterministic evidence
//! (shared buffers and rows, which do not depend on the machine's load) and the probe that
//! sizes the timed executions. The execution with the indexes is cancelled at
//! [`CAP_RATIO`] times the one without: an index that makes a multi-second query minutes
//! slower is harm already, and must not cost verification those minutes.

use std::time::{Duration, Instant};

use postgres::Client;

use super::AdviseError;
use super::decide::CAP_RATIO;
use super::plan;
use super::session::{Statement, explain, explain_analyze};
use super::verify::{Failed, Samples, Trial, build_all};
use crate::model::advice::Recommendation;

/// Parameter draws whose plans are compared with and without the indexes.
const SCREEN_DRAWS: usize = 3;

/// The cap on an execution with the indexes is never below this: a fast query's single
/// execution varies too much under load to call 3 times slower harm.
const MIN_CAP_US: f64 = 1e6;

/// Which statements the indexes can change, so are timed: the ones that write (every index
/// is maintained), or whose plan shape (node types, relations, indexes) differs with the
/// indexes built, under any of [`SCREEN_DRAWS`] parameter draws or in any statement it runs
/// that its own plan does not show (`trial.inner`, generic plans). A read whose plans all
/// stay the same executes the same way, so timing it would only add noise and minutes.
/// Every statement runs once without the indexes first (its probe and its buffers; which ones
/// the indexes change is not known before they are built, and building twice costs more on
/// large tables than one execution of the unchanged reads), then, with the indexes built in a
/// savepoint rolled back after, each changed statement once more, capped. It also records
/// which indexes each statement's plans use. Returns the indexes that failed to build or are
/// unusable, the changed statements, and the time the builds took.
pub(super) fn screen(
    client: &mut Client,
    recommendations: &mut [Recommendation],
    trial: &Trial,
    samples: &mut [Samples],
) -> Result<(Failed, Vec<usize>, Duration), AdviseError> {
    let mut variants = Vec::new();
    for (statement, inner) in trial.statements.iter().zip(trial.inner) {
        let mut all = draws(client, trial, statement)?;
        all.extend(inner.iter().map(|s| (*s).clone()));
        variants.push(all);
    }
    let firsts: Vec<Option<&Statement>> = variants.iter().map(|v| v.first()).collect();
    let before = shapes(client, &variants)?;
    let everything: Vec<usize> = (0..variants.len()).collect();
    let before_runs = analyze_each(client, &firsts, &everything, |_| None)?;
    client.batch_execute("SAVEPOINT pgperf_screen")?;
    let building = Instant::now();
    let failed = build_all(client, recommendations)?;
    let build_time = building.elapsed();
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
    let cap_us = |index: usize| match &before_runs[index] {
        Run::Done { execution_us, .. } => Some((execution_us * CAP_RATIO).max(MIN_CAP_US)),
        _ => None,
    };
    let after_runs = analyze_each(client, &firsts, &changed, cap_us)?;
    client.batch_execute("ROLLBACK TO SAVEPOINT pgperf_screen")?;
    for (index, run) in before_runs.into_iter().enumerate() {
        let sample = &mut samples[index];
        match run {
            Run::Done {
                execution_us,
                counts,
            } => {
                sample.probe_us = Some(execution_us);
                (sample.evidence.buffers_before, sample.evidence.rows_before) = counts.unzip();
            }
            Run::Failed(message) => sample.probe_error = Some(message),
            Run::Capped(_) | Run::Skipped => {}
        }
    }
    for (&index, run) in changed.iter().zip(after_runs) {
        let sample = &mut samples[index];
        match run {
            Run::Done {
                execution_us,
                counts,
            } => {
                sample.probe_after_us = Some(execution_us);
                (sample.evidence.buffers_after, sample.evidence.rows_after) = counts.unzip();
            }
            Run::Capped(cap_us) => {
                sample.probe_after_us = Some(cap_us);
                sample.evidence.after_capped = true;
            }
            Run::Failed(_) | Run::Skipped => {}
        }
    }
    Ok((failed, changed, build_time))
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

/// One `EXPLAIN (ANALYZE, BUFFERS)` execution of a statement.
enum Run {
    /// Its execution time (the server's, planning excluded) and shared buffers and rows.
    Done {
        execution_us: f64,
        counts: Option<(f64, f64)>,
    },
    /// Cancelled at its cap (microseconds).
    Capped(f64),
    /// The server rejected it or its own `statement_timeout` cancelled it.
    Failed(String),
    /// No values for its placeholders: a generic plan would measure nothing real.
    Skipped,
}

/// One `EXPLAIN (ANALYZE, BUFFERS)` execution of each `targets` statement (its first
/// parameter draw), in a savepoint rolled back after, so writes leave nothing; `cap_us`
/// lowers a statement's own `statement_timeout`.
fn analyze_each(
    client: &mut Client,
    statements: &[Option<&Statement>],
    targets: &[usize],
    cap_us: impl Fn(usize) -> Option<f64>,
) -> Result<Vec<Run>, AdviseError> {
    let mut runs = Vec::with_capacity(targets.len());
    for &target in targets {
        let Some(statement) = statements[target].filter(|s| runnable(s)) else {
            runs.push(Run::Skipped);
            continue;
        };
        let cap_ms = cap_us(target)
            .map(|us| (us / 1e3).ceil() as u64)
            .filter(|ms| {
                *ms < statement.statement_timeout_ms || statement.statement_timeout_ms == 0
            });
        let capped = Statement {
            statement_timeout_ms: cap_ms.unwrap_or(statement.statement_timeout_ms),
            ..statement.clone()
        };
        client.batch_execute("SAVEPOINT pgperf_analyze")?;
        let analyzed = explain_analyze(client, &capped);
        client.batch_execute("ROLLBACK TO SAVEPOINT pgperf_analyze")?;
        runs.push(match analyzed {
            Ok(plan) => Run::Done {
                execution_us: execution_ms(&plan).unwrap_or(0.0) * 1e3,
                counts: buffers_and_rows(&plan),
            },
            Err(AdviseError::Database(error)) if error.as_db_error().is_some() => {
                let cancelled = error.code() == Some(&postgres::error::SqlState::QUERY_CANCELED);
                match cap_ms {
                    Some(ms) if cancelled => Run::Capped(ms as f64 * 1e3),
                    _ => Run::Failed(crate::pg::describe(&error)),
                }
            }
            Err(other) => return Err(other),
        });
    }
    Ok(runs)
}

/// The server's execution time of an `EXPLAIN (ANALYZE, FORMAT JSON)` document.
fn execution_ms(explain: &serde_json::Value) -> Option<f64> {
    explain.get(0)?.get("Execution Time")?.as_f64()
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
