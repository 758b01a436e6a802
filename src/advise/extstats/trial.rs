//! The statistics step's I/O, each in a transaction that is always rolled back (with
//! `lock_timeout` and `statement_timeout`, the kept indexes built first): detection (one
//! `EXPLAIN (ANALYZE, BUFFERS, VERBOSE)` per workload read), and the trial of one statistics
//! object: `ANALYZE` the table → half of the "before" executions → `SAVEPOINT` →
//! `CREATE STATISTICS` + `ANALYZE` → the "after" executions → `ROLLBACK TO SAVEPOINT` → the
//! other half of "before", so machine drift spreads over both sides as in index verification.

use postgres::Client;
use serde_json::Value;

use super::detect::{error_factor, misestimates};
use super::rule::Measured;
use super::sql::{analyze_table, create_statistics, statistics_name};
use super::{Context, Reader};
use crate::advise::AdviseError;
use crate::advise::ddl::create_in_transaction;
use crate::advise::parse::ColumnLookup;
use crate::advise::session::{Statement, explain_analyze};
use crate::advise::verify::{
    self, MIN_INTERVAL_EXECUTIONS, MIN_SLOW_EXECUTIONS, Samples, Side, Trial,
};
use crate::model::advice::StatisticsSpec;
use crate::pg::quote_qualified;

/// `(spec, query)` for every misestimated scan of every workload read.
pub(super) fn detect(
    client: &mut Client,
    lookup: &dyn ColumnLookup,
    context: &Context,
) -> Result<Vec<(StatisticsSpec, String)>, AdviseError> {
    in_rollback(client, context, |client| {
        let mut found = Vec::new();
        for reader in &context.readers {
            if let Some(plan) = analyzed(client, reader.statement)? {
                for misestimate in misestimates(&plan, lookup) {
                    found.push((misestimate.spec, reader.statement.name.clone()));
                }
            }
        }
        Ok(found)
    })
}

/// Extended statistics already on the table that cover all of `spec`'s columns, by name.
pub(super) fn existing(
    client: &mut Client,
    spec: &StatisticsSpec,
) -> Result<Option<String>, AdviseError> {
    let row = client.query_opt(
        "SELECT e.stxname::text FROM pg_statistic_ext e \
         WHERE e.stxrelid = to_regclass($1) \
           AND (SELECT array_agg(a.attname::text) FROM pg_attribute a \
                WHERE a.attrelid = e.stxrelid AND a.attnum = ANY (e.stxkeys)) @> $2::text[] \
         ORDER BY 1 LIMIT 1",
        &[&quote_qualified(&spec.schema, &spec.table), &spec.columns],
    )?;
    Ok(row.map(|row| row.get(0)))
}

/// Measures every reader of the table without and with the statistics; `Err(message)` when
/// the server refused to create them (not the table's owner, a column type without `=`).
pub(super) fn run(
    client: &mut Client,
    context: &Context,
    spec: &StatisticsSpec,
    served: &[String],
) -> Result<Result<Vec<Measured>, String>, AdviseError> {
    let readers: Vec<&Reader> = context
        .readers
        .iter()
        .filter(|r| {
            r.tables
                .contains(&(spec.schema.clone(), spec.table.clone()))
        })
        .collect();
    in_rollback(client, context, |client| {
        client.batch_execute(&analyze_table(spec))?;
        sitting(client, context, spec, served, &readers)
    })
}

/// One side's plan evidence of a reader: shape, the scan of the table, buffers and rows.
#[derive(Default)]
struct Planned {
    shape: Option<Vec<String>>,
    estimated: f64,
    actual: f64,
    buffers: Option<f64>,
    rows: Option<f64>,
    execution_us: Option<f64>,
}

fn sitting(
    client: &mut Client,
    context: &Context,
    spec: &StatisticsSpec,
    served: &[String],
    readers: &[&Reader],
) -> Result<Result<Vec<Measured>, String>, AdviseError> {
    let statements: Vec<&Statement> = readers.iter().map(|r| r.statement).collect();
    let inner = vec![Vec::new(); statements.len()];
    let writes = vec![false; statements.len()];
    let trial = Trial {
        workload: context.workload,
        statements: &statements,
        inner: &inner,
        writes: &writes,
        base: context.base,
        lock_timeout_ms: context.lock_timeout_ms,
    };
    let before = plans(client, &statements, spec)?;
    let counts: Vec<u64> = before
        .iter()
        .map(|p| executions(p.execution_us, context))
        .collect();
    let mut samples = vec![Samples::default(); statements.len()];
    let halves: Vec<u64> = counts.iter().map(|n| n.div_ceil(2)).collect();
    time_each(client, &trial, &halves, &mut samples, Side::Before)?;
    client.batch_execute("SAVEPOINT pgperf_statistics")?;
    let name = statistics_name(spec);
    if let Err(error) = client.batch_execute(&create_statistics(spec, &name, false)) {
        return Ok(Err(crate::pg::describe(&error)));
    }
    client.batch_execute(&analyze_table(spec))?;
    let after = plans(client, &statements, spec)?;
    time_each(client, &trial, &counts, &mut samples, Side::After)?;
    client.batch_execute("ROLLBACK TO SAVEPOINT pgperf_statistics")?;
    let rest: Vec<u64> = counts.iter().zip(&halves).map(|(n, h)| n - h).collect();
    time_each(client, &trial, &rest, &mut samples, Side::Before)?;
    Ok(Ok(statements
        .iter()
        .zip(before.into_iter().zip(after))
        .zip(samples)
        .map(|((statement, (before, after)), sample)| {
            let mut evidence = sample.evidence;
            (evidence.buffers_before, evidence.rows_before) = (before.buffers, before.rows);
            (evidence.buffers_after, evidence.rows_after) = (after.buffers, after.rows);
            Measured {
                query: statement.name.clone(),
                served: served.contains(&statement.name),
                estimated_before: before.estimated,
                estimated_after: after.estimated,
                actual_rows: before.actual,
                plan_changed: before.shape.is_some() && before.shape != after.shape,
                evidence,
            }
        })
        .collect()))
}

/// Executions of one side: as for an index's (a slow query gets what fits in the slow-side
/// budget), at most the 59 a P95 interval needs.
fn executions(probe_us: Option<f64>, context: &Context) -> u64 {
    let probe_us = probe_us.unwrap_or(f64::INFINITY);
    verify::side_executions(probe_us, MIN_SLOW_EXECUTIONS, context.verify)
        .min(MIN_INTERVAL_EXECUTIONS)
}

/// Times each statement its count of executions, one statement at a time.
fn time_each(
    client: &mut Client,
    trial: &Trial,
    counts: &[u64],
    samples: &mut [Samples],
    side: Side,
) -> Result<(), AdviseError> {
    for (index, count) in counts.iter().enumerate() {
        verify::time(client, trial, &[index], *count, samples, side)?;
    }
    Ok(())
}

fn plans(
    client: &mut Client,
    statements: &[&Statement],
    spec: &StatisticsSpec,
) -> Result<Vec<Planned>, AdviseError> {
    let roots = crate::pg::explain::PartitionRoots::new();
    let mut out = Vec::new();
    for statement in statements {
        let Some(plan) = analyzed(client, statement)? else {
            out.push(Planned::default());
            continue;
        };
        let (estimated, actual) = worst_scan(&plan, spec).unwrap_or((0.0, 0.0));
        let (buffers, rows) = crate::advise::screen::buffers_and_rows(&plan).unzip();
        out.push(Planned {
            shape: plan
                .get(0)
                .and_then(|top| top.get("Plan"))
                .map(|node| crate::pg::explain::plan_shape(node, &roots)),
            estimated,
            actual,
            buffers,
            rows,
            execution_us: plan
                .get(0)
                .and_then(|top| top.get("Execution Time"))
                .and_then(Value::as_f64)
                .map(|ms| ms * 1000.0),
        });
    }
    Ok(out)
}

/// `(estimated, actual)` rows of the scan of the spec's table that is furthest off.
fn worst_scan(plan: &Value, spec: &StatisticsSpec) -> Option<(f64, f64)> {
    crate::advise::plan::nodes(plan)
        .into_iter()
        .filter(|node| {
            node.get("Relation Name").and_then(Value::as_str) == Some(spec.table.as_str())
                && node.get("Schema").and_then(Value::as_str) == Some(spec.schema.as_str())
        })
        .filter_map(|node| {
            let number = |key: &str| node.get(key).and_then(Value::as_f64);
            Some((number("Plan Rows")?, number("Actual Rows")?))
        })
        .max_by(|a, b| error_factor(a.0, a.1).total_cmp(&error_factor(b.0, b.1)))
}

/// One `EXPLAIN (ANALYZE, BUFFERS, VERBOSE)` in a savepoint rolled back after; `None` when
/// the statement cannot run as it is or the server refused it.
fn analyzed(client: &mut Client, statement: &Statement) -> Result<Option<Value>, AdviseError> {
    if !crate::advise::screen::runnable(statement) {
        return Ok(None);
    }
    client.batch_execute("SAVEPOINT pgperf_analyze")?;
    let result = explain_analyze(client, statement);
    client.batch_execute("ROLLBACK TO SAVEPOINT pgperf_analyze")?;
    match result {
        Ok(plan) => Ok(Some(plan)),
        Err(AdviseError::Database(error)) if error.as_db_error().is_some() => Ok(None),
        Err(other) => Err(other),
    }
}

/// Runs `work` in a transaction with the kept indexes built, always rolled back.
fn in_rollback<T>(
    client: &mut Client,
    context: &Context,
    work: impl FnOnce(&mut Client) -> Result<T, AdviseError>,
) -> Result<T, AdviseError> {
    client.batch_execute(&format!(
        "BEGIN; SET LOCAL lock_timeout = '{}ms'; SET LOCAL statement_timeout = '{}ms'",
        context.lock_timeout_ms, context.verify.statement_timeout_ms
    ))?;
    let result = context
        .base
        .iter()
        .try_for_each(|base| {
            client
                .batch_execute(&create_in_transaction(&base.spec, &base.name))
                .map_err(AdviseError::from)
        })
        .and_then(|()| work(client));
    let rollback = client.batch_execute("ROLLBACK");
    let result = result?;
    rollback?;
    Ok(result)
}
