//! Rendering a recording as an ordinary workload file (DESIGN §6) that a person can read and
//! edit: a header saying how it was recorded, queries by total time, names taken from the
//! statement, and a comment above every query and parameter saying where its values came from.
//! What is written always parses back to the same [`WorkloadFile`] (tested).

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;

use super::draft::Draft;
use super::reference::Reference;
use super::sql::ParamTarget;
use crate::workload::{ParamSpec, Persona, QuerySpec, WorkloadFile};

/// Longest generated query name.
const MAX_NAME_CHARS: usize = 60;

/// The workload and the comments that go with it.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub workload: WorkloadFile,
    pub text: String,
}

/// Builds the workload from `drafts` (already in the order to write) and renders it; queries
/// matching `reference` take its names, tiles, kinds, budgets and personas.
pub fn render(
    name: &str,
    header: &[String],
    drafts: &[Draft],
    reference: Option<&Reference>,
) -> Rendered {
    let matches: Vec<Option<&QuerySpec>> = drafts
        .iter()
        .map(|d| reference.and_then(|r| r.query(&d.statement.fingerprint)))
        .collect();
    let names = query_names(drafts, &matches);
    let mut personas = BTreeMap::new();
    let mut queries = Vec::new();
    for ((draft, name), matched) in drafts.iter().zip(&names).zip(&matches) {
        let mut query = query_spec(draft, name);
        let inherited = matched.and_then(|m| reference.and_then(|r| r.persona_of(m)));
        match (matched, inherited) {
            (Some(matched), Some((persona, definition))) => {
                adopt(&mut query, matched);
                query.persona = Some(persona.clone());
                personas.insert(persona, definition);
            }
            (matched, _) => {
                if let Some(matched) = matched {
                    adopt(&mut query, matched);
                }
                if let Some(role) = &draft.role {
                    let definition = Persona {
                        role: role.clone(),
                        claims: None,
                        settings: Default::default(),
                    };
                    personas.entry(persona_name(role)).or_insert(definition);
                }
            }
        }
        queries.push(query);
    }
    let workload = WorkloadFile {
        name: name.to_string(),
        description: Some(format!(
            "Recorded by pgperf record: {} queries",
            queries.len()
        )),
        defaults: Default::default(),
        personas,
        queries,
    };
    let mut text = String::new();
    for line in header {
        let _ = writeln!(text, "# {line}");
    }
    let _ = writeln!(
        text,
        "\nname = {}",
        toml::Value::String(workload.name.clone())
    );
    if let Some(description) = &workload.description {
        let _ = writeln!(
            text,
            "description = {}",
            toml::Value::String(description.clone())
        );
    }
    write_personas(&mut text, &workload);
    for (draft, query) in drafts.iter().zip(&workload.queries) {
        write_query(&mut text, draft, query);
    }
    Rendered { workload, text }
}

/// What the user wrote by hand in the reference query and a recording cannot know.
fn adopt(query: &mut QuerySpec, matched: &QuerySpec) {
    query.tile = matched.tile.clone();
    query.kind = matched.kind;
    query.budget_p95_ms = matched.budget_p95_ms;
    query.statement_timeout_ms = matched.statement_timeout_ms;
}

fn query_spec(draft: &Draft, name: &str) -> QuerySpec {
    QuerySpec {
        name: name.to_string(),
        sql: draft.statement.sql.clone(),
        kind: draft.statement.kind,
        tile: None,
        persona: draft.role.as_deref().map(persona_name),
        weight: draft.calls as f64,
        budget_p95_ms: None,
        statement_timeout_ms: None,
        commit: false,
        params: draft.params.iter().map(|p| p.spec.clone()).collect(),
    }
}

fn write_personas(text: &mut String, workload: &WorkloadFile) {
    for (name, persona) in &workload.personas {
        if let Some(claims) = &persona.claims {
            let claims = toml::Value::Table(claims.clone());
            let _ = writeln!(
                text,
                "\n# From the reference workload.\n[personas.{name}]\nrole = {}\nclaims = {claims}",
                toml::Value::String(persona.role.clone())
            );
            continue;
        }
        let _ = writeln!(
            text,
            "\n# The role that ran these statements. Its JWT claims cannot be recovered from\n\
             # pg_stat_statements or server logs: when its RLS policies read request.jwt.claims,\n\
             # add them, e.g. claims = {{ sub = \"<user uuid>\", app_role = \"viewer\" }}\n\
             [personas.{name}]\nrole = {}",
            toml::Value::String(persona.role.clone())
        );
    }
}

fn write_query(text: &mut String, draft: &Draft, query: &QuerySpec) {
    let plural = if draft.calls == 1 { "" } else { "s" };
    let mut about = format!("{} call{plural}", draft.calls);
    if let Some(total_ms) = draft.total_ms {
        let mean_ms = total_ms / draft.calls.max(1) as f64;
        let _ = write!(about, ", {total_ms:.1} ms in total, {mean_ms:.3} ms mean");
    }
    let _ = writeln!(
        text,
        "\n[[query]]\n# {about}; fingerprint {}",
        draft.statement.fingerprint
    );
    let _ = writeln!(text, "name = {}", toml::Value::String(query.name.clone()));
    let _ = writeln!(text, "sql = {}", sql_string(&query.sql));
    let kind = toml::Value::try_from(query.kind).expect("a query kind serialises to a string");
    let _ = writeln!(text, "kind = {kind}");
    if let Some(tile) = &query.tile {
        let _ = writeln!(text, "tile = {}", toml::Value::String(tile.clone()));
    }
    if let Some(budget) = query.budget_p95_ms {
        let _ = writeln!(text, "budget_p95_ms = {}", toml::Value::Float(budget));
    }
    if let Some(timeout) = query.statement_timeout_ms {
        let _ = writeln!(text, "statement_timeout_ms = {timeout}");
    }
    if let Some(persona) = &query.persona {
        let _ = writeln!(text, "persona = {}", toml::Value::String(persona.clone()));
    }
    let _ = writeln!(text, "weight = {}", toml::Value::Float(query.weight));
    if query.params.is_empty() {
        return;
    }
    text.push_str("params = [\n");
    for param in &draft.params {
        let _ = writeln!(text, "  # {}\n  {},", param.note, param_text(&param.spec));
    }
    text.push_str("]\n");
}

/// A parameter as an inline table; long value lists wrap (TOML allows newlines inside an
/// array, also within an inline table).
fn param_text(spec: &ParamSpec) -> String {
    const LINE_CHARS: usize = 88;
    let ParamSpec::Recorded { recorded, sampled } = spec else {
        return toml::Value::try_from(spec)
            .expect("a parameter spec serialises to TOML")
            .to_string();
    };
    let mut lines = vec![String::new()];
    for value in recorded {
        let item = format!("{value}, ");
        let line = lines.last_mut().expect("there is always a line");
        if !line.is_empty() && line.len() + item.len() > LINE_CHARS {
            lines.push(String::new());
        }
        lines
            .last_mut()
            .expect("there is always a line")
            .push_str(&item);
    }
    let sampled = if *sampled { ", sampled = true" } else { "" };
    if lines.len() == 1 {
        let values = lines[0].trim_end_matches([',', ' ']);
        return format!("{{ recorded = [{values}]{sampled} }}");
    }
    let body: String = lines
        .iter()
        .map(|l| format!("      {}\n", l.trim_end()))
        .collect();
    format!("{{ recorded = [\n{body}    ]{sampled} }}")
}

/// Multi-line SQL as a literal block (`'''`), so it reads as written.
fn sql_string(sql: &str) -> String {
    let plain = !sql.contains("'''")
        && !sql
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t');
    if sql.contains('\n') && plain && !sql.ends_with('\'') {
        format!("'''\n{sql}'''")
    } else {
        toml::Value::String(sql.to_string()).to_string()
    }
}

/// A persona key: the role name with anything but letters, digits, `_` and `-` replaced.
fn persona_name(role: &str) -> String {
    role.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The reference query's name, or `select_orders_by_customer_id`: verb, first table (or
/// function), compared columns; made unique with the fingerprint, then the role, then a counter.
fn query_names(drafts: &[Draft], matches: &[Option<&QuerySpec>]) -> Vec<String> {
    let mut taken = HashSet::new();
    drafts
        .iter()
        .zip(matches)
        .map(|(draft, matched)| {
            let base = matched.map_or_else(|| base_name(draft), |m| m.name.clone());
            let role = draft.role.as_deref().map(persona_name).unwrap_or_default();
            let fingerprint =
                &draft.statement.fingerprint[..8.min(draft.statement.fingerprint.len())];
            let options = [
                base.clone(),
                format!("{base}_{fingerprint}"),
                format!("{base}_{fingerprint}_{role}"),
            ];
            let name = options
                .into_iter()
                .chain((2..).map(|n| format!("{base}_{fingerprint}_{n}")))
                .find(|candidate| !taken.contains(candidate))
                .expect("the counter always finds a free name");
            taken.insert(name.clone());
            name
        })
        .collect()
}

fn base_name(draft: &Draft) -> String {
    let statement = &draft.statement;
    let object = match (statement.tables.first(), statement.functions.first()) {
        (Some(table), _) => format!("{}_{}", statement.verb, table.name),
        (None, Some(function)) => {
            format!("rpc_{}", function.rsplit('.').next().unwrap_or(function))
        }
        (None, None) => statement.verb.to_string(),
    };
    let mut columns: Vec<&str> = Vec::new();
    for target in statement.targets.values() {
        if let ParamTarget::Column { column, .. } = target
            && !columns.contains(&column.as_str())
            && columns.len() < 2
        {
            columns.push(column);
        }
    }
    let mut name = object;
    if !columns.is_empty() && statement.verb != "insert" {
        name = format!("{name}_by_{}", columns.join("_and_"));
    }
    let mut clean = String::new();
    for c in name.to_lowercase().chars() {
        let c = if c.is_ascii_alphanumeric() { c } else { '_' };
        if !(c == '_' && clean.ends_with('_')) {
            clean.push(c);
        }
    }
    clean
        .trim_matches('_')
        .chars()
        .take(MAX_NAME_CHARS)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::draft::{self, DraftParam};
    use crate::record::sql::analyse;

    fn draft(sql: &str, role: &str, calls: u64) -> Draft {
        let statement = analyse(sql).expect("kept");
        let params = (1..=statement.param_count)
            .map(|n| {
                draft::from_values(
                    n,
                    &[
                        Some(format!("v{n}")),
                        Some("it's \"quoted\"".into()),
                        Some("12".into()),
                    ],
                    None,
                    false,
                )
            })
            .collect();
        Draft {
            statement,
            role: Some(role.to_string()),
            calls,
            total_ms: Some(calls as f64 * 1.5),
            params,
        }
    }

    fn sample() -> Vec<Draft> {
        vec![
            draft(
                "SELECT id, total\n  FROM orders o\n WHERE o.customer_id = $1\n   AND status = 'x'",
                "authenticated",
                120,
            ),
            draft(
                "SELECT * FROM orders WHERE customer_id = 7 AND region = 'eu'",
                "authenticated",
                40,
            ),
            draft(
                "SELECT * FROM orders WHERE customer_id = $1 AND status = $2",
                "service role",
                3,
            ),
            draft(
                "SELECT * FROM api.approvals_list($1, $2)",
                "authenticated",
                9,
            ),
            draft(
                "UPDATE approvals SET status = $1 WHERE id = $2",
                "authenticated",
                2,
            ),
        ]
    }

    #[test]
    fn names_come_from_the_statement_and_are_unique() {
        let names = query_names(&sample(), &[None; 5]);
        assert_eq!(names[0], "select_orders_by_customer_id_and_status");
        assert_eq!(names[1], "select_orders_by_customer_id_and_region");
        assert!(
            names[2].starts_with("select_orders_by_customer_id_and_status_"),
            "{}",
            names[2]
        );
        assert_eq!(names[3], "rpc_approvals_list");
        assert_eq!(names[4], "update_approvals_by_status_and_id");
    }

    #[test]
    fn the_written_file_parses_back_to_the_same_workload() {
        let header = vec!["Recorded by pgperf record from a test".to_string()];
        let rendered = render("recorded", &header, &sample(), None);
        let parsed: WorkloadFile = toml::from_str(&rendered.text).expect("the file parses");
        assert_eq!(parsed, rendered.workload);
        insta::assert_snapshot!(rendered.text);
    }

    #[test]
    fn a_reference_gives_names_tiles_budgets_and_personas_with_claims() {
        let reference: WorkloadFile = toml::from_str(
            r#"
            name = "dashboard"
            [personas.viewer]
            role = "authenticated"
            claims = { sub = "7b0c1f8e-3a1d-4c55-9d2e-0f6b1a2c3d4e", app_role = "viewer" }
            [[query]]
            name = "orders_of_customer"
            sql = "SELECT * FROM orders WHERE customer_id = 42 AND region = 'eu'"
            tile = "orders"
            persona = "viewer"
            budget_p95_ms = 50.0
            "#,
        )
        .expect("reference parses");
        let reference = Reference::new(&reference);
        let rendered = render("recorded", &[], &sample(), Some(&reference));
        let query = &rendered.workload.queries[1];
        assert_eq!(query.name, "orders_of_customer");
        assert_eq!(query.tile.as_deref(), Some("orders"));
        assert_eq!(query.budget_p95_ms, Some(50.0));
        assert_eq!(query.persona.as_deref(), Some("viewer"));
        let viewer = &rendered.workload.personas["viewer"];
        assert_eq!(
            viewer.claims.as_ref().map(|c| c["app_role"].as_str()),
            Some(Some("viewer"))
        );
        assert_eq!(
            rendered.workload.queries[0].name,
            "select_orders_by_customer_id_and_status"
        );
        let parsed: WorkloadFile = toml::from_str(&rendered.text).expect("the file parses");
        assert_eq!(parsed, rendered.workload);
    }

    #[test]
    fn placeholders_are_written_with_their_todo() {
        let mut drafts = sample();
        drafts[0].params[0] = DraftParam {
            spec: crate::workload::ParamSpec::Value {
                value: toml::Value::Integer(50),
            },
            note: "$1: TODO LIMIT value unknown; placeholder value, check it".into(),
            placeholder: true,
        };
        let rendered = render("recorded", &[], &drafts, None);
        assert!(rendered.text.contains("# $1: TODO LIMIT value unknown"));
        let parsed: WorkloadFile = toml::from_str(&rendered.text).expect("the file parses");
        assert_eq!(parsed, rendered.workload);
    }
}
