//! Reading PostgreSQL server logs (stderr, csvlog, jsonlog) into calls: one per executed
//! statement, with its parameters, duration and who ran it.
//!
//! A log is never trusted to be clean: lines that cannot be read are counted per reason in
//! [`Problems`] and skipped, so one truncated line or a stray binary byte does not lose a day of
//! traffic. Only a log in which nothing at all could be read is an error (decided by the caller).

mod csvlog;
mod jsonlog;
mod message;
mod stderr;

use std::collections::BTreeMap;

pub use message::parse_parameters;

/// The three formats PostgreSQL writes (`log_destination`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Decide from the first lines of the file.
    Auto,
    /// Plain text with a `log_line_prefix`; continuation lines start with a tab.
    Stderr,
    /// `csvlog`: RFC 4180 records, fields may hold newlines.
    Csvlog,
    /// `jsonlog` (PostgreSQL 15+): one JSON object per line.
    Jsonlog,
}

impl std::fmt::Display for LogFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            LogFormat::Auto => "auto",
            LogFormat::Stderr => "stderr",
            LogFormat::Csvlog => "csvlog",
            LogFormat::Jsonlog => "jsonlog",
        })
    }
}

/// One log entry, whatever the format: the fields recording needs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LogRecord {
    pub user: Option<String>,
    pub database: Option<String>,
    pub application: Option<String>,
    /// Backend process id, to attach a stderr `DETAIL` line to its statement.
    pub pid: Option<String>,
    /// `LOG`, `ERROR`, `DETAIL`, ...
    pub severity: String,
    pub message: String,
    pub detail: Option<String>,
}

/// One executed statement found in the log.
#[derive(Debug, Clone, PartialEq)]
pub struct LoggedCall {
    /// The statement as logged: with `$n` (extended protocol) or inlined literals.
    pub sql: String,
    /// Values of `$1..$n` from `DETAIL: parameters:`; `None` inside is SQL NULL.
    pub params: Vec<Option<String>>,
    pub duration_ms: Option<f64>,
    /// Backend process id, to follow role switches within a session.
    pub pid: Option<String>,
    pub user: Option<String>,
    pub database: Option<String>,
    pub application: Option<String>,
}

/// Why input was skipped, counted per reason.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Problems {
    counts: BTreeMap<&'static str, u64>,
}

impl Problems {
    pub fn add(&mut self, reason: &'static str) {
        *self.counts.entry(reason).or_default() += 1;
    }
    /// `(reason, count)` in alphabetical order of the reason.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, u64)> + '_ {
        self.counts.iter().map(|(reason, count)| (*reason, *count))
    }
    pub fn count(&self, reason: &str) -> u64 {
        self.counts.get(reason).copied().unwrap_or(0)
    }
    pub fn total(&self) -> u64 {
        self.counts.values().sum()
    }
    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }
}

/// Not a reason to skip: such lines are decoded lossily and kept (the report says so).
pub const INVALID_UTF8: &str = "invalid UTF-8";
pub const OTHER_FORMAT: &str = "line in another log format";
pub const UNREADABLE: &str = "unreadable line";
pub const TRUNCATED: &str = "truncated record at end of file";
pub const ORPHAN_DETAIL: &str = "parameters without a statement";

/// What reading a log produced.
#[derive(Debug, Clone, Default)]
pub struct LogReading {
    pub format: Option<LogFormat>,
    /// Entries read (any severity).
    pub records: u64,
    pub calls: Vec<LoggedCall>,
    pub problems: Problems,
}

/// Reads a whole log. `format` `Auto` detects it from the first lines.
pub fn read_log(bytes: &[u8], format: LogFormat) -> LogReading {
    let format = match format {
        LogFormat::Auto => detect_format(bytes),
        other => other,
    };
    let mut problems = Problems::default();
    let records = match format {
        LogFormat::Csvlog => csvlog::parse(bytes, &mut problems),
        LogFormat::Jsonlog => jsonlog::parse(bytes, &mut problems),
        LogFormat::Stderr | LogFormat::Auto => stderr::parse(bytes, &mut problems),
    };
    let calls = message::calls(&records, &mut problems);
    LogReading {
        format: Some(format),
        records: records.len() as u64,
        calls,
        problems,
    }
}

/// The format most of the first 50 non-empty lines look like.
pub fn detect_format(bytes: &[u8]) -> LogFormat {
    let mut votes = [0u32; 3];
    for line in bytes
        .split(|b| *b == b'\n')
        .filter(|line| !line.trim_ascii().is_empty())
        .take(50)
    {
        match line_format(line) {
            Some(LogFormat::Jsonlog) => votes[0] += 1,
            Some(LogFormat::Csvlog) => votes[1] += 1,
            Some(_) => votes[2] += 1,
            None => {}
        }
    }
    if votes[0] > votes[1] && votes[0] > votes[2] {
        LogFormat::Jsonlog
    } else if votes[1] > votes[2] {
        LogFormat::Csvlog
    } else {
        LogFormat::Stderr
    }
}

/// What a single line looks like: `None` when it could be a continuation of anything.
fn line_format(line: &[u8]) -> Option<LogFormat> {
    let line = line.trim_ascii_start();
    if line.starts_with(b"{\"") {
        return Some(LogFormat::Jsonlog);
    }
    // csvlog starts with the timestamp field, `2024-01-02 03:04:05.678 UTC,`.
    let starts_with_date = line.len() > 20
        && line[..4].iter().all(u8::is_ascii_digit)
        && line[4] == b'-'
        && line[10] == b' ';
    if starts_with_date && csv_after_timestamp(line) {
        return Some(LogFormat::Csvlog);
    }
    stderr::has_severity(line).then_some(LogFormat::Stderr)
}

/// A csvlog record's first field is the bare timestamp (`2024-01-02 03:04:05.678 UTC`),
/// followed by the quoted or empty user field.
fn csv_after_timestamp(line: &[u8]) -> bool {
    let Some(comma) = line.iter().take(40).position(|b| *b == b',') else {
        return false;
    };
    let spaces = line[..comma].iter().filter(|b| **b == b' ').count();
    spaces <= 2 && matches!(line.get(comma + 1), Some(b'"' | b','))
}

/// Decodes a line, counting it when it is not valid UTF-8.
fn decode(bytes: &[u8], problems: &mut Problems) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_string(),
        Err(_) => {
            problems.add(INVALID_UTF8);
            String::from_utf8_lossy(bytes).into_owned()
        }
    }
}
