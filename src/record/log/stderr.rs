//! The stderr format: `<log_line_prefix>SEVERITY:  message`, continuation lines start with a
//! tab, and `DETAIL:` comes as its own line after the entry it belongs to. The prefix is the
//! user's choice, so user, database, application and pid are picked out of it when it holds
//! the usual `user=%u db=%d app=%a [%p]` or `%u@%d` forms.

use super::{LogRecord, Problems};

const SEVERITIES: [&str; 15] = [
    "LOG",
    "ERROR",
    "DETAIL",
    "STATEMENT",
    "HINT",
    "CONTEXT",
    "WARNING",
    "NOTICE",
    "INFO",
    "FATAL",
    "PANIC",
    "DEBUG1",
    "DEBUG2",
    "DEBUG3",
    "DEBUG4",
];

/// Splits `line` at its severity marker: (prefix, severity, message).
fn split_severity(line: &str) -> Option<(&str, &'static str, &str)> {
    SEVERITIES
        .iter()
        .filter_map(|severity| {
            let marker = format!("{severity}:  ");
            line.find(&marker)
                .map(|at| (at, *severity, at + marker.len()))
        })
        .min_by_key(|(at, _, _)| *at)
        .map(|(at, severity, rest)| (&line[..at], severity, &line[rest..]))
}

pub(super) fn has_severity(line: &[u8]) -> bool {
    split_severity(&String::from_utf8_lossy(line)).is_some()
}

pub(super) fn parse(bytes: &[u8], problems: &mut Problems) -> Vec<LogRecord> {
    // PostgreSQL ends every line with a newline: text after the last one was cut off.
    let (complete, tail) = match bytes.iter().rposition(|b| *b == b'\n') {
        Some(end) => bytes.split_at(end + 1),
        None => (&bytes[..0], bytes),
    };
    let mut reader = Reader::default();
    for raw in complete.split(|b| *b == b'\n') {
        reader.line(raw.strip_suffix(b"\r").unwrap_or(raw), problems);
    }
    if !tail.trim_ascii().is_empty() {
        problems.add(super::TRUNCATED);
        let line = String::from_utf8_lossy(tail);
        let continues_current = line.starts_with('\t')
            || split_severity(&line).is_some_and(|(_, severity, _)| severity == "DETAIL");
        if continues_current && let Some((index, _)) = reader.current {
            reader.records.truncate(index);
        }
    }
    reader.records
}

#[derive(Default)]
struct Reader {
    records: Vec<LogRecord>,
    /// Index of the entry a continuation line extends, and whether it extends its detail.
    current: Option<(usize, bool)>,
}

impl Reader {
    fn line(&mut self, raw: &[u8], problems: &mut Problems) {
        if raw.is_empty() {
            return;
        }
        let line = super::decode(raw, problems);
        if let Some(continuation) = line.strip_prefix('\t') {
            match self.current {
                Some((index, in_detail)) => {
                    extend(&mut self.records[index], continuation, in_detail)
                }
                None => problems.add(super::UNREADABLE),
            }
            return;
        }
        self.current = split_severity(&line)
            .map(|(prefix, severity, message)| push(&mut self.records, prefix, severity, message));
        if self.current.is_none() {
            problems.add(match super::line_format(raw) {
                Some(super::LogFormat::Csvlog | super::LogFormat::Jsonlog) => super::OTHER_FORMAT,
                _ => super::UNREADABLE,
            });
        }
    }
}

fn extend(record: &mut LogRecord, continuation: &str, in_detail: bool) {
    let target = if in_detail {
        record.detail.get_or_insert_with(String::new)
    } else {
        &mut record.message
    };
    target.push('\n');
    target.push_str(continuation);
}

/// Adds an entry, or attaches a `DETAIL` line to the entry of the same backend before it.
/// Returns the index continuation lines extend and whether they extend the detail.
fn push(
    records: &mut Vec<LogRecord>,
    prefix: &str,
    severity: &str,
    message: &str,
) -> (usize, bool) {
    let mut record = prefix_fields(prefix);
    if severity == "DETAIL"
        && let Some(index) = records.len().checked_sub(1)
    {
        let previous = &mut records[index];
        if previous.detail.is_none() && (previous.pid == record.pid || record.pid.is_none()) {
            previous.detail = Some(message.to_string());
            return (index, true);
        }
    }
    record.severity = severity.to_string();
    record.message = message.to_string();
    records.push(record);
    (records.len() - 1, false)
}

/// user, database, application and pid out of a `log_line_prefix`.
fn prefix_fields(prefix: &str) -> LogRecord {
    let mut record = LogRecord::default();
    for token in prefix.split([' ', ',']).filter(|t| !t.is_empty()) {
        let value = |v: &str| (!v.is_empty() && v != "[unknown]").then(|| v.to_string());
        if let Some((key, v)) = token.split_once('=') {
            match key {
                "user" => record.user = value(v),
                "db" | "database" => record.database = value(v),
                "app" | "application" => record.application = value(v),
                _ => {}
            }
        } else if let Some(inner) = token.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
            let pid = inner.split('-').next().unwrap_or(inner);
            if record.pid.is_none() && !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()) {
                record.pid = Some(pid.to_string());
            }
        } else if let Some((user, database)) = token.split_once('@')
            && record.user.is_none()
        {
            record.user = value(user);
            record.database = value(database.trim_end_matches(':'));
        }
    }
    record
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_forms_are_understood() {
        let record = prefix_fields("2024-05-01 10:00:00.123 UTC [4242] user=app,db=shop,app=web ");
        assert_eq!(record.pid.as_deref(), Some("4242"));
        assert_eq!(record.user.as_deref(), Some("app"));
        assert_eq!(record.database.as_deref(), Some("shop"));
        assert_eq!(record.application.as_deref(), Some("web"));
        let record = prefix_fields("2024-05-01 10:00:00 UTC [77-3] alice@shop ");
        assert_eq!(record.pid.as_deref(), Some("77"));
        assert_eq!(record.user.as_deref(), Some("alice"));
        assert_eq!(record.database.as_deref(), Some("shop"));
    }

    #[test]
    fn continuation_lines_and_detail_are_joined() {
        let log = b"t [1] LOG:  duration: 1.0 ms  execute S_1: SELECT a\n\tFROM t\n\
                    t [1] DETAIL:  parameters: $1 = '1'\n";
        let mut problems = Problems::default();
        let records = parse(log, &mut problems);
        assert_eq!(records.len(), 1);
        assert_eq!(
            records[0].message,
            "duration: 1.0 ms  execute S_1: SELECT a\nFROM t"
        );
        assert_eq!(records[0].detail.as_deref(), Some("parameters: $1 = '1'"));
        assert!(problems.is_empty());
    }
}
