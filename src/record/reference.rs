//! An existing workload to record against (`--reference FILE`): a recorded statement whose
//! fingerprint matches one of its queries keeps that query's name, tile, kind, budget and
//! persona (claims included). Re-recording then refreshes weights and values without losing
//! what the user wrote by hand, and the result compares with the original query by query.

use std::collections::{BTreeMap, HashMap};

use crate::workload::{Persona, QuerySpec, WorkloadFile};

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

    /// How many queries it has.
    pub fn len(&self) -> usize {
        self.by_fingerprint.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_fingerprint.is_empty()
    }
}
