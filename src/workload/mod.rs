//! Workload files (DESIGN §6): the format, its validation, and parameter generation.
//!
//! A file is read and validated completely before anything runs: a TOML mistake is reported
//! with file, line and column; every semantic problem (a `$n` count that does not match the
//! parameters, an unknown persona, a duplicate name, a bad generator, more than one statement)
//! is collected and reported at once, so one edit fixes them all.

pub mod format;
pub mod params;
pub mod sql;
mod validate;

use std::path::Path;

use sha2::{Digest, Sha256};

pub use format::{Defaults, ParamSpec, Persona, QueryKind, QuerySpec, WorkloadFile};
pub use params::{Generator, ParamPlan};
pub use sql::Placeholder;

/// A validated workload, ready to run.
#[derive(Debug, Clone)]
pub struct Workload {
    pub name: String,
    pub description: Option<String>,
    /// Where it was read from (a path, or `<bundled>`), for messages.
    pub origin: String,
    /// SHA-256 of the file's bytes, hex: two results with equal hashes ran the same workload.
    pub hash: String,
    /// `defaults.statement_timeout_ms`: the timeout of queries that set none.
    pub statement_timeout_ms: u64,
    /// The queries, in file order.
    pub queries: Vec<Query>,
}

/// A validated query: persona, budget and timeout resolved, SQL parsed, generators compiled.
#[derive(Debug, Clone)]
pub struct Query {
    pub name: String,
    pub sql: String,
    pub kind: QueryKind,
    pub tile: Option<String>,
    /// `None`: the connecting user, no claims.
    pub persona: Option<SessionPersona>,
    pub weight: f64,
    pub budget_p95_ms: f64,
    pub statement_timeout_ms: u64,
    /// True when the statement's effects are kept; false means every execution is rolled back.
    pub commit: bool,
    /// The `$n` placeholders, in text order, as the parser located them.
    pub placeholders: Vec<Placeholder>,
    /// One generator per `$n`.
    pub params: Vec<ParamPlan>,
}

impl Query {
    /// True when executions must run inside a transaction that is rolled back.
    pub fn rolls_back(&self) -> bool {
        self.kind == QueryKind::Write && !self.commit
    }
}

/// A persona resolved for the session: the role and its claims as JSON text.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionPersona {
    /// Persona name in the workload.
    pub name: String,
    pub role: String,
    /// The claims object, when the persona has one.
    pub claims: Option<serde_json::Value>,
    /// Session settings (`app.tenant_id` = `42`), as text, by name.
    pub settings: std::collections::BTreeMap<String, String>,
}

impl From<&SessionPersona> for crate::pg::session::Caller {
    fn from(persona: &SessionPersona) -> Self {
        crate::pg::session::Caller {
            role: persona.role.clone(),
            claims: persona.claims.clone(),
            settings: persona.settings.clone(),
        }
    }
}

/// Why a workload could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum WorkloadError {
    #[error("cannot read the workload file {path}: {source}; check the path given to --workload")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{origin}:{line}:{column}: {message}")]
    Toml {
        origin: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{origin} is not a valid workload:\n{}", problems.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n"))]
    Invalid {
        origin: String,
        problems: Vec<String>,
    },
}

/// Reads and validates a workload file.
pub fn load_file(path: &Path) -> Result<Workload, WorkloadError> {
    let text = std::fs::read_to_string(path).map_err(|source| WorkloadError::Read {
        path: path.display().to_string(),
        source,
    })?;
    load_str(&text, &path.display().to_string())
}

/// Parses and validates workload text; `origin` names it in messages.
pub fn load_str(text: &str, origin: &str) -> Result<Workload, WorkloadError> {
    let file: WorkloadFile =
        toml::from_str(text).map_err(|error| toml_error(text, origin, &error))?;
    let queries = validate::validate(&file).map_err(|problems| WorkloadError::Invalid {
        origin: origin.to_string(),
        problems,
    })?;
    Ok(Workload {
        name: file.name,
        description: file.description,
        origin: origin.to_string(),
        hash: hex_sha256(text.as_bytes()),
        statement_timeout_ms: file.defaults.statement_timeout_ms,
        queries,
    })
}

/// Lower-case hex SHA-256.
pub fn hex_sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

fn toml_error(text: &str, origin: &str, error: &toml::de::Error) -> WorkloadError {
    let offset = error
        .span()
        .map(|span| span.start)
        .unwrap_or(0)
        .min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    let mut message = error.message().trim().to_string();
    if message.contains("untagged enum ParamSpec") {
        message = "this parameter matches no generator; use one of { value = .. }, \
                   { one_of = [..], weights = [..] }, { int_between = [min, max] }, \
                   { float_between = [min, max] }, { ago = \"7 days\", jitter = \"1 day\" }, \
                   { sample = \"SELECT ..\", limit = N }, { recorded = [..] }"
            .to_string();
    }
    WorkloadError::Toml {
        origin: origin.to_string(),
        line,
        column,
        message,
    }
}
