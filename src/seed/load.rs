//! The database side of seeding: checks before any row is written (superuser, tables and
//! columns as the generators expect, empty tables), one transaction of binary COPYs with the
//! audit triggers silenced, then sequences, materialized rollups and statistics.

use std::io;
use std::time::Instant;

use postgres::{Client, GenericClient, Transaction};

use super::copy::CopyRows;
use super::plan::Plan;
use super::shape::table_rng;
use super::tables::{self, ColType, Generator};
use super::{SeedError, SeedReport, TableReport};
use crate::pg::{quote_ident, quote_qualified};

/// Schemas that are not the application's: system, Supabase's own, and pgperf's bookkeeping.
const FOREIGN_SCHEMAS: &[&str] = &[
    "pg_catalog",
    "information_schema",
    "pg_toast",
    "pgperf",
    "auth",
    "extensions",
    "storage",
    "realtime",
    "supabase_functions",
    "cron",
];

/// Checks, loads, and finishes; see the module doc.
pub fn run(client: &mut Client, plan: &Plan, truncate: bool) -> Result<SeedReport, SeedError> {
    let started = Instant::now();
    check_superuser(client)?;
    let generators = tables::all();
    for generator in &generators {
        check_columns(client, *generator)?;
    }
    let skipped_tables = tables_without_generator(client, &generators)?;
    let mut tx = client
        .transaction()
        .map_err(|e| SeedError::database("starting the transaction", &e))?;
    prepare_tables(&mut tx, &generators, truncate)?;
    let load_started = Instant::now();
    let mut reports = Vec::with_capacity(generators.len());
    for generator in &generators {
        reports.push(copy_table(&mut tx, plan, *generator)?);
    }
    tx.commit()
        .map_err(|e| SeedError::database("committing the loaded rows", &e))?;
    let load = load_started.elapsed();
    finish(client, &generators)?;
    Ok(SeedReport {
        tables: reports,
        anchor_date: plan.anchor_date,
        skipped_tables,
        load,
        total: started.elapsed(),
    })
}

fn check_superuser(client: &mut Client) -> Result<(), SeedError> {
    let row = client
        .query_one(
            "SELECT current_user::text, rolsuper FROM pg_roles WHERE rolname = current_user",
            &[],
        )
        .map_err(|e| SeedError::database("reading the current role", &e))?;
    if row.get::<_, bool>(1) {
        Ok(())
    } else {
        Err(SeedError::NotSuperuser { user: row.get(0) })
    }
}

/// The table exists and its columns are exactly those the generator writes, with matching
/// types: every column is written (no server default such as `now()` breaks determinism),
/// except generated columns, which the server computes.
fn check_columns(client: &mut Client, generator: &dyn Generator) -> Result<(), SeedError> {
    let (schema, name) = generator.table();
    let qualified = format!("{schema}.{name}");
    let rows = client
        .query(include_str!("table_columns.sql"), &[&schema, &name])
        .map_err(|e| SeedError::database(format!("reading the columns of {qualified}"), &e))?;
    if rows.is_empty() {
        return Err(SeedError::MissingTable { table: qualified });
    }
    let actual: Vec<(String, String, bool)> = rows
        .iter()
        .map(|row| (row.get(0), row.get(1), row.get(2)))
        .collect();
    match column_mismatch(generator.columns(), &actual) {
        None => Ok(()),
        Some(detail) => Err(SeedError::SchemaMismatch {
            table: qualified,
            detail,
        }),
    }
}

/// Compares the generator's columns with the catalog's `(name, type name, is enum)`.
pub(crate) fn column_mismatch(
    expected: &[(&str, ColType)],
    actual: &[(String, String, bool)],
) -> Option<String> {
    for (name, ty) in expected {
        match actual.iter().find(|(column, _, _)| column == name) {
            None => return Some(format!("column {name} does not exist")),
            Some((_, type_name, is_enum)) if !ty.accepts(type_name, *is_enum) => {
                return Some(format!(
                    "column {name} is {type_name} but the seeder writes {ty:?}"
                ));
            }
            Some(_) => {}
        }
    }
    let unwritten: Vec<&str> = actual
        .iter()
        .map(|(column, _, _)| column.as_str())
        .filter(|column| !expected.iter().any(|(name, _)| name == column))
        .collect();
    (!unwritten.is_empty()).then(|| format!("columns not written: {}", unwritten.join(", ")))
}

/// Application tables (not partitions) that no generator loads and that hold no rows (tables
/// filled by the migrations themselves, such as `audit.pii_columns`, are not missing data).
fn tables_without_generator(
    client: &mut Client,
    generators: &[&dyn Generator],
) -> Result<Vec<String>, SeedError> {
    let rows = client
        .query(
            "SELECT n.nspname::text, c.relname::text FROM pg_class c \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition \
               AND n.nspname <> ALL($1) AND n.nspname NOT LIKE 'pg_temp%' \
             ORDER BY 1, 2",
            &[&FOREIGN_SCHEMAS],
        )
        .map_err(|e| SeedError::database("listing the schema's tables", &e))?;
    let mut skipped = Vec::new();
    for row in rows {
        let (schema, name): (String, String) = (row.get(0), row.get(1));
        if generators
            .iter()
            .any(|generator| generator.table() == (schema.as_str(), name.as_str()))
        {
            continue;
        }
        if !has_rows(client, &schema, &name)? {
            skipped.push(format!("{schema}.{name}"));
        }
    }
    Ok(skipped)
}

/// Silences triggers for this transaction, then refuses non-empty tables or empties them.
fn prepare_tables(
    tx: &mut Transaction<'_>,
    generators: &[&dyn Generator],
    truncate: bool,
) -> Result<(), SeedError> {
    tx.batch_execute("SET LOCAL session_replication_role = replica")
        .map_err(|e| SeedError::database("silencing the audit triggers", &e))?;
    if truncate {
        let qualified: Vec<String> = generators
            .iter()
            .map(|generator| {
                let (schema, name) = generator.table();
                quote_qualified(schema, name)
            })
            .collect();
        return tx
            .batch_execute(&format!("TRUNCATE {}", qualified.join(", ")))
            .map_err(|e| SeedError::database("emptying the tables (--truncate)", &e));
    }
    let mut filled = Vec::new();
    for generator in generators {
        let (schema, name) = generator.table();
        if has_rows(tx, schema, name)? {
            filled.push(format!("{schema}.{name}"));
        }
    }
    match filled.len() {
        0 => Ok(()),
        1..=3 => Err(SeedError::NotEmpty {
            tables: filled.join(", "),
        }),
        more => Err(SeedError::NotEmpty {
            tables: format!("{} and {} more tables", filled[..3].join(", "), more - 3),
        }),
    }
}

/// Whether `schema.name` holds at least one row.
fn has_rows(client: &mut impl GenericClient, schema: &str, name: &str) -> Result<bool, SeedError> {
    let sql = format!(
        "SELECT EXISTS (SELECT FROM {})",
        quote_qualified(schema, name)
    );
    client
        .query_one(&sql, &[])
        .map(|row| row.get(0))
        .map_err(|e| SeedError::database(format!("checking whether {schema}.{name} is empty"), &e))
}

/// Generates and streams one table's rows through binary COPY.
fn copy_table(
    tx: &mut Transaction<'_>,
    plan: &Plan,
    generator: &dyn Generator,
) -> Result<TableReport, SeedError> {
    let started = Instant::now();
    let (schema, name) = generator.table();
    let table = format!("{schema}.{name}");
    let columns = generator.columns();
    let column_list: Vec<String> = columns.iter().map(|(name, _)| quote_ident(name)).collect();
    let sql = format!(
        "COPY {} ({}) FROM STDIN (FORMAT binary)",
        quote_qualified(schema, name),
        column_list.join(", ")
    );
    let copy_failed = |error: &io::Error| match error.kind() {
        io::ErrorKind::Interrupted => SeedError::Interrupted,
        _ => SeedError::Copy {
            table: table.clone(),
            message: io_message(error),
        },
    };
    generator
        .before_load(plan, tx)
        .map_err(|e| SeedError::database(format!("preparing {table}"), &e))?;
    let mut writer = tx.copy_in(&sql).map_err(|e| SeedError::Copy {
        table: table.clone(),
        message: crate::pg::describe(&e),
    })?;
    let mut rng = table_rng(plan.rng_seed, &table);
    let mut copy = CopyRows::new(&mut writer as &mut dyn io::Write, columns.len() as u16);
    generator
        .generate(plan, &mut rng, &mut copy)
        .map_err(|e| copy_failed(&e))?;
    let rows = copy.rows();
    copy.finish().map_err(|e| copy_failed(&e))?;
    writer.finish().map_err(|e| SeedError::Copy {
        table: table.clone(),
        message: crate::pg::describe(&e),
    })?;
    Ok(TableReport {
        table,
        rows,
        duration: started.elapsed(),
    })
}

/// The server's message when the I/O error carries a database error.
fn io_message(error: &io::Error) -> String {
    match error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<postgres::Error>())
    {
        Some(db) => crate::pg::describe(db),
        None => error.to_string(),
    }
}

/// After the commit: sequences past the loaded keys, rollups refreshed, statistics gathered.
fn finish(client: &mut Client, generators: &[&dyn Generator]) -> Result<(), SeedError> {
    for generator in generators {
        let (schema, name) = generator.table();
        advance_sequences(client, schema, name)?;
    }
    let views = client
        .query(
            "SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) FROM pg_class c \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.relkind = 'm' AND n.nspname <> ALL($1) ORDER BY c.oid",
            &[&FOREIGN_SCHEMAS],
        )
        .map_err(|e| SeedError::database("listing materialized views", &e))?;
    for view in views.iter().map(|row| row.get::<_, String>(0)) {
        client
            .batch_execute(&format!("REFRESH MATERIALIZED VIEW {view}"))
            .map_err(|e| SeedError::database(format!("refreshing {view}"), &e))?;
    }
    client
        .batch_execute("ANALYZE")
        .map_err(|e| SeedError::database("gathering statistics (ANALYZE)", &e))
}

/// Moves identity and serial sequences past the largest loaded key, so later inserts work.
fn advance_sequences(client: &mut Client, schema: &str, name: &str) -> Result<(), SeedError> {
    let table = quote_qualified(schema, name);
    let step = format!("advancing the sequences of {schema}.{name}");
    let rows = client
        .query(
            "SELECT a.attname::text, s.seq FROM pg_attribute a, \
             LATERAL pg_get_serial_sequence($1::text, a.attname) AS s(seq) \
             WHERE a.attrelid = $1::text::regclass AND a.attnum > 0 AND NOT a.attisdropped \
               AND s.seq IS NOT NULL",
            &[&table],
        )
        .map_err(|e| SeedError::database(step.clone(), &e))?;
    for row in rows {
        let (column, sequence): (String, String) = (row.get(0), row.get(1));
        let sql = format!(
            "SELECT setval($1::text::regclass, (SELECT coalesce(max({}), 0) + 1 FROM {table}), false)",
            quote_ident(&column)
        );
        client
            .execute(&sql, &[&sequence])
            .map_err(|e| SeedError::database(step.clone(), &e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog(columns: &[(&str, &str, bool)]) -> Vec<(String, String, bool)> {
        columns
            .iter()
            .map(|(name, ty, is_enum)| (name.to_string(), ty.to_string(), *is_enum))
            .collect()
    }

    #[test]
    fn matching_columns_pass_and_each_mismatch_is_named() {
        let written = [("id", ColType::Int8), ("status", ColType::Enum)];
        let table = catalog(&[("id", "int8", false), ("status", "approval_status", true)]);
        assert_eq!(column_mismatch(&written, &table), None);
        let retyped = catalog(&[("id", "int4", false), ("status", "approval_status", true)]);
        assert_eq!(
            column_mismatch(&written, &retyped).as_deref(),
            Some("column id is int4 but the seeder writes Int8")
        );
        let missing = catalog(&[("id", "int8", false)]);
        assert_eq!(
            column_mismatch(&written, &missing).as_deref(),
            Some("column status does not exist")
        );
        let extra = catalog(&[
            ("id", "int8", false),
            ("status", "approval_status", true),
            ("created_at", "timestamptz", false),
        ]);
        assert_eq!(
            column_mismatch(&written, &extra).as_deref(),
            Some("columns not written: created_at")
        );
    }
}
