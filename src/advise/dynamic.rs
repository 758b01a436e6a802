//! Statements a PL/pgSQL function builds at run time (`EXECUTE format(…)`, `RETURN QUERY
//! EXECUTE`, `FOR … IN EXECUTE`): no parse of the function's source can see them, so the
//! workload query is run once, under its persona with its representative values, inside a
//! transaction that is rolled back, with `pg_stat_statements.track = all`; the nested
//! statements whose call counts moved are what the function ran. pg_stat_statements has
//! replaced their constants by `$n`, so they are costed as generic plans, like the other
//! statements derived from function bodies.

use postgres::Client;

use super::AdviseError;
use super::catalog::FunctionBody;
use super::session::{Statement, bind_refs, enter, text_binds};

/// True when a PL/pgSQL body runs SQL it builds at run time.
pub fn builds_sql_at_run_time(body: &FunctionBody) -> bool {
    if body.language != "plpgsql" {
        return false;
    }
    let tree = super::statements::plpgsql_tree(&body.source);
    tree.is_some_and(|tree| mentions_dynamic(&tree))
}

fn mentions_dynamic(value: &serde_json::Value) -> bool {
    match value {
        serde_json::Value::Object(map) => map.iter().any(|(key, child)| {
            matches!(
                key.as_str(),
                "PLpgSQL_stmt_dynexecute" | "PLpgSQL_stmt_dynfors" | "dynquery"
            ) || mentions_dynamic(child)
        }),
        serde_json::Value::Array(items) => items.iter().any(mentions_dynamic),
        _ => false,
    }
}

/// Why nested statements could not be captured, when they could not.
#[derive(Debug, Clone, PartialEq)]
pub enum Capture {
    Statements(Vec<String>),
    Unavailable(String),
}

/// Runs `statement` once and returns the SQL of the nested statements it executed.
pub fn capture(client: &mut Client, statement: &Statement) -> Result<Capture, AdviseError> {
    let role = statement.caller.as_ref().map(|c| c.role.as_str());
    let userid = crate::pg::stat_statements::role_oid(client, role)?;
    if let Some(why) = not_installed(client)? {
        return Ok(Capture::Unavailable(why));
    }
    let before = nested_calls(client, userid)?;
    if let Err(error) = client.batch_execute("SET pg_stat_statements.track = 'all'") {
        return Ok(Capture::Unavailable(format!(
            "cannot set pg_stat_statements.track = all in this session ({}): run advise as a superuser, or set it in postgresql.conf",
            crate::pg::describe(&error)
        )));
    }
    let ran = run_once(client, statement);
    client.batch_execute("RESET pg_stat_statements.track")?;
    if let Err(error) = ran {
        return Ok(Capture::Unavailable(format!(
            "running it once to see its dynamic SQL failed: {error}"
        )));
    }
    let after = nested_calls(client, userid)?;
    let moved = after
        .into_iter()
        .filter(|(queryid, calls, _)| {
            let earlier = before.iter().find(|(id, _, _)| id == queryid);
            earlier.is_none_or(|(_, was, _)| calls > was)
        })
        .map(|(_, _, sql)| sql)
        .filter(|sql| is_query(sql))
        .collect();
    Ok(Capture::Statements(moved))
}

/// Why nested statements cannot be read in this database, when they cannot.
fn not_installed(client: &mut Client) -> Result<Option<String>, AdviseError> {
    let installed = client
        .query_opt(
            "SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements'",
            &[],
        )?
        .is_some();
    Ok((!installed).then(|| {
        "pg_stat_statements is not installed in this database (CREATE EXTENSION pg_stat_statements)".into()
    }))
}

/// `(queryid, calls, query)` of the nested statements `userid` ran in this database.
fn nested_calls(client: &mut Client, userid: u32) -> Result<Vec<(i64, i64, String)>, AdviseError> {
    let rows = client.query(
        "SELECT queryid, calls, query FROM pg_stat_statements \
         WHERE NOT toplevel AND queryid IS NOT NULL AND userid = $1::bigint::oid \
           AND dbid = (SELECT oid FROM pg_database WHERE datname = current_database())",
        &[&i64::from(userid)],
    )?;
    Ok(rows
        .iter()
        .map(|row| (row.get(0), row.get(1), row.get(2)))
        .collect())
}

/// One execution under the statement's persona, rolled back: a write leaves nothing behind.
fn run_once(client: &mut Client, statement: &Statement) -> Result<(), String> {
    client
        .batch_execute("BEGIN")
        .map_err(|e| crate::pg::describe(&e))?;
    let ran = enter(client, statement)
        .map_err(|e| e.to_string())
        .and_then(|()| execute(client, statement));
    let rolled_back = client.batch_execute("ROLLBACK; RESET ROLE");
    ran?;
    rolled_back.map_err(|e| crate::pg::describe(&e))
}

fn execute(client: &mut Client, statement: &Statement) -> Result<(), String> {
    let values = statement.params.clone().unwrap_or_default();
    let binds = text_binds(&statement.sql, &values);
    client
        .query(&statement.sql, &bind_refs(&binds))
        .map(drop)
        .map_err(|e| crate::pg::describe(&e))
}

/// Data statements only: the `SET`s and `SELECT set_config(…)` of the session setup are not.
fn is_query(sql: &str) -> bool {
    let upper = sql.trim_start().to_ascii_uppercase();
    let data = ["SELECT", "WITH", "UPDATE", "DELETE", "INSERT"]
        .iter()
        .any(|k| upper.starts_with(k));
    data && !upper.contains("SET_CONFIG(")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plpgsql(source: &str) -> FunctionBody {
        FunctionBody {
            language: "plpgsql".into(),
            source: source.into(),
            arg_names: vec!["p_status".into()],
        }
    }

    #[test]
    fn execute_in_any_form_is_run_time_sql() {
        for source in [
            "BEGIN RETURN QUERY EXECUTE format('SELECT 1 FROM t WHERE %s', 'true'); END",
            "BEGIN EXECUTE 'DELETE FROM t WHERE s = $1' USING p_status; END",
            "DECLARE r record; BEGIN FOR r IN EXECUTE 'SELECT 1' LOOP END LOOP; END",
        ] {
            assert!(builds_sql_at_run_time(&plpgsql(source)), "{source}");
        }
        assert!(!builds_sql_at_run_time(&plpgsql(
            "BEGIN RETURN QUERY SELECT 1 FROM t WHERE s = p_status; END"
        )));
        let sql = FunctionBody {
            language: "sql".into(),
            ..plpgsql("SELECT 1")
        };
        assert!(!builds_sql_at_run_time(&sql));
    }

    #[test]
    fn only_data_statements_count() {
        assert!(is_query(
            "SELECT a.id FROM approvals.approvals a WHERE $10 LIMIT $9"
        ));
        assert!(is_query("  with x as (select 1) select * from x"));
        assert!(!is_query("SELECT set_config($1, $2, $3)"));
        assert!(!is_query("SET LOCAL statement_timeout = $1"));
    }
}
