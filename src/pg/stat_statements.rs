//! pg_stat_statements snapshots and deltas. Rows are matched by (`queryid`, `dbid`, `userid`)
//! with `toplevel = true`, never by text: statements prepared before a reset keep their literal
//! text, and with `track = all` an EXPLAIN ANALYZE adds a `toplevel = false` row with the same
//! queryid. Counters survive ROLLBACK, so rolled-back writes are counted too. The `dealloc`
//! counter of `pg_stat_statements_info` tells whether entries were evicted during the run.
//!
//! On Citus the coordinator's rows show only the coordinator's share of a distributed query:
//! each worker's rows are read through the coordinator (`run_command_on_workers`) and keyed by
//! a fingerprint of their text with shard names replaced by table names and constants by
//! parameters, which is what every shard query of one distributed query has in common.

use std::collections::HashMap;
use std::hash::Hash;

use postgres::Client;

use crate::model::StatementStats;

/// Identity of a pg_stat_statements row within one database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StatementKey {
    pub queryid: i64,
    pub userid: u32,
}

/// Every top-level row of the current database at one moment, plus the eviction counter.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub rows: HashMap<StatementKey, StatementStats>,
    /// `pg_stat_statements_info.dealloc`.
    pub dealloc: i64,
    /// On Citus: the workers' top-level rows summed by [`shard_query_fingerprint`].
    pub workers: HashMap<String, StatementStats>,
}

const SNAPSHOT_SQL: &str = "\
SELECT queryid, userid::oid::bigint, calls, rows, total_exec_time, total_plan_time,
       shared_blks_hit, shared_blks_read, shared_blks_dirtied, shared_blks_written,
       temp_blks_read, temp_blks_written, blk_read_time, wal_records, wal_bytes::bigint
FROM pg_stat_statements
WHERE toplevel AND queryid IS NOT NULL
  AND dbid = (SELECT oid FROM pg_database WHERE datname = current_database())";

/// Reads the current counters. Fails when the extension is not installed in this database.
pub fn snapshot(client: &mut Client) -> Result<Snapshot, postgres::Error> {
    let mut rows = HashMap::new();
    for row in client.query(SNAPSHOT_SQL, &[])? {
        let key = StatementKey {
            queryid: row.get(0),
            userid: u32::try_from(row.get::<_, i64>(1)).unwrap_or_default(),
        };
        rows.insert(
            key,
            StatementStats {
                queryids: vec![key.queryid],
                calls: row.get(2),
                rows: row.get(3),
                total_exec_time_ms: row.get(4),
                mean_exec_time_ms: 0.0,
                total_plan_time_ms: row.get(5),
                shared_blks_hit: row.get(6),
                shared_blks_read: row.get(7),
                shared_blks_dirtied: row.get(8),
                shared_blks_written: row.get(9),
                temp_blks_read: row.get(10),
                temp_blks_written: row.get(11),
                blk_read_time_ms: row.get(12),
                wal_records: row.get(13),
                wal_bytes: row.get(14),
                workers: None,
            },
        );
    }
    let dealloc = client
        .query_one("SELECT dealloc FROM pg_stat_statements_info", &[])?
        .get(0);
    let workers = match crate::citus::is_installed(client)? {
        true => worker_snapshot(client)?,
        false => HashMap::new(),
    };
    Ok(Snapshot {
        rows,
        dealloc,
        workers,
    })
}

/// Every worker's top-level rows of this database as one JSON array each; a worker without
/// pg_stat_statements answers with an error and is left out.
const WORKER_SNAPSHOT_SQL: &str = "\
SELECT result FROM run_command_on_workers($cmd$
  SELECT coalesce(json_agg(json_build_array(query, calls, rows, total_exec_time, total_plan_time,
         shared_blks_hit, shared_blks_read, shared_blks_dirtied, shared_blks_written,
         temp_blks_read, temp_blks_written, blk_read_time, wal_records, wal_bytes)), '[]')
  FROM pg_stat_statements
  WHERE toplevel AND dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
$cmd$) WHERE success";

fn worker_snapshot(
    client: &mut Client,
) -> Result<HashMap<String, StatementStats>, postgres::Error> {
    let mut sums: HashMap<String, StatementStats> = HashMap::new();
    for row in client.query(WORKER_SNAPSHOT_SQL, &[])? {
        let text: String = row.get(0);
        let rows: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap_or_default();
        for fields in rows.iter().filter_map(serde_json::Value::as_array) {
            let Some(key) = fields
                .first()
                .and_then(serde_json::Value::as_str)
                .and_then(shard_query_fingerprint)
            else {
                continue;
            };
            let number = |index: usize| fields.get(index).and_then(serde_json::Value::as_f64);
            let count = |index: usize| number(index).unwrap_or(0.0) as i64;
            let stats = StatementStats {
                calls: count(1),
                rows: count(2),
                total_exec_time_ms: number(3).unwrap_or(0.0),
                total_plan_time_ms: number(4).unwrap_or(0.0),
                shared_blks_hit: count(5),
                shared_blks_read: count(6),
                shared_blks_dirtied: count(7),
                shared_blks_written: count(8),
                temp_blks_read: count(9),
                temp_blks_written: count(10),
                blk_read_time_ms: number(11).unwrap_or(0.0),
                wal_records: count(12),
                wal_bytes: count(13),
                ..StatementStats::default()
            };
            accumulate(
                sums.entry(key).or_default(),
                &stats,
                &StatementStats::default(),
            );
        }
    }
    Ok(sums)
}

/// What the shard queries of one distributed query share: their text with shard names as
/// table names, constants as parameters (pg_stat_statements shows `$1` where EXPLAIN shows the
/// value), fingerprinted. `None` for text the parser refuses.
pub fn shard_query_fingerprint(text: &str) -> Option<String> {
    let text = crate::citus::plan::without_shard_ids(text);
    let normalized = pg_query::normalize(&text).ok()?;
    let options = pg_query::FingerprintOptions::FULL_RELNAME;
    Some(pg_query::fingerprint(&normalized, 0, options).ok()?.hex)
}

/// The workers' counters between two snapshots for the shard queries of `task_queries`, or
/// `None` when none of them ran.
pub fn worker_delta(
    before: &Snapshot,
    after: &Snapshot,
    task_queries: &[&str],
) -> Option<StatementStats> {
    let mut keys: Vec<String> = task_queries
        .iter()
        .filter_map(|text| shard_query_fingerprint(text))
        .collect();
    keys.sort();
    keys.dedup();
    sum_deltas(&before.workers, &after.workers, &keys)
}

/// The oid of `role` (or of the session user when `None`), for matching `userid`.
pub fn role_oid(client: &mut Client, role: Option<&str>) -> Result<u32, postgres::Error> {
    let row = client.query_one(
        "SELECT oid::bigint FROM pg_roles WHERE rolname = coalesce($1, session_user)",
        &[&role],
    )?;
    Ok(u32::try_from(row.get::<_, i64>(0)).unwrap_or_default())
}

/// Counters accumulated between two snapshots for `keys` (summed), or `None` when no key
/// has a row after the run.
pub fn delta(before: &Snapshot, after: &Snapshot, keys: &[StatementKey]) -> Option<StatementStats> {
    let mut total = sum_deltas(&before.rows, &after.rows, keys)?;
    for key in keys.iter().filter(|key| after.rows.contains_key(key)) {
        if !total.queryids.contains(&key.queryid) {
            total.queryids.push(key.queryid);
        }
    }
    Some(total)
}

/// `after - before` summed over `keys` (a key missing before counts from zero), with the mean
/// execution time; `None` when no key has a row after.
fn sum_deltas<K: Hash + Eq>(
    before: &HashMap<K, StatementStats>,
    after: &HashMap<K, StatementStats>,
    keys: &[K],
) -> Option<StatementStats> {
    let mut total: Option<StatementStats> = None;
    for key in keys {
        let Some(end) = after.get(key) else {
            continue;
        };
        let start = before.get(key).cloned().unwrap_or_default();
        accumulate(
            total.get_or_insert_with(StatementStats::default),
            end,
            &start,
        );
    }
    let mut total = total?;
    total.mean_exec_time_ms = if total.calls > 0 {
        total.total_exec_time_ms / total.calls as f64
    } else {
        0.0
    };
    Some(total)
}

fn accumulate(sum: &mut StatementStats, end: &StatementStats, start: &StatementStats) {
    sum.calls += end.calls - start.calls;
    sum.rows += end.rows - start.rows;
    sum.total_exec_time_ms += end.total_exec_time_ms - start.total_exec_time_ms;
    sum.total_plan_time_ms += end.total_plan_time_ms - start.total_plan_time_ms;
    sum.shared_blks_hit += end.shared_blks_hit - start.shared_blks_hit;
    sum.shared_blks_read += end.shared_blks_read - start.shared_blks_read;
    sum.shared_blks_dirtied += end.shared_blks_dirtied - start.shared_blks_dirtied;
    sum.shared_blks_written += end.shared_blks_written - start.shared_blks_written;
    sum.temp_blks_read += end.temp_blks_read - start.temp_blks_read;
    sum.temp_blks_written += end.temp_blks_written - start.temp_blks_written;
    sum.blk_read_time_ms += end.blk_read_time_ms - start.blk_read_time_ms;
    sum.wal_records += end.wal_records - start.wal_records;
    sum.wal_bytes += end.wal_bytes - start.wal_bytes;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(calls: i64, exec_ms: f64, hit: i64) -> StatementStats {
        StatementStats {
            calls,
            total_exec_time_ms: exec_ms,
            shared_blks_hit: hit,
            ..StatementStats::default()
        }
    }

    #[test]
    fn delta_sums_matching_keys_and_ignores_others() {
        let a = StatementKey {
            queryid: 1,
            userid: 10,
        };
        let b = StatementKey {
            queryid: 1,
            userid: 11,
        };
        let other = StatementKey {
            queryid: 2,
            userid: 10,
        };
        let before = Snapshot {
            rows: HashMap::from([(a, stats(5, 1.0, 50)), (other, stats(1, 1.0, 1))]),
            dealloc: 0,
            ..Snapshot::default()
        };
        let after = Snapshot {
            rows: HashMap::from([
                (a, stats(15, 3.0, 150)),
                (b, stats(10, 2.0, 10)),
                (other, stats(9, 9.0, 9)),
            ]),
            dealloc: 0,
            ..Snapshot::default()
        };
        let delta = delta(&before, &after, &[a, b]).expect("rows matched");
        assert_eq!(delta.calls, 20);
        assert_eq!(delta.shared_blks_hit, 110);
        assert_eq!(delta.queryids, vec![1]);
        assert!((delta.mean_exec_time_ms - 0.2).abs() < 1e-9);
    }

    #[test]
    fn shard_queries_of_one_query_share_a_fingerprint() {
        let explained = "SELECT id FROM public.tickets_102010 tickets WHERE ((team_id OPERATOR(pg_catalog.=) 3) AND (status OPERATOR(pg_catalog.=) 'open'::text)) LIMIT 20";
        let on_worker = "SELECT id FROM public.tickets_102041 tickets WHERE ((team_id OPERATOR(pg_catalog.=) $1) AND (status OPERATOR(pg_catalog.=) $2::text)) LIMIT $3";
        let other = "SELECT id FROM public.tickets_102041 tickets WHERE (priority OPERATOR(pg_catalog.=) $1)";
        let key = shard_query_fingerprint(explained).expect("parses");
        assert_eq!(shard_query_fingerprint(on_worker), Some(key.clone()));
        assert_ne!(shard_query_fingerprint(other), Some(key));
    }

    #[test]
    fn no_row_after_the_run_means_no_stats() {
        let key = StatementKey {
            queryid: 1,
            userid: 1,
        };
        assert_eq!(
            delta(&Snapshot::default(), &Snapshot::default(), &[key]),
            None
        );
    }
}
