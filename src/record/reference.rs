//! An existing workload to record against (`--reference FILE`): a recorded statement whose
//! fingerprint matches one of its queries keeps that query's name, tile, kind, budget and
//! persona (claims included). Re-recording then refreshes weights and values without losing
//! what the user wrote by hand, and the result compares with the original query by query.
//!
//! pg_stat_statements turns every constant into `$n`; lined up with the matched query
//! ([`sql::align`]), a `$n` where the reference wrote a constant gets the constant back in the
//! text, and a `$n` the statistics know nothing about (no column to sample from) gets the
//! generator the reference gives its parameter, instead of a TODO placeholder.

use std::collections::{BTreeMap, HashMap};

use super::draft::DraftParam;
use super::sql::{self, Counterpart, Statement};
use crate::workload::{ParamSpec, Persona, QuerySpec, WorkloadFile};

/// The reference workload, indexed by statement fingerprint.
#[derive(Debug, Clone, Default)]
pub struct Reference {
    by_fingerprint: HashMap<String, QuerySpec>,
    personas: BTreeMap<String, Persona>,
    default_persona: Option<String>,
}

impl Reference {
    pub fn new(workload: &WorkloadFile) -> Self {
        let mut by_fingerprint = HashMap::new();
        for query in &workload.queries {
            if let Ok(fingerprint) = pg_query::fingerprint(&query.sql, 0, 0) {
                by_fingerprint
                    .entry(fingerprint.hex)
                    .or_insert_with(|| query.clone());
            }
        }
        Reference {
            by_fingerprint,
            personas: workload.personas.clone(),
            default_persona: workload.defaults.persona.clone(),
        }
    }

    /// The reference query with this fingerprint.
    pub fn query(&self, fingerprint: &str) -> Option<&QuerySpec> {
        self.by_fingerprint.get(fingerprint)
    }

    /// The persona a matched query runs as, with its definition.
    pub fn persona_of(&self, query: &QuerySpec) -> Option<(String, Persona)> {
        let name = query
            .persona
            .clone()
            .or_else(|| self.default_persona.clone())?;
        let persona = self.personas.get(&name)?.clone();
        Some((name, persona))
    }

    /// Writes back into `statement` every constant the matched reference query has where the
    /// recorded text has a `$n`; returns a line for the report, `None` when nothing changed.
    pub fn write_constants(&self, statement: &mut Statement) -> Option<String> {
        let query = self.query(&statement.fingerprint)?;
        let counterparts = sql::align(&statement.sql, &query.sql)?;
        let mut written = Vec::new();
        // From the highest number down, so the numbers still to write do not move.
        for (number, counterpart) in counterparts.iter().rev() {
            if let Counterpart::Constant(literal) = counterpart {
                let text = sql::literal_sql(literal);
                if statement.inline(*number, &text) {
                    written.push(text);
                }
            }
        }
        written.reverse();
        (!written.is_empty()).then(|| {
            format!(
                "{}: {} written back as in reference query {} (pg_stat_statements had made them parameters)",
                super::first_line(&statement.sql),
                written.join(", "),
                query.name
            )
        })
    }

    /// The reference query's generator for each `$n` of `statement` that stands for one of
    /// its parameters, by recorded number.
    pub fn generators(&self, statement: &Statement) -> BTreeMap<usize, (String, ParamSpec)> {
        let Some(query) = self.query(&statement.fingerprint) else {
            return BTreeMap::new();
        };
        let Some(counterparts) = sql::align(&statement.sql, &query.sql) else {
            return BTreeMap::new();
        };
        counterparts
            .into_iter()
            .filter_map(|(number, counterpart)| match counterpart {
                Counterpart::Param(theirs) => {
                    let spec = query.params.get(theirs.checked_sub(1)?)?.clone();
                    Some((number, (format!("{} ${theirs}", query.name), spec)))
                }
                Counterpart::Constant(_) => None,
            })
            .collect()
    }

    /// How many queries it has.
    pub fn len(&self) -> usize {
        self.by_fingerprint.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_fingerprint.is_empty()
    }
}

/// Gives each placeholder of `params` the reference's generator for it (`generators`, by
/// `$n`), since the user's own description beats a guess; returns a line per replacement.
pub fn fill_placeholders(
    generators: &BTreeMap<usize, (String, ParamSpec)>,
    params: &mut [DraftParam],
) -> Vec<String> {
    let mut lines = Vec::new();
    for (number, (origin, spec)) in generators {
        let Some(param) = params.get_mut(number - 1).filter(|p| p.placeholder) else {
            continue;
        };
        let why = param
            .note
            .split_once("TODO ")
            .map_or("no values", |(_, why)| why.split(';').next().unwrap_or(why));
        param.spec = spec.clone();
        param.placeholder = false;
        param.note = format!("${number}: as {origin} of the reference ({why} here)");
        lines.push(param.note.clone());
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    const REFERENCE: &str = r#"
        name = "audit"
        [[query]]
        name = "row_history"
        sql = "SELECT * FROM audit.log WHERE table_name = 'approvals' AND row_key = jsonb_build_object('id', $1::bigint) ORDER BY logged_at LIMIT 100"
        params = [{ sample = "SELECT id FROM approvals.approvals" }]
    "#;

    fn placeholder(number: usize) -> DraftParam {
        DraftParam {
            spec: ParamSpec::Value {
                value: toml::Value::Integer(1),
            },
            note: format!(
                "${number}: TODO no column found, type int8; placeholder value, check it"
            ),
            placeholder: true,
        }
    }

    #[test]
    fn the_reference_gives_back_constants_and_generators_for_placeholders() {
        let workload: WorkloadFile = toml::from_str(REFERENCE).expect("parses");
        let reference = Reference::new(&workload);
        // As pg_stat_statements writes it: every constant a parameter, numbered after $1.
        let mut statement = sql::analyse(
            "SELECT * FROM audit.log WHERE table_name = $2 AND row_key = jsonb_build_object($3, $1::bigint) ORDER BY logged_at LIMIT $4",
        )
        .expect("kept");
        let line = reference.write_constants(&mut statement).expect("written");
        assert_eq!(
            statement.sql,
            "SELECT * FROM audit.log WHERE table_name = 'approvals' AND row_key = jsonb_build_object('id', $1::bigint) ORDER BY logged_at LIMIT 100"
        );
        assert_eq!(statement.param_count, 1);
        assert!(line.contains("'approvals', 'id', 100"), "{line}");
        let generators = reference.generators(&statement);
        let mut params = vec![placeholder(1)];
        let lines = fill_placeholders(&generators, &mut params);
        assert_eq!(params[0].spec, workload.queries[0].params[0]);
        assert!(!params[0].placeholder);
        assert_eq!(
            lines,
            vec!["$1: as row_history $1 of the reference (no column found, type int8 here)"]
        );
        // A parameter with values of its own keeps them.
        params[0] = DraftParam {
            placeholder: false,
            ..placeholder(1)
        };
        assert!(fill_placeholders(&generators, &mut params).is_empty());
    }

    #[test]
    fn a_statement_the_reference_does_not_have_is_left_alone() {
        let workload: WorkloadFile = toml::from_str(REFERENCE).expect("parses");
        let reference = Reference::new(&workload);
        let mut statement =
            sql::analyse("SELECT * FROM audit.log WHERE table_name = $1").expect("kept");
        assert_eq!(reference.write_constants(&mut statement), None);
        assert!(reference.generators(&statement).is_empty());
        assert_eq!(
            statement.sql,
            "SELECT * FROM audit.log WHERE table_name = $1"
        );
    }
}
