//! jsonlog (PostgreSQL 15+): one JSON object per line with `user`, `dbname`, `pid`,
//! `error_severity`, `message`, `detail`, `application_name`.

use super::{LogRecord, Problems};

pub(super) fn parse(bytes: &[u8], problems: &mut Problems) -> Vec<LogRecord> {
    let ends_cleanly = bytes.ends_with(b"\n");
    let lines: Vec<&[u8]> = bytes.split(|b| *b == b'\n').collect();
    let last = lines.len().saturating_sub(1);
    let mut records = Vec::new();
    for (number, raw) in lines.into_iter().enumerate() {
        if raw.trim_ascii().is_empty() {
            continue;
        }
        let line = super::decode(raw, problems);
        match serde_json::from_str::<serde_json::Value>(&line) {
            Ok(serde_json::Value::Object(object)) => records.push(record(&object)),
            _ if number == last && !ends_cleanly => problems.add(super::TRUNCATED),
            _ => problems.add(match super::line_format(raw) {
                Some(super::LogFormat::Stderr | super::LogFormat::Csvlog) => super::OTHER_FORMAT,
                _ => super::UNREADABLE,
            }),
        }
    }
    records
}

fn record(object: &serde_json::Map<String, serde_json::Value>) -> LogRecord {
    let text = |key: &str| match object.get(key) {
        Some(serde_json::Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(serde_json::Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    LogRecord {
        user: text("user"),
        database: text("dbname"),
        application: text("application_name"),
        pid: text("pid"),
        severity: text("error_severity").unwrap_or_default(),
        message: text("message").unwrap_or_default(),
        detail: text("detail"),
    }
}
