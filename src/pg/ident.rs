//! Quoting of SQL identifiers and literals. Every identifier pgperf emits goes through
//! [`quote_ident`]; values go as bind parameters, and [`quote_literal`] is only for the simple
//! protocol and for generated SQL files, where there are no parameters.

/// Always double-quotes, so mixed case, spaces and reserved words survive.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `schema.name`, both parts quoted.
pub fn quote_qualified(schema: &str, name: &str) -> String {
    format!("{}.{}", quote_ident(schema), quote_ident(name))
}

/// A standard-conforming string literal (`'it''s'`); backslashes are literal with
/// `standard_conforming_strings = on`, the default since PostgreSQL 9.1, so an `E''` form is
/// used when the value holds one.
pub fn quote_literal(value: &str) -> String {
    if value.contains('\\') {
        format!("E'{}'", value.replace('\\', "\\\\").replace('\'', "''"))
    } else {
        format!("'{}'", value.replace('\'', "''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_always_quoted() {
        assert_eq!(quote_ident("orders"), "\"orders\"");
        assert_eq!(quote_ident("Mixed Case"), "\"Mixed Case\"");
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(quote_qualified("Sales", "select"), "\"Sales\".\"select\"");
    }

    #[test]
    fn literals_escape_quotes_and_backslashes() {
        assert_eq!(quote_literal("it's"), "'it''s'");
        assert_eq!(quote_literal("a\\b'"), "E'a\\\\b'''");
    }
}
