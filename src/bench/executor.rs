//! One connection's execution of queries: the session (role, claims, timeout) switched only
//! when it changes, the protocol (prepared once per connection, unnamed statement per call, or
//! simple with inlined literals), reads in READ ONLY transactions (a function a read calls
//! cannot change data either), and writes wrapped so they are rolled back. Only the statement
//! itself is timed, from the (intended) send time to its last row.

use std::time::Instant;

use fallible_iterator::FallibleIterator;
use postgres::types::Type;
use postgres::{Client, SimpleQueryMessage, Statement};

use crate::model::{Protocol, QueryError};
use crate::pg::TextParam;
use crate::pg::session::{Caller, Session};
use crate::workload::{Query, QueryKind, sql};

/// A finished execution.
#[derive(Debug, Clone, Copy)]
pub struct Executed {
    pub latency_us: f64,
    pub rows: u64,
}

/// Why an execution produced no sample.
#[derive(Debug, Clone)]
pub enum ExecError {
    /// The server rejected the statement (or its session setup); the run goes on.
    Query(QueryError),
    /// The connection is gone; this worker cannot go on.
    Connection(String),
}

/// How executions are wrapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wrapping {
    /// Autocommit; reads run in BEGIN READ ONLY … ROLLBACK, writes that must not commit in
    /// BEGIN … ROLLBACK, committed writes on their own.
    Autocommit,
    /// The caller holds an open transaction (e.g. advise, around a trial index): every execution
    /// runs in a savepoint (read only for reads) that is rolled back for reads, for writes and
    /// on errors.
    Savepoint,
}

/// A connection ready to execute workload queries.
pub struct Executor<'c> {
    client: &'c mut Client,
    protocol: Protocol,
    wrapping: Wrapping,
    session: Session,
    callers: Vec<Option<Caller>>,
    statements: Vec<Option<Statement>>,
}

impl<'c> Executor<'c> {
    /// An executor of `queries` on `client`.
    pub fn new(
        client: &'c mut Client,
        protocol: Protocol,
        wrapping: Wrapping,
        queries: &[Query],
    ) -> Self {
        Executor {
            client,
            protocol,
            wrapping,
            session: Session::new(),
            callers: queries.iter().map(caller_of).collect(),
            statements: vec![None; queries.len()],
        }
    }

    /// Number of queries this executor was made for.
    pub fn query_count(&self) -> usize {
        self.callers.len()
    }

    /// Runs `query` (number `index` of the workload) once with `params`. The latency is measured
    /// from `intended` when given (open loop), otherwise from the moment the query is sent.
    pub fn execute(
        &mut self,
        index: usize,
        query: &Query,
        params: &[Option<String>],
        intended: Option<Instant>,
    ) -> Result<Executed, ExecError> {
        self.session
            .apply(
                self.client,
                self.callers[index].as_ref(),
                query.statement_timeout_ms,
            )
            .map_err(|error| self.classify(&error))?;
        let guard = self.open_guard(query)?;
        let result = self.timed(index, query, params, intended);
        let undo = result.is_err() || query.rolls_back() || reads_only(query);
        self.close_guard(guard, undo)?;
        result.map_err(|error| self.classify(&error))
    }

    fn timed(
        &mut self,
        index: usize,
        query: &Query,
        params: &[Option<String>],
        intended: Option<Instant>,
    ) -> Result<Executed, postgres::Error> {
        let binds: Vec<TextParam> = params.iter().cloned().map(TextParam).collect();
        if self.protocol == Protocol::Prepared && self.statements[index].is_none() {
            self.statements[index] = Some(self.client.prepare(&query.sql)?);
        }
        let inlined = (self.protocol == Protocol::Simple)
            .then(|| sql::inline_params(&query.sql, &query.placeholders, params));
        let started = intended.unwrap_or_else(Instant::now);
        let rows = match self.protocol {
            Protocol::Prepared => {
                let statement = self.statements[index]
                    .as_ref()
                    .expect("prepared just above");
                self.client.query_raw(statement, binds.iter())?.count()?
            }
            Protocol::Extended => self
                .client
                .query_typed_raw(&query.sql, binds.iter().map(|bind| (bind, Type::UNKNOWN)))?
                .count()?,
            Protocol::Simple => {
                let messages = self
                    .client
                    .simple_query(inlined.as_deref().unwrap_or_default())?;
                messages
                    .iter()
                    .filter(|m| matches!(m, SimpleQueryMessage::Row(_)))
                    .count()
            }
        };
        Ok(Executed {
            latency_us: started.elapsed().as_secs_f64() * 1e6,
            rows: rows as u64,
        })
    }

    /// Starts the transaction or savepoint an execution needs; returns whether one is open.
    fn open_guard(&mut self, query: &Query) -> Result<bool, ExecError> {
        let statement = match (self.wrapping, reads_only(query)) {
            // Rolling the savepoint back restores the outer transaction's read-write mode.
            (Wrapping::Savepoint, true) => {
                "SAVEPOINT pgperf_execution; SET LOCAL transaction_read_only = on"
            }
            (Wrapping::Savepoint, false) => "SAVEPOINT pgperf_execution",
            (Wrapping::Autocommit, true) => "BEGIN READ ONLY",
            (Wrapping::Autocommit, false) if query.rolls_back() => "BEGIN",
            (Wrapping::Autocommit, false) => return Ok(false),
        };
        self.client
            .batch_execute(statement)
            .map_err(|error| self.classify(&error))?;
        Ok(true)
    }

    fn close_guard(&mut self, open: bool, undo: bool) -> Result<(), ExecError> {
        if !open {
            return Ok(());
        }
        let statement = match self.wrapping {
            Wrapping::Autocommit => "ROLLBACK",
            Wrapping::Savepoint if undo => {
                "ROLLBACK TO SAVEPOINT pgperf_execution; RELEASE SAVEPOINT pgperf_execution"
            }
            Wrapping::Savepoint => "RELEASE SAVEPOINT pgperf_execution",
        };
        self.client
            .batch_execute(statement)
            .map_err(|error| self.classify(&error))
    }

    fn classify(&self, error: &postgres::Error) -> ExecError {
        if self.client.is_closed() || error.is_closed() || error.as_db_error().is_some_and(is_fatal)
        {
            ExecError::Connection(format!(
                "the connection to the server was lost ({}); check that the server is running",
                crate::pg::describe(error)
            ))
        } else {
            ExecError::Query(QueryError {
                sqlstate: crate::pg::sqlstate(error),
                message: crate::pg::describe(error),
            })
        }
    }
}

fn is_fatal(error: &postgres::error::DbError) -> bool {
    matches!(error.severity(), "FATAL" | "PANIC")
}

/// True for `read` and `tile` queries: they run where the server refuses any change.
pub(super) fn reads_only(query: &Query) -> bool {
    query.kind != QueryKind::Write
}

/// The session caller a query runs as.
pub fn caller_of(query: &Query) -> Option<Caller> {
    query.persona.as_ref().map(Caller::from)
}
