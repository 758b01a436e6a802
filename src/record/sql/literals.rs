//! Recovering the literal values the normaliser replaced by `$n`. pg_query's normaliser copies
//! the text and replaces each constant's span, so walking the original and the normalised text
//! side by side finds every literal exactly where its placeholder is.

/// A constant as written in a statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Literal {
    /// A string constant, unescaped (`'it''s'` → `it's`).
    Text(String),
    /// A numeric constant as written (`-12.5`).
    Number(String),
    Bool(bool),
    Null,
}

/// The value to send as a text parameter; `None` is SQL NULL.
pub fn literal_value(literal: &Literal) -> Option<String> {
    match literal {
        Literal::Text(text) | Literal::Number(text) => Some(text.clone()),
        Literal::Bool(value) => Some(value.to_string()),
        Literal::Null => None,
    }
}

/// The constant as SQL text, to write back into a statement.
pub fn literal_sql(literal: &Literal) -> String {
    match literal {
        Literal::Text(text) => format!("'{}'", text.replace('\'', "''")),
        Literal::Number(text) => text.clone(),
        Literal::Bool(value) => value.to_string(),
        Literal::Null => "NULL".to_string(),
    }
}

/// A constant of the original text and where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Found {
    pub literal: Literal,
    pub span: std::ops::Range<usize>,
}

/// The literals of `original` for the placeholders `normalized` added (numbers above
/// `existing`), in order; empty when the two texts do not line up.
pub(super) fn extract(original: &str, normalized: &str, existing: usize) -> Vec<Found> {
    let (o, n) = (original.as_bytes(), normalized.as_bytes());
    let (mut i, mut j) = (0, 0);
    let mut found = Vec::new();
    while j < n.len() {
        if let Some((number, digits)) = placeholder(&n[j..])
            && number > existing
        {
            let Some(length) = literal_length(&original[i..]) else {
                return Vec::new();
            };
            found.push(Found {
                literal: parse_literal(&original[i..i + length]),
                span: i..i + length,
            });
            i += length;
            j += digits + 1;
            continue;
        }
        if o.get(i) != Some(&n[j]) {
            return Vec::new();
        }
        i += 1;
        j += 1;
    }
    found
}

/// `$12` at the start of `text`: (12, 2).
fn placeholder(text: &[u8]) -> Option<(usize, usize)> {
    let digits = text
        .get(1..)?
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
    if text[0] != b'$' || digits == 0 {
        return None;
    }
    let number = std::str::from_utf8(&text[1..=digits]).ok()?.parse().ok()?;
    Some((number, digits))
}

/// Length in bytes of the constant at the start of `text`.
fn literal_length(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let lower = text.to_ascii_lowercase();
    for word in ["true", "false", "null"] {
        let boundary = bytes
            .get(word.len())
            .is_none_or(|b| !b.is_ascii_alphanumeric() && *b != b'_');
        if lower.starts_with(word) && boundary {
            return Some(word.len());
        }
    }
    match bytes.first()? {
        b'\'' => quoted_length(bytes, 0, false),
        b'E' | b'e' if bytes.get(1) == Some(&b'\'') => quoted_length(bytes, 1, true),
        b'B' | b'b' | b'X' | b'x' | b'N' | b'n' if bytes.get(1) == Some(&b'\'') => {
            quoted_length(bytes, 1, false)
        }
        b'$' => dollar_quoted_length(text),
        b'-' | b'+' | b'.' | b'0'..=b'9' => Some(number_length(bytes)),
        _ => None,
    }
}

/// A `'…'` string starting at `start`, with `''` (and `\'` when `backslashes`) escapes.
fn quoted_length(bytes: &[u8], start: usize, backslashes: bool) -> Option<usize> {
    let mut index = start + 1;
    while index < bytes.len() {
        match bytes[index] {
            b'\\' if backslashes => index += 2,
            b'\'' if bytes.get(index + 1) == Some(&b'\'') => index += 2,
            b'\'' => return Some(index + 1),
            _ => index += 1,
        }
    }
    None
}

fn dollar_quoted_length(text: &str) -> Option<usize> {
    let tag_end = text[1..].find('$')? + 2;
    let tag = &text[..tag_end];
    let close = text[tag_end..].find(tag)?;
    Some(tag_end + close + tag.len())
}

fn number_length(bytes: &[u8]) -> usize {
    let mut index = 0;
    while index < bytes.len() && matches!(bytes[index], b'-' | b'+' | b' ') && index < 2 {
        index += 1;
    }
    while index < bytes.len() {
        let b = bytes[index];
        let exponent_sign = matches!(b, b'+' | b'-') && matches!(bytes[index - 1], b'e' | b'E');
        if b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || exponent_sign {
            index += 1;
        } else {
            break;
        }
    }
    index
}

pub(super) fn parse_literal(text: &str) -> Literal {
    let lower = text.to_ascii_lowercase();
    match lower.as_str() {
        "true" => return Literal::Bool(true),
        "false" => return Literal::Bool(false),
        "null" => return Literal::Null,
        _ => {}
    }
    let first = text.as_bytes()[0];
    if first == b'\'' {
        return Literal::Text(text[1..text.len() - 1].replace("''", "'"));
    }
    if first == b'$' {
        let tag_end = text[1..].find('$').map_or(1, |at| at + 2);
        return Literal::Text(text[tag_end..text.len() - tag_end].to_string());
    }
    match (first.to_ascii_lowercase(), text.as_bytes().get(1)) {
        (b'e', Some(b'\'')) => Literal::Text(unescape_backslashes(&text[2..text.len() - 1])),
        (b'n', Some(b'\'')) | (b'b', Some(b'\'')) => {
            Literal::Text(text[2..text.len() - 1].replace("''", "'"))
        }
        (b'x', Some(b'\'')) => Literal::Text(format!("x{}", &text[2..text.len() - 1])),
        _ => Literal::Number(text.replace(' ', "")),
    }
}

fn unescape_backslashes(body: &str) -> String {
    let mut out = String::new();
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        match (c, c == '\\') {
            (_, true) => match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('r') => out.push('\r'),
                Some(other) => out.push(other),
                None => {}
            },
            ('\'', false) => {
                out.push('\'');
                chars.next();
            }
            (other, false) => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn literals(sql: &str) -> Vec<Literal> {
        let normalized = pg_query::normalize(sql).expect("normalises");
        extract(sql, &normalized, 0)
            .into_iter()
            .map(|f| f.literal)
            .collect()
    }

    #[test]
    fn every_kind_of_constant_is_recovered() {
        assert_eq!(
            literals(
                "SELECT * FROM t WHERE a = 'it''s' AND b = -12.5 AND c = E'x\\ny' \
                 AND d = $$dollar 'q'$$ AND e IN (1, 2) AND f = true AND g = 1e-3"
            ),
            vec![
                Literal::Text("it's".into()),
                Literal::Number("-12.5".into()),
                Literal::Text("x\ny".into()),
                Literal::Text("dollar 'q'".into()),
                Literal::Number("1".into()),
                Literal::Number("2".into()),
                Literal::Bool(true),
                Literal::Number("1e-3".into()),
            ]
        );
    }

    #[test]
    fn multi_line_text_and_existing_parameters_line_up() {
        let sql = "SELECT *\n  FROM t\n WHERE a = $1\n   AND b = 'x'\n LIMIT 5";
        let normalized = pg_query::normalize(sql).expect("normalises");
        let found = extract(sql, &normalized, 1);
        assert_eq!(found[0].literal, Literal::Text("x".into()));
        assert_eq!(&sql[found[1].span.clone()], "5");
    }
}
