//! The history store: one trait ([`HistoryStore`]), two places to keep runs. An embedded
//! SQLite file by default ([`sqlite`], no server needed) or a schema of a PostgreSQL database
//! the team already runs ([`postgres`]). Both keep the same three tables (`meta` with the
//! format version, `runs`, `queries`) described once here as column lists, so the SQL of both
//! is written by the same code: identifiers quoted, every value a bind parameter.

pub mod postgres;
pub mod sqlite;

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::HistoryError;
use crate::model::QuantileEstimate;
use crate::model::history::{HistoryQuery, HistoryRun};
use crate::pg::quote_ident;

/// Version of the history's tables. A store written by a newer pgperf is refused with both
/// versions named.
pub const HISTORY_FORMAT_VERSION: i64 = 1;

/// Keeps runs and gives them back.
pub trait HistoryStore {
    /// Adds a run in one transaction; `false` (and nothing written) when a run with its id is
    /// already kept.
    fn add(&mut self, run: &HistoryRun) -> Result<bool, HistoryError>;
    /// Every run, oldest first.
    fn runs(&mut self) -> Result<Vec<HistoryRun>, HistoryError>;
    /// Where the history is, for messages (no password).
    fn place(&self) -> String;
}

/// A column's type, mapped to each backend's SQL type.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    Text,
    Int,
    Real,
    Time,
}

/// A bound or read value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Text(Option<String>),
    Int(Option<i64>),
    Real(Option<f64>),
    Time(DateTime<Utc>),
}

/// What a SQL backend must do for the shared store code.
pub trait Backend {
    /// Where the history is, for messages.
    fn place(&self) -> String;
    /// The `n`-th (1-based) bind parameter.
    fn placeholder(&self, n: usize) -> String;
    /// A table's quoted (and, for PostgreSQL, schema-qualified) name.
    fn table(&self, name: &str) -> String;
    fn type_name(&self, kind: Kind) -> &'static str;
    /// Whether the history's tables exist already.
    fn exists(&mut self) -> Result<bool, HistoryError>;
    /// The statement that creates the namespace the tables live in, if there is one.
    fn create_namespace(&self) -> Option<String>;
    /// Runs statements with parameters in one transaction.
    fn write(&mut self, statements: &[(String, Vec<Value>)]) -> Result<(), HistoryError>;
    /// Runs a query and reads each column as `kinds` says.
    fn read(
        &mut self,
        sql: &str,
        params: &[Value],
        kinds: &[Kind],
    ) -> Result<Vec<Vec<Value>>, HistoryError>;
}

const RUN_COLUMNS: &[(&str, Kind)] = &[
    ("run_id", Kind::Text),
    ("started_at", Kind::Time),
    ("recorded_at", Kind::Time),
    ("commit_sha", Kind::Text),
    ("branch", Kind::Text),
    ("workload_name", Kind::Text),
    ("workload_hash", Kind::Text),
    ("pgperf_version", Kind::Text),
    ("server_version", Kind::Text),
    ("complete", Kind::Int),
];

const QUERY_COLUMNS: &[(&str, Kind)] = &[
    ("run_id", Kind::Text),
    ("position", Kind::Int),
    ("name", Kind::Text),
    ("tile", Kind::Text),
    ("samples", Kind::Int),
    ("errors", Kind::Int),
    ("budget_p95_us", Kind::Real),
    ("over_budget", Kind::Int),
    ("p50_us", Kind::Real),
    ("p50_low_us", Kind::Real),
    ("p50_high_us", Kind::Real),
    ("p95_us", Kind::Real),
    ("p95_low_us", Kind::Real),
    ("p95_high_us", Kind::Real),
    ("p99_us", Kind::Real),
    ("p99_low_us", Kind::Real),
    ("p99_high_us", Kind::Real),
    ("buffers_per_call", Kind::Real),
    ("plan_hash", Kind::Text),
];

/// The store on top of a backend.
pub struct Store<B: Backend> {
    backend: B,
}

impl<B: Backend> Store<B> {
    /// Creates the tables when absent and checks the format version. An existing history is
    /// only read here, so a role that may only read it can still report and check.
    pub fn open(mut backend: B) -> Result<Store<B>, HistoryError> {
        let meta = backend.table("meta");
        if !backend.exists()? {
            create(&mut backend)?;
        }
        let rows = backend.read(
            &format!(
                r#"SELECT "value" FROM {meta} WHERE "key" = {}"#,
                backend.placeholder(1)
            ),
            &[text("format_version")],
            &[Kind::Text],
        )?;
        let found = rows
            .first()
            .and_then(|row| match &row[0] {
                Value::Text(Some(value)) => value.parse::<i64>().ok(),
                _ => None,
            })
            .ok_or_else(|| corrupt(&backend, "format_version"))?;
        if found != HISTORY_FORMAT_VERSION {
            return Err(HistoryError::Version {
                place: backend.place(),
                found,
                expected: HISTORY_FORMAT_VERSION,
            });
        }
        Ok(Store { backend })
    }
}

/// Creates the tables and writes the format version, in one transaction.
fn create(backend: &mut impl Backend) -> Result<(), HistoryError> {
    let mut statements: Vec<(String, Vec<Value>)> = backend
        .create_namespace()
        .into_iter()
        .chain(create_statements(backend))
        .map(|sql| (sql, Vec::new()))
        .collect();
    statements.push((
        format!(
            r#"INSERT INTO {} ("key", "value") VALUES ({}, {}) ON CONFLICT ("key") DO NOTHING"#,
            backend.table("meta"),
            backend.placeholder(1),
            backend.placeholder(2)
        ),
        vec![
            text("format_version"),
            text(&HISTORY_FORMAT_VERSION.to_string()),
        ],
    ));
    backend.write(&statements)
}

fn create_statements(backend: &impl Backend) -> Vec<String> {
    let columns = |list: &[(&str, Kind)]| {
        list.iter()
            .map(|(name, kind)| format!("{} {}", quote_ident(name), backend.type_name(*kind)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    vec![
        format!(
            r#"CREATE TABLE IF NOT EXISTS {} ("key" text PRIMARY KEY, "value" text NOT NULL)"#,
            backend.table("meta")
        ),
        format!(
            r#"CREATE TABLE IF NOT EXISTS {} ({}, PRIMARY KEY ("run_id"))"#,
            backend.table("runs"),
            columns(RUN_COLUMNS)
        ),
        format!(
            r#"CREATE TABLE IF NOT EXISTS {} ({}, PRIMARY KEY ("run_id", "name"), FOREIGN KEY ("run_id") REFERENCES {} ("run_id") ON DELETE CASCADE)"#,
            backend.table("queries"),
            columns(QUERY_COLUMNS),
            backend.table("runs")
        ),
    ]
}

impl<B: Backend> HistoryStore for Store<B> {
    fn add(&mut self, run: &HistoryRun) -> Result<bool, HistoryError> {
        let runs = self.backend.table("runs");
        let existing = self.backend.read(
            &format!(
                r#"SELECT "run_id" FROM {runs} WHERE "run_id" = {}"#,
                self.backend.placeholder(1)
            ),
            &[text(&run.run_id)],
            &[Kind::Text],
        )?;
        if !existing.is_empty() {
            return Ok(false);
        }
        let mut statements = vec![(self.insert("runs", RUN_COLUMNS), run_values(run))];
        for (position, query) in run.queries.iter().enumerate() {
            statements.push((
                self.insert("queries", QUERY_COLUMNS),
                query_values(&run.run_id, position, query),
            ));
        }
        self.backend.write(&statements)?;
        Ok(true)
    }

    fn runs(&mut self) -> Result<Vec<HistoryRun>, HistoryError> {
        let query_rows = self.select("queries", QUERY_COLUMNS, &["run_id", "position"])?;
        let mut queries: HashMap<String, Vec<HistoryQuery>> = HashMap::new();
        for row in query_rows {
            let (run_id, query) = self.query_from(row)?;
            queries.entry(run_id).or_default().push(query);
        }
        self.select("runs", RUN_COLUMNS, &["started_at", "run_id"])?
            .into_iter()
            .map(|row| {
                let mut run = self.run_from(row)?;
                run.queries = queries.remove(&run.run_id).unwrap_or_default();
                Ok(run)
            })
            .collect()
    }

    fn place(&self) -> String {
        self.backend.place()
    }
}

impl<B: Backend> Store<B> {
    fn insert(&self, table: &str, columns: &[(&str, Kind)]) -> String {
        let names = quoted(columns.iter().map(|(name, _)| *name));
        let placeholders: Vec<String> = (1..=columns.len())
            .map(|n| self.backend.placeholder(n))
            .collect();
        format!(
            "INSERT INTO {} ({}) VALUES ({})",
            self.backend.table(table),
            names.join(", "),
            placeholders.join(", ")
        )
    }

    fn select(
        &mut self,
        table: &str,
        columns: &[(&str, Kind)],
        order: &[&str],
    ) -> Result<Vec<Vec<Value>>, HistoryError> {
        let names = quoted(columns.iter().map(|(name, _)| *name));
        let kinds: Vec<Kind> = columns.iter().map(|(_, kind)| *kind).collect();
        let sql = format!(
            "SELECT {} FROM {} ORDER BY {}",
            names.join(", "),
            self.backend.table(table),
            quoted(order.iter().copied()).join(", ")
        );
        self.backend.read(&sql, &[], &kinds)
    }

    fn run_from(&self, row: Vec<Value>) -> Result<HistoryRun, HistoryError> {
        let mut row = Reader::new(row, &self.backend, "runs");
        Ok(HistoryRun {
            run_id: row.required_text()?,
            started_at: row.time()?,
            recorded_at: row.time()?,
            commit: row.text()?,
            branch: row.text()?,
            workload_name: row.required_text()?,
            workload_hash: row.required_text()?,
            pgperf_version: row.required_text()?,
            server_version: row.required_text()?,
            complete: row.count()? != 0,
            queries: Vec::new(),
        })
    }

    fn query_from(&self, row: Vec<Value>) -> Result<(String, HistoryQuery), HistoryError> {
        let mut row = Reader::new(row, &self.backend, "queries");
        let run_id = row.required_text()?;
        row.count()?; // position: the ORDER BY already used it
        let query = HistoryQuery {
            name: row.required_text()?,
            tile: row.text()?,
            samples: row.count()?,
            errors: row.count()?,
            budget_p95_us: row.real()?,
            over_budget: row.optional_count()?,
            p50: row.estimate()?,
            p95: row.estimate()?,
            p99: row.estimate()?,
            buffers_per_call: row.real()?,
            plan_hash: row.text()?,
        };
        Ok((run_id, query))
    }
}

fn quoted<'a>(names: impl Iterator<Item = &'a str>) -> Vec<String> {
    names.map(quote_ident).collect()
}

fn text(value: &str) -> Value {
    Value::Text(Some(value.to_owned()))
}

fn count(value: u64) -> Value {
    Value::Int(Some(i64::try_from(value).unwrap_or(i64::MAX)))
}

fn run_values(run: &HistoryRun) -> Vec<Value> {
    vec![
        text(&run.run_id),
        Value::Time(run.started_at),
        Value::Time(run.recorded_at),
        Value::Text(run.commit.clone()),
        Value::Text(run.branch.clone()),
        text(&run.workload_name),
        text(&run.workload_hash),
        text(&run.pgperf_version),
        text(&run.server_version),
        Value::Int(Some(i64::from(run.complete))),
    ]
}

fn query_values(run_id: &str, position: usize, query: &HistoryQuery) -> Vec<Value> {
    let mut values = vec![
        text(run_id),
        count(position as u64),
        text(&query.name),
        Value::Text(query.tile.clone()),
        count(query.samples),
        count(query.errors),
        Value::Real(query.budget_p95_us),
        Value::Int(
            query
                .over_budget
                .map(|n| i64::try_from(n).unwrap_or(i64::MAX)),
        ),
    ];
    for estimate in [&query.p50, &query.p95, &query.p99] {
        values.push(Value::Real(estimate.map(|e| e.value_us)));
        values.push(Value::Real(estimate.and_then(|e| e.ci_low_us)));
        values.push(Value::Real(estimate.and_then(|e| e.ci_high_us)));
    }
    values.push(Value::Real(query.buffers_per_call));
    values.push(Value::Text(query.plan_hash.clone()));
    values
}

fn corrupt(backend: &impl Backend, what: &str) -> HistoryError {
    HistoryError::Corrupt {
        place: backend.place(),
        what: what.to_owned(),
    }
}

/// Reads a row's values in column order, naming the table in errors.
struct Reader<'a, B: Backend> {
    values: std::vec::IntoIter<Value>,
    backend: &'a B,
    table: &'static str,
}

impl<'a, B: Backend> Reader<'a, B> {
    fn new(row: Vec<Value>, backend: &'a B, table: &'static str) -> Self {
        Reader {
            values: row.into_iter(),
            backend,
            table,
        }
    }

    fn next(&mut self) -> Result<Value, HistoryError> {
        self.values
            .next()
            .ok_or_else(|| corrupt(self.backend, &format!("a short row in {}", self.table)))
    }

    fn wrong(&self) -> HistoryError {
        corrupt(self.backend, &format!("a missing value in {}", self.table))
    }

    fn text(&mut self) -> Result<Option<String>, HistoryError> {
        match self.next()? {
            Value::Text(value) => Ok(value),
            _ => Err(self.wrong()),
        }
    }

    fn required_text(&mut self) -> Result<String, HistoryError> {
        self.text()?.ok_or_else(|| self.wrong())
    }

    fn optional_count(&mut self) -> Result<Option<u64>, HistoryError> {
        match self.next()? {
            Value::Int(value) => Ok(value.map(|n| u64::try_from(n).unwrap_or(0))),
            _ => Err(self.wrong()),
        }
    }

    fn count(&mut self) -> Result<u64, HistoryError> {
        self.optional_count()?.ok_or_else(|| self.wrong())
    }

    fn real(&mut self) -> Result<Option<f64>, HistoryError> {
        match self.next()? {
            Value::Real(value) => Ok(value),
            _ => Err(self.wrong()),
        }
    }

    fn time(&mut self) -> Result<DateTime<Utc>, HistoryError> {
        match self.next()? {
            Value::Time(value) => Ok(value),
            _ => Err(self.wrong()),
        }
    }

    fn estimate(&mut self) -> Result<Option<QuantileEstimate>, HistoryError> {
        let (value, low, high) = (self.real()?, self.real()?, self.real()?);
        Ok(value.map(|value_us| QuantileEstimate {
            value_us,
            ci_low_us: low,
            ci_high_us: high,
        }))
    }
}
