//! The history in a schema of a PostgreSQL database the team already runs
//! (`--history postgresql://...`). The schema and its tables are created when absent; every
//! identifier is quoted and every value is a bind parameter.

use postgres::Client;
use postgres::types::ToSql;

use super::{Backend, Kind, Value};
use crate::history::HistoryError;
use crate::pg::{quote_ident, quote_qualified};

/// The schema pgperf keeps its history in.
pub const DEFAULT_SCHEMA: &str = "pgperf_history";

/// A history schema on a connected client.
pub struct Postgres {
    client: Client,
    schema: String,
    /// The server's URL without password, for messages.
    url_redacted: String,
}

impl Postgres {
    pub fn new(client: Client, schema: &str, url_redacted: &str) -> Postgres {
        Postgres {
            client,
            schema: schema.to_owned(),
            url_redacted: url_redacted.to_owned(),
        }
    }

    fn error(&self, source: postgres::Error) -> HistoryError {
        HistoryError::Postgres {
            schema: format!("{} in {}", self.schema, self.url_redacted),
            source,
        }
    }
}

fn parameter(value: &Value) -> Box<dyn ToSql + Sync> {
    match value {
        Value::Text(value) => Box::new(value.clone()),
        Value::Int(value) => Box::new(*value),
        Value::Real(value) => Box::new(*value),
        Value::Time(value) => Box::new(*value),
    }
}

fn with_parameters<T>(values: &[Value], run: impl FnOnce(&[&(dyn ToSql + Sync)]) -> T) -> T {
    let boxed: Vec<Box<dyn ToSql + Sync>> = values.iter().map(parameter).collect();
    let refs: Vec<&(dyn ToSql + Sync)> = boxed.iter().map(AsRef::as_ref).collect();
    run(&refs)
}

impl Backend for Postgres {
    fn place(&self) -> String {
        format!("schema {} in {}", self.schema, self.url_redacted)
    }

    fn placeholder(&self, n: usize) -> String {
        format!("${n}")
    }

    fn table(&self, name: &str) -> String {
        quote_qualified(&self.schema, name)
    }

    fn type_name(&self, kind: Kind) -> &'static str {
        match kind {
            Kind::Text => "text",
            Kind::Int => "bigint",
            Kind::Real => "double precision",
            Kind::Time => "timestamptz",
        }
    }

    fn exists(&mut self) -> Result<bool, HistoryError> {
        let rows = self.read(
            "SELECT to_regclass($1)::text",
            &[Value::Text(Some(self.table("meta")))],
            &[Kind::Text],
        )?;
        Ok(rows.first().is_some_and(|row| row[0] != Value::Text(None)))
    }

    fn create_namespace(&self) -> Option<String> {
        Some(format!(
            "CREATE SCHEMA IF NOT EXISTS {}",
            quote_ident(&self.schema)
        ))
    }

    fn write(&mut self, statements: &[(String, Vec<Value>)]) -> Result<(), HistoryError> {
        let result = (|| {
            let mut transaction = self.client.transaction()?;
            for (sql, values) in statements {
                with_parameters(values, |params| transaction.execute(sql.as_str(), params))?;
            }
            transaction.commit()
        })();
        result.map_err(|source| self.error(source))
    }

    fn read(
        &mut self,
        sql: &str,
        params: &[Value],
        kinds: &[Kind],
    ) -> Result<Vec<Vec<Value>>, HistoryError> {
        let result = (|| -> Result<Vec<Vec<Value>>, postgres::Error> {
            let rows = with_parameters(params, |params| self.client.query(sql, params))?;
            rows.iter()
                .map(|row| {
                    kinds
                        .iter()
                        .enumerate()
                        .map(|(i, kind)| {
                            Ok(match kind {
                                Kind::Text => Value::Text(row.try_get(i)?),
                                Kind::Int => Value::Int(row.try_get(i)?),
                                Kind::Real => Value::Real(row.try_get(i)?),
                                Kind::Time => Value::Time(row.try_get(i)?),
                            })
                        })
                        .collect::<Result<Vec<Value>, postgres::Error>>()
                })
                .collect()
        })();
        result.map_err(|source| self.error(source))
    }
}
