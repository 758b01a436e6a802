//! `pgperf inspect`: a read-only health view of a live database, the questions users ask
//! `supabase inspect db` and the statistics views: unused and duplicate indexes, index usage
//! and size, cache hit ratios, sequential scans on large tables, a bloat estimate, top
//! statements by total time, long-running queries and blocking locks.
//!
//! Everything runs in one `READ ONLY` transaction with short lock and statement timeouts, so
//! inspect never writes and never queues behind a lock for long. The SQL lives in `sql/`,
//! included at compile time. Rendering is in `render`.

pub mod render;

use postgres::{Client, Transaction};
use serde::Serialize;

/// Why inspect failed.
#[derive(Debug, thiserror::Error)]
pub enum InspectError {
    #[error("{what} failed: {}", crate::pg::describe(source))]
    Query {
        what: &'static str,
        source: postgres::Error,
    },
}

/// How much to show (the command's flags set every field).
#[derive(Debug, Clone, PartialEq)]
pub struct InspectOptions {
    /// A table with at least this many live rows counts as large for sequential scans.
    pub large_table_rows: i64,
    /// A statement or open transaction running this long is listed.
    pub long_running_ms: u64,
    /// How many top statements to list.
    pub top_statements: i64,
}

/// Everything inspect found, serialised for `--format json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InspectReport {
    /// `server_version` of the inspected server.
    pub server_version: String,
    pub database: String,
    pub cache: CacheHit,
    /// Every index of a user table, largest first.
    pub indexes: Vec<IndexUsage>,
    /// Indexes never scanned since the statistics were reset that enforce no constraint.
    pub unused_indexes: Vec<IndexUsage>,
    pub duplicate_indexes: Vec<DuplicateIndex>,
    pub seq_scans: Vec<SeqScan>,
    pub bloat: Vec<Bloat>,
    /// `None` when pg_stat_statements cannot be read here; `statements_note` says why.
    pub top_statements: Option<Vec<TopStatement>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statements_note: Option<String>,
    pub long_running: Vec<LongRunning>,
    pub blocking: Vec<BlockingLock>,
}

/// Share of block reads served from shared buffers (0-1), `None` before any read.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CacheHit {
    pub table_hit_ratio: Option<f64>,
    pub index_hit_ratio: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IndexUsage {
    pub schema: String,
    pub table: String,
    pub index: String,
    pub size_bytes: i64,
    /// Index scans since the statistics were reset.
    pub scans: i64,
    /// Unique, primary key, exclusion or constraint index: needed even when never scanned.
    pub enforces_constraint: bool,
    pub valid: bool,
    pub definition: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DuplicateIndex {
    pub schema: String,
    pub table: String,
    /// The index that can go.
    pub redundant_index: String,
    /// The index that serves its lookups.
    pub covered_by: String,
    /// `duplicate` (same definition) or `prefix` (its keys lead the other's).
    pub kind: String,
    pub size_bytes: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeqScan {
    pub schema: String,
    pub table: String,
    pub live_rows: i64,
    pub seq_scans: i64,
    pub seq_rows_read: i64,
    pub index_scans: i64,
    pub size_bytes: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Bloat {
    pub schema: String,
    pub table: String,
    pub size_bytes: i64,
    /// Estimated bytes beyond what the live rows need.
    pub bloat_bytes: i64,
    pub bloat_ratio: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TopStatement {
    pub query: String,
    pub calls: i64,
    pub total_ms: f64,
    pub mean_ms: f64,
    pub rows: i64,
    pub blocks: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LongRunning {
    pub pid: i32,
    pub user: String,
    pub state: String,
    pub running_ms: f64,
    pub waiting_on: String,
    pub query: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BlockingLock {
    pub blocked_pid: i32,
    pub blocked_query: String,
    pub waiting_ms: f64,
    pub blocking_pid: i32,
    pub blocking_state: String,
    pub blocking_query: String,
}

/// Reads the health view in one read-only transaction.
pub fn inspect(
    client: &mut Client,
    options: &InspectOptions,
) -> Result<InspectReport, InspectError> {
    let mut tx = client
        .build_transaction()
        .read_only(true)
        .start()
        .map_err(query_error("starting a read-only transaction"))?;
    // Catalog functions such as pg_relation_size take a lock: never queue long behind DDL.
    tx.batch_execute("SET LOCAL lock_timeout = '2s'; SET LOCAL statement_timeout = '30s'")
        .map_err(query_error("setting timeouts"))?;
    let identity = tx
        .query_one(
            "SELECT current_setting('server_version'), current_database()::text",
            &[],
        )
        .map_err(query_error("reading the server version"))?;
    let indexes = index_usage(&mut tx)?;
    let unused_indexes = indexes
        .iter()
        .filter(|i| i.scans == 0 && !i.enforces_constraint)
        .cloned()
        .collect();
    let (top_statements, statements_note) = top_statements(&mut tx, options.top_statements)?;
    let report = InspectReport {
        server_version: identity.get(0),
        database: identity.get(1),
        cache: cache_hit(&mut tx)?,
        unused_indexes,
        indexes,
        duplicate_indexes: duplicate_indexes(&mut tx)?,
        seq_scans: seq_scans(&mut tx, options.large_table_rows)?,
        bloat: bloat(&mut tx)?,
        top_statements,
        statements_note,
        long_running: long_running(&mut tx, options.long_running_ms)?,
        blocking: blocking(&mut tx)?,
    };
    // Read-only: nothing to keep, so the transaction is simply ended.
    tx.rollback()
        .map_err(query_error("ending the transaction"))?;
    Ok(report)
}

fn query_error(what: &'static str) -> impl Fn(postgres::Error) -> InspectError {
    move |source| InspectError::Query { what, source }
}

fn rows(
    tx: &mut Transaction<'_>,
    what: &'static str,
    sql: &str,
    params: &[&(dyn postgres::types::ToSql + Sync)],
) -> Result<Vec<postgres::Row>, InspectError> {
    tx.query(sql, params).map_err(query_error(what))
}

fn index_usage(tx: &mut Transaction<'_>) -> Result<Vec<IndexUsage>, InspectError> {
    let rows = rows(
        tx,
        "reading index usage",
        include_str!("sql/index_usage.sql"),
        &[],
    )?;
    Ok(rows
        .iter()
        .map(|r| IndexUsage {
            schema: r.get(0),
            table: r.get(1),
            index: r.get(2),
            size_bytes: r.get(3),
            scans: r.get(4),
            enforces_constraint: r.get(5),
            valid: r.get(6),
            definition: r.get(7),
        })
        .collect())
}

fn duplicate_indexes(tx: &mut Transaction<'_>) -> Result<Vec<DuplicateIndex>, InspectError> {
    let sql = include_str!("sql/duplicate_indexes.sql");
    Ok(rows(tx, "finding duplicate indexes", sql, &[])?
        .iter()
        .map(|r| DuplicateIndex {
            schema: r.get(0),
            table: r.get(1),
            redundant_index: r.get(2),
            covered_by: r.get(3),
            kind: r.get(4),
            size_bytes: r.get(5),
        })
        .collect())
}

fn cache_hit(tx: &mut Transaction<'_>) -> Result<CacheHit, InspectError> {
    let row = tx
        .query_one(include_str!("sql/cache_hit.sql"), &[])
        .map_err(query_error("reading cache hit ratios"))?;
    Ok(CacheHit {
        table_hit_ratio: row.get(0),
        index_hit_ratio: row.get(1),
    })
}

fn seq_scans(tx: &mut Transaction<'_>, min_rows: i64) -> Result<Vec<SeqScan>, InspectError> {
    let sql = include_str!("sql/seq_scans.sql");
    Ok(rows(tx, "reading sequential scans", sql, &[&min_rows])?
        .iter()
        .map(|r| SeqScan {
            schema: r.get(0),
            table: r.get(1),
            live_rows: r.get(2),
            seq_scans: r.get(3),
            seq_rows_read: r.get(4),
            index_scans: r.get(5),
            size_bytes: r.get(6),
        })
        .collect())
}

fn bloat(tx: &mut Transaction<'_>) -> Result<Vec<Bloat>, InspectError> {
    Ok(
        rows(tx, "estimating bloat", include_str!("sql/bloat.sql"), &[])?
            .iter()
            .map(|r| Bloat {
                schema: r.get(0),
                table: r.get(1),
                size_bytes: r.get(2),
                bloat_bytes: r.get(3),
                bloat_ratio: r.get(4),
            })
            .collect(),
    )
}

/// The top statements, or why there are none: the extension is not created in this database,
/// or the library is not preloaded (read under a savepoint, so the failure does not end the
/// transaction).
fn top_statements(
    tx: &mut Transaction<'_>,
    limit: i64,
) -> Result<(Option<Vec<TopStatement>>, Option<String>), InspectError> {
    let schema: Option<String> = tx
        .query_opt(
            "SELECT n.nspname::text FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
             WHERE e.extname = 'pg_stat_statements'",
            &[],
        )
        .map_err(query_error("looking for pg_stat_statements"))?
        .map(|row| row.get(0));
    let Some(schema) = schema else {
        return Ok((
            None,
            Some("pg_stat_statements is not installed in this database: run CREATE EXTENSION pg_stat_statements (it also needs shared_preload_libraries = 'pg_stat_statements')".into()),
        ));
    };
    let view = crate::pg::quote_qualified(&schema, "pg_stat_statements");
    let sql = include_str!("sql/top_statements.sql").replace("{pg_stat_statements}", &view);
    let mut savepoint = tx
        .savepoint("pgperf_inspect_statements")
        .map_err(query_error("setting a savepoint"))?;
    match savepoint.query(&sql, &[&limit]) {
        Ok(rows) => Ok((
            Some(
                rows.iter()
                    .map(|r| TopStatement {
                        query: r.get(0),
                        calls: r.get(1),
                        total_ms: r.get(2),
                        mean_ms: r.get(3),
                        rows: r.get(4),
                        blocks: r.get(5),
                    })
                    .collect(),
            ),
            None,
        )),
        Err(error) => {
            savepoint
                .rollback()
                .map_err(query_error("rolling back to the savepoint"))?;
            Ok((
                None,
                Some(format!(
                    "pg_stat_statements cannot be read: {}",
                    crate::pg::describe(&error)
                )),
            ))
        }
    }
}

fn long_running(tx: &mut Transaction<'_>, min_ms: u64) -> Result<Vec<LongRunning>, InspectError> {
    let min_ms = min_ms as f64;
    let sql = include_str!("sql/long_running.sql");
    Ok(rows(tx, "reading long-running queries", sql, &[&min_ms])?
        .iter()
        .map(|r| LongRunning {
            pid: r.get(0),
            user: r.get(1),
            state: r.get(2),
            running_ms: r.get(3),
            waiting_on: r.get(4),
            query: r.get(5),
        })
        .collect())
}

fn blocking(tx: &mut Transaction<'_>) -> Result<Vec<BlockingLock>, InspectError> {
    Ok(rows(
        tx,
        "reading blocking locks",
        include_str!("sql/blocking.sql"),
        &[],
    )?
    .iter()
    .map(|r| BlockingLock {
        blocked_pid: r.get(0),
        blocked_query: r.get(1),
        waiting_ms: r.get(2),
        blocking_pid: r.get(3),
        blocking_state: r.get(4),
        blocking_query: r.get(5),
    })
    .collect())
}
