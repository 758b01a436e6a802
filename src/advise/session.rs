//! Running a statement as the workload runs it: under its persona (`SET ROLE` plus
//! `request.jwt.claims`, because owners and superusers bypass RLS and plans taken as them hide
//! policy predicates), with representative real parameter values (custom plans), or, when no
//! values are known, as a generic plan (`PREPARE` + `plan_cache_mode = force_generic_plan`).

use postgres::Client;
use serde_json::Value;

use super::AdviseError;
use crate::pg::{TextParam, quote_ident};
use crate::workload::format::{ParamSpec, Persona};

/// A statement to cost and time, with everything needed to run it as the workload does.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// Workload query name; derived statements add a suffix (`q (fn f)`, `q (fk t.c)`).
    pub name: String,
    pub sql: String,
    /// Real parameter values; `None` = unknown, costed as a generic plan.
    pub params: Option<Vec<Option<String>>>,
    pub persona: Option<Persona>,
    pub weight: f64,
}

impl Statement {
    /// True when the statement is costed with a generic plan.
    pub fn generic(&self) -> bool {
        self.params.is_none() && param_count(&self.sql) > 0
    }
}

/// Highest `$n` in the statement.
pub fn param_count(sql: &str) -> i32 {
    let Ok(parsed) = pg_query::parse(sql, 0) else {
        return 0;
    };
    parsed
        .protobuf
        .nodes()
        .iter()
        .filter_map(|(node, ..)| match node {
            pg_query::NodeRef::ParamRef(param) => Some(param.number),
            _ => None,
        })
        .max()
        .unwrap_or(0)
}

/// `EXPLAIN (FORMAT JSON, VERBOSE)` of the statement under its persona.
pub fn explain(client: &mut Client, statement: &Statement) -> Result<Value, AdviseError> {
    enter(client, statement.persona.as_ref())?;
    let result = explain_as_is(client, statement);
    let reset = client.batch_execute("RESET ROLE; RESET plan_cache_mode; DEALLOCATE ALL");
    let plan = result?;
    reset?;
    Ok(plan)
}

fn explain_as_is(client: &mut Client, statement: &Statement) -> Result<Value, AdviseError> {
    const EXPLAIN: &str = "EXPLAIN (FORMAT JSON, VERBOSE)";
    let count = param_count(&statement.sql);
    let row = match (&statement.params, count) {
        (_, 0) => client.query_one(&format!("{EXPLAIN} {}", statement.sql), &[])?,
        (Some(values), _) => {
            let params: Vec<TextParam> = (0..count as usize)
                .map(|i| TextParam(values.get(i).cloned().flatten()))
                .collect();
            let refs: Vec<&(dyn postgres::types::ToSql + Sync)> = params
                .iter()
                .map(|p| p as &(dyn postgres::types::ToSql + Sync))
                .collect();
            client.query_one(&format!("{EXPLAIN} {}", statement.sql), &refs)?
        }
        (None, _) => {
            client.batch_execute("SET plan_cache_mode = force_generic_plan")?;
            client.batch_execute(&format!("PREPARE pgperf_generic AS {}", statement.sql))?;
            let nulls = vec!["NULL"; count as usize].join(", ");
            client.query_one(&format!("{EXPLAIN} EXECUTE pgperf_generic({nulls})"), &[])?
        }
    };
    Ok(row.get(0))
}

/// Becomes the persona: `SET ROLE` and the JWT claims, as PostgREST does.
pub fn enter(client: &mut Client, persona: Option<&Persona>) -> Result<(), AdviseError> {
    let Some(persona) = persona else {
        return Ok(());
    };
    let claims = persona
        .claims
        .as_ref()
        .map(|c| toml_to_json(&toml::Value::Table(c.clone())).to_string())
        .unwrap_or_else(|| "{}".to_string());
    client.execute(
        "SELECT set_config('request.jwt.claims', $1, false)",
        &[&claims],
    )?;
    client.batch_execute(&format!("SET ROLE {}", quote_ident(&persona.role)))?;
    Ok(())
}

fn toml_to_json(value: &toml::Value) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// One representative value per parameter: the fixed value, the most likely choice, the middle
/// of a range, a time `ago` before now, the first sampled row, the first recorded value.
pub fn representative_params(
    client: &mut Client,
    specs: &[ParamSpec],
) -> Result<Vec<Option<String>>, AdviseError> {
    specs
        .iter()
        .map(|spec| representative(client, spec))
        .collect()
}

fn representative(client: &mut Client, spec: &ParamSpec) -> Result<Option<String>, AdviseError> {
    Ok(match spec {
        ParamSpec::Value { value } => Some(toml_text(value)),
        ParamSpec::OneOf { one_of, weights } => {
            let best = weights
                .as_ref()
                .and_then(|w| (0..w.len().min(one_of.len())).max_by(|a, b| w[*a].total_cmp(&w[*b])))
                .unwrap_or(0);
            one_of.get(best).map(toml_text)
        }
        ParamSpec::IntBetween {
            int_between: [low, high],
        } => Some(((low + high) / 2).to_string()),
        ParamSpec::FloatBetween {
            float_between: [low, high],
        } => Some(((low + high) / 2.0).to_string()),
        ParamSpec::Ago { ago, .. } => client
            .query_one("SELECT (now() - $1::text::interval)::text", &[ago])?
            .get(0),
        ParamSpec::Sample { sample, .. } => client
            .query_opt(&format!("SELECT s::text FROM ({sample}) s LIMIT 1"), &[])?
            .and_then(|row| row.get::<_, Option<String>>(0))
            .map(|text| strip_row_parens(&text)),
        ParamSpec::Recorded { recorded, .. } => recorded.first().map(toml_text),
    })
}

/// `SELECT s::text` of a one-column row gives `(value)`; keep the value.
fn strip_row_parens(text: &str) -> String {
    let inner = text
        .strip_prefix('(')
        .and_then(|t| t.strip_suffix(')'))
        .unwrap_or(text);
    inner.trim_matches('"').to_string()
}

/// A TOML value as PostgreSQL text input (arrays as `{a,b}`).
pub fn toml_text(value: &toml::Value) -> String {
    match value {
        toml::Value::String(s) => s.clone(),
        toml::Value::Array(items) => {
            let inner: Vec<String> = items
                .iter()
                .map(|item| {
                    let text = toml_text(item);
                    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
                })
                .collect();
            format!("{{{}}}", inner.join(","))
        }
        other => other.to_string(),
    }
}
