//! Step 4: the chosen set costed together as recommendations, with their migration DDL.

use postgres::Client;

use super::Analyzed;
use super::reasons::explain_rejection;
use crate::advise::AdviseError;
use crate::advise::catalog;
use crate::advise::ddl::{PartitionLayout, create_concurrently, create_on_partitioned, index_name};
use crate::advise::select::{self, Costed, SelectionInput};
use crate::advise::session::Statement;
use crate::advise::whatif::WhatIf;
use crate::model::advice::{
    IndexSpec, QueryEffect, Recommendation, RejectReason, RejectedCandidate,
};

/// The chosen set costed together: which statements use which index, at what cost.
pub(super) fn recommend(
    client: &mut Client,
    whatif: &mut WhatIf,
    analyzed: &[Analyzed],
    input: &SelectionInput,
    selection: &select::Selection,
) -> Result<Vec<Recommendation>, AdviseError> {
    let bundles: Vec<(&select::Chosen, IndexSpec)> = selection
        .chosen
        .iter()
        .flat_map(|c| {
            input.candidates[c.candidate]
                .specs()
                .into_iter()
                .map(move |s| (c, s))
        })
        .collect();
    let specs: Vec<IndexSpec> = bundles.iter().map(|(_, s)| s.clone()).collect();
    if specs.is_empty() {
        return Ok(Vec::new());
    }
    let entries: Vec<&Analyzed> = analyzed.iter().filter(|a| a.baseline.is_ok()).collect();
    let statements: Vec<&Statement> = entries.iter().map(|a| &a.statement).collect();
    let together = whatif.evaluate(client, &specs, &statements)?;
    let mut out = Vec::new();
    for (position, (chosen, spec)) in bundles.iter().enumerate() {
        let name = index_name(spec);
        let mut effects = Vec::new();
        for (entry, costing) in entries.iter().zip(&together.costings) {
            let (Ok(costing), Ok(before)) = (costing, &entry.baseline) else {
                continue;
            };
            if costing.uses.contains(&position) {
                effects.push(QueryEffect {
                    query: entry.statement.name.clone(),
                    cost_before: *before,
                    cost_after: costing.cost,
                    p95_before: None,
                    p95_after: None,
                    samples_before_us: Vec::new(),
                    samples_after_us: Vec::new(),
                    evidence: None,
                });
            }
        }
        let serves: Vec<String> = effects.iter().map(|e| e.query.clone()).collect();
        let (ddl, partitions) = migration_ddl(client, spec, &name)?;
        out.push(Recommendation {
            ddl,
            partitions,
            name,
            spec: spec.clone(),
            serves: if serves.is_empty() {
                chosen.serves.clone()
            } else {
                serves
            },
            estimated_size_bytes: together.sizes_bytes[position],
            size_bytes: None,
            benefit: chosen.benefit,
            effects,
        });
    }
    Ok(out)
}

pub(super) fn rejected_candidate(
    candidate: &Costed,
    reason: RejectReason,
    input: &SelectionInput,
) -> RejectedCandidate {
    let explanation = explain_rejection(&reason, candidate, input);
    RejectedCandidate {
        spec: candidate.spec.clone(),
        queries: candidate.origins.clone(),
        reason,
        explanation,
    }
}

/// The migration's statement for one index and the partitions it covers: concurrently on a
/// plain table; on a partitioned table, on the parent (`create_on_partitioned` says why).
fn migration_ddl(
    client: &mut Client,
    spec: &IndexSpec,
    name: &str,
) -> Result<(String, Vec<String>), AdviseError> {
    let children = catalog::partitions(client, &spec.schema, &spec.table)?;
    let names: Vec<String> = children
        .iter()
        .map(|(s, t, _)| format!("{s}.{t}"))
        .collect();
    if children.is_empty() {
        return Ok((create_concurrently(spec, name), names));
    }
    let heap_bytes = catalog::partitioned_heap_bytes(client, &spec.schema, &spec.table)?;
    let as_of = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let nested = children.iter().any(|(_, _, nested)| *nested);
    let partitions: Vec<(String, String)> = children.into_iter().map(|(s, t, _)| (s, t)).collect();
    let layout = PartitionLayout {
        partitions: &partitions,
        nested,
        heap_bytes,
        as_of: &as_of,
    };
    Ok((create_on_partitioned(spec, name, &layout), names))
}
