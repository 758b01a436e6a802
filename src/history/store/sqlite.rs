//! The default history: one SQLite file (rusqlite with SQLite compiled in, so no system
//! library and no server is needed). Times are kept as RFC 3339 text in UTC with microseconds,
//! whose text order is their time order.

use std::path::{Path, PathBuf};

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, ToSql};

use super::{Backend, Kind, Value};
use crate::history::HistoryError;
use crate::pg::quote_ident;

/// A SQLite history file.
pub struct Sqlite {
    connection: Connection,
    path: PathBuf,
}

impl Sqlite {
    /// Opens `path`, creating the file and its folder when absent.
    pub fn open(path: &Path) -> Result<Sqlite, HistoryError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|source| HistoryError::Folder {
                path: path.display().to_string(),
                source,
            })?;
        }
        let connection = Connection::open(path).map_err(|source| HistoryError::Sqlite {
            path: path.display().to_string(),
            source,
        })?;
        let sqlite = Sqlite {
            connection,
            path: path.to_path_buf(),
        };
        // Foreign keys are off by default in SQLite; a history cut by hand should not grow
        // queries without a run.
        sqlite
            .connection
            .pragma_update(None, "foreign_keys", true)
            .map_err(|source| sqlite.error(source))?;
        Ok(sqlite)
    }

    fn error(&self, source: rusqlite::Error) -> HistoryError {
        HistoryError::Sqlite {
            path: self.path.display().to_string(),
            source,
        }
    }
}

impl ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Value::Text(value) => value
                .as_deref()
                .map_or(ToSqlOutput::from(rusqlite::types::Null), ToSqlOutput::from),
            Value::Int(value) => {
                value.map_or(ToSqlOutput::from(rusqlite::types::Null), ToSqlOutput::from)
            }
            Value::Real(value) => {
                value.map_or(ToSqlOutput::from(rusqlite::types::Null), ToSqlOutput::from)
            }
            Value::Time(value) => {
                ToSqlOutput::from(value.to_rfc3339_opts(SecondsFormat::Micros, true))
            }
        })
    }
}

impl Backend for Sqlite {
    fn place(&self) -> String {
        self.path.display().to_string()
    }

    fn placeholder(&self, n: usize) -> String {
        format!("?{n}")
    }

    fn table(&self, name: &str) -> String {
        quote_ident(name)
    }

    fn type_name(&self, kind: Kind) -> &'static str {
        match kind {
            Kind::Text | Kind::Time => "text",
            Kind::Int => "integer",
            Kind::Real => "real",
        }
    }

    fn exists(&mut self) -> Result<bool, HistoryError> {
        let rows = self.read(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?1",
            &[Value::Text(Some("meta".to_owned()))],
            &[Kind::Text],
        )?;
        Ok(!rows.is_empty())
    }

    fn create_namespace(&self) -> Option<String> {
        None
    }

    fn write(&mut self, statements: &[(String, Vec<Value>)]) -> Result<(), HistoryError> {
        let result = (|| {
            let transaction = self.connection.transaction()?;
            for (sql, values) in statements {
                transaction.execute(sql, rusqlite::params_from_iter(values))?;
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
        let result = (|| {
            let mut statement = self.connection.prepare(sql)?;
            let mut rows = statement.query(rusqlite::params_from_iter(params))?;
            let mut out = Vec::new();
            while let Some(row) = rows.next()? {
                let values = kinds
                    .iter()
                    .enumerate()
                    .map(|(i, kind)| read_value(row.get_ref(i)?, *kind, i))
                    .collect::<rusqlite::Result<Vec<Value>>>()?;
                out.push(values);
            }
            Ok(out)
        })();
        result.map_err(|source| self.error(source))
    }
}

fn read_value(value: ValueRef<'_>, kind: Kind, column: usize) -> rusqlite::Result<Value> {
    let mismatch =
        || rusqlite::Error::InvalidColumnType(column, format!("{kind:?}"), value.data_type());
    Ok(match (kind, value) {
        (Kind::Text, ValueRef::Null) => Value::Text(None),
        (Kind::Int, ValueRef::Null) => Value::Int(None),
        (Kind::Real, ValueRef::Null) => Value::Real(None),
        (Kind::Text, ValueRef::Text(bytes)) => {
            Value::Text(Some(String::from_utf8_lossy(bytes).into_owned()))
        }
        (Kind::Int, ValueRef::Integer(n)) => Value::Int(Some(n)),
        (Kind::Real, ValueRef::Real(x)) => Value::Real(Some(x)),
        // SQLite stores a whole-number REAL as an integer when it can.
        (Kind::Real, ValueRef::Integer(n)) => Value::Real(Some(n as f64)),
        (Kind::Time, ValueRef::Text(bytes)) => {
            let text = String::from_utf8_lossy(bytes);
            let time = DateTime::parse_from_rfc3339(&text).map_err(|_| mismatch())?;
            Value::Time(time.with_timezone(&Utc))
        }
        _ => return Err(mismatch()),
    })
}
