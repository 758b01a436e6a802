//! Reads the JSON files `pgperf report` renders and tells them apart by their fields: a bench
//! result has `environment` and `queries`, an advice result has `recommendations`, a check
//! report has `comparability` and `outcome`. Errors carry
//! serde's line and column so that a hand-edited file can be fixed.

use serde::de::DeserializeOwned;
use serde::de::IgnoredAny;

use crate::model::advice::{ADVICE_SCHEMA_VERSION, AdviceResult};
use crate::model::check::{CHECK_SCHEMA_VERSION, CheckReport};
use crate::model::{RESULT_SCHEMA_VERSION, RunResult};

/// A file `pgperf report` can render.
#[derive(Debug, Clone, PartialEq)]
pub enum Document {
    /// `results.json` of `pgperf bench`.
    Run(Box<RunResult>),
    /// `advice.json` of `pgperf advise`.
    Advice(Box<AdviceResult>),
    /// `pgperf check --format json` output.
    Check(Box<CheckReport>),
}

/// Why a file could not be read as a pgperf document.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("invalid JSON at line {line}, column {column}: {message}")]
    Json {
        line: usize,
        column: usize,
        message: String,
    },
    #[error(
        "not a pgperf results file: expected a bench result (with \"environment\" and \"queries\"), an advice result (with \"recommendations\") or a check report (with \"comparability\" and \"outcome\")"
    )]
    UnknownKind,
    #[error(
        "{kind} format version {found} is not the version {expected} this pgperf reads; render it with the pgperf that wrote it, or re-run"
    )]
    Version {
        kind: &'static str,
        found: u64,
        expected: u32,
    },
    #[error("not a valid {kind} at line {line}, column {column}: {message}")]
    Shape {
        kind: &'static str,
        line: usize,
        column: usize,
        message: String,
    },
}

fn json_error(error: &serde_json::Error) -> InputError {
    InputError::Json {
        line: error.line(),
        column: error.column(),
        message: strip_position(error),
    }
}

/// serde_json appends " at line L column C"; the position is reported separately.
fn strip_position(error: &serde_json::Error) -> String {
    let text = error.to_string();
    match text.rfind(" at line ") {
        Some(position) => text[..position].to_string(),
        None => text,
    }
}

/// The top-level fields that tell the documents apart; values are skipped, not built, so a
/// large results file is parsed into memory only once.
#[derive(serde::Deserialize)]
struct Probe {
    schema_version: Option<u64>,
    recommendations: Option<IgnoredAny>,
    comparability: Option<IgnoredAny>,
    outcome: Option<IgnoredAny>,
    environment: Option<IgnoredAny>,
    queries: Option<IgnoredAny>,
}

impl Document {
    /// Parses a results, advice or check file, detected by its fields.
    pub fn from_json(text: &str) -> Result<Document, InputError> {
        let probe: Probe = serde_json::from_str(text).map_err(|error| json_error(&error))?;
        let version = probe.schema_version;
        if probe.recommendations.is_some() {
            typed(text, version, "advice result", ADVICE_SCHEMA_VERSION)
                .map(|a| Document::Advice(Box::new(a)))
        } else if probe.comparability.is_some() && probe.outcome.is_some() {
            typed(text, version, "check report", CHECK_SCHEMA_VERSION)
                .map(|c| Document::Check(Box::new(c)))
        } else if probe.environment.is_some() && probe.queries.is_some() {
            typed(text, version, "bench result", RESULT_SCHEMA_VERSION)
                .map(|r| Document::Run(Box::new(r)))
        } else {
            Err(InputError::UnknownKind)
        }
    }
}

fn typed<T: DeserializeOwned>(
    text: &str,
    found: Option<u64>,
    kind: &'static str,
    expected: u32,
) -> Result<T, InputError> {
    if let Some(found) = found.filter(|found| *found != u64::from(expected)) {
        return Err(InputError::Version {
            kind,
            found,
            expected,
        });
    }
    serde_json::from_str(text).map_err(|error| InputError::Shape {
        kind,
        line: error.line(),
        column: error.column(),
        message: strip_position(&error),
    })
}
