//! One index per key list (pure). Two indexes on one table with the same key columns (same
//! expressions, order and directions, same method and predicate) serve the same lookups: a
//! selection round costs a candidate on top of the indexes chosen before it, so an INCLUDE
//! variant whose index-only scan saves a little more on one query is chosen next to its plain
//! twin, and the advice would build both. After the rounds one of them is kept: the narrower
//! unless the wider one's index-only scan pays ([`pays_over`]); the others are superseded by it.

use super::ddl::index_name;
use super::select::{self, Costed, MIN_SAVING_SHARE, Rejected, Selection, SelectionInput};
use crate::model::advice::{IndexSpec, RejectReason};

/// The same key expressions in the same order, on the same table with the same method and
/// predicate, whatever their INCLUDE columns; directions the same or all reversed (a B-tree
/// scans backwards as well).
pub fn same_keys(a: &IndexSpec, b: &IndexSpec) -> bool {
    let pairs = || a.keys.iter().zip(&b.keys);
    (&a.schema, &a.table, a.method, &a.predicate) == (&b.schema, &b.table, b.method, &b.predicate)
        && a.keys.len() == b.keys.len()
        && pairs().all(|(x, y)| x.sql == y.sql)
        && (pairs().all(|(x, y)| x.descending == y.descending)
            || pairs().all(|(x, y)| x.descending != y.descending))
}

/// `wider` in place of its twin `narrower` pays: some query costs at least
/// [`MIN_SAVING_SHARE`] less with it than with the narrower one (an index-only scan where the
/// narrower one visits the heap), and the workload saves more with it, its writes deducted.
/// Both are costed alone on the same baseline.
pub fn pays_over(input: &SelectionInput, wider: &Costed, narrower: &Costed) -> bool {
    let clearly_cheaper = wider.costs.iter().any(|(query, cost)| {
        narrower
            .costs
            .get(query)
            .is_some_and(|theirs| *cost <= theirs * (1.0 - MIN_SAVING_SHARE))
    });
    clearly_cheaper && select::net_benefit(input, wider) > select::net_benefit(input, narrower)
}

/// Keeps one chosen index per key list. The kept one takes over the queries its twins served
/// and the benefit they were chosen for; the twins are rejected as superseded by it.
pub fn one_per_key_list(input: &SelectionInput, selection: &mut Selection) {
    let superseded = twins_to_drop(input, selection);
    for &(position, kept) in &superseded {
        let twin = selection.chosen[position].clone();
        let kept = &mut selection.chosen[kept];
        kept.benefit += twin.benefit;
        for query in twin.serves {
            if !kept.serves.contains(&query) {
                kept.serves.push(query);
            }
        }
    }
    let rejected: Vec<Rejected> = superseded
        .iter()
        .map(|&(position, kept)| Rejected {
            candidate: selection.chosen[position].candidate,
            reason: RejectReason::Superseded {
                by: index_name(&input.candidates[selection.chosen[kept].candidate].spec),
            },
        })
        .collect();
    selection
        .chosen
        .retain(|c| !rejected.iter().any(|r| r.candidate == c.candidate));
    selection.rejected.extend(rejected);
}

/// `(twin, kept)` positions in `selection.chosen`, for every group of twins.
fn twins_to_drop(input: &SelectionInput, selection: &Selection) -> Vec<(usize, usize)> {
    let spec = |position: usize| &input.candidates[selection.chosen[position].candidate].spec;
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for position in 0..selection.chosen.len() {
        match groups
            .iter_mut()
            .find(|group| same_keys(spec(group[0]), spec(position)))
        {
            Some(group) => group.push(position),
            None => groups.push(vec![position]),
        }
    }
    let mut superseded = Vec::new();
    for group in groups.iter().filter(|group| group.len() > 1) {
        let kept = keeper(input, selection, group);
        superseded.extend(group.iter().filter(|p| **p != kept).map(|p| (*p, kept)));
    }
    superseded
}

/// The twin to keep (a position in `selection.chosen`): from the narrowest up, a wider one
/// replaces the one kept so far only when it pays over it.
fn keeper(input: &SelectionInput, selection: &Selection, group: &[usize]) -> usize {
    let costed = |position: usize| &input.candidates[selection.chosen[position].candidate];
    let mut narrowest_first = group.to_vec();
    narrowest_first.sort_by_key(|p| {
        let c = costed(*p);
        (c.spec.include.len(), c.estimated_size_bytes)
    });
    narrowest_first
        .into_iter()
        .reduce(|kept, other| {
            if pays_over(input, costed(other), costed(kept)) {
                other
            } else {
                kept
            }
        })
        .expect("groups of twins have two members or more")
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::advise::select::{Chosen, QueryBaseline, TableLoad};
    use crate::model::advice::IndexKey;

    /// A candidate on `t (device)` with these INCLUDE columns, size and costs alone.
    fn costed(include: &[&str], size: u64, costs: &[(&str, f64)]) -> Costed {
        Costed {
            spec: IndexSpec {
                schema: "public".into(),
                table: "t".into(),
                keys: vec![IndexKey {
                    sql: "\"device\"".into(),
                    descending: false,
                }],
                include: include.iter().map(|c| format!("\"{c}\"")).collect(),
                predicate: None,
                method: Default::default(),
            },
            companions: vec![],
            origins: vec![],
            estimated_size_bytes: size,
            costs: costs.iter().map(|(q, c)| (q.to_string(), *c)).collect(),
        }
    }

    /// `lookup` (10 rows, wants `note`) and `range` (2,000 rows of every column), 4,000 each
    /// by a sequential scan.
    fn input(candidates: Vec<Costed>) -> SelectionInput {
        let query = |cost| QueryBaseline { weight: 1.0, cost };
        SelectionInput {
            candidates,
            queries: BTreeMap::from([
                ("lookup".into(), query(4_000.0)),
                ("range".into(), query(4_000.0)),
            ]),
            tables: BTreeMap::from([(
                ("public".into(), "t".into()),
                TableLoad {
                    rows: 200_000.0,
                    ..TableLoad::default()
                },
            )]),
            ..SelectionInput::default()
        }
    }

    /// What the rounds chose: the plain index first (smaller, within 2% of the benefit), its
    /// INCLUDE twin on top of it in the next round.
    fn both_chosen() -> Selection {
        let chosen = |candidate, benefit, serves: &[&str]| Chosen {
            candidate,
            benefit,
            serves: serves.iter().map(|q| q.to_string()).collect(),
        };
        Selection {
            chosen: vec![
                chosen(0, 6_331.0, &["lookup", "range"]),
                chosen(1, 38.0, &["lookup"]),
            ],
            rejected: vec![],
        }
    }

    fn names(input: &SelectionInput, selection: &Selection) -> Vec<String> {
        selection
            .chosen
            .iter()
            .map(|c| index_name(&input.candidates[c.candidate].spec))
            .collect()
    }

    #[test]
    fn the_include_twin_is_kept_alone_when_its_index_only_scan_pays() {
        let input = input(vec![
            costed(&[], 1_000, &[("lookup", 42.0), ("range", 1_627.0)]),
            costed(&["note"], 1_500, &[("lookup", 4.0), ("range", 1_651.0)]),
        ]);
        let mut selection = both_chosen();
        one_per_key_list(&input, &mut selection);
        let include = index_name(&input.candidates[1].spec);
        assert_eq!(names(&input, &selection), std::slice::from_ref(&include));
        assert_eq!(selection.chosen[0].serves, ["lookup", "range"]);
        assert_eq!(selection.chosen[0].benefit, 6_369.0);
        assert_eq!(
            selection.rejected,
            [Rejected {
                candidate: 0,
                reason: RejectReason::Superseded { by: include },
            }]
        );
    }

    #[test]
    fn the_narrower_twin_is_kept_when_the_index_only_scan_costs_the_workload_more() {
        // The lookup saves 38, the wider index costs the range 60 more.
        let input = input(vec![
            costed(&[], 1_000, &[("lookup", 42.0), ("range", 1_627.0)]),
            costed(&["note"], 1_500, &[("lookup", 4.0), ("range", 1_687.0)]),
        ]);
        let mut selection = both_chosen();
        one_per_key_list(&input, &mut selection);
        let plain = index_name(&input.candidates[0].spec);
        assert_eq!(names(&input, &selection), std::slice::from_ref(&plain));
        assert_eq!(
            selection.rejected[0].reason,
            RejectReason::Superseded { by: plain }
        );
        // Cheaper by less than 10% on every query: no index-only scan that pays.
        let barely = costed(&["note"], 1_500, &[("lookup", 40.0), ("range", 1_500.0)]);
        assert!(!pays_over(&input, &barely, &input.candidates[0]));
    }

    #[test]
    fn other_key_lists_and_other_predicates_are_not_twins() {
        let plain = costed(&[], 1_000, &[("lookup", 42.0)]);
        let mut two_keys = plain.clone();
        two_keys.spec.keys.push(IndexKey {
            sql: "\"zone\"".into(),
            descending: false,
        });
        let mut partial = plain.clone();
        partial.spec.predicate = Some("\"zone\" = 1".into());
        for other in [&two_keys, &partial] {
            assert!(!same_keys(&plain.spec, &other.spec), "{:?}", other.spec);
        }
        let mut descending = plain.clone();
        descending.spec.keys[0].descending = true;
        assert!(
            same_keys(&plain.spec, &descending.spec),
            "scanned backwards"
        );
        let input = input(vec![plain, two_keys, partial]);
        let mut selection = both_chosen();
        selection.chosen.push(Chosen {
            candidate: 2,
            benefit: 1.0,
            serves: vec![],
        });
        one_per_key_list(&input, &mut selection);
        assert_eq!(selection.chosen.len(), 3);
        assert!(selection.rejected.is_empty());
    }
}
