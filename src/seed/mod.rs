//! The deterministic data generator for the bundled control-center schema (DESIGN §5,
//! `pgperf seed`): every table of the migrations, in foreign-key order, loaded with binary COPY.
//!
//! Why it looks the way it does:
//! - Same `rng_seed`, `scale` and anchor date give byte-identical data: each table draws from
//!   its own stream ([`shape::table_rng`]) and keys are assigned, not taken from sequences.
//! - Sizes grow linearly with `scale` ([`plan::Plan`]); scale 1 is about 2.8 million rows.
//! - Timestamps end on the anchor date (today, UTC, unless pinned), so "the last 7 days" of a
//!   dashboard always has data, and the audit log falls inside its monthly partitions.
//! - Loading runs as a superuser in one transaction with `session_replication_role = replica`:
//!   superusers bypass RLS (COPY FROM is refused on tables with forced row security otherwise),
//!   and replica mode silences the audit triggers so seeding does not write a second copy of
//!   every row into the audit log. It also skips foreign-key triggers: the generators assign
//!   keys inside their parents' ranges, and `tests/seed_data.rs` re-validates every foreign key.

mod copy;
mod load;
mod plan;
pub mod shape;
mod tables;

use std::time::Duration;

pub use copy::{CopyRows, Row};
pub use plan::{Plan, estimated_cluster_bytes};
pub use tables::{PERSONAS, Persona};

/// What to seed.
#[derive(Debug, Clone, PartialEq)]
pub struct SeedOptions {
    /// Rows grow linearly with this; 1.0 is about 2.8 M rows. Fractions are allowed (tests).
    pub scale: f64,
    /// Seed of every table's random stream.
    pub rng_seed: u64,
    /// Empty the tables first instead of refusing to seed a database that has rows.
    pub truncate: bool,
    /// Last day of the generated history (UTC); `None` is today.
    pub anchor_date: Option<chrono::NaiveDate>,
}

impl Default for SeedOptions {
    fn default() -> Self {
        SeedOptions {
            scale: 1.0,
            rng_seed: 42,
            truncate: false,
            anchor_date: None,
        }
    }
}

/// What was loaded, table by table.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SeedReport {
    /// Tables in load order.
    pub tables: Vec<TableReport>,
    /// Last day of the generated history.
    pub anchor_date: chrono::NaiveDate,
    /// Tables of the schema that the seeder has no generator for (left empty).
    pub skipped_tables: Vec<String>,
    /// Time of the COPY phase (generation and loading), without ANALYZE and refreshes.
    #[serde(rename = "load_ms", serialize_with = "as_ms")]
    pub load: Duration,
    /// Time of everything: checks, loading, sequences, refreshes, ANALYZE.
    #[serde(rename = "total_ms", serialize_with = "as_ms")]
    pub total: Duration,
}

/// One loaded table.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TableReport {
    /// `schema.table`.
    pub table: String,
    pub rows: u64,
    /// Generation plus COPY of this table.
    #[serde(rename = "duration_ms", serialize_with = "as_ms")]
    pub duration: Duration,
}

fn as_ms<S: serde::Serializer>(duration: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_f64(duration.as_secs_f64() * 1e3)
}

impl SeedReport {
    /// Rows loaded over all tables.
    pub fn total_rows(&self) -> u64 {
        self.tables.iter().map(|table| table.rows).sum()
    }

    /// Rows per second of the COPY phase.
    pub fn rows_per_s(&self) -> f64 {
        self.total_rows() as f64 / self.load.as_secs_f64().max(1e-9)
    }
}

/// Why seeding failed.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("--scale must be a positive number, got {0}")]
    InvalidScale(f64),
    #[error(
        "seeding needs a superuser, and {user} is not one: COPY FROM is refused on tables with forced row-level security, and silencing the audit triggers needs session_replication_role; connect as a superuser (the embedded database's `postgres`)"
    )]
    NotSuperuser { user: String },
    #[error(
        "table {table} does not exist: apply the migrations first (`pgperf migrate up`), or point --db at the control-center database"
    )]
    MissingTable { table: String },
    #[error(
        "the seeder does not match the schema of {table}: {detail}; the migrations and src/seed/tables disagree, update the generator"
    )]
    SchemaMismatch { table: String, detail: String },
    #[error(
        "the database already has rows in {tables}; pass --truncate to empty these tables before seeding, or seed a fresh database"
    )]
    NotEmpty { tables: String },
    #[error("loading {table} failed: {message}")]
    Copy { table: String, message: String },
    #[error("seeding failed while {step}: {message}")]
    Database { step: String, message: String },
    #[error("seeding was interrupted; nothing was committed")]
    Interrupted,
}

impl SeedError {
    fn database(step: impl Into<String>, error: &postgres::Error) -> SeedError {
        SeedError::Database {
            step: step.into(),
            message: crate::pg::describe(error),
        }
    }
}

/// Seeds every table of the control-center schema on `client`'s database: checks, one
/// transaction of binary COPYs, then sequences, materialized rollups and ANALYZE.
pub fn seed(client: &mut postgres::Client, options: &SeedOptions) -> Result<SeedReport, SeedError> {
    if !(options.scale.is_finite() && options.scale > 0.0) {
        return Err(SeedError::InvalidScale(options.scale));
    }
    let anchor_date = options
        .anchor_date
        .unwrap_or_else(|| chrono::Utc::now().date_naive());
    let plan = Plan::new(options.scale, options.rng_seed, anchor_date);
    load::run(client, &plan, options.truncate)
}
