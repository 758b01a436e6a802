//! What a log entry says: an executed statement (`statement:`, `execute <name>:`, with or
//! without `duration:`), and the values of its parameters (`DETAIL:  parameters: $1 = '…'`).
//!
//! With `log_min_duration_statement` the extended protocol logs parse, bind and execute
//! separately: only `execute` is a call. With `log_statement = all` as well, the statement is
//! logged once without a duration and the duration later on its own line, so every call is
//! counted exactly once either way.

use super::{LogRecord, LoggedCall, Problems};

pub const BAD_PARAMETERS: &str = "unreadable DETAIL parameters (statement kept without them)";
pub const CUT_PARAMETER: &str = "parameter value cut by log_parameter_max_length (kept as logged)";

/// The calls among `records`, in log order.
pub(super) fn calls(records: &[LogRecord], problems: &mut Problems) -> Vec<LoggedCall> {
    records
        .iter()
        .filter(|record| record.severity == "LOG")
        .filter_map(|record| call(record, problems))
        .collect()
}

fn call(record: &LogRecord, problems: &mut Problems) -> Option<LoggedCall> {
    let (duration_ms, rest) = match record.message.strip_prefix("duration: ") {
        Some(rest) => {
            let (number, rest) = rest.split_once(" ms")?;
            (number.trim().parse::<f64>().ok(), rest.trim_start())
        }
        None => (None, record.message.as_str()),
    };
    let sql = statement_text(rest)?;
    let params = match record
        .detail
        .as_deref()
        .filter(|d| d.starts_with("parameters: "))
    {
        Some(detail) => parse_parameters(detail).unwrap_or_else(|| {
            problems.add(BAD_PARAMETERS);
            Vec::new()
        }),
        None => Vec::new(),
    };
    if params.iter().flatten().any(|value| value.ends_with("...")) {
        problems.add(CUT_PARAMETER);
    }
    Some(LoggedCall {
        sql: sql.to_string(),
        params,
        duration_ms,
        user: record.user.clone(),
        database: record.database.clone(),
        application: record.application.clone(),
    })
}

/// The SQL of `statement: …` or `execute <name>: …`; `None` for parse/bind phases, portal
/// fetches and anything else.
fn statement_text(message: &str) -> Option<&str> {
    if let Some(sql) = message.strip_prefix("statement: ") {
        return Some(sql);
    }
    let named = message.strip_prefix("execute ")?;
    if named.starts_with("fetch from ") {
        return None;
    }
    named.split_once(": ").map(|(_, sql)| sql)
}

/// `parameters: $1 = '42', $2 = NULL, $3 = 'it''s'` → values by position; `None` when the text
/// does not have that shape.
pub fn parse_parameters(detail: &str) -> Option<Vec<Option<String>>> {
    let mut rest = detail.strip_prefix("parameters: ")?;
    let mut values: Vec<Option<String>> = Vec::new();
    loop {
        let after_dollar = rest.strip_prefix('$')?;
        let digits = after_dollar.bytes().take_while(u8::is_ascii_digit).count();
        let number: usize = after_dollar[..digits].parse().ok()?;
        rest = after_dollar[digits..].strip_prefix(" = ")?;
        let (value, after) = parse_value(rest)?;
        if number == 0 || number > 65_535 {
            return None;
        }
        if values.len() < number {
            values.resize(number, None);
        }
        values[number - 1] = value;
        rest = match after.strip_prefix(", ") {
            Some(next) => next,
            None if after.trim().is_empty() => return Some(values),
            None => return None,
        };
    }
}

/// One `NULL` or `'quoted'` value and the text after it.
fn parse_value(text: &str) -> Option<(Option<String>, &str)> {
    if let Some(after) = text.strip_prefix("NULL") {
        return Some((None, after));
    }
    let body = text.strip_prefix('\'')?;
    let mut value = String::new();
    let mut chars = body.char_indices();
    while let Some((at, c)) = chars.next() {
        if c != '\'' {
            value.push(c);
            continue;
        }
        if body[at + 1..].starts_with('\'') {
            value.push('\'');
            chars.next();
            continue;
        }
        return Some((Some(value), &body[at + 1..]));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_with_quotes_nulls_and_commas() {
        let values = parse_parameters("parameters: $1 = 'it''s, fine', $2 = NULL, $3 = '42'")
            .expect("parses");
        assert_eq!(
            values,
            vec![Some("it's, fine".to_string()), None, Some("42".to_string())]
        );
    }

    #[test]
    fn malformed_parameters_are_refused() {
        assert_eq!(parse_parameters("parameters: $1 = 'open"), None);
        assert_eq!(parse_parameters("parameters: $1 = 42"), None);
        assert_eq!(parse_parameters("something else"), None);
    }

    #[test]
    fn only_execute_and_statement_are_calls() {
        assert_eq!(statement_text("execute S_1: SELECT 1"), Some("SELECT 1"));
        assert_eq!(
            statement_text("execute <unnamed>: SELECT 2"),
            Some("SELECT 2")
        );
        assert_eq!(statement_text("statement: SELECT 3"), Some("SELECT 3"));
        assert_eq!(statement_text("parse <unnamed>: SELECT 4"), None);
        assert_eq!(statement_text("bind S_1: SELECT 5"), None);
        assert_eq!(statement_text("execute fetch from S_1/C_1: SELECT 6"), None);
    }
}
