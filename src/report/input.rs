//! Reads the JSON files `pgperf report` renders and tells them apart by their fields: a bench
//! result has `environment` and `queries`, an advice result has `recommendations`, a check
//! report has `comparability` and `outcome`. Errors carry
//! serde's line and column so that a hand-edited file can be fixed.

use serde::de::DeserializeOwned;
use serde_json::Value;

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

impl Document {
    /// Parses a results, advice or check file, detected by its fields.
    pub fn from_json(text: &str) -> Result<Document, InputError> {
        let value: Value = serde_json::from_str(text).map_err(|error| json_error(&error))?;
        let has = |field: &str| value.get(field).is_some();
        if has("recommendations") {
            typed(text, &value, "advice result", ADVICE_SCHEMA_VERSION)
                .map(|a| Document::Advice(Box::new(a)))
        } else if has("comparability") && has("outcome") {
            typed(text, &value, "check report", CHECK_SCHEMA_VERSION)
                .map(|c| Document::Check(Box::new(c)))
        } else if has("environment") && has("queries") {
            typed(text, &value, "bench result", RESULT_SCHEMA_VERSION)
                .map(|r| Document::Run(Box::new(r)))
        } else {
            Err(InputError::UnknownKind)
        }
    }
}

fn typed<T: DeserializeOwned>(
    text: &str,
    value: &Value,
    kind: &'static str,
    expected: u32,
) -> Result<T, InputError> {
    let found = value.get("schema_version").and_then(Value::as_u64);
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
