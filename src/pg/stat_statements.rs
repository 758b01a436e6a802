//! pg_stat_statements snapshots and deltas. Rows are matched by (`queryid`, `dbid`, `userid`)
//! with `toplevel = true`, never by text: statements prepared before a reset keep their literal
//! text, and with `track = all` an EXPLAIN ANALYZE adds a `toplevel = false` row with the same
//! queryid. Counters survive ROLLBACK, so rolled-back writes are counted too. The `dealloc`
//! counter of `pg_stat_statements_info` tells whether entries were evicted during the run.

use std::collections::HashMap;

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
            },
        );
    }
    let dealloc = client
        .query_one("SELECT dealloc FROM pg_stat_statements_info", &[])?
        .get(0);
    Ok(Snapshot { rows, dealloc })
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
    let mut total: Option<StatementStats> = None;
    for key in keys {
        let Some(end) = after.rows.get(key) else {
            continue;
        };
        let start = before.rows.get(key).cloned().unwrap_or_default();
        let sum = total.get_or_insert_with(StatementStats::default);
        if !sum.queryids.contains(&key.queryid) {
            sum.queryids.push(key.queryid);
        }
        accumulate(sum, end, &start);
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
        };
        let after = Snapshot {
            rows: HashMap::from([
                (a, stats(15, 3.0, 150)),
                (b, stats(10, 2.0, 10)),
                (other, stats(9, 9.0, 9)),
            ]),
            dealloc: 0,
        };
        let delta = delta(&before, &after, &[a, b]).expect("rows matched");
        assert_eq!(delta.calls, 20);
        assert_eq!(delta.shared_blks_hit, 110);
        assert_eq!(delta.queryids, vec![1]);
        assert!((delta.mean_exec_time_ms - 0.2).abs() < 1e-9);
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
