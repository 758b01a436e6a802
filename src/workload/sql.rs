//! What pgperf needs to know about a query's SQL, read with PostgreSQL's own parser (the
//! `pg_query` crate), never with a regex: `$1` inside a string literal, a comment or a
//! dollar-quoted body is not a placeholder.

/// One `$n` placeholder as the parser found it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placeholder {
    /// The `n` of `$n`.
    pub number: usize,
    /// Byte offset of the `$` in the SQL text.
    pub start: usize,
    /// Byte offset just past the last digit.
    pub end: usize,
}

/// Why SQL was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SqlError {
    #[error("is not valid SQL: {0}")]
    Syntax(String),
    #[error("holds {0} statements; put each statement in its own query")]
    NotOneStatement(usize),
}

/// Parses `sql`, checks it is exactly one statement, and returns its placeholders in text
/// order. The parser validates the statement; PostgreSQL's own lexer (the same library's
/// scanner) locates the `$n` tokens, which is exact where walking the parse tree is not (the
/// crate's node walker skips some clauses, e.g. `VALUES` lists).
pub fn placeholders(sql: &str) -> Result<Vec<Placeholder>, SqlError> {
    let parsed = pg_query::parse(sql, 0).map_err(|error| SqlError::Syntax(error.to_string()))?;
    let statements = parsed.protobuf.stmts.len();
    if statements != 1 {
        return Err(SqlError::NotOneStatement(statements));
    }
    let scanned = pg_query::scan(sql).map_err(|error| SqlError::Syntax(error.to_string()))?;
    Ok(scanned
        .tokens
        .iter()
        .filter(|token| token.token == pg_query::protobuf::Token::Param as i32)
        .filter_map(|token| {
            let start = usize::try_from(token.start).ok()?;
            let end = usize::try_from(token.end).ok()?;
            let number = sql.get(start + 1..end)?.parse().ok()?;
            Some(Placeholder { number, start, end })
        })
        .collect())
}

/// The highest `$n` used (the number of parameters the statement takes), 0 when none.
pub fn parameter_count(placeholders: &[Placeholder]) -> usize {
    placeholders.iter().map(|p| p.number).max().unwrap_or(0)
}

/// Numbers in `1..=count` that no placeholder uses: the server could not type them.
pub fn unused_numbers(placeholders: &[Placeholder], count: usize) -> Vec<usize> {
    (1..=count)
        .filter(|n| !placeholders.iter().any(|p| p.number == *n))
        .collect()
}

/// The SQL with every placeholder replaced by its value as a quoted literal (or `NULL`), for the
/// simple protocol, which has no bind parameters.
pub fn inline_params(sql: &str, placeholders: &[Placeholder], values: &[Option<String>]) -> String {
    let mut text = String::with_capacity(sql.len() + 16 * placeholders.len());
    let mut copied = 0;
    for placeholder in placeholders {
        text.push_str(&sql[copied..placeholder.start]);
        match values
            .get(placeholder.number - 1)
            .and_then(Option::as_deref)
        {
            Some(value) => text.push_str(&crate::pg::quote_literal(value)),
            None => text.push_str("NULL"),
        }
        copied = placeholder.end;
    }
    text.push_str(&sql[copied..]);
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numbers(sql: &str) -> Vec<usize> {
        placeholders(sql)
            .expect("valid sql")
            .iter()
            .map(|p| p.number)
            .collect()
    }

    #[test]
    fn placeholders_in_literals_and_comments_do_not_count() {
        let sql = "SELECT '$1', $2 -- $3\n /* $4 */ FROM t WHERE a = $1 AND b = $$ $5 $$";
        assert_eq!(numbers(sql), vec![2, 1]);
    }

    #[test]
    fn placeholders_are_found_in_every_clause() {
        let sql = "SELECT f($1) FROM t WHERE x IN ($2, $3) AND y = ANY($4::int[]) \
                   ORDER BY z LIMIT $5 OFFSET $6";
        assert_eq!(numbers(sql), vec![1, 2, 3, 4, 5, 6]);
        let sql = "WITH c AS (SELECT $1 AS v) INSERT INTO t SELECT v FROM c RETURNING $2";
        assert_eq!(parameter_count(&placeholders(sql).expect("valid")), 2);
    }

    #[test]
    fn placeholders_in_values_lists_count() {
        let sql = "INSERT INTO t (a, b) VALUES ($1, now() - $2::interval)";
        assert_eq!(numbers(sql), vec![1, 2]);
    }

    #[test]
    fn gaps_are_reported() {
        let found = placeholders("SELECT $1, $3").expect("valid");
        assert_eq!(parameter_count(&found), 3);
        assert_eq!(unused_numbers(&found, 3), vec![2]);
    }

    #[test]
    fn more_than_one_statement_is_rejected() {
        assert_eq!(
            placeholders("SELECT 1; SELECT 2"),
            Err(SqlError::NotOneStatement(2))
        );
        assert!(matches!(placeholders("SELEC 1"), Err(SqlError::Syntax(_))));
    }

    #[test]
    fn literals_are_inlined_at_the_parser_locations() {
        let sql = "SELECT '$1' AS lit, $1 AS a, $10 AS b, $2 AS c";
        let found = placeholders(sql).expect("valid");
        let mut values = vec![Some("x".to_string()); 10];
        values[0] = Some("it's".to_string());
        values[1] = None;
        assert_eq!(
            inline_params(sql, &found, &values),
            "SELECT '$1' AS lit, 'it''s' AS a, 'x' AS b, NULL AS c"
        );
    }
}
