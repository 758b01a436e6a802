//! One generator per table of the control-center schema, listed in foreign-key order, and the
//! known personas the dashboard workload runs as.
//!
//! Keys are assigned by the generators (1..=n for bigint keys, seeded uuids otherwise), so a
//! child table picks parents by index without reading them back from the database.

use rand_chacha::ChaCha8Rng;

use super::copy::Row;
use super::plan::Plan;

/// Column types the seeder writes, checked against the catalog before loading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColType {
    Int2,
    Int4,
    Int8,
    Float8,
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
            ColType::Float8 => "float8",
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
pub trait Generator {
    /// `(schema, table)`.
    fn table(&self) -> (&'static str, &'static str);
    /// The columns written, in COPY order, with their encodings.
    fn columns(&self) -> &'static [(&'static str, ColType)];
    /// How many rows.
    fn rows(&self) -> u64;
    /// Encodes row `index` (0-based), drawing randomness only from `rng`.
    fn write(&mut self, rng: &mut ChaCha8Rng, index: u64, row: &mut Row);
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
    persona("viewer_t1", "00000001-0000-4000-8000-000000000001", 1, "viewer"),
    persona("operator_t1", "00000001-0000-4000-8000-000000000002", 1, "operator"),
    persona("manager_t1", "00000001-0000-4000-8000-000000000003", 1, "manager"),
    persona("admin_t1", "00000001-0000-4000-8000-000000000004", 1, "admin"),
    persona("viewer_t2", "00000002-0000-4000-8000-000000000001", 2, "viewer"),
    persona("operator_t2", "00000002-0000-4000-8000-000000000002", 2, "operator"),
    persona("manager_t2", "00000002-0000-4000-8000-000000000003", 2, "manager"),
    persona("admin_t2", "00000002-0000-4000-8000-000000000004", 2, "admin"),
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
pub fn all(plan: &Plan) -> Vec<Box<dyn Generator>> {
    let _ = plan;
    Vec::new()
}
