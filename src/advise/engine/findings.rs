//! Step 6: what the advice says per query (uses, notes), about existing indexes, and the
//! run's notes.

use postgres::Client;

use super::{Analyzed, Tables};
use crate::advise::AdviseError;
use crate::advise::catalog::{self, ExistingIndex};
use crate::advise::ddl::index_name;
use crate::advise::select;
use crate::model::advice::{
    ExistingIndexFinding, ExistingIndexIssue, PlanMode, QueryAdvice, QueryEffect, Recommendation,
    RejectReason, RejectedCandidate, SERVER_REJECTED_NOTE, WhatIfMethod,
};

pub(super) fn query_advice(
    analyzed: &[Analyzed],
    recommendations: &[Recommendation],
    tables: &Tables,
) -> Vec<QueryAdvice> {
    analyzed
        .iter()
        .enumerate()
        .filter(|(_, a)| a.top_level)
        .map(|(position, entry)| {
            let name = &entry.statement.name;
            let effects: Vec<(&Recommendation, &QueryEffect)> = recommendations
                .iter()
                .flat_map(|r| r.effects.iter().map(move |e| (r, e)))
                .filter(|(_, e)| e.query == *name)
                .collect();
            let first = effects.first().map(|(_, e)| *e);
            QueryAdvice {
                name: name.clone(),
                weight: entry.statement.weight,
                plan_mode: if entry.statement.generic() {
                    PlanMode::Generic
                } else {
                    PlanMode::Custom
                },
                cost_before: entry.baseline.as_ref().ok().copied(),
                cost_after: first
                    .map(|e| e.cost_after)
                    .or(entry.baseline.as_ref().ok().copied()),
                p95_before: first.and_then(|e| e.p95_before),
                p95_after: first.and_then(|e| e.p95_after),
                uses: effects.iter().map(|(r, _)| r.name.clone()).collect(),
                note: match &entry.baseline {
                    Err(e) => Some(format!("{SERVER_REJECTED_NOTE}{e}")),
                    Ok(_) if effects.is_empty() => unfixable(&analyzed[position..], tables),
                    Ok(_) => None,
                },
            }
        })
        .collect()
}

/// A query no recommended index serves while a candidate from it was refused for the storage
/// budget says so, with how much more budget the cheapest of them needs, instead of "no
/// index helps" (which would send its owner to a rollup that an index within budget avoids).
pub(super) fn refused_for_budget(queries: &mut [QueryAdvice], rejected: &[RejectedCandidate]) {
    for query in queries
        .iter_mut()
        .filter(|q| q.uses.is_empty() && q.cost_before.is_some())
    {
        let cheapest = rejected
            .iter()
            .filter(|r| r.queries.contains(&query.name))
            .filter_map(|r| match r.reason {
                RejectReason::OverBudget {
                    size_bytes,
                    remaining_bytes,
                } => Some((
                    size_bytes.saturating_sub(remaining_bytes),
                    size_bytes,
                    &r.spec,
                )),
                _ => None,
            })
            .min_by_key(|(missing, _, _)| *missing);
        if let Some((missing, size, spec)) = cheapest {
            query.note = Some(format!(
                "candidates refused for the storage budget (needs {} MB more): raise --budget-mb; the cheapest, {}, is about {}",
                missing.div_ceil(1024 * 1024).max(1),
                index_name(spec),
                crate::advise::ddl::format_bytes(size)
            ));
        }
    }
}

/// Sequential scans above this many rows that no index removes get a written remedy.
const LARGE_SCAN_ROWS: f64 = 100_000.0;

/// Why no index helps a query that still scans a large table (itself or in the statements
/// derived from it, which follow it in `group`), and the fix it needs.
fn unfixable(group: &[Analyzed], tables: &Tables) -> Option<String> {
    let (relation, rows) = group
        .iter()
        .enumerate()
        .take_while(|(i, a)| *i == 0 || !a.top_level)
        .filter_map(|(_, a)| a.largest_scan.as_ref())
        .max_by(|a, b| a.1.total_cmp(&b.1))?;
    let share = tables
        .relations
        .iter()
        .find(|((_, name), _)| name == relation)
        .map(|(_, (_, facts))| facts.rows)
        .filter(|total| *total > 0.0)
        .map(|total| {
            format!(
                ", {:.0}% of its {total:.0} rows",
                (100.0 * rows / total).min(100.0)
            )
        })
        .unwrap_or_default();
    (*rows >= LARGE_SCAN_ROWS).then(|| {
        format!(
            "no index helps: the plan reads about {rows:.0} rows of {relation}{share}; precompute it in a rollup table or materialized view refreshed by the nightly job, or narrow the query (a time window, a LIMIT)"
        )
    })
}

pub(super) fn existing_findings(
    client: &mut Client,
    tables: &Tables,
) -> Result<Vec<ExistingIndexFinding>, AdviseError> {
    let mut out = Vec::new();
    for (relation, _) in tables.relations.values() {
        let indexes = catalog::existing_indexes(client, relation)?;
        for index in &indexes {
            if let Some(issue) = existing_issue(index, &indexes) {
                out.push(ExistingIndexFinding {
                    schema: relation.schema.clone(),
                    table: relation.name.clone(),
                    index: index.existing.name.clone(),
                    issue,
                    size_bytes: index.size_bytes,
                });
            }
        }
    }
    Ok(out)
}

fn existing_issue(index: &ExistingIndex, all: &[ExistingIndex]) -> Option<ExistingIndexIssue> {
    if index.unique {
        return None;
    }
    let wider = all.iter().find(|other| {
        other.existing.name != index.existing.name
            && select::covers(&other.existing.spec, &index.existing.spec)
            && (other.existing.spec.keys.len() > index.existing.spec.keys.len()
                || other.existing.name < index.existing.name)
    });
    match wider {
        Some(other) => Some(ExistingIndexIssue::Duplicate {
            of: other.existing.name.clone(),
        }),
        None if index.scans == 0 => Some(ExistingIndexIssue::Unused),
        None => None,
    }
}

pub(super) fn notes(analyzed: &[Analyzed], method: WhatIfMethod) -> Vec<String> {
    let mut notes = Vec::new();
    if method == WhatIfMethod::RealBuild {
        notes.push("HypoPG is not installed, or the database is Citus (its workers never see hypothetical indexes): each candidate was built for real inside a rolled-back transaction (slower, and it blocks writes to the table while it builds)".into());
    }
    for entry in analyzed {
        if let Some(why) = &entry.uncaptured {
            notes.push(format!(
                "{} calls a function that builds SQL at run time (EXECUTE), which could not be captured: {why}; indexes for that SQL are not proposed",
                entry.statement.name
            ));
        }
    }
    let generic: Vec<&str> = analyzed
        .iter()
        .filter(|a| a.statement.generic())
        .map(|a| a.statement.name.as_str())
        .collect();
    if !generic.is_empty() {
        notes.push(format!(
            "no parameter values for {}: costed with a generic plan (PREPARE + plan_cache_mode = force_generic_plan), which can pick the wrong index for skewed values",
            generic.join(", ")
        ));
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::advice::{IndexKey, IndexSpec};

    fn refused(column: &str, reason: RejectReason) -> RejectedCandidate {
        RejectedCandidate {
            spec: IndexSpec {
                schema: "public".into(),
                table: "events".into(),
                keys: vec![IndexKey {
                    sql: format!("\"{column}\""),
                    descending: false,
                }],
                include: vec![],
                predicate: None,
                method: Default::default(),
            },
            queries: vec!["by_device".into()],
            explanation: String::new(),
            reason,
        }
    }

    #[test]
    fn a_query_refused_only_for_budget_says_how_much_more_it_needs() {
        let mut queries = vec![QueryAdvice {
            name: "by_device".into(),
            weight: 1.0,
            plan_mode: PlanMode::Custom,
            cost_before: Some(4_000.0),
            cost_after: Some(4_000.0),
            p95_before: None,
            p95_after: None,
            uses: vec![],
            note: Some("no index helps: the plan reads about 200000 rows".into()),
        }];
        let over = |size_bytes, remaining_bytes| RejectReason::OverBudget {
            size_bytes,
            remaining_bytes,
        };
        let rejected = vec![
            refused("device", over(4 * 1024 * 1024, 1024 * 1024)),
            refused("device_id", over(9 * 1024 * 1024, 1024 * 1024)),
            refused(
                "note",
                RejectReason::NoPlanImprovement {
                    best_saving_pct: 1.0,
                },
            ),
        ];
        refused_for_budget(&mut queries, &rejected);
        let note = queries[0].note.as_deref().expect("a note");
        assert!(
            note.starts_with("candidates refused for the storage budget (needs 3 MB more): raise --budget-mb; the cheapest, events_device_"),
            "{note}"
        );
        assert!(!note.contains("no index helps"), "{note}");
    }
}
