//! `pgperf record`: a workload file (DESIGN §6) written from what a live database actually ran,
//! read from its `pg_stat_statements` or from its server log.
//!
//! The pieces: [`log`] reads stderr/csvlog/jsonlog logs into calls; [`sql`] normalises each
//! statement with PostgreSQL's own parser and finds the column every `$n` is compared to;
//! [`privacy`] replaces secrets and personal data; [`write`] renders the workload file.

pub mod columns;
pub mod draft;
pub mod log;
pub mod privacy;
pub mod sql;
pub mod write;
