//! Running a statement as the workload runs it: under its persona (`SET ROLE` plus
//! `request.jwt.claims`, because owners and superusers bypass RLS and plans taken as them hide
//! policy predicates), with representative real parameter values (custom plans), or, when no
//! values are known, as a generic plan (`PREPARE` + `plan_cache_mode = force_generic_plan`).

use postgres::Client;
use serde_json::Value;

use chrono::Utc;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::AdviseError;
use crate::pg::TextParam;
use crate::pg::session::{Caller, Session};
use crate::workload::ParamPlan;

/// A statement to cost and time, with everything needed to run it as the workload does.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// Workload query name; derived statements add a suffix (`q (fn f)`, `q (fk t.c)`).
    pub name: String,
    pub sql: String,
    /// Real parameter values; `None` = unknown, costed as a generic plan.
    pub params: Option<Vec<Option<String>>>,
    /// Role and claims; `None` = the connecting user.
    pub caller: Option<Caller>,
    pub statement_timeout_ms: u64,
    pub weight: f64,
    /// Position of the workload query this statement is (`None` for derived statements).
    pub query_index: Option<usize>,
}

impl Statement {
    /// True when the statement is costed with a generic plan.
    pub fn generic(&self) -> bool {
        self.params.is_none() && param_count(&self.sql) > 0
    }
}

/// Highest `$n` in the statement, from the scanner's tokens (a parse-tree walk misses some
/// node kinds, e.g. named function arguments).
pub fn param_count(sql: &str) -> i32 {
    let Ok(scanned) = pg_query::scan(sql) else {
        return 0;
    };
    scanned
        .tokens
        .iter()
        .filter(|t| t.token == pg_query::protobuf::Token::Param as i32)
        .filter_map(|t| sql.get(t.start as usize + 1..t.end as usize)?.parse().ok())
        .max()
        .unwrap_or(0)
}

/// `EXPLAIN (FORMAT JSON, VERBOSE)` of the statement under its persona.
pub fn explain(client: &mut Client, statement: &Statement) -> Result<Value, AdviseError> {
    explain_with(client, statement, "EXPLAIN (FORMAT JSON, VERBOSE)")
}

/// `EXPLAIN (ANALYZE, BUFFERS)` of `statement`, which runs it: call it inside a savepoint that
/// is rolled back. The buffers and rows verification weighs beside time, and the execution
/// time (per-node timing off: on millions of rows it would inflate the total it reports).
pub fn explain_analyze(client: &mut Client, statement: &Statement) -> Result<Value, AdviseError> {
    explain_with(
        client,
        statement,
        "EXPLAIN (ANALYZE, BUFFERS, VERBOSE, TIMING OFF, FORMAT JSON)",
    )
}

fn explain_with(
    client: &mut Client,
    statement: &Statement,
    explain: &str,
) -> Result<Value, AdviseError> {
    enter(client, statement)?;
    let result = explain_as_is(client, statement, explain);
    // Only our own statement: DEALLOCATE ALL would also drop the driver's cached type lookups.
    let reset = client.batch_execute("RESET ROLE; RESET plan_cache_mode");
    let plan = result?;
    reset?;
    Ok(plan)
}

fn explain_as_is(
    client: &mut Client,
    statement: &Statement,
    explain: &str,
) -> Result<Value, AdviseError> {
    let count = param_count(&statement.sql);
    let row = match (&statement.params, count) {
        (_, 0) => client.query_one(&format!("{explain} {}", statement.sql), &[])?,
        (Some(values), _) => {
            let params = text_binds(&statement.sql, values);
            client.query_one(&format!("{explain} {}", statement.sql), &bind_refs(&params))?
        }
        (None, _) => {
            client.batch_execute("SET plan_cache_mode = force_generic_plan")?;
            // A failure in a rolled-back transaction can leave it behind: prepared statements
            // are not transactional.
            let left = "SELECT 1 FROM pg_prepared_statements WHERE name = 'pgperf_generic'";
            if client.query_opt(left, &[])?.is_some() {
                client.batch_execute("DEALLOCATE pgperf_generic")?;
            }
            client.batch_execute(&format!("PREPARE pgperf_generic AS {}", statement.sql))?;
            let nulls = vec!["NULL"; count as usize].join(", ");
            let explained =
                client.query_one(&format!("{explain} EXECUTE pgperf_generic({nulls})"), &[]);
            let deallocated = client.batch_execute("DEALLOCATE pgperf_generic");
            let row = explained?;
            deallocated?;
            row
        }
    };
    Ok(row.get(0))
}

/// One text-format bind per `$n` of `sql` (missing values are NULL).
pub fn text_binds(sql: &str, values: &[Option<String>]) -> Vec<TextParam> {
    (0..param_count(sql) as usize)
        .map(|i| TextParam(values.get(i).cloned().flatten()))
        .collect()
}

/// The binds as the driver takes them.
pub fn bind_refs(binds: &[TextParam]) -> Vec<&(dyn postgres::types::ToSql + Sync)> {
    binds
        .iter()
        .map(|p| p as &(dyn postgres::types::ToSql + Sync))
        .collect()
}

/// Becomes the statement's caller (`SET ROLE` and the JWT claims, as PostgREST does) with its
/// `statement_timeout`.
pub fn enter(client: &mut Client, statement: &Statement) -> Result<(), AdviseError> {
    Session::new().apply(
        client,
        statement.caller.as_ref(),
        statement.statement_timeout_ms,
    )?;
    Ok(())
}

/// One representative value per parameter: the first of [`param_draws`].
pub fn representative_params(
    client: &mut Client,
    plans: &[ParamPlan],
) -> Result<Vec<Option<String>>, AdviseError> {
    let mut draws = param_draws(client, plans, 1)?;
    Ok(draws.pop().unwrap_or_default())
}

/// `count` sets of parameter values: draws from the workload's generators with a fixed seed (a
/// fixed value stays itself), or rows of a `sample` query spread over what it returns.
pub fn param_draws(
    client: &mut Client,
    plans: &[ParamPlan],
    count: usize,
) -> Result<Vec<Vec<Option<String>>>, AdviseError> {
    let mut samples: Vec<Option<Vec<Option<String>>>> = Vec::new();
    for plan in plans {
        samples.push(match plan {
            ParamPlan::Ready(_) => None,
            ParamPlan::Sample { sql, limit } => Some(
                client
                    .query(
                        &format!("SELECT s::text FROM ({sql}) s LIMIT {}", (*limit).max(1)),
                        &[],
                    )?
                    .iter()
                    .map(|row| {
                        row.get::<_, Option<String>>(0)
                            .map(|t| strip_row_parens(&t))
                    })
                    .collect(),
            ),
        });
    }
    let mut rng = ChaCha8Rng::seed_from_u64(REPRESENTATIVE_SEED);
    let draws = (0..count)
        .map(|draw| {
            plans
                .iter()
                .zip(&samples)
                .map(|(plan, rows)| match (plan, rows) {
                    (ParamPlan::Ready(generator), _) => generator.draw(&mut rng, Utc::now()),
                    (_, Some(rows)) if !rows.is_empty() => rows[draw * rows.len() / count].clone(),
                    _ => None,
                })
                .collect()
        })
        .collect();
    Ok(draws)
}

const REPRESENTATIVE_SEED: u64 = 42;

/// `SELECT s::text` of a one-column row gives `(value)`; keep the value.
fn strip_row_parens(text: &str) -> String {
    let inner = text
        .strip_prefix('(')
        .and_then(|t| t.strip_suffix(')'))
        .unwrap_or(text);
    inner.trim_matches('"').to_string()
}

#[cfg(test)]
mod tests {
    use super::param_count;

    #[test]
    fn parameters_counted_everywhere_but_in_literals_and_comments() {
        assert_eq!(
            param_count("SELECT * FROM api.list(p_status => $1, p_team => $3) -- $9"),
            3
        );
        assert_eq!(param_count("SELECT '$5', $2 /* $7 */"), 2);
        assert_eq!(param_count("SELECT 1"), 0);
    }
}
