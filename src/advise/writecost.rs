//! The write penalty as a cost, not a cut-off (issue 14, item 9; pure). Every index is
//! maintained on every row written to its table, so a candidate is worth its reads' saving
//! minus that maintenance, both in planner cost units per workload session:
//!
//! - **read benefit** = Σ over the queries it serves of weight (calls per session) × planner
//!   cost saved (what selection already weighs);
//! - **write cost** = rows written per session × maintenance cost per row of this index.
//!
//! Rows written per session come from the workload's own writes when it has any on the table
//! (Σ weight × rows the statement's plan writes per execution). Otherwise from
//! `pg_stat_user_tables`: rows written beyond the table's size (so the bulk load that filled
//! it does not count) per scan of the table, times the workload's reads of it per session.
//! Both counters cover the same window since their last reset, so the window cancels: it is
//! the table's recorded write rate over its recorded read rate, scaled to this workload.
//!
//! Maintenance per row is one `seq_page_cost` (1.0) per B-tree page an insert visits on its
//! way down and dirties at the leaf: 1 + ⌈log_fanout(rows)⌉, fanout = 8192 bytes / entry
//! width (the index's estimated size per row, at least 16 bytes). Cached inner pages cost
//! less than a page read, the leaf's WAL record more; the model stays on the planner's scale
//! so the two sides compare. UPDATEs count as writes (a new index can end HOT updates);
//! a partial index is charged for every row (conservative).

use super::select::{Costed, TableLoad};
use crate::model::advice::WriteSource;

/// A B-tree page.
const PAGE_BYTES: f64 = 8192.0;
/// The smallest index entry: tuple header and item pointer.
const MIN_ENTRY_BYTES: f64 = 16.0;

/// Planner cost units one written row costs an index of `entry_bytes` per row on a table of
/// `rows` rows: the pages an insert descends, the leaf included.
pub fn maintenance_per_row(rows: f64, entry_bytes: f64) -> f64 {
    let fanout = (PAGE_BYTES / entry_bytes.max(MIN_ENTRY_BYTES)).max(2.0);
    1.0 + (rows.max(1.0).ln() / fanout.ln()).ceil().max(0.0)
}

/// Rows written to the table per workload session, and where the number comes from; `None`
/// when nothing says the table is written.
pub fn writes_per_session(load: &TableLoad) -> Option<(f64, WriteSource)> {
    if let Some(rows) = load.workload_writes {
        return Some((rows, WriteSource::Workload));
    }
    if load.recorded_scans <= 0 || load.recorded_writes <= 0 || load.workload_reads <= 0.0 {
        return None;
    }
    let per_scan = load.recorded_writes as f64 / load.recorded_scans as f64;
    Some((per_scan * load.workload_reads, WriteSource::TableStatistics))
}

/// The maintenance a candidate adds per session.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WriteCost {
    pub writes_per_session: f64,
    pub cost_per_row: f64,
    pub source: WriteSource,
}

impl WriteCost {
    pub fn per_session(&self) -> f64 {
        self.writes_per_session * self.cost_per_row
    }
}

/// What maintaining `candidate` (and its companions) costs per session; `None` when the
/// table is not written.
pub fn write_cost(load: &TableLoad, candidate: &Costed) -> Option<WriteCost> {
    let (writes_per_session, source) = writes_per_session(load)?;
    let indexes = 1 + candidate.companions.len();
    let entry_bytes = candidate.estimated_size_bytes as f64 / (load.rows.max(1.0) * indexes as f64);
    Some(WriteCost {
        writes_per_session,
        cost_per_row: indexes as f64 * maintenance_per_row(load.rows, entry_bytes),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(workload_writes: Option<f64>, recorded: (i64, i64), workload_reads: f64) -> TableLoad {
        TableLoad {
            rows: 100_000.0,
            workload_writes,
            workload_reads,
            recorded_writes: recorded.0,
            recorded_scans: recorded.1,
        }
    }

    #[test]
    fn an_insert_descends_the_tree_and_dirties_the_leaf() {
        // 100k rows of 24-byte entries: fanout 341, two levels above the leaf... 1 + ⌈1.97⌉.
        assert_eq!(maintenance_per_row(100_000.0, 24.0), 3.0);
        // A tiny table is one leaf: the root.
        assert_eq!(maintenance_per_row(1.0, 24.0), 1.0);
        // Wide entries (a long text key) make the tree deeper.
        assert_eq!(maintenance_per_row(100_000.0, 800.0), 6.0);
    }

    #[test]
    fn the_workloads_own_writes_come_first() {
        assert_eq!(
            writes_per_session(&load(Some(40.0), (1_000, 10), 2.0)),
            Some((40.0, WriteSource::Workload))
        );
    }

    #[test]
    fn recorded_writes_per_scan_scale_to_the_workloads_reads() {
        // 5,000 rows written for 1,000 scans: 5 per scan; the workload reads the table 3
        // times per session, so it writes about 15 rows per session.
        assert_eq!(
            writes_per_session(&load(None, (5_000, 1_000), 3.0)),
            Some((15.0, WriteSource::TableStatistics))
        );
        assert_eq!(writes_per_session(&load(None, (5_000, 0), 3.0)), None);
        assert_eq!(writes_per_session(&load(None, (0, 1_000), 3.0)), None);
    }

    #[test]
    fn cost_is_writes_times_maintenance_of_every_index_of_the_bundle() {
        let spec = crate::model::advice::IndexSpec {
            schema: "public".into(),
            table: "t".into(),
            keys: vec![],
            include: vec![],
            predicate: None,
            method: Default::default(),
        };
        let candidate = Costed {
            spec: spec.clone(),
            companions: vec![spec],
            origins: vec![],
            estimated_size_bytes: 4_800_000,
            costs: Default::default(),
        };
        let cost = write_cost(&load(Some(100.0), (0, 0), 1.0), &candidate).expect("written");
        assert_eq!(cost.cost_per_row, 6.0);
        assert_eq!(cost.per_session(), 600.0);
        assert_eq!(write_cost(&load(None, (0, 0), 1.0), &candidate), None);
    }
}
