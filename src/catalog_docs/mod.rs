//! Generates `docs/specs/` from the live catalog of the bundled control-center schema: one
//! page per table (columns, types, comments, PII flags, constraints, RLS policies, grants),
//! `security.md` with the policy matrix, and an index of tables, views and functions.
//!
//! Generated from the catalog rather than written by hand so the pages cannot drift from the
//! migrations; `tests/schema_docs.rs` fails when the committed pages are out of date.
//! Loading (this file) is separate from rendering (`render.rs`, pure).

mod render;

use std::path::Path;

use postgres::Client;

pub use render::render_pages;

/// The schemas of the bundled data layer, in documentation order.
pub const DOCUMENTED_SCHEMAS: [&str; 8] = [
    "app",
    "approvals",
    "inventory",
    "cx",
    "growth",
    "audit",
    "api",
    "rollup",
];

/// Why generating the specs failed.
#[derive(Debug, thiserror::Error)]
pub enum CatalogDocsError {
    #[error("reading the catalog failed: {0}; run the migrations first (pgperf migrate up)")]
    Catalog(#[from] postgres::Error),
    #[error("cannot write {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
}

/// One table as documented.
#[derive(Debug, Clone, PartialEq)]
pub struct TableDoc {
    pub schema: String,
    pub name: String,
    pub comment: Option<String>,
    pub partitioned: bool,
    pub rls_enabled: bool,
    pub rls_forced: bool,
    pub audited: bool,
    pub columns: Vec<ColumnDoc>,
    pub constraints: Vec<ConstraintDoc>,
    pub policies: Vec<PolicyDoc>,
    pub grants: Vec<GrantDoc>,
}

/// One column.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnDoc {
    pub name: String,
    pub type_name: String,
    pub not_null: bool,
    pub default_value: Option<String>,
    pub comment: Option<String>,
    /// Declared in `audit.pii_columns`.
    pub pii: bool,
}

/// One constraint with its definition as PostgreSQL prints it.
#[derive(Debug, Clone, PartialEq)]
pub struct ConstraintDoc {
    pub name: String,
    pub definition: String,
}

/// One row-level security policy.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyDoc {
    pub name: String,
    pub command: String,
    pub roles: String,
    pub permissive: String,
    pub using_expr: Option<String>,
    pub check_expr: Option<String>,
}

/// The privileges one role holds on a table.
#[derive(Debug, Clone, PartialEq)]
pub struct GrantDoc {
    pub grantee: String,
    pub privileges: String,
}

/// A function, view or materialized view, for the index page.
#[derive(Debug, Clone, PartialEq)]
pub struct RoutineDoc {
    pub schema: String,
    pub kind: String,
    pub name: String,
    pub security: String,
    pub comment: Option<String>,
}

/// Everything the pages are rendered from.
#[derive(Debug, Clone, PartialEq)]
pub struct CatalogDoc {
    pub tables: Vec<TableDoc>,
    pub routines: Vec<RoutineDoc>,
}

/// Reads the documented schemas from the connected database.
pub fn load(client: &mut Client) -> Result<CatalogDoc, CatalogDocsError> {
    let schemas: Vec<String> = DOCUMENTED_SCHEMAS.iter().map(|s| s.to_string()).collect();
    let pii = load_pii(client)?;
    let mut tables = Vec::new();
    for row in client.query(include_str!("tables.sql"), &[&schemas])? {
        let schema: String = row.get("schema_name");
        let name: String = row.get("table_name");
        let qualified = format!(
            "{}.{}",
            crate::pg::quote_ident(&schema),
            crate::pg::quote_ident(&name)
        );
        let is_pii = |column: &str| {
            pii.iter()
                .any(|(s, t, c)| *s == schema && *t == name && c == column)
        };
        tables.push(TableDoc {
            comment: row.get("comment"),
            partitioned: row.get("partitioned"),
            rls_enabled: row.get("rls_enabled"),
            rls_forced: row.get("rls_forced"),
            audited: row.get("audited"),
            columns: load_columns(client, &qualified, &is_pii)?,
            constraints: load_constraints(client, &qualified)?,
            policies: load_policies(client, &qualified)?,
            grants: load_grants(client, &qualified)?,
            schema,
            name,
        });
    }
    let routines = client
        .query(include_str!("routines.sql"), &[&schemas])?
        .iter()
        .map(|row| RoutineDoc {
            schema: row.get("schema_name"),
            kind: row.get("kind"),
            name: row.get("name"),
            security: row.get("security"),
            comment: row.get("comment"),
        })
        .collect();
    Ok(CatalogDoc { tables, routines })
}

/// `(schema, table, column)` of every declared PII column (none before the audit migration).
fn load_pii(client: &mut Client) -> Result<Vec<(String, String, String)>, CatalogDocsError> {
    let exists: bool = client
        .query_one("SELECT to_regclass('audit.pii_columns') IS NOT NULL", &[])?
        .get(0);
    if !exists {
        return Ok(Vec::new());
    }
    Ok(client
        .query(
            "SELECT table_schema, table_name, column_name FROM audit.pii_columns",
            &[],
        )?
        .iter()
        .map(|row| (row.get(0), row.get(1), row.get(2)))
        .collect())
}

fn load_columns(
    client: &mut Client,
    table: &str,
    is_pii: &dyn Fn(&str) -> bool,
) -> Result<Vec<ColumnDoc>, CatalogDocsError> {
    Ok(client
        .query(include_str!("columns.sql"), &[&table])?
        .iter()
        .map(|row| {
            let name: String = row.get("column_name");
            ColumnDoc {
                pii: is_pii(&name),
                type_name: row.get("type_name"),
                not_null: row.get("not_null"),
                default_value: row.get("default_value"),
                comment: row.get("comment"),
                name,
            }
        })
        .collect())
}

fn load_constraints(
    client: &mut Client,
    table: &str,
) -> Result<Vec<ConstraintDoc>, CatalogDocsError> {
    Ok(client
        .query(include_str!("constraints.sql"), &[&table])?
        .iter()
        .map(|row| ConstraintDoc {
            name: row.get("constraint_name"),
            definition: row.get("definition"),
        })
        .collect())
}

fn load_policies(client: &mut Client, table: &str) -> Result<Vec<PolicyDoc>, CatalogDocsError> {
    Ok(client
        .query(include_str!("policies.sql"), &[&table])?
        .iter()
        .map(|row| PolicyDoc {
            name: row.get("policy_name"),
            command: row.get("command"),
            roles: row.get("roles"),
            permissive: row.get("permissive"),
            using_expr: row.get("using_expr"),
            check_expr: row.get("check_expr"),
        })
        .collect())
}

fn load_grants(client: &mut Client, table: &str) -> Result<Vec<GrantDoc>, CatalogDocsError> {
    Ok(client
        .query(include_str!("grants.sql"), &[&table])?
        .iter()
        .map(|row| GrantDoc {
            grantee: row.get("grantee"),
            privileges: row.get("privileges"),
        })
        .collect())
}

/// Writes the rendered pages into `dir` (created if missing), replacing same-named files.
pub fn write_pages(dir: &Path, pages: &[(String, String)]) -> Result<(), CatalogDocsError> {
    let io_error = |path: &Path, source| CatalogDocsError::Write {
        path: path.display().to_string(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(|e| io_error(dir, e))?;
    for (file_name, text) in pages {
        let path = dir.join(file_name);
        std::fs::write(&path, text).map_err(|e| io_error(&path, e))?;
    }
    Ok(())
}
