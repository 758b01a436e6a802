//! `pgperf record`: a workload file (DESIGN §6) written from what a live database actually ran,
//! read from its `pg_stat_statements` ([`from_stats`]) or from its server log ([`from_log`]).
//!
//! The pieces: [`log`] reads stderr/csvlog/jsonlog logs into calls; [`sql`] normalises each
//! statement with PostgreSQL's own parser and finds the column every `$n` is compared to;
//! [`columns`] resolves those columns and samples their `pg_stats`; [`calibrate`] moves
//! sampled values to those whose planner estimate matches what pg_stat_statements measured
//! per call; [`privacy`] replaces
//! secrets and personal data; [`draft`] turns values into parameter generators; [`write`]
//! renders the workload file. Documentation: `docs/record.md`.

pub mod calibrate;
pub mod columns;
pub mod draft;
pub mod from_log;
pub mod from_stats;
pub mod log;
pub mod privacy;
pub mod reference;
pub mod sql;
pub mod write;

pub use from_log::LogOptions;
pub use from_stats::StatOptions;

/// Why recording failed.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error(
        "pg_stat_statements is not installed in this database: add it to shared_preload_libraries, restart the server, and run CREATE EXTENSION pg_stat_statements"
    )]
    NoStatStatements,
    #[error("reading the database failed: {0}")]
    Database(String),
    #[error("nothing could be read from the log: {0}")]
    NothingRead(String),
}

impl RecordError {
    fn database(error: postgres::Error) -> Self {
        RecordError::Database(crate::pg::describe(&error))
    }
}

/// What a recording produced: the queries, in the order to write, and what to tell the user.
#[derive(Debug, Clone)]
pub struct Recording {
    pub drafts: Vec<draft::Draft>,
    /// Lines for stderr and the file header: counts, what was left out and why.
    pub report: Vec<String>,
    /// `pg_stat_statements` or `csvlog log`.
    pub source: String,
}

impl Recording {
    /// Notes of parameters that hold placeholders the user must check.
    pub fn placeholders(&self) -> Vec<String> {
        self.drafts
            .iter()
            .flat_map(|d| {
                d.params
                    .iter()
                    .filter(|p| p.placeholder)
                    .map(move |p| format!("{}: {}", first_line(&d.statement.sql), p.note))
            })
            .collect()
    }
}

pub(crate) fn first_line(sql: &str) -> String {
    let line: String = sql.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() > 70 {
        format!("{}…", line.chars().take(70).collect::<String>())
    } else {
        line
    }
}
