//! A recorded query before it is written: its statement, who ran it, how often, and one
//! parameter generator per `$n` with a note saying where its values came from.

use std::collections::BTreeSet;

use super::columns::{self, Catalog, Column};
use super::privacy::{self, Sensitive};
use super::sql::{ParamTarget, Statement};
use crate::workload::ParamSpec;
use postgres::types::{Kind, Type};

/// One query of the recording.
#[derive(Debug, Clone)]
pub struct Draft {
    pub statement: Statement,
    /// Database role that ran it.
    pub role: Option<String>,
    pub calls: u64,
    /// Total execution time seen, when the source has it.
    pub total_ms: Option<f64>,
    /// `$1..$n` in order.
    pub params: Vec<DraftParam>,
}

/// One parameter and the comment written above it.
#[derive(Debug, Clone, PartialEq)]
pub struct DraftParam {
    pub spec: ParamSpec,
    pub note: String,
    /// A placeholder the user must check: no real or sampled values were found.
    pub placeholder: bool,
}

/// How many values of the statistics a sampled parameter carries.
pub const SAMPLED_VALUES: usize = 100;
/// Limit used when a `LIMIT $n` value is unknown (pg_stat_statements hides it).
pub const FALLBACK_LIMIT: i64 = 50;

/// Writes parameter `number` (1-based) back into the text as the SQL constant `literal` and
/// drops it, renumbering the later parameters, their targets and their notes; nothing
/// changes when the text has no such parameter.
pub fn inline(
    statement: &mut Statement,
    params: &mut Vec<DraftParam>,
    number: usize,
    literal: &str,
) {
    if !statement.inline(number, literal) {
        return;
    }
    params.remove(number - 1);
    for (index, param) in params.iter_mut().enumerate().skip(number - 1) {
        let old = format!("${}", index + 2);
        if let Some(rest) = param.note.strip_prefix(&old) {
            param.note = format!("${}{rest}", index + 1);
        }
    }
}

/// A parameter from values seen in real calls (`None` is SQL NULL).
pub fn from_values(
    number: usize,
    values: &[Option<String>],
    column: Option<&Column>,
    keep_literals: bool,
) -> DraftParam {
    let nulls = values.iter().filter(|v| v.is_none()).count();
    let present: Vec<&str> = values.iter().flatten().map(String::as_str).collect();
    let distinct: BTreeSet<&str> = present.iter().copied().collect();
    let about = match column {
        Some(column) => format!("${number} = {column}"),
        None => format!("${number}"),
    };
    let mut note = format!(
        "{about}: {} values seen, {} distinct",
        values.len(),
        distinct.len()
    );
    if nulls > 0 {
        note.push_str(&format!(
            "; {nulls} NULL left out (a workload file cannot hold NULL in a list)"
        ));
    }
    if present.is_empty() {
        return DraftParam {
            spec: ParamSpec::Value {
                value: toml::Value::String(String::new()),
            },
            note: format!(
                "{about}: TODO every recorded call passed NULL, which a workload file cannot express; put a value here"
            ),
            placeholder: true,
        };
    }
    if !keep_literals && let Some(replaced) = protect(&about, &present, column) {
        return replaced;
    }
    DraftParam {
        spec: ParamSpec::Recorded {
            recorded: present.iter().map(|v| toml_value(v)).collect(),
            sampled: false,
        },
        note,
        placeholder: false,
    }
}

/// A parameter sampled from the statistics of the column it is compared to, or a placeholder.
pub fn from_statistics(
    number: usize,
    statement: &Statement,
    catalog: &mut Catalog,
    param_type: Option<&Type>,
    keep_literals: bool,
) -> Result<DraftParam, postgres::Error> {
    let target = statement.targets.get(&number);
    let column = match target {
        Some(target) => catalog.resolve(statement, target)?,
        None => None,
    };
    let stats = match &column {
        Some(column) => catalog.stats(column)?,
        None => None,
    };
    let array = matches!(target, Some(ParamTarget::Column { array: true, .. }));
    let values = stats
        .map(|s| columns::sample_values(&s, SAMPLED_VALUES))
        .unwrap_or_default();
    let (Some(column), false) = (&column, values.is_empty()) else {
        return Ok(placeholder(number, target, column.as_ref(), param_type));
    };
    let about = format!("${number} = {column}");
    let present: Vec<&str> = values.iter().map(String::as_str).collect();
    if !keep_literals && let Some(replaced) = protect(&about, &present, Some(column)) {
        return Ok(replaced);
    }
    let recorded = values
        .iter()
        .map(|v| {
            if array {
                toml::Value::String(array_literal(v))
            } else {
                toml_value(v)
            }
        })
        .collect();
    Ok(DraftParam {
        spec: ParamSpec::Recorded {
            recorded,
            sampled: true,
        },
        note: format!(
            "{about}: {} values sampled from pg_stats (by frequency)",
            values.len()
        ),
        placeholder: false,
    })
}

/// A safe value for a parameter nothing is known about, flagged for the user.
fn placeholder(
    number: usize,
    target: Option<&ParamTarget>,
    column: Option<&Column>,
    param_type: Option<&Type>,
) -> DraftParam {
    if let Some(Kind::Enum(labels)) = param_type.map(Type::kind)
        && !labels.is_empty()
    {
        let name = param_type.map(Type::name).unwrap_or_default();
        return DraftParam {
            spec: ParamSpec::Recorded {
                recorded: labels
                    .iter()
                    .map(|l| toml::Value::String(l.clone()))
                    .collect(),
                sampled: true,
            },
            note: format!("${number}: TODO no column found; every label of enum {name}, check it"),
            placeholder: true,
        };
    }
    if let Some(ParamTarget::Argument { function, index }) = target
        && let Some(value) = well_known_argument(function, *index)
    {
        return DraftParam {
            spec: ParamSpec::Value {
                value: toml::Value::String(value.to_string()),
            },
            note: format!(
                "${number}: TODO argument {} of {function} unknown; a common value, check it",
                index + 1
            ),
            placeholder: true,
        };
    }
    let param_type = param_type.map(Type::name);
    let (value, why) = match (target, column) {
        (Some(ParamTarget::Limit), _) => (
            toml::Value::Integer(FALLBACK_LIMIT),
            "LIMIT value unknown".to_string(),
        ),
        (Some(ParamTarget::Offset), _) => {
            (toml::Value::Integer(0), "OFFSET value unknown".to_string())
        }
        (_, Some(column)) => (
            typed_placeholder(param_type),
            format!("{column} has no pg_stats (run ANALYZE)"),
        ),
        _ => (typed_placeholder(param_type), "no column found".to_string()),
    };
    let spec = match param_type {
        Some("timestamptz" | "timestamp" | "date")
            if !matches!(target, Some(ParamTarget::Limit | ParamTarget::Offset)) =>
        {
            ParamSpec::Ago {
                ago: "1 day".to_string(),
                jitter: None,
            }
        }
        _ => ParamSpec::Value { value },
    };
    let typed = param_type
        .map(|t| format!(", type {t}"))
        .unwrap_or_default();
    DraftParam {
        spec,
        note: format!("${number}: TODO {why}{typed}; placeholder value, check it"),
        placeholder: true,
    }
}

/// A value that is valid and common for arguments whose text is an enumeration in disguise.
fn well_known_argument(function: &str, index: usize) -> Option<&'static str> {
    match (function, index) {
        ("date_trunc" | "date_part", 0) => Some("day"),
        ("to_char", 1) => Some("YYYY-MM-DD"),
        ("date_bin", 0) => Some("1 day"),
        _ => None,
    }
}

fn typed_placeholder(param_type: Option<&str>) -> toml::Value {
    let text = |s: &str| toml::Value::String(s.to_string());
    match param_type.unwrap_or("text") {
        "int2" | "int4" | "int8" | "numeric" | "float4" | "float8" | "oid" => {
            toml::Value::Integer(1)
        }
        "bool" => toml::Value::Boolean(true),
        "interval" => text("1 day"),
        "uuid" => text("00000000-0000-0000-0000-000000000000"),
        "json" | "jsonb" => text("{}"),
        array if array.starts_with('_') => text("{}"),
        _ => text(""),
    }
}

/// Sensitive values replaced: drawn from the column at bench time when it is known (nothing
/// is written), synthetic stand-ins otherwise. `None` when nothing looks sensitive.
fn protect(about: &str, values: &[&str], column: Option<&Column>) -> Option<DraftParam> {
    let kinds: BTreeSet<Sensitive> = values.iter().filter_map(|v| privacy::classify(v)).collect();
    let kinds_text = kinds
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    if kinds.is_empty() {
        return None;
    }
    if let Some(column) = column {
        return Some(DraftParam {
            spec: ParamSpec::Sample {
                sample: column.sample_sql(),
                limit: None,
            },
            note: format!(
                "{about}: values looked like {kinds_text}; drawn from the column at bench time instead (--keep-literals keeps them)"
            ),
            placeholder: false,
        });
    }
    let mut seen: Vec<&str> = Vec::new();
    let recorded = values
        .iter()
        .map(|value| match privacy::classify(value) {
            Some(kind) => {
                let index = seen.iter().position(|s| s == value).unwrap_or_else(|| {
                    seen.push(value);
                    seen.len() - 1
                });
                toml::Value::String(privacy::synthetic(kind, index))
            }
            None => toml_value(value),
        })
        .collect();
    Some(DraftParam {
        spec: ParamSpec::Recorded {
            recorded,
            sampled: true,
        },
        note: format!(
            "{about}: values looked like {kinds_text}; replaced by synthetic stand-ins (--keep-literals keeps them)"
        ),
        placeholder: false,
    })
}

/// An integer when the text is exactly one (so `007` stays text), a string otherwise.
pub fn toml_value(text: &str) -> toml::Value {
    match text.parse::<i64>() {
        Ok(number) if number.to_string() == text => toml::Value::Integer(number),
        _ => toml::Value::String(text.to_string()),
    }
}

/// `{"value"}`: one value as an array literal, for `col = ANY($n)`.
fn array_literal(value: &str) -> String {
    format!(
        "{{\"{}\"}}",
        value.replace('\\', "\\\\").replace('"', "\\\"")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_values_keep_their_frequencies_and_types() {
        let values = vec![
            Some("7".to_string()),
            Some("007".to_string()),
            None,
            Some("7".to_string()),
        ];
        let param = from_values(1, &values, None, false);
        assert_eq!(
            param.spec,
            ParamSpec::Recorded {
                recorded: vec![
                    toml::Value::Integer(7),
                    toml::Value::String("007".into()),
                    toml::Value::Integer(7)
                ],
                sampled: false
            }
        );
        assert!(param.note.contains("1 NULL left out"), "{}", param.note);
    }

    #[test]
    fn emails_are_drawn_from_the_column_or_replaced() {
        let values = vec![
            Some("ann@corp.example".to_string()),
            Some("bob@corp.example".to_string()),
        ];
        let column = Column {
            schema: Some("public".into()),
            table: "users".into(),
            column: "email".into(),
        };
        let param = from_values(2, &values, Some(&column), false);
        assert!(matches!(param.spec, ParamSpec::Sample { .. }), "{param:?}");
        let param = from_values(2, &values, None, false);
        let ParamSpec::Recorded {
            recorded,
            sampled: true,
        } = param.spec
        else {
            panic!("synthetic values expected")
        };
        assert_eq!(recorded[0].as_str(), Some("user1@example.com"));
        assert_eq!(recorded[1].as_str(), Some("user2@example.com"));
        let kept = from_values(2, &values, None, true);
        assert!(matches!(
            kept.spec,
            ParamSpec::Recorded { sampled: false, .. }
        ));
    }

    #[test]
    fn unknown_parameters_get_flagged_placeholders() {
        let limit = placeholder(3, Some(&ParamTarget::Limit), None, Some(&Type::INT8));
        assert_eq!(
            limit.spec,
            ParamSpec::Value {
                value: toml::Value::Integer(FALLBACK_LIMIT)
            }
        );
        assert!(limit.placeholder);
        let since = placeholder(1, None, None, Some(&Type::TIMESTAMPTZ));
        assert!(matches!(since.spec, ParamSpec::Ago { .. }));
        assert!(since.note.contains("TODO"));
        let unit = ParamTarget::Argument {
            function: "date_trunc".into(),
            index: 0,
        };
        let unit = placeholder(1, Some(&unit), None, Some(&Type::TEXT));
        assert_eq!(
            unit.spec,
            ParamSpec::Value {
                value: toml::Value::String("day".into())
            }
        );
        let labels = vec!["pending".to_string(), "approved".to_string()];
        let status = Type::new(
            "approval_status".into(),
            90_001,
            Kind::Enum(labels),
            "approvals".into(),
        );
        let param = placeholder(1, None, None, Some(&status));
        let ParamSpec::Recorded {
            recorded,
            sampled: true,
        } = param.spec
        else {
            panic!("enum labels expected: {param:?}");
        };
        assert_eq!(recorded.len(), 2);
        assert!(param.placeholder);
    }
}
