//! csvlog: RFC 4180 records (quoted fields, `""` for a quote, newlines inside quotes), one per
//! log entry, with the entry's detail in its own field. Field positions are PostgreSQL's,
//! stable since 9.0 (user 1, database 2, pid 3, severity 11, message 13, detail 14,
//! application 22).

use super::{LogRecord, Problems};

/// Fewest fields a csvlog record has (PostgreSQL 13 writes 24, 14+ write 26).
const MIN_FIELDS: usize = 23;

pub(super) fn parse(bytes: &[u8], problems: &mut Problems) -> Vec<LogRecord> {
    let mut records = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        let (fields, consumed, complete) = split_record(rest);
        let raw = &rest[..consumed];
        rest = &rest[consumed..];
        if !complete {
            problems.add(super::TRUNCATED);
            break;
        }
        if raw.trim_ascii().is_empty() {
            continue;
        }
        if fields.len() < MIN_FIELDS {
            problems.add(match super::line_format(raw) {
                Some(super::LogFormat::Stderr | super::LogFormat::Jsonlog) => super::OTHER_FORMAT,
                _ => super::UNREADABLE,
            });
            continue;
        }
        records.push(record(&fields, problems));
    }
    records
}

fn record(fields: &[Vec<u8>], problems: &mut Problems) -> LogRecord {
    if fields.iter().any(|f| std::str::from_utf8(f).is_err()) {
        problems.add(super::INVALID_UTF8);
    }
    let optional = |index: usize| {
        fields
            .get(index)
            .map(|f| String::from_utf8_lossy(f).into_owned())
            .filter(|value| !value.is_empty())
    };
    LogRecord {
        user: optional(1),
        database: optional(2),
        pid: optional(3),
        severity: optional(11).unwrap_or_default(),
        message: optional(13).unwrap_or_default(),
        detail: optional(14),
        application: optional(22),
    }
}

/// One record from the start of `input`: its fields, the bytes it used (newline included), and
/// whether it ended with a newline outside quotes.
fn split_record(input: &[u8]) -> (Vec<Vec<u8>>, usize, bool) {
    let mut fields = Vec::new();
    let mut field = Vec::new();
    let mut in_quotes = false;
    let mut at_field_start = true;
    let mut index = 0;
    while index < input.len() {
        let byte = input[index];
        index += 1;
        if in_quotes {
            match byte {
                b'"' if input.get(index) == Some(&b'"') => {
                    field.push(b'"');
                    index += 1;
                }
                b'"' => in_quotes = false,
                other => field.push(other),
            }
            continue;
        }
        match byte {
            b'"' if at_field_start => in_quotes = true,
            b',' => {
                fields.push(std::mem::take(&mut field));
                at_field_start = true;
                continue;
            }
            b'\n' => {
                fields.push(field);
                return (fields, index, true);
            }
            b'\r' if input.get(index) == Some(&b'\n') => {}
            other => field.push(other),
        }
        at_field_start = false;
    }
    // PostgreSQL ends every record with a newline: without one, the writer was cut off.
    fields.push(field);
    (fields, index, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_fields_keep_commas_quotes_and_newlines() {
        let (fields, used, complete) = split_record(b"a,\"b,\"\"c\"\"\nd\",,e\nnext");
        assert_eq!(
            fields,
            vec![b"a".to_vec(), b"b,\"c\"\nd".to_vec(), vec![], b"e".to_vec()]
        );
        assert_eq!(used, 17);
        assert!(complete);
    }

    #[test]
    fn an_open_quote_at_the_end_is_truncated() {
        let (_, _, complete) = split_record(b"a,\"never closed\n");
        assert!(!complete);
    }
}
