//! What pgperf needs to know about one recorded statement, from PostgreSQL's own parser
//! (`pg_query`): its normalised text and fingerprint, whether it belongs in a workload at all,
//! the tables it reads, and the column each `$n` is compared to.

mod align;
mod literals;
mod params;
mod role;

use pg_query::NodeRef;

use crate::workload::QueryKind;

pub use align::{Counterpart, align};
pub use literals::{Literal, literal_sql, literal_value};
pub use params::ParamTarget;
pub use role::{RoleChange, role_change};

/// Why a statement is left out of the recorded workload.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Skip {
    /// PostgreSQL's parser refused it.
    Unparseable,
    /// More than one statement in one string.
    MultiStatement,
    /// SET, SHOW, BEGIN, EXPLAIN, DDL, COPY and other utility commands.
    Utility,
    /// Reads only `pg_catalog`/`information_schema` (tools, drivers, pgperf itself).
    CatalogOnly,
    /// Touches no table and calls no application function (`SELECT 1`).
    NoRelation,
    /// Sets session state with `set_config` (PostgREST's claims, pgperf's own persona setup):
    /// part of how a caller arrives, not dashboard work, and meaningless replayed alone.
    SessionSetup,
}

impl std::fmt::Display for Skip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Skip::Unparseable => "not parseable by PostgreSQL's parser",
            Skip::MultiStatement => "several statements in one string",
            Skip::Utility => "utility command (SET, SHOW, BEGIN, EXPLAIN, DDL, ...)",
            Skip::CatalogOnly => "reads only pg_catalog/information_schema",
            Skip::NoRelation => "touches no table and calls no application function",
            Skip::SessionSetup => "sets session state with set_config (claims, role)",
        })
    }
}

/// A relation the statement names, in order of appearance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableRef {
    pub schema: Option<String>,
    pub name: String,
    pub alias: Option<String>,
}

/// One statement, normalised and understood.
#[derive(Debug, Clone)]
pub struct Statement {
    /// The text with every literal replaced by `$n` (pg_query's normaliser).
    pub sql: String,
    /// pg_query fingerprint (hex): equal for statements that differ only in literal values.
    pub fingerprint: String,
    pub kind: QueryKind,
    /// `select`, `insert`, `update`, `delete` or `merge`.
    pub verb: &'static str,
    /// Number of `$n` in `sql`.
    pub param_count: usize,
    /// Literal values the normaliser replaced, for `$first_literal..`.
    pub literals: Vec<Literal>,
    /// `$n` number of the first literal (those before were already parameters).
    pub first_literal: usize,
    pub tables: Vec<TableRef>,
    /// Application functions called (`rpc_name`), in order of appearance.
    pub functions: Vec<String>,
    /// What each `$n` (1-based) is compared to, when the parse tree says.
    pub targets: std::collections::BTreeMap<usize, ParamTarget>,
}

/// Normalises and analyses `sql`, or says why it does not belong in a workload.
///
/// A literal becomes a `$n` only where its type follows from its place: compared to or
/// stored in a column, `LIMIT`/`OFFSET` (the server infers the type from there). Others stay
/// in the text (`date_trunc('day', …)`, `jsonb_build_object('id', …)`: a parameter there has
/// no type the server can determine), unless they look sensitive (see [`super::privacy`]).
pub fn analyse(sql: &str) -> Result<Statement, Skip> {
    pg_query::parse(sql, 0).map_err(|_| Skip::Unparseable)?;
    let existing_params = max_param(sql);
    let fully = pg_query::normalize(sql).map_err(|_| Skip::Unparseable)?;
    let contexts = params::targets(&pg_query::parse(&fully, 0).map_err(|_| Skip::Unparseable)?);
    let found = literals::extract(sql, &fully, existing_params);
    let (text, literals) = if found.len() + existing_params == max_param(&fully) {
        parametrise(sql, found, existing_params, &contexts)
    } else {
        // The texts did not line up: keep the normaliser's text, values unknown.
        (fully.clone(), Vec::new())
    };
    let parsed = pg_query::parse(&text, 0).map_err(|_| Skip::Unparseable)?;
    if parsed.protobuf.stmts.len() != 1 {
        return Err(Skip::MultiStatement);
    }
    let (verb, kind) = statement_kind(&parsed).ok_or(Skip::Utility)?;
    if calls_set_config(&parsed) {
        return Err(Skip::SessionSetup);
    }
    let tables = tables(&parsed);
    let functions = application_functions(&parsed);
    if tables.is_empty() && functions.is_empty() {
        return Err(Skip::NoRelation);
    }
    if !tables.is_empty() && tables.iter().all(is_catalog) {
        return Err(Skip::CatalogOnly);
    }
    let fingerprint = pg_query::fingerprint(&fully, 0, 0)
        .map_err(|_| Skip::Unparseable)?
        .hex;
    Ok(Statement {
        param_count: max_param(&text),
        targets: params::targets(&parsed),
        sql: text,
        fingerprint,
        kind,
        verb,
        first_literal: existing_params + 1,
        literals,
        tables,
        functions,
    })
}

impl Statement {
    /// Writes parameter `number` (1-based) back into the text as the SQL constant `literal`,
    /// renumbering the later parameters and their targets; `false` (nothing changed) when the
    /// text has no such parameter.
    pub fn inline(&mut self, number: usize, literal: &str) -> bool {
        let Some(sql) = inline_param(&self.sql, number, literal) else {
            return false;
        };
        self.sql = sql;
        self.param_count -= 1;
        self.targets = std::mem::take(&mut self.targets)
            .into_iter()
            .filter(|(n, _)| *n != number)
            .map(|(n, target)| (if n > number { n - 1 } else { n }, target))
            .collect();
        if let Some(literal_index) = number.checked_sub(self.first_literal) {
            if literal_index < self.literals.len() {
                self.literals.remove(literal_index);
            }
        } else {
            self.first_literal -= 1;
        }
        true
    }
}

/// `sql` with the chosen literals replaced by `$n` (numbered after the existing parameters),
/// and their values in order.
fn parametrise(
    sql: &str,
    found: Vec<literals::Found>,
    existing: usize,
    contexts: &std::collections::BTreeMap<usize, ParamTarget>,
) -> (String, Vec<Literal>) {
    let mut text = String::new();
    let mut copied = 0;
    let mut chosen = Vec::new();
    for (index, item) in found.into_iter().enumerate() {
        let sensitive = literal_value(&item.literal)
            .is_some_and(|value| super::privacy::classify(&value).is_some());
        let typed_place = matches!(
            contexts.get(&(existing + index + 1)),
            Some(ParamTarget::Column { .. } | ParamTarget::Limit | ParamTarget::Offset)
        );
        if !typed_place && !sensitive {
            continue;
        }
        text.push_str(&sql[copied..item.span.start]);
        text.push_str(&format!("${}", existing + chosen.len() + 1));
        copied = item.span.end;
        chosen.push(item.literal);
    }
    text.push_str(&sql[copied..]);
    (text, chosen)
}

/// `sql` with `$number` cast to `type_name` wherever it appears (for a parameter whose type
/// the server cannot determine, such as `$2` in `jsonb_build_object($2, …)`); `None` when the
/// text has no such parameter.
pub fn cast_param(sql: &str, number: usize, type_name: &str) -> Option<String> {
    let scanned = pg_query::scan(sql).ok()?;
    let wanted = format!("${number}");
    let mut text = String::new();
    let mut copied = 0;
    for token in &scanned.tokens {
        let (start, end) = (
            usize::try_from(token.start).ok()?,
            usize::try_from(token.end).ok()?,
        );
        if token.token == pg_query::protobuf::Token::Param as i32
            && sql.get(start..end) == Some(wanted.as_str())
        {
            text.push_str(&sql[copied..end]);
            text.push_str(&format!("::{type_name}"));
            copied = end;
        }
    }
    (copied > 0).then(|| text + &sql[copied..])
}

/// `sql` with `$number` replaced by `literal` and every later `$k` renumbered `$(k-1)`, so the
/// parameters stay contiguous; `None` when the text has no such parameter.
fn inline_param(sql: &str, number: usize, literal: &str) -> Option<String> {
    let scanned = pg_query::scan(sql).ok()?;
    let mut text = String::new();
    let mut copied = 0;
    let mut found = false;
    for token in &scanned.tokens {
        if token.token != pg_query::protobuf::Token::Param as i32 {
            continue;
        }
        let (start, end) = (
            usize::try_from(token.start).ok()?,
            usize::try_from(token.end).ok()?,
        );
        let k: usize = sql.get(start..end)?.strip_prefix('$')?.parse().ok()?;
        let replacement = match k.cmp(&number) {
            std::cmp::Ordering::Less => continue,
            std::cmp::Ordering::Equal => {
                found = true;
                literal.to_string()
            }
            std::cmp::Ordering::Greater => format!("${}", k - 1),
        };
        text.push_str(&sql[copied..start]);
        text.push_str(&replacement);
        copied = end;
    }
    found.then(|| text + &sql[copied..])
}

fn statement_kind(parsed: &pg_query::ParseResult) -> Option<(&'static str, QueryKind)> {
    let node = parsed.protobuf.stmts[0].stmt.as_ref()?.node.as_ref()?;
    match node {
        pg_query::NodeEnum::SelectStmt(select) if select.into_clause.is_none() => {
            let locking = !select.locking_clause.is_empty();
            Some((
                "select",
                if locking {
                    QueryKind::Write
                } else {
                    QueryKind::Read
                },
            ))
        }
        pg_query::NodeEnum::InsertStmt(_) => Some(("insert", QueryKind::Write)),
        pg_query::NodeEnum::UpdateStmt(_) => Some(("update", QueryKind::Write)),
        pg_query::NodeEnum::DeleteStmt(_) => Some(("delete", QueryKind::Write)),
        pg_query::NodeEnum::MergeStmt(_) => Some(("merge", QueryKind::Write)),
        _ => None,
    }
}

/// Highest `$n` in the text (0 when there is none), from the scanner: the parse tree walk of
/// pg_query does not visit every clause (LIMIT, for one).
fn max_param(sql: &str) -> usize {
    let Ok(scanned) = pg_query::scan(sql) else {
        return 0;
    };
    scanned
        .tokens
        .iter()
        .filter(|token| token.token == pg_query::protobuf::Token::Param as i32)
        .filter_map(|token| {
            let text =
                sql.get(usize::try_from(token.start).ok()?..usize::try_from(token.end).ok()?)?;
            text.strip_prefix('$')?.parse::<usize>().ok()
        })
        .max()
        .unwrap_or(0)
}

/// Relations named by the statement (CTE names excluded), by position in the text.
fn tables(parsed: &pg_query::ParseResult) -> Vec<TableRef> {
    let mut found: Vec<(i32, TableRef)> = parsed
        .protobuf
        .nodes()
        .into_iter()
        .filter_map(|(node, ..)| match node {
            NodeRef::RangeVar(v)
                if !parsed.cte_names.contains(&v.relname) || !v.schemaname.is_empty() =>
            {
                Some((
                    v.location,
                    TableRef {
                        schema: (!v.schemaname.is_empty()).then(|| v.schemaname.clone()),
                        name: v.relname.clone(),
                        alias: v.alias.as_ref().map(|a| a.aliasname.clone()),
                    },
                ))
            }
            _ => None,
        })
        .collect();
    found.sort_by_key(|(location, _)| *location);
    found.into_iter().map(|(_, table)| table).collect()
}

fn is_catalog(table: &TableRef) -> bool {
    matches!(
        table.schema.as_deref(),
        Some("pg_catalog" | "information_schema")
    ) || table.name.starts_with("pg_")
}

/// Functions that are not PostgreSQL's own helpers, by position in the text.
/// Whether the statement calls `set_config` anywhere (however it is wrapped: pgperf's own is
/// `SELECT count(set_config(k, v, false)) FROM unnest(…)`).
fn calls_set_config(parsed: &pg_query::ParseResult) -> bool {
    parsed.protobuf.nodes().into_iter().any(|(node, ..)| {
        match node {
        NodeRef::FuncCall(call) => call.funcname.last().is_some_and(|name| {
            matches!(&name.node, Some(pg_query::NodeEnum::String(s)) if s.sval == "set_config")
        }),
        _ => false,
    }
    })
}

fn application_functions(parsed: &pg_query::ParseResult) -> Vec<String> {
    let mut found: Vec<(i32, String)> = parsed
        .protobuf
        .nodes()
        .into_iter()
        .filter_map(|(node, ..)| match node {
            NodeRef::FuncCall(call) => application_function(call).map(|name| (call.location, name)),
            _ => None,
        })
        .collect();
    found.sort_by_key(|(location, _)| *location);
    found.into_iter().map(|(_, name)| name).collect()
}

/// `schema.name` of a called function, unless it is one of PostgreSQL's own helpers.
fn application_function(call: &pg_query::protobuf::FuncCall) -> Option<String> {
    const HELPERS: [&str; 12] = [
        "set_config",
        "current_setting",
        "version",
        "now",
        "current_database",
        "current_schema",
        "current_user",
        "session_user",
        "txid_current",
        "nextval",
        "setval",
        "currval",
    ];
    let names: Vec<&str> = call
        .funcname
        .iter()
        .filter_map(|n| match n.node.as_ref() {
            Some(pg_query::NodeEnum::String(s)) => Some(s.sval.as_str()),
            _ => None,
        })
        .collect();
    let (schema, name) = match names.as_slice() {
        [schema, name] => (Some(*schema), *name),
        [name] => (None, *name),
        _ => return None,
    };
    let builtin =
        schema == Some("pg_catalog") || name.starts_with("pg_") || HELPERS.contains(&name);
    (!builtin).then(|| names.join("."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utility_catalog_and_trivial_statements_are_skipped() {
        for (sql, skip) in [
            ("SET search_path = public", Skip::Utility),
            ("SHOW work_mem", Skip::Utility),
            ("BEGIN", Skip::Utility),
            ("EXPLAIN SELECT * FROM t", Skip::Utility),
            (
                "SELECT * FROM pg_class WHERE relname = 'x'",
                Skip::CatalogOnly,
            ),
            ("SELECT * FROM information_schema.tables", Skip::CatalogOnly),
            ("SELECT * FROM public.pg_stat_statements", Skip::CatalogOnly),
            ("SELECT 1", Skip::NoRelation),
            (
                "SELECT set_config('request.jwt.claims', '{}', true)",
                Skip::SessionSetup,
            ),
            (
                // pgperf's own persona setup, which a dashboard round trip recorded as an RPC.
                "SELECT count(set_config(k, v, false)) FROM unnest($1::text[], $2::text[]) AS s(k, v)",
                Skip::SessionSetup,
            ),
            ("SELECT 1; SELECT 2", Skip::MultiStatement),
            ("SELEC nonsense", Skip::Unparseable),
        ] {
            assert_eq!(analyse(sql).map(|s| s.sql), Err(skip), "{sql}");
        }
    }

    #[test]
    fn literals_become_parameters_after_existing_ones() {
        let statement = analyse(
            "SELECT * FROM orders o WHERE o.customer_id = $1 AND status = 'it''s' LIMIT 20",
        )
        .expect("kept");
        assert_eq!(
            statement.sql,
            "SELECT * FROM orders o WHERE o.customer_id = $1 AND status = $2 LIMIT $3"
        );
        assert_eq!(statement.first_literal, 2);
        assert_eq!(statement.param_count, 3);
        assert_eq!(
            statement.literals,
            vec![Literal::Text("it's".into()), Literal::Number("20".into())]
        );
        assert_eq!(statement.kind, QueryKind::Read);
        assert_eq!(statement.tables[0].alias.as_deref(), Some("o"));
    }

    #[test]
    fn literals_without_a_typed_place_stay_in_the_text() {
        let statement = analyse(
            "SELECT date_trunc('day', created_at), count(*) FROM audit.log \
             WHERE table_name = 'approvals' AND row_key = jsonb_build_object('id', $1::bigint) \
             AND note = 'x' || 'jane@corp.example' GROUP BY 1",
        )
        .expect("kept");
        assert_eq!(
            statement.sql,
            "SELECT date_trunc('day', created_at), count(*) FROM audit.log \
             WHERE table_name = $2 AND row_key = jsonb_build_object('id', $1::bigint) \
             AND note = 'x' || $3 GROUP BY 1"
        );
        assert_eq!(
            statement.literals,
            vec![
                Literal::Text("approvals".into()),
                Literal::Text("jane@corp.example".into())
            ]
        );
    }

    #[test]
    fn an_untyped_parameter_can_be_cast() {
        assert_eq!(
            cast_param("SELECT jsonb_build_object($2, $1::int), $2", 2, "text").as_deref(),
            Some("SELECT jsonb_build_object($2::text, $1::int), $2::text")
        );
        assert_eq!(cast_param("SELECT $1", 3, "text"), None);
    }

    #[test]
    fn an_inlined_parameter_renumbers_the_later_ones() {
        assert_eq!(
            inline_param("SELECT * FROM t WHERE a = $1 LIMIT $2 OFFSET $3", 2, "12").as_deref(),
            Some("SELECT * FROM t WHERE a = $1 LIMIT 12 OFFSET $2")
        );
        assert_eq!(
            inline_param("SELECT '$2' FROM t WHERE a = $1", 2, "1"),
            None
        );
    }

    #[test]
    fn rpc_calls_are_kept() {
        let statement = analyse("SELECT * FROM api.approvals_list($1, $2)").expect("kept");
        assert_eq!(statement.functions, vec!["api.approvals_list".to_string()]);
    }
}
