//! pgperf: measure every dashboard query's latency on PostgreSQL, advise indexes proven by
//! measurement, and fail CI on a real regression. See `docs/architecture.md`.
//!
//! Dependencies point one way: `cli` → (`bench`, `advise`, `check`, `record`, `report`) →
//! (`pg`, `embedded`, `workload`, `stats`, `model`).

pub mod advise;
pub mod bench;
pub mod bundled;
pub mod catalog_docs;
pub mod check;
pub mod citus;
pub mod cli;
pub mod embedded;
pub mod history;
pub mod inspect;
pub mod migrate;
pub mod model;
pub mod pg;
pub mod record;
pub mod report;
pub mod seed;
pub mod signal;
pub mod stats;
pub mod terminal;
pub mod workload;
