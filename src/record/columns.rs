//! The table column behind a `$n`, and values for it from the planner's statistics
//! (`pg_stats`: most common values with their frequencies, histogram bounds).

use std::collections::HashMap;

use super::sql::{ParamTarget, Statement, TableRef};
use crate::pg::{quote_ident, quote_qualified};

/// A resolved column; `schema` is `None` when resolved from the text alone.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Column {
    pub schema: Option<String>,
    pub table: String,
    pub column: String,
}

impl Column {
    /// A query returning the column's non-NULL values, for a `sample` parameter.
    pub fn sample_sql(&self) -> String {
        let table = match &self.schema {
            Some(schema) => quote_qualified(schema, &self.table),
            None => quote_ident(&self.table),
        };
        let column = quote_ident(&self.column);
        format!("SELECT {column} FROM {table} WHERE {column} IS NOT NULL")
    }
}

impl std::fmt::Display for Column {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(schema) = &self.schema {
            write!(f, "{schema}.")?;
        }
        write!(f, "{}.{}", self.table, self.column)
    }
}

/// Planner statistics of one column.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ColumnStats {
    pub null_frac: f32,
    pub most_common: Vec<String>,
    pub most_common_freqs: Vec<f32>,
    pub histogram: Vec<String>,
}

/// About `max_values` values drawn in proportion to how often they occur in the table: each
/// common value by its frequency (at least once), the rest spread evenly over the histogram.
pub fn sample_values(stats: &ColumnStats, max_values: usize) -> Vec<String> {
    let common_share: f32 = stats.most_common_freqs.iter().sum();
    let histogram_share = if stats.histogram.is_empty() {
        0.0
    } else {
        (1.0 - stats.null_frac - common_share).max(0.0)
    };
    let total = common_share + histogram_share;
    if total <= 0.0 {
        return Vec::new();
    }
    let slots = |share: f32| ((share / total) * max_values as f32).round() as usize;
    let mut values = Vec::new();
    for (value, freq) in stats.most_common.iter().zip(&stats.most_common_freqs) {
        values.extend(std::iter::repeat_n(value.clone(), slots(*freq).max(1)));
    }
    let histogram_slots = slots(histogram_share).min(stats.histogram.len());
    if histogram_slots > 0 {
        let step = stats.histogram.len() as f64 / histogram_slots as f64;
        values.extend(
            (0..histogram_slots).map(|i| stats.histogram[(i as f64 * step) as usize].clone()),
        );
    }
    values
}

/// Tables a column reference may belong to: the one its qualifier names, or all of them.
fn candidates<'a>(statement: &'a Statement, qualifier: Option<&str>) -> Vec<&'a TableRef> {
    let mut found: Vec<&TableRef> = statement
        .tables
        .iter()
        .filter(|t| match qualifier {
            Some(q) => t.alias.as_deref() == Some(q) || (t.alias.is_none() && t.name == q),
            None => true,
        })
        .collect();
    found.dedup_by(|a, b| a.schema == b.schema && a.name == b.name);
    found
}

/// The column from the text alone: a qualified reference, or a statement on one table.
pub fn resolve_offline(statement: &Statement, target: &ParamTarget) -> Option<Column> {
    let ParamTarget::Column {
        qualifier, column, ..
    } = target
    else {
        return None;
    };
    match candidates(statement, qualifier.as_deref()).as_slice() {
        [table] => Some(Column {
            schema: table.schema.clone(),
            table: table.name.clone(),
            column: column.clone(),
        }),
        _ => None,
    }
}

/// Column resolution and statistics from a live database, cached per statement text.
pub struct Catalog<'a> {
    client: &'a mut postgres::Client,
    stats: HashMap<Column, Option<ColumnStats>>,
}

impl<'a> Catalog<'a> {
    pub fn new(client: &'a mut postgres::Client) -> Self {
        Catalog {
            client,
            stats: HashMap::new(),
        }
    }

    /// The column, resolving unqualified names by asking which candidate table has it.
    pub fn resolve(
        &mut self,
        statement: &Statement,
        target: &ParamTarget,
    ) -> Result<Option<Column>, postgres::Error> {
        let ParamTarget::Column {
            qualifier, column, ..
        } = target
        else {
            return Ok(None);
        };
        let mut found = Vec::new();
        for table in candidates(statement, qualifier.as_deref()) {
            let name = match &table.schema {
                Some(schema) => quote_qualified(schema, &table.name),
                None => quote_ident(&table.name),
            };
            for row in self
                .client
                .query(include_str!("queries/column_of.sql"), &[&name, column])?
            {
                let resolved = Column {
                    schema: Some(row.get(0)),
                    table: row.get(1),
                    column: column.clone(),
                };
                if !found.contains(&resolved) {
                    found.push(resolved);
                }
            }
        }
        Ok((found.len() == 1).then(|| found.remove(0)))
    }

    /// `pg_stats` of the column; `None` when it has none (never analysed, or not readable).
    pub fn stats(&mut self, column: &Column) -> Result<Option<ColumnStats>, postgres::Error> {
        if let Some(cached) = self.stats.get(column) {
            return Ok(cached.clone());
        }
        let schema = column
            .schema
            .clone()
            .unwrap_or_else(|| "public".to_string());
        let row = self.client.query_opt(
            include_str!("queries/column_stats.sql"),
            &[&schema, &column.table, &column.column],
        )?;
        let stats = row.map(|row| ColumnStats {
            null_frac: row.get(0),
            most_common: strings(row.get(1)),
            most_common_freqs: row.get::<_, Option<Vec<f32>>>(2).unwrap_or_default(),
            histogram: strings(row.get(3)),
        });
        self.stats.insert(column.clone(), stats.clone());
        Ok(stats)
    }

    /// The connection, for callers that query beyond the catalog (calibration's EXPLAIN).
    pub fn client(&mut self) -> &mut postgres::Client {
        self.client
    }

    /// Types the server infers for the statement's parameters (it prepares the statement).
    pub fn param_types(
        &mut self,
        sql: &str,
    ) -> Result<Vec<postgres::types::Type>, postgres::Error> {
        Ok(self.client.prepare(sql)?.params().to_vec())
    }
}

fn strings(values: Option<Vec<Option<String>>>) -> Vec<String> {
    values.unwrap_or_default().into_iter().flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_values_are_drawn_by_frequency_and_the_histogram_evenly() {
        let stats = ColumnStats {
            null_frac: 0.1,
            most_common: vec!["done".into(), "pending".into()],
            most_common_freqs: vec![0.6, 0.05],
            histogram: (0..26).map(|i| format!("v{i}")).collect(),
        };
        let values = sample_values(&stats, 90);
        assert_eq!(values.iter().filter(|v| *v == "done").count(), 60);
        assert_eq!(values.iter().filter(|v| *v == "pending").count(), 5);
        assert_eq!(values.iter().filter(|v| v.starts_with('v')).count(), 25);
    }

    #[test]
    fn a_rare_common_value_still_appears_once() {
        let stats = ColumnStats {
            most_common: vec!["rare".into()],
            most_common_freqs: vec![0.0001],
            histogram: (0..101).map(|i| i.to_string()).collect(),
            ..ColumnStats::default()
        };
        let values = sample_values(&stats, 100);
        assert!(values.contains(&"rare".to_string()));
        assert_eq!(values.len(), 101);
    }

    #[test]
    fn a_qualified_or_single_table_column_resolves_without_a_database() {
        let statement =
            super::super::sql::analyse("SELECT * FROM shop.orders o JOIN customers c ON c.id = o.customer_id WHERE o.status = $1 AND name = $2")
                .expect("kept");
        let status = resolve_offline(&statement, &statement.targets[&1]).expect("resolved");
        assert_eq!(status.to_string(), "shop.orders.status");
        assert_eq!(resolve_offline(&statement, &statement.targets[&2]), None);
        assert_eq!(
            status.sample_sql(),
            r#"SELECT "status" FROM "shop"."orders" WHERE "status" IS NOT NULL"#
        );
    }
}
