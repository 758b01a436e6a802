//! Step 3: selection in greedy rounds, each costing the open candidates again on top of the
//! indexes chosen so far.

use std::collections::BTreeMap;

use postgres::Client;

use super::Analyzed;
use super::costing::affected;
use crate::advise::AdviseError;
use crate::advise::ddl::index_name;
use crate::advise::keylist::{self, same_keys};
use crate::advise::select::{self, Costed, SelectionInput};
use crate::advise::session::Statement;
use crate::advise::whatif::WhatIf;
use crate::model::advice::{IndexSpec, RejectReason};

/// Greedy rounds: after each round the open candidates are costed again on top of the indexes
/// chosen so far, so an index that only pays off next to another one (both sides of a join)
/// is found; single-candidate costs cannot see that.
const SELECTION_ROUNDS: usize = 3;

pub(super) fn select_in_rounds(
    client: &mut Client,
    whatif: &mut WhatIf,
    analyzed: &[Analyzed],
    input: &SelectionInput,
) -> Result<select::Selection, AdviseError> {
    let mut result = select::Selection::default();
    let mut round = input.clone();
    let mut ids: Vec<usize> = (0..input.candidates.len()).collect();
    for number in 1..=SELECTION_ROUNDS {
        let selection = select::select(&round);
        let last = number == SELECTION_ROUNDS || selection.chosen.is_empty();
        for chosen in &selection.chosen {
            let size = round.candidates[chosen.candidate].estimated_size_bytes;
            round.budget_bytes = round.budget_bytes.map(|b| b.saturating_sub(size));
            result.chosen.push(select::Chosen {
                candidate: ids[chosen.candidate],
                ..chosen.clone()
            });
        }
        let (open, closed): (Vec<_>, Vec<_>) = selection.rejected.into_iter().partition(|r| {
            !last
                && matches!(
                    r.reason,
                    RejectReason::Superseded { .. } | RejectReason::NoPlanImprovement { .. }
                )
        });
        record_final(input, &mut result, &ids, closed);
        if open.is_empty() {
            break;
        }
        let chosen: Vec<IndexSpec> = result
            .chosen
            .iter()
            .flat_map(|c| input.candidates[c.candidate].specs())
            .collect();
        rebase(client, whatif, analyzed, &chosen, &mut round)?;
        round.existing = input.existing.clone();
        round
            .existing
            .extend(chosen.iter().map(|spec| select::Existing {
                name: index_name(spec),
                spec: spec.clone(),
            }));
        let mut next = Vec::new();
        let mut next_ids = Vec::new();
        for rejected in open {
            let candidate = &round.candidates[rejected.candidate];
            next.push(recost(
                client, whatif, analyzed, &chosen, candidate, &round,
            )?);
            next_ids.push(ids[rejected.candidate]);
        }
        round.candidates = next;
        ids = next_ids;
    }
    drop_covered_by_wider(input, &mut result);
    // A later round chose a twin on top of an earlier choice (an index-only scan saving more
    // on one query): one of them is kept.
    keylist::one_per_key_list(input, &mut result);
    result.rejected.sort_by_key(|r| r.candidate);
    Ok(result)
}

/// Records final rejections of a round under their original candidate numbers; "covered" by
/// an index chosen in an earlier round reads as superseded by it, and so does a candidate
/// with the same keys as a chosen one (an INCLUDE variant), which recosted on top of its twin
/// saves nothing: "the condition keeps too many rows" would be wrong.
fn record_final(
    input: &SelectionInput,
    result: &mut select::Selection,
    ids: &[usize],
    closed: Vec<select::Rejected>,
) {
    let chosen_names: Vec<String> = result
        .chosen
        .iter()
        .map(|c| index_name(&input.candidates[c.candidate].spec))
        .collect();
    let twin = |candidate: usize| {
        let own = &input.candidates[candidate].spec;
        result
            .chosen
            .iter()
            .map(|c| &input.candidates[c.candidate].spec)
            .find(|spec| *spec != own && same_keys(spec, own))
            .map(index_name)
    };
    let rejected: Vec<select::Rejected> = closed
        .into_iter()
        .map(|r| select::Rejected {
            candidate: ids[r.candidate],
            reason: match (r.reason, twin(ids[r.candidate])) {
                (RejectReason::AlreadyCovered { index }, _) if chosen_names.contains(&index) => {
                    RejectReason::Superseded { by: index }
                }
                (RejectReason::NoPlanImprovement { .. }, Some(by)) => {
                    RejectReason::Superseded { by }
                }
                (other, _) => other,
            },
        })
        .collect();
    result.rejected.extend(rejected);
}

/// A later round can choose a wider index whose leading keys are an earlier choice: the
/// narrower one then adds nothing but writes and space (prefix rule) and is superseded.
fn drop_covered_by_wider(input: &SelectionInput, result: &mut select::Selection) {
    let specs: Vec<&IndexSpec> = result
        .chosen
        .iter()
        .map(|c| &input.candidates[c.candidate].spec)
        .collect();
    let mut superseded = Vec::new();
    for (position, chosen) in result.chosen.iter().enumerate() {
        let wider = specs.iter().enumerate().find(|(other, spec)| {
            *other != position
                && spec.keys.len() > specs[position].keys.len()
                && select::covers(spec, specs[position])
        });
        if let Some((_, spec)) = wider {
            superseded.push((chosen.candidate, index_name(spec)));
        }
    }
    result.chosen.retain(|c| {
        !superseded
            .iter()
            .any(|(candidate, _)| *candidate == c.candidate)
    });
    result.rejected.extend(
        superseded
            .into_iter()
            .map(|(candidate, by)| select::Rejected {
                candidate,
                reason: RejectReason::Superseded { by },
            }),
    );
}

/// Query costs with the chosen indexes become the new baseline.
pub(super) fn rebase(
    client: &mut Client,
    whatif: &mut WhatIf,
    analyzed: &[Analyzed],
    chosen: &[IndexSpec],
    round: &mut SelectionInput,
) -> Result<(), AdviseError> {
    let entries: Vec<&Analyzed> = analyzed.iter().filter(|a| a.baseline.is_ok()).collect();
    let statements: Vec<&Statement> = entries.iter().map(|a| &a.statement).collect();
    let result = whatif.evaluate(client, chosen, &statements)?;
    for (entry, costing) in entries.iter().zip(&result.costings) {
        if let (Ok(costing), Some(query)) = (costing, round.queries.get_mut(&entry.statement.name))
        {
            query.cost = query.cost.min(costing.cost);
        }
    }
    Ok(())
}

/// A candidate's costs on top of the chosen indexes.
pub(super) fn recost(
    client: &mut Client,
    whatif: &mut WhatIf,
    analyzed: &[Analyzed],
    chosen: &[IndexSpec],
    candidate: &Costed,
    round: &SelectionInput,
) -> Result<Costed, AdviseError> {
    let affected = affected(analyzed, &candidate.spec);
    let statements: Vec<&Statement> = affected.iter().map(|a| &a.statement).collect();
    let mut specs = chosen.to_vec();
    specs.extend(candidate.specs());
    let result = whatif.evaluate(client, &specs, &statements)?;
    let mut costs = BTreeMap::new();
    for (entry, costing) in affected.iter().zip(&result.costings) {
        let name = &entry.statement.name;
        let (Ok(costing), Some(query)) = (costing, round.queries.get(name)) else {
            continue;
        };
        let uses_it = costing.uses.iter().any(|u| *u >= chosen.len());
        costs.insert(
            name.clone(),
            if uses_it { costing.cost } else { query.cost },
        );
    }
    Ok(Costed {
        costs,
        ..candidate.clone()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::advice::IndexKey;

    fn costed(keys: &[&str]) -> Costed {
        Costed {
            spec: IndexSpec {
                schema: "s".into(),
                table: "t".into(),
                keys: keys
                    .iter()
                    .map(|k| IndexKey {
                        sql: format!("\"{k}\""),
                        descending: false,
                    })
                    .collect(),
                include: vec![],
                predicate: None,
                method: Default::default(),
            },
            companions: vec![],
            origins: vec![],
            estimated_size_bytes: 1,
            costs: BTreeMap::new(),
        }
    }

    /// Issue 15: INCLUDE variants of a chosen index were rejected as "keeps too many rows".
    #[test]
    fn an_include_variant_of_a_chosen_index_is_superseded_not_useless() {
        let mut with_include = costed(&["team_id"]);
        with_include.spec.include = vec!["\"total\"".into()];
        let input = SelectionInput {
            candidates: vec![costed(&["team_id"]), with_include, costed(&["other"])],
            ..SelectionInput::default()
        };
        let mut selection = select::Selection {
            chosen: vec![select::Chosen {
                candidate: 0,
                benefit: 1.0,
                serves: vec![],
            }],
            rejected: vec![],
        };
        let useless = |candidate| select::Rejected {
            candidate,
            reason: RejectReason::NoPlanImprovement {
                best_saving_pct: 0.0,
            },
        };
        record_final(
            &input,
            &mut selection,
            &[0, 1, 2],
            vec![useless(1), useless(2)],
        );
        assert!(matches!(
            &selection.rejected[0].reason,
            RejectReason::Superseded { by } if by.starts_with("t_team_id")
        ));
        assert!(matches!(
            selection.rejected[1].reason,
            RejectReason::NoPlanImprovement { .. }
        ));
    }

    #[test]
    fn a_later_wider_choice_supersedes_its_prefix() {
        let input = SelectionInput {
            candidates: vec![costed(&["team_id"]), costed(&["team_id", "created_at"])],
            ..SelectionInput::default()
        };
        let chosen = |candidate| select::Chosen {
            candidate,
            benefit: 1.0,
            serves: vec![],
        };
        let mut selection = select::Selection {
            chosen: vec![chosen(0), chosen(1)],
            rejected: vec![],
        };
        drop_covered_by_wider(&input, &mut selection);
        assert_eq!(selection.chosen, vec![chosen(1)]);
        assert!(matches!(
            &selection.rejected[0].reason,
            RejectReason::Superseded { by } if by.starts_with("t_team_id_created_at")
        ));
    }
}
