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

/// What a statement would change, when it is not a plain read: `None` for a `SELECT` (or
/// `VALUES`, `TABLE`) without `INTO` and without a data-modifying `WITH`; otherwise a short
/// name of what it does ("DELETE", "a data-modifying WITH (UPDATE)", "SELECT INTO", "TRUNCATE").
/// Functions called by a `SELECT` can still write: the READ ONLY transaction reads run in stops
/// those at run time.
pub fn data_change(sql: &str) -> Result<Option<String>, SqlError> {
    let parsed = pg_query::parse(sql, 0).map_err(|error| SqlError::Syntax(error.to_string()))?;
    let statements = parsed.protobuf.stmts.len();
    if statements != 1 {
        return Err(SqlError::NotOneStatement(statements));
    }
    let node = parsed.protobuf.stmts[0]
        .stmt
        .as_ref()
        .and_then(|stmt| stmt.node.as_ref());
    Ok(node_change(node))
}

fn node_change(node: Option<&pg_query::NodeEnum>) -> Option<String> {
    use pg_query::NodeEnum;
    let select = match node {
        Some(NodeEnum::SelectStmt(select)) => select,
        Some(NodeEnum::InsertStmt(_)) => return Some("INSERT".into()),
        Some(NodeEnum::UpdateStmt(_)) => return Some("UPDATE".into()),
        Some(NodeEnum::DeleteStmt(_)) => return Some("DELETE".into()),
        Some(NodeEnum::MergeStmt(_)) => return Some("MERGE".into()),
        Some(other) => return Some(utility_name(other)),
        None => return Some("an empty statement".into()),
    };
    if select.into_clause.is_some() {
        return Some("SELECT INTO (it creates a table)".into());
    }
    let ctes = select.with_clause.iter().flat_map(|with| &with.ctes);
    for cte in ctes {
        if let Some(NodeEnum::CommonTableExpr(cte)) = &cte.node {
            let inner = cte.ctequery.as_ref().and_then(|query| query.node.as_ref());
            if let Some(what) = node_change(inner) {
                return Some(format!("a data-modifying WITH ({what})"));
            }
        }
    }
    None
}

/// What a utility statement is called in SQL, for the common ones.
fn utility_name(node: &pg_query::NodeEnum) -> String {
    use pg_query::NodeEnum;
    let name = match node {
        NodeEnum::TruncateStmt(_) => "TRUNCATE",
        NodeEnum::IndexStmt(_) => "CREATE INDEX",
        NodeEnum::CreateStmt(_) | NodeEnum::CreateTableAsStmt(_) => "CREATE TABLE",
        NodeEnum::DropStmt(_) => "DROP",
        NodeEnum::AlterTableStmt(_) => "ALTER TABLE",
        NodeEnum::CopyStmt(_) => "COPY",
        NodeEnum::CallStmt(_) => "CALL",
        NodeEnum::DoStmt(_) => "DO",
        NodeEnum::VacuumStmt(_) => "VACUUM",
        NodeEnum::VariableSetStmt(_) => "SET",
        NodeEnum::TransactionStmt(_) => "a transaction command",
        _ => "a utility statement",
    };
    name.to_string()
}

/// The tables (and views) the statement names, `schema.table` when qualified, CTE names left
/// out; empty when it does not parse.
pub fn tables(sql: &str) -> Vec<String> {
    pg_query::parse(sql, 0)
        .map(|parsed| parsed.tables())
        .unwrap_or_default()
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
    fn reads_change_nothing_and_writes_are_named() {
        for sql in [
            "SELECT 1",
            "WITH c AS (SELECT 1) SELECT * FROM c UNION ALL SELECT 2",
            "VALUES (1)",
            "TABLE t",
            "SELECT api.tile($1)",
        ] {
            assert_eq!(data_change(sql), Ok(None), "{sql}");
        }
        let change = |sql| data_change(sql).expect("valid").expect("a change");
        assert_eq!(change("DELETE FROM t WHERE id < 10"), "DELETE");
        assert_eq!(change("UPDATE t SET a = 1"), "UPDATE");
        assert_eq!(change("INSERT INTO t VALUES (1)"), "INSERT");
        assert_eq!(
            change("WITH d AS (DELETE FROM t RETURNING *) SELECT count(*) FROM d"),
            "a data-modifying WITH (DELETE)"
        );
        assert_eq!(
            change("SELECT * INTO t2 FROM t"),
            "SELECT INTO (it creates a table)"
        );
        assert_eq!(change("TRUNCATE t"), "TRUNCATE");
        assert_eq!(change("CREATE INDEX ON t (a)"), "CREATE INDEX");
        assert_eq!(
            data_change("SELECT 1; DELETE FROM t"),
            Err(SqlError::NotOneStatement(2))
        );
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
