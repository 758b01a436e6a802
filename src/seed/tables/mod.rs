//! One generator per table of the control-center schema, listed in foreign-key order, and the
//! known personas the dashboard workload runs as.
//!
//! Keys are assigned by the generators (1..=n for bigint keys, seeded uuids otherwise), so a
//! child table picks parents by index without reading them back from the database.

mod app;
mod approvals;
mod audit;
mod cx;
mod growth;
mod inventory;

use std::io::{self, Write};

use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, WeightedIndex};

use super::copy::CopyRows;
use super::plan::Plan;

/// Where a generator writes its rows.
pub type Sink<'a> = CopyRows<&'a mut dyn Write>;

/// Column types the seeder writes, checked against the catalog before loading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColType {
    Int2,
    Int4,
    Int8,
    Numeric,
    Text,
    Bool,
    Timestamptz,
    Date,
    Uuid,
    Jsonb,
    /// Any enum: its binary COPY form is the label's text.
    Enum,
}

impl ColType {
    /// Whether a column of catalog type `type_name` takes this encoding.
    pub fn accepts(self, type_name: &str, is_enum: bool) -> bool {
        match self {
            ColType::Enum => is_enum,
            ColType::Text => matches!(type_name, "text" | "varchar" | "citext"),
            other => type_name == other.type_name(),
        }
    }

    fn type_name(self) -> &'static str {
        match self {
            ColType::Int2 => "int2",
            ColType::Int4 => "int4",
            ColType::Int8 => "int8",
            ColType::Numeric => "numeric",
            ColType::Text => "text",
            ColType::Bool => "bool",
            ColType::Timestamptz => "timestamptz",
            ColType::Date => "date",
            ColType::Uuid => "uuid",
            ColType::Jsonb => "jsonb",
            ColType::Enum => "enum",
        }
    }
}

/// Writes one table's rows.
pub trait Generator: Sync {
    /// `(schema, table)`.
    fn table(&self) -> (&'static str, &'static str);
    /// The columns written, in COPY order, with their encodings.
    fn columns(&self) -> &'static [(&'static str, ColType)];
    /// Writes every row, drawing randomness only from `rng` (the table's own stream) and from
    /// the per-row facts streams of parent tables.
    fn generate(&self, plan: &Plan, rng: &mut ChaCha8Rng, out: &mut Sink<'_>) -> io::Result<()>;

    /// Runs in the loading transaction before the COPY (e.g. to create partitions).
    fn before_load(
        &self,
        _plan: &Plan,
        _tx: &mut postgres::Transaction<'_>,
    ) -> Result<(), postgres::Error> {
        Ok(())
    }
}

/// Values with fixed relative weights, sampled without allocating.
pub struct Weighted<T: 'static> {
    values: &'static [T],
    index: WeightedIndex<f64>,
}

impl<T: Copy> Weighted<T> {
    /// One weight per value, all positive (constant tables: anything else is a bug).
    pub fn new(values: &'static [T], weights: &[f64]) -> Weighted<T> {
        Weighted {
            values,
            index: WeightedIndex::new(weights).expect("weights are constant and positive"),
        }
    }

    pub fn sample(&self, rng: &mut ChaCha8Rng) -> T {
        self.values[self.index.sample(rng)]
    }
}

/// A known user of the seeded data, for the workload's personas and for tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Persona {
    /// Persona name in `workloads/dashboard.toml`.
    pub name: &'static str,
    pub user_id: &'static str,
    pub team_id: i64,
    /// The `app_role` claim: viewer, operator, manager or admin.
    pub app_role: &'static str,
}

/// For each of the first two teams one viewer, operator, manager and admin, with fixed uuids
/// (`0000000T-0000-4000-8000-00000000000R`: team T, role R).
pub const PERSONAS: [Persona; 8] = [
    persona(
        "viewer_t1",
        "00000001-0000-4000-8000-000000000001",
        1,
        "viewer",
    ),
    persona(
        "operator_t1",
        "00000001-0000-4000-8000-000000000002",
        1,
        "operator",
    ),
    persona(
        "manager_t1",
        "00000001-0000-4000-8000-000000000003",
        1,
        "manager",
    ),
    persona(
        "admin_t1",
        "00000001-0000-4000-8000-000000000004",
        1,
        "admin",
    ),
    persona(
        "viewer_t2",
        "00000002-0000-4000-8000-000000000001",
        2,
        "viewer",
    ),
    persona(
        "operator_t2",
        "00000002-0000-4000-8000-000000000002",
        2,
        "operator",
    ),
    persona(
        "manager_t2",
        "00000002-0000-4000-8000-000000000003",
        2,
        "manager",
    ),
    persona(
        "admin_t2",
        "00000002-0000-4000-8000-000000000004",
        2,
        "admin",
    ),
];

const fn persona(
    name: &'static str,
    user_id: &'static str,
    team_id: i64,
    app_role: &'static str,
) -> Persona {
    Persona {
        name,
        user_id,
        team_id,
        app_role,
    }
}

/// Every generator, parents before children.
pub fn all() -> Vec<&'static dyn Generator> {
    vec![
        &app::Teams,
        &app::Users,
        &approvals::Approvals,
        &approvals::Grades,
        &approvals::Edits,
        &inventory::Locations,
        &inventory::Products,
        &inventory::SupplierLeadTimes,
        &inventory::Snapshots,
        &inventory::SalesVelocity,
        &inventory::PickerPayouts,
        &cx::Conversations,
        &cx::SlaTargets,
        &cx::SlaBreaches,
        &cx::QualityGrades,
        &growth::SeoPages,
        &growth::SeoRankings,
        &growth::AdCampaigns,
        &growth::AdDailyMetrics,
        &growth::ContentItems,
        &growth::ContentEngagement,
        &audit::Log,
    ]
}
