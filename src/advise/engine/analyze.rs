//! Step 1: each statement's baseline plan, the tables it reads, and its candidate index
//! specs (parse tree + plan), with the statements derived from it.

use std::collections::{BTreeMap, BTreeSet};

use postgres::Client;

use super::{AdviseOptions, Analyzed, Tables};
use crate::advise::AdviseError;
use crate::advise::access::TableAccess;
use crate::advise::catalog::{self, Catalog, Relation};
use crate::advise::parse::extract;
use crate::advise::plan;
use crate::advise::session::{Statement, explain};
use crate::advise::shapes::{TableFacts, or_bundle, shapes};
use crate::advise::statements::derived_statements;
use crate::model::advice::IndexSpec;

/// Baseline plan, accesses and candidate specs of a statement and of the statements it implies.
pub(super) fn analyze(
    client: &mut Client,
    catalog: &mut Catalog,
    tables: &mut Tables,
    statement: Statement,
    options: &AdviseOptions,
) -> Result<Vec<(Analyzed, Vec<Bundle>)>, AdviseError> {
    catalog.preload(client, &statement.sql)?;
    let extraction =
        extract(&statement.sql, &catalog.lookup()).map_err(|e| AdviseError::Parse {
            query: statement.name.clone(),
            message: e.to_string(),
        })?;
    let derived = derived_statements(client, catalog, &statement, &extraction)?;
    let baseline_plan = explain(client, &statement);
    let mut accesses = extraction.accesses.clone();
    if let Ok(plan) = &baseline_plan {
        for relation in plan::scanned_relations(plan) {
            catalog.relation(client, &relation)?;
        }
        accesses.extend(plan::accesses(plan, &catalog.lookup()));
    }
    let mut written = BTreeMap::new();
    for name in extraction.written.iter().chain(&extraction.inserted) {
        if let Some(relation) = catalog.relation(client, name)? {
            let rows = baseline_plan.as_ref().map_or(1.0, plan::written_rows);
            written.insert((relation.schema.clone(), relation.name.clone()), rows);
        }
    }
    let params = statement.params.clone().unwrap_or_default();
    let mut specs = Vec::new();
    let mut touched = BTreeSet::new();
    for access in merge_by_relation(client, catalog, accesses)? {
        let (relation, access) = access;
        let facts = tables.facts(client, &relation)?;
        touched.insert((relation.schema.clone(), relation.name.clone()));
        let singles = shapes(&access, &facts, &params, options.max_columns);
        specs.extend(singles.into_iter().map(|spec| vec![spec]));
        specs.extend(or_bundle(&access, &facts, options.max_columns));
    }
    let mut out = vec![(
        Analyzed {
            largest_scan: baseline_plan.as_ref().ok().and_then(plan::largest_scan),
            baseline: baseline_plan
                .map(|p| plan::total_cost(&p))
                .map_err(|e| e.to_string()),
            statement,
            top_level: true,
            tables: touched,
            uncaptured: derived.uncaptured,
            writes: !extraction.written.is_empty() || !extraction.inserted.is_empty(),
            written,
        },
        specs,
    )];
    for inner in derived.statements {
        for (mut entry, specs) in analyze(client, catalog, tables, inner, options)? {
            entry.top_level = false;
            out.push((entry, specs));
        }
    }
    Ok(out)
}

/// Resolves each access's relation (views and unknown names drop out) and merges accesses to
/// the same table (a CTE, a view and the outer query can all filter one table).
fn merge_by_relation(
    client: &mut Client,
    catalog: &mut Catalog,
    accesses: Vec<TableAccess>,
) -> Result<Vec<(Relation, TableAccess)>, AdviseError> {
    let mut merged: Vec<(Relation, TableAccess)> = Vec::new();
    for access in accesses {
        let Some(name) = &access.relation else {
            continue;
        };
        let Some(relation) = catalog.relation(client, name)? else {
            continue;
        };
        if !matches!(relation.kind, 'r' | 'p' | 'm') {
            continue;
        }
        match merged.iter_mut().find(|(r, _)| r.oid == relation.oid) {
            Some((_, existing)) => existing.merge(access),
            None => merged.push((relation, access)),
        }
    }
    Ok(merged)
}

impl Tables {
    fn facts(
        &mut self,
        client: &mut Client,
        relation: &Relation,
    ) -> Result<TableFacts, AdviseError> {
        let key = (relation.schema.clone(), relation.name.clone());
        if let Some((_, facts)) = self.relations.get(&key) {
            return Ok(facts.clone());
        }
        let facts = catalog::table_facts(client, relation)?;
        self.relations
            .insert(key, (relation.clone(), facts.clone()));
        Ok(facts)
    }
}

/// A candidate: one index, or an OR bundle that only pays off together.
pub(super) type Bundle = Vec<IndexSpec>;

pub(super) fn add_candidates(
    candidates: &mut Vec<(Bundle, Vec<String>)>,
    origin: &str,
    specs: Vec<Bundle>,
) {
    for spec in specs {
        match candidates.iter_mut().find(|(s, _)| *s == spec) {
            Some((_, origins)) if !origins.iter().any(|o| o == origin) => {
                origins.push(origin.to_string())
            }
            Some(_) => {}
            None => candidates.push((spec, vec![origin.to_string()])),
        }
    }
}
