//! The statements advise costs: every workload query under its persona with representative
//! parameter values, plus statements the query runs without showing them in its plan: the SQL
//! inside the PL/pgSQL and SQL functions it calls (arguments become `$n`), and the foreign-key
//! lookups a DELETE or UPDATE makes on referencing tables.

use std::collections::BTreeSet;

use pg_query::protobuf::{self, node::Node as N};
use postgres::Client;

use super::AdviseError;
use super::access::RelName;
use super::catalog::{Catalog, FunctionBody, function_bodies, referencing_keys};
use super::parse::Extraction;
use super::session::{Statement, param_count, representative_params};
use crate::pg::session::Caller;
use crate::pg::{quote_ident, quote_qualified};
use crate::workload::Workload;

/// The workload's queries as statements, in workload order.
pub fn workload_statements(
    client: &mut Client,
    workload: &Workload,
) -> Result<Vec<Statement>, AdviseError> {
    let mut out = Vec::new();
    for (index, query) in workload.queries.iter().enumerate() {
        let params = if query.params.is_empty() && param_count(&query.sql) > 0 {
            None
        } else {
            Some(representative_params(client, &query.params)?)
        };
        out.push(Statement {
            name: query.name.clone(),
            sql: query.sql.clone(),
            params,
            caller: query.persona.as_ref().map(Caller::from),
            statement_timeout_ms: query.statement_timeout_ms,
            weight: query.weight,
            query_index: Some(index),
        });
    }
    Ok(out)
}

/// Statements a query runs without showing them in its own plan.
pub struct Derived {
    pub statements: Vec<Statement>,
    /// Why the SQL a function of the query builds at run time could not be captured.
    pub uncaptured: Option<String>,
}

/// Statements inside the functions `statement` calls (read from their bodies, and for SQL built
/// at run time, captured by running the query once) and behind the foreign keys it touches.
pub fn derived_statements(
    client: &mut Client,
    catalog: &mut Catalog,
    statement: &Statement,
    extraction: &Extraction,
) -> Result<Derived, AdviseError> {
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    let mut run_time_sql = false;
    for function in &extraction.functions {
        for body in function_bodies(client, function)? {
            run_time_sql |= super::dynamic::builds_sql_at_run_time(&body);
            for sql in body_statements(&body) {
                if seen.insert(fingerprint(&sql)) {
                    out.push(derived(statement, &format!("fn {function}"), sql));
                }
            }
        }
    }
    let mut unavailable = None;
    if run_time_sql {
        match super::dynamic::capture(client, statement)? {
            super::dynamic::Capture::Statements(found) => {
                for sql in found {
                    if seen.insert(fingerprint(&sql)) {
                        out.push(derived(statement, "run-time SQL", sql));
                    }
                }
            }
            super::dynamic::Capture::Unavailable(why) => unavailable = Some(why),
        }
    }
    for written in &extraction.written {
        out.extend(foreign_key_lookups(client, catalog, statement, written)?);
    }
    number_duplicates(&mut out);
    Ok(Derived {
        statements: out,
        uncaptured: unavailable,
    })
}

/// A statement run inside `statement`, named after it and where it comes from; no values are
/// known for its `$n`, so it is costed as a generic plan.
fn derived(statement: &Statement, origin: &str, sql: String) -> Statement {
    Statement {
        name: format!("{} ({origin})", statement.name),
        sql,
        params: None,
        query_index: None,
        ..statement.clone()
    }
}

/// Literal-blind identity of a statement, so a statement read from a body and the same one
/// captured at run time count once.
fn fingerprint(sql: &str) -> String {
    pg_query::fingerprint(sql, 0, pg_query::FingerprintOptions::FULL_RELNAME)
        .map(|f| f.hex)
        .unwrap_or_else(|_| sql.to_string())
}

/// Several statements from one function get `#2`, `#3` suffixes so names stay unique.
fn number_duplicates(statements: &mut [Statement]) {
    for index in 1..statements.len() {
        let earlier = statements[..index]
            .iter()
            .filter(|s| s.name.starts_with(&statements[index].name))
            .count();
        if earlier > 0 {
            statements[index].name = format!("{} #{}", statements[index].name, earlier + 1);
        }
    }
}

fn foreign_key_lookups(
    client: &mut Client,
    catalog: &mut Catalog,
    statement: &Statement,
    written: &RelName,
) -> Result<Vec<Statement>, AdviseError> {
    let Some(relation) = catalog.relation(client, written)? else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for (child, columns) in referencing_keys(client, &relation)? {
        let conditions: Vec<String> = columns
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{} = ${}", quote_ident(c), i + 1))
            .collect();
        let table = quote_qualified(child.schema.as_deref().unwrap_or("public"), &child.name);
        out.push(Statement {
            name: format!(
                "{} (fk {}.{})",
                statement.name,
                child.name,
                columns.join(",")
            ),
            sql: format!(
                "SELECT 1 FROM ONLY {table} WHERE {}",
                conditions.join(" AND ")
            ),
            params: None,
            caller: None,
            statement_timeout_ms: statement.statement_timeout_ms,
            weight: statement.weight,
            query_index: None,
        });
    }
    Ok(out)
}

/// The SQL statements of a function body, with argument names replaced by `$n`.
pub fn body_statements(body: &FunctionBody) -> Vec<String> {
    let texts = match body.language.as_str() {
        "plpgsql" => plpgsql_queries(&body.source),
        _ => pg_query::split_with_parser(&body.source)
            .map(|parts| parts.into_iter().map(str::to_string).collect())
            .unwrap_or_default(),
    };
    texts
        .iter()
        .filter_map(|sql| parameterize(sql, &body.arg_names))
        .collect()
}

/// PostgreSQL's parse tree of a PL/pgSQL body, as JSON.
pub fn plpgsql_tree(source: &str) -> Option<serde_json::Value> {
    // The parser checks RETURN forms against the return type: try a set, then a scalar.
    ["SETOF record", "record"].iter().find_map(|returns| {
        pg_query::parse_plpgsql(&format!(
            "CREATE FUNCTION pgperf_body() RETURNS {returns} LANGUAGE plpgsql AS $pgperf_body${source}$pgperf_body$"
        ))
        .ok()
    })
}

/// Queries of a PL/pgSQL body (`RETURN QUERY`, `PERFORM`, plain SQL, `FOR … IN`), as text.
fn plpgsql_queries(source: &str) -> Vec<String> {
    let Some(tree) = plpgsql_tree(source) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    collect_queries(&tree, &mut out);
    out.into_iter()
        .filter(|q| {
            let upper = q.trim_start().to_ascii_uppercase();
            ["SELECT", "WITH", "UPDATE", "DELETE", "INSERT"]
                .iter()
                .any(|k| upper.starts_with(k))
        })
        .collect()
}

fn collect_queries(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            if let Some(serde_json::Value::String(query)) = map.get("query") {
                out.push(query.clone());
            }
            map.values().for_each(|v| collect_queries(v, out));
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_queries(v, out)),
        _ => {}
    }
}

/// Replaces references to the function's arguments (by name) with `$n` and deparses.
fn parameterize(sql: &str, arg_names: &[String]) -> Option<String> {
    let mut parsed = pg_query::parse(sql, 0).ok()?.protobuf;
    for raw in &mut parsed.stmts {
        if let Some(stmt) = raw.stmt.as_deref_mut() {
            replace_args(stmt, arg_names);
        }
    }
    let text = pg_query::deparse(&parsed, Default::default()).ok()?;
    (param_count(&text) >= 0).then_some(text)
}

fn replace_args(node: &mut protobuf::Node, arg_names: &[String]) {
    let Some(inner) = node.node.as_mut() else {
        return;
    };
    if let N::ColumnRef(column) = inner
        && let [field] = column.fields.as_slice()
        && let Some(N::String(name)) = field.node.as_ref()
        && let Some(position) = arg_names
            .iter()
            .position(|a| !a.is_empty() && *a == name.sval)
    {
        *inner = N::ParamRef(protobuf::ParamRef {
            number: position as i32 + 1,
            location: column.location,
        });
        return;
    }
    visit_children(inner, &mut |child| replace_args(child, arg_names));
}

/// Calls `visit` on the direct children of the node kinds that hold expressions or queries.
fn visit_children(node: &mut N, visit: &mut dyn FnMut(&mut protobuf::Node)) {
    let boxed = |b: &mut Option<Box<protobuf::Node>>,
                 visit: &mut dyn FnMut(&mut protobuf::Node)| {
        if let Some(b) = b.as_deref_mut() {
            visit(b)
        }
    };
    match node {
        N::SelectStmt(s) => {
            s.target_list.iter_mut().for_each(&mut *visit);
            s.from_clause.iter_mut().for_each(&mut *visit);
            boxed(&mut s.where_clause, visit);
            boxed(&mut s.having_clause, visit);
            boxed(&mut s.limit_count, visit);
            boxed(&mut s.limit_offset, visit);
            s.group_clause.iter_mut().for_each(&mut *visit);
            s.sort_clause.iter_mut().for_each(&mut *visit);
        }
        N::DeleteStmt(d) => boxed(&mut d.where_clause, visit),
        N::UpdateStmt(u) => {
            boxed(&mut u.where_clause, visit);
            u.target_list.iter_mut().for_each(&mut *visit);
        }
        N::ResTarget(t) => boxed(&mut t.val, visit),
        N::AExpr(e) => {
            boxed(&mut e.lexpr, visit);
            boxed(&mut e.rexpr, visit);
        }
        N::BoolExpr(b) => b.args.iter_mut().for_each(&mut *visit),
        N::FuncCall(f) => f.args.iter_mut().for_each(&mut *visit),
        N::TypeCast(c) => boxed(&mut c.arg, visit),
        N::NullTest(t) => boxed(&mut t.arg, visit),
        N::SortBy(s) => boxed(&mut s.node, visit),
        N::List(l) => l.items.iter_mut().for_each(&mut *visit),
        N::SubLink(l) => {
            boxed(&mut l.testexpr, visit);
            boxed(&mut l.subselect, visit);
        }
        N::JoinExpr(j) => {
            boxed(&mut j.larg, visit);
            boxed(&mut j.rarg, visit);
            boxed(&mut j.quals, visit);
        }
        N::RangeSubselect(r) => boxed(&mut r.subquery, visit),
        N::CoalesceExpr(c) => c.args.iter_mut().for_each(&mut *visit),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plpgsql_bodies_become_parameterized_statements() {
        let body = FunctionBody {
            language: "plpgsql".into(),
            source: "BEGIN\n  RETURN QUERY SELECT a.id FROM approvals a\n    WHERE a.status = p_status ORDER BY a.created_at DESC LIMIT p_limit;\nEND".into(),
            arg_names: vec!["p_status".into(), "p_limit".into()],
        };
        assert_eq!(
            body_statements(&body),
            vec![
                "SELECT a.id FROM approvals a WHERE a.status = $1 ORDER BY a.created_at DESC LIMIT $2"
            ]
        );
        let sql = FunctionBody {
            language: "sql".into(),
            source: "SELECT count(*) FROM orders WHERE customer_id = $1; SELECT 1".into(),
            arg_names: vec![],
        };
        assert_eq!(body_statements(&sql).len(), 2);
    }
}
