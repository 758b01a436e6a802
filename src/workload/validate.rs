//! Semantic checks of a parsed workload file, turning it into runnable [`Query`]s. Every
//! problem is collected (not just the first), each message naming the query and the fix.

use std::collections::{BTreeMap, HashSet};

use super::format::{Persona, QueryKind, QuerySpec, WorkloadFile};
use super::params::{self, ParamPlan};
use super::sql;
use super::{Query, SessionPersona};

/// The validated queries, or every problem found.
pub(super) fn validate(file: &WorkloadFile) -> Result<Vec<Query>, Vec<String>> {
    let mut problems = Vec::new();
    let personas = resolve_personas(&file.personas, &mut problems);
    if let Some(name) = &file.defaults.persona
        && !personas.contains_key(name)
    {
        problems.push(unknown_persona("defaults.persona", name, &personas));
    }
    if file.queries.is_empty() {
        problems.push("the workload has no [[query]]; add at least one".to_string());
    }
    let mut seen = HashSet::new();
    let mut queries = Vec::new();
    for spec in &file.queries {
        if !seen.insert(spec.name.as_str()) {
            problems.push(format!(
                "query \"{}\" is defined twice; query names must be unique",
                spec.name
            ));
        }
        let before = problems.len();
        let query = validate_query(spec, file, &personas, &mut problems);
        if problems.len() == before {
            queries.extend(query);
        }
    }
    if problems.is_empty() {
        Ok(queries)
    } else {
        Err(problems)
    }
}

fn resolve_personas(
    personas: &BTreeMap<String, Persona>,
    problems: &mut Vec<String>,
) -> BTreeMap<String, SessionPersona> {
    let mut resolved = BTreeMap::new();
    for (name, persona) in personas {
        if persona.role.trim().is_empty() {
            problems.push(format!("persona \"{name}\" has an empty role; set role = \"authenticated\" or another database role"));
        }
        let claims = persona
            .claims
            .as_ref()
            .map(|claims| serde_json::to_value(claims).unwrap_or_default());
        let settings = persona_settings(name, persona, problems);
        resolved.insert(
            name.clone(),
            SessionPersona {
                name: name.clone(),
                role: persona.role.clone(),
                claims,
                settings,
            },
        );
    }
    resolved
}

/// The persona's settings as text. A name must be a custom setting (`app.tenant_id`: a prefix,
/// a dot, a name) or a server setting; the ones pgperf sets itself are refused.
fn persona_settings(
    persona: &str,
    spec: &Persona,
    problems: &mut Vec<String>,
) -> BTreeMap<String, String> {
    let mut settings = BTreeMap::new();
    for (name, value) in &spec.settings {
        let valid = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_.".contains(c))
            && !name.starts_with('.')
            && !name.ends_with('.');
        let reserved =
            name == "role" || name == "statement_timeout" || name.starts_with("request.jwt.claim");
        let scalar = !matches!(value, toml::Value::Array(_) | toml::Value::Table(_));
        if !valid {
            problems.push(format!("persona \"{persona}\": setting \"{name}\" is not a setting name; use letters, digits, '_' and a dot, e.g. \"app.tenant_id\""));
        } else if reserved {
            problems.push(format!("persona \"{persona}\": setting \"{name}\" is set by pgperf itself (role, claims, statement_timeout_ms); use the persona's role or claims, or the query's statement_timeout_ms"));
        } else if !scalar {
            problems.push(format!(
                "persona \"{persona}\": setting \"{name}\" must be a string, number or boolean"
            ));
        } else if let Some(text) = params::value_to_text(value) {
            settings.insert(name.clone(), text);
        }
    }
    settings
}

fn validate_query(
    spec: &QuerySpec,
    file: &WorkloadFile,
    personas: &BTreeMap<String, SessionPersona>,
    problems: &mut Vec<String>,
) -> Option<Query> {
    let name = &spec.name;
    for text in field_problems(spec) {
        problems.push(format!("query \"{name}\": {text}"));
    }
    let mut problem = |text: String| problems.push(format!("query \"{name}\": {text}"));
    let persona_name = spec.persona.as_ref().or(file.defaults.persona.as_ref());
    let persona = match persona_name {
        Some(persona) if !personas.contains_key(persona) => {
            problem(unknown_persona("persona", persona, personas));
            None
        }
        Some(persona) => personas.get(persona).cloned(),
        None => None,
    };
    let mut plans = Vec::new();
    for (index, param) in spec.params.iter().enumerate() {
        match params::compile(param) {
            Ok(plan) => plans.push(plan),
            Err(text) => problem(format!("parameter ${}: {text}", index + 1)),
        }
    }
    let placeholders = match sql::placeholders(&spec.sql) {
        Ok(found) => found,
        Err(error) => {
            problem(format!("the sql {error}"));
            return None;
        }
    };
    if let Some(text) = count_mismatch(&placeholders, spec.params.len()) {
        problem(text);
    }
    if let Some(text) = change_problem(spec) {
        problem(text);
    }
    Some(build(spec, file, persona, placeholders, plans))
}

/// Problems with a query's own scalar fields: name, weight, budget, commit.
fn field_problems(spec: &QuerySpec) -> Vec<String> {
    let mut problems = Vec::new();
    let name_ok = !spec.name.is_empty()
        && spec
            .name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
    if !name_ok {
        problems.push("the name must be letters, digits, '_', '.' or '-'".to_string());
    }
    if !(spec.weight.is_finite() && spec.weight > 0.0) {
        problems.push(format!("weight {} must be a number above 0", spec.weight));
    }
    if spec
        .budget_p95_ms
        .is_some_and(|budget| !(budget.is_finite() && budget > 0.0))
    {
        problems.push("budget_p95_ms must be a number of milliseconds above 0".to_string());
    }
    if spec.commit && spec.kind != QueryKind::Write {
        problems.push("commit = true applies only to kind = \"write\"; remove it".to_string());
    }
    problems
}

fn build(
    spec: &QuerySpec,
    file: &WorkloadFile,
    persona: Option<SessionPersona>,
    placeholders: Vec<sql::Placeholder>,
    params: Vec<ParamPlan>,
) -> Query {
    let default_budget_ms = match spec.kind {
        QueryKind::Tile => file.defaults.tile_budget_p95_ms,
        QueryKind::Read | QueryKind::Write => file.defaults.read_budget_p95_ms,
    };
    Query {
        name: spec.name.clone(),
        sql: spec.sql.clone(),
        kind: spec.kind,
        tile: spec.tile.clone(),
        persona,
        weight: spec.weight,
        budget_p95_ms: spec.budget_p95_ms.unwrap_or(default_budget_ms),
        statement_timeout_ms: spec
            .statement_timeout_ms
            .unwrap_or(file.defaults.statement_timeout_ms),
        commit: spec.commit,
        placeholders,
        params,
    }
}

/// A `read` or `tile` query whose statement changes data: it would change the user's data at
/// every execution, so it is refused before connecting.
fn change_problem(spec: &QuerySpec) -> Option<String> {
    if spec.kind == QueryKind::Write {
        return None;
    }
    let what = sql::data_change(&spec.sql).ok()??;
    let kind = if spec.kind == QueryKind::Tile {
        "tile"
    } else {
        "read"
    };
    Some(format!(
        "kind = \"{kind}\" but the sql is {what}, which changes data; set kind = \"write\" \
         (every execution is then rolled back unless commit = true) or make it a SELECT"
    ))
}

fn count_mismatch(placeholders: &[sql::Placeholder], given: usize) -> Option<String> {
    let used = sql::parameter_count(placeholders);
    if used != given {
        return Some(format!(
            "the sql uses {} but {given} parameter{} given; give one params entry per $n",
            if used == 0 {
                "no $n".to_string()
            } else {
                format!("$1..${used}")
            },
            if given == 1 { " is" } else { "s are" },
        ));
    }
    let unused = sql::unused_numbers(placeholders, used);
    if unused.is_empty() {
        return None;
    }
    let list: Vec<String> = unused.iter().map(|n| format!("${n}")).collect();
    Some(format!(
        "the sql never uses {}, so the server cannot type it; renumber the placeholders",
        list.join(", ")
    ))
}

fn unknown_persona(field: &str, name: &str, personas: &BTreeMap<String, SessionPersona>) -> String {
    let known: Vec<&str> = personas.keys().map(String::as_str).collect();
    format!(
        "{field} \"{name}\" is not defined; define [personas.{name}] or use one of: {}",
        if known.is_empty() {
            "(none defined)".to_string()
        } else {
            known.join(", ")
        }
    )
}
