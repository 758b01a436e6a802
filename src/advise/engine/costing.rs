//! Step 2: what-if of each candidate alone, and the input of workload-wide selection.

use std::collections::BTreeMap;

use postgres::Client;

use super::analyze::Bundle;
use super::reasons::reason_sentence;
use super::{AdviseOptions, Analyzed, Tables};
use crate::advise::AdviseError;
use crate::advise::catalog;
use crate::advise::select::{Costed, QueryBaseline, SelectionInput, TableLoad};
use crate::advise::session::Statement;
use crate::advise::whatif::WhatIf;
use crate::model::advice::{IndexMethod, IndexSpec, RejectReason, RejectedCandidate};

/// What-if of each candidate alone, on every statement that reads its table.
/// Without leave to lock, the candidates whose costing needs a real build (GIN: HypoPG cannot
/// create it), which would block writes to their table while it runs.
pub(super) fn refuse_lock_only_candidates(
    candidates: Vec<(Bundle, Vec<String>)>,
    may_lock: bool,
) -> (Vec<(Bundle, Vec<String>)>, Vec<RejectedCandidate>) {
    if may_lock {
        return (candidates, Vec::new());
    }
    let (refused, kept): (Vec<_>, Vec<_>) = candidates
        .into_iter()
        .partition(|(bundle, _)| bundle.iter().any(|spec| spec.method == IndexMethod::Gin));
    let refused = refused
        .into_iter()
        .map(|(bundle, origins)| RejectedCandidate {
            spec: bundle[0].clone(),
            queries: origins,
            explanation: reason_sentence(&RejectReason::NeedsLocks),
            reason: RejectReason::NeedsLocks,
        })
        .collect();
    (kept, refused)
}

pub(super) fn cost_candidates(
    client: &mut Client,
    whatif: &mut WhatIf,
    analyzed: &[Analyzed],
    candidates: &[(Bundle, Vec<String>)],
) -> Result<(Vec<Costed>, Vec<RejectedCandidate>), AdviseError> {
    let mut out = Vec::new();
    let mut refused = Vec::new();
    for (bundle, origins) in candidates {
        let affected = affected(analyzed, &bundle[0]);
        let statements: Vec<&Statement> = affected.iter().map(|a| &a.statement).collect();
        let result = match whatif.evaluate(client, bundle, &statements) {
            Ok(result) => result,
            Err(AdviseError::Database(error)) if error.as_db_error().is_some() => {
                let reason = RejectReason::BuildFailed {
                    message: crate::pg::describe(&error),
                };
                refused.push(RejectedCandidate {
                    spec: bundle[0].clone(),
                    queries: origins.clone(),
                    explanation: reason_sentence(&reason),
                    reason,
                });
                continue;
            }
            Err(other) => return Err(other),
        };
        let mut costs = BTreeMap::new();
        for (entry, costing) in affected.iter().zip(&result.costings) {
            if let (Ok(costing), Ok(baseline)) = (costing, &entry.baseline) {
                let cost = if costing.uses.is_empty() {
                    *baseline
                } else {
                    costing.cost
                };
                costs.insert(entry.statement.name.clone(), cost);
            }
        }
        out.push(Costed {
            spec: bundle[0].clone(),
            companions: bundle[1..].to_vec(),
            origins: origins.clone(),
            estimated_size_bytes: result.sizes_bytes.iter().sum(),
            costs,
        });
    }
    Ok((out, refused))
}

pub(super) fn affected<'a>(analyzed: &'a [Analyzed], spec: &IndexSpec) -> Vec<&'a Analyzed> {
    let key = (spec.schema.clone(), spec.table.clone());
    analyzed
        .iter()
        .filter(|a| a.tables.contains(&key) && a.baseline.is_ok())
        .collect()
}

pub(super) fn selection_input(
    client: &mut Client,
    tables: &Tables,
    analyzed: &[Analyzed],
    candidates: Vec<Costed>,
    options: &AdviseOptions,
) -> Result<SelectionInput, AdviseError> {
    let mut input = SelectionInput {
        candidates,
        budget_bytes: options.budget_bytes,
        ..SelectionInput::default()
    };
    for entry in analyzed {
        if let Ok(cost) = entry.baseline {
            input.queries.insert(
                entry.statement.name.clone(),
                QueryBaseline {
                    weight: entry.statement.weight,
                    cost,
                },
            );
        }
    }
    for (key, (relation, facts)) in &tables.relations {
        let (recorded_writes, recorded_scans) = catalog::recorded_load(client, relation)?;
        let writers: Vec<f64> = analyzed
            .iter()
            .filter_map(|a| Some(a.statement.weight * a.written.get(key)?))
            .collect();
        let load = TableLoad {
            rows: facts.rows,
            workload_writes: (!writers.is_empty()).then(|| writers.iter().sum()),
            workload_reads: analyzed
                .iter()
                .filter(|a| !a.writes && a.tables.contains(key))
                .map(|a| a.statement.weight)
                .sum(),
            recorded_writes,
            recorded_scans,
        };
        input.tables.insert(key.clone(), load);
        let existing = catalog::existing_indexes(client, relation)?;
        input
            .existing
            .extend(existing.into_iter().map(|e| e.existing));
    }
    Ok(input)
}
