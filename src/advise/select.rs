//! Workload-wide selection (pure): which candidates to recommend, given what each one does to
//! each query's planner cost. Greedy on marginal benefit (Σ weight × cost saved beyond what the
//! indexes already chosen save), so one multi-column index that serves two queries wins over
//! two single ones, and near-duplicates of a chosen index add nothing and are rejected with it
//! named. Existing indexes cover candidates by the prefix rule. Every rejection keeps a reason.

use std::collections::BTreeMap;

use super::keylist::same_keys;
use super::writecost::write_cost;
use crate::model::advice::{IndexMethod, IndexSpec, RejectReason};

/// A query counts as served when an index cuts its planner cost by at least this share.
pub const MIN_SAVING_SHARE: f64 = 0.10;
/// Tables with fewer rows never get an index: a sequential scan is as good.
pub const TINY_TABLE_ROWS: f64 = 1_000.0;

/// A candidate with its what-if evidence.
#[derive(Debug, Clone, PartialEq)]
pub struct Costed {
    pub spec: IndexSpec,
    /// Indexes that only pay off together with `spec` (one per OR branch, for a bitmap OR);
    /// costed, sized and recommended together.
    pub companions: Vec<IndexSpec>,
    /// Queries the candidate came from.
    pub origins: Vec<String>,
    pub estimated_size_bytes: u64,
    /// Planner cost of each affected query with this index alone (on top of existing ones).
    pub costs: BTreeMap<String, f64>,
}

impl Costed {
    /// `spec` followed by its companions.
    pub fn specs(&self) -> Vec<IndexSpec> {
        std::iter::once(self.spec.clone())
            .chain(self.companions.iter().cloned())
            .collect()
    }
}

/// A workload query's weight and its planner cost with the existing indexes only.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryBaseline {
    pub weight: f64,
    pub cost: f64,
}

/// Facts about a table that decide selection; the write cost reads them (`writecost.rs`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TableLoad {
    pub rows: f64,
    /// Rows the workload's own writes insert, update or delete per session (Σ weight × rows
    /// per execution); `None` when no workload statement writes the table.
    pub workload_writes: Option<f64>,
    /// Executions per session of the workload's statements that read the table.
    pub workload_reads: f64,
    /// `pg_stat_user_tables` since its last reset: rows written beyond the table's size, and
    /// scans (sequential + index).
    pub recorded_writes: i64,
    pub recorded_scans: i64,
}

/// An index that exists already, with its name.
#[derive(Debug, Clone, PartialEq)]
pub struct Existing {
    pub name: String,
    pub spec: IndexSpec,
}

/// Everything selection decides on.
#[derive(Debug, Clone, Default)]
pub struct SelectionInput {
    pub candidates: Vec<Costed>,
    pub queries: BTreeMap<String, QueryBaseline>,
    /// Keyed by `(schema, table)`.
    pub tables: BTreeMap<(String, String), TableLoad>,
    pub existing: Vec<Existing>,
    pub budget_bytes: Option<u64>,
}

/// A chosen candidate (index into `candidates`) with its benefit and the queries it serves.
#[derive(Debug, Clone, PartialEq)]
pub struct Chosen {
    pub candidate: usize,
    pub benefit: f64,
    pub serves: Vec<String>,
}

/// A rejected candidate (index into `candidates`).
#[derive(Debug, Clone, PartialEq)]
pub struct Rejected {
    pub candidate: usize,
    pub reason: RejectReason,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Selection {
    pub chosen: Vec<Chosen>,
    pub rejected: Vec<Rejected>,
}

/// True when `existing` serves every lookup `candidate` serves: same table, the candidate's keys
/// are a prefix of the existing keys (all in the same direction or all reversed), the existing
/// index is not more partial, and its columns include the candidate's INCLUDE columns.
pub fn covers(existing: &IndexSpec, candidate: &IndexSpec) -> bool {
    if existing.schema != candidate.schema
        || existing.table != candidate.table
        || existing.method != candidate.method
    {
        return false;
    }
    if candidate.keys.len() > existing.keys.len() {
        return false;
    }
    let pairs = || candidate.keys.iter().zip(&existing.keys);
    let same_expressions = pairs().all(|(c, e)| c.sql == e.sql);
    let same_direction = pairs().all(|(c, e)| c.descending == e.descending);
    let reversed = pairs().all(|(c, e)| c.descending != e.descending);
    let predicate_ok = match (&existing.predicate, &candidate.predicate) {
        (None, _) => true,
        (Some(a), Some(b)) => a == b || same_predicate(a, b),
        (Some(_), None) => false,
    };
    let stored: Vec<&String> = existing
        .keys
        .iter()
        .map(|k| &k.sql)
        .chain(&existing.include)
        .collect();
    let include_ok = candidate.include.iter().all(|c| stored.contains(&c));
    same_expressions && (same_direction || reversed) && predicate_ok && include_ok
}

/// A BRIN keeps at least this share of a B-tree's saving on the same column to replace it.
pub const BRIN_MIN_SAVING_SHARE: f64 = 0.5;

/// On an append-only column a BRIN is a few pages where the B-tree is a copy of the column,
/// and every insert pays for the B-tree: a B-tree on the same single column is set aside (as
/// superseded by the BRIN) when the BRIN keeps at least [`BRIN_MIN_SAVING_SHARE`] of its
/// saving on every query the B-tree serves.
fn prefer_brin(input: &SelectionInput, open: &mut Vec<usize>, selection: &mut Selection) {
    let brins: Vec<usize> = open
        .iter()
        .copied()
        .filter(|i| input.candidates[*i].spec.method == IndexMethod::Brin)
        .collect();
    let baseline = baseline(input);
    open.retain(|index| {
        let btree = &input.candidates[*index];
        // A BRIN chosen in an earlier round was preferred already; costs are rebased on it now.
        let chosen = input
            .existing
            .iter()
            .find(|e| e.spec.method == IndexMethod::Brin && same_column(&btree.spec, &e.spec))
            .map(|e| e.name.clone());
        let replacing = chosen.or_else(|| {
            brins
                .iter()
                .map(|brin| &input.candidates[*brin])
                .find(|brin| {
                    same_column(&btree.spec, &brin.spec)
                        && keeps_saving(input, btree, brin, &baseline)
                })
                .map(|brin| super::ddl::index_name(&brin.spec))
        });
        if let Some(by) = &replacing {
            selection.rejected.push(Rejected {
                candidate: *index,
                reason: RejectReason::Superseded { by: by.clone() },
            });
        }
        replacing.is_none()
    });
}

/// `btree` is a plain B-tree on exactly the column `brin` indexes.
fn same_column(btree: &IndexSpec, brin: &IndexSpec) -> bool {
    btree.method == IndexMethod::Btree
        && btree.predicate.is_none()
        && btree.table == brin.table
        && btree.schema == brin.schema
        && btree.keys.len() == 1
        && brin
            .keys
            .first()
            .is_some_and(|k| btree.keys[0].sql == k.sql)
}

fn keeps_saving(
    input: &SelectionInput,
    btree: &Costed,
    brin: &Costed,
    baseline: &BTreeMap<&str, f64>,
) -> bool {
    let served = served(input, btree, baseline);
    !served.is_empty()
        && served.iter().all(|query| {
            let before = baseline[query.as_str()];
            let btree_saving = before - btree.costs[query];
            let brin_saving = brin.costs.get(query).map_or(0.0, |cost| before - cost);
            brin_saving >= BRIN_MIN_SAVING_SHARE * btree_saving
        })
}

/// The two predicates say the same in different spellings (catalog against candidate).
fn same_predicate(a: &str, b: &str) -> bool {
    match (
        super::parse::normalize_predicate(a),
        super::parse::normalize_predicate(b),
    ) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

/// Chooses the indexes to recommend.
pub fn select(input: &SelectionInput) -> Selection {
    let mut selection = Selection::default();
    let mut open: Vec<usize> = Vec::new();
    for (index, candidate) in input.candidates.iter().enumerate() {
        match prefilter(input, candidate) {
            Some(reason) => selection.rejected.push(Rejected {
                candidate: index,
                reason,
            }),
            None => open.push(index),
        }
    }
    prefer_brin(input, &mut open, &mut selection);
    let mut current = baseline(input);
    let mut remaining_bytes = input.budget_bytes;
    while let Some((position, benefit)) = best(input, &open, &current) {
        let index = open.remove(position);
        let candidate = &input.candidates[index];
        let covering = selection.chosen.iter().find(|c| {
            let chosen = &input.candidates[c.candidate].spec;
            // Twins never both pay in one round: the one chosen first serves the lookup.
            covers(chosen, &candidate.spec) || same_keys(chosen, &candidate.spec)
        });
        if let Some(by) = covering {
            let by = super::ddl::index_name(&input.candidates[by.candidate].spec);
            selection.rejected.push(Rejected {
                candidate: index,
                reason: RejectReason::Superseded { by },
            });
            continue;
        }
        if let Some(remaining) = remaining_bytes {
            if candidate.estimated_size_bytes > remaining {
                selection.rejected.push(Rejected {
                    candidate: index,
                    reason: RejectReason::OverBudget {
                        size_bytes: candidate.estimated_size_bytes,
                        remaining_bytes: remaining,
                    },
                });
                continue;
            }
            remaining_bytes = Some(remaining - candidate.estimated_size_bytes);
        }
        let serves = served(input, candidate, &current);
        for query in &serves {
            let cost = candidate.costs[query];
            current.insert(query_key(input, query), cost);
        }
        selection.chosen.push(Chosen {
            candidate: index,
            benefit,
            serves,
        });
    }
    for index in open {
        let reason = leftover_reason(input, &selection.chosen, index, &current);
        selection.rejected.push(Rejected {
            candidate: index,
            reason,
        });
    }
    selection.rejected.sort_by_key(|r| r.candidate);
    selection
}

fn query_key<'a>(input: &'a SelectionInput, name: &str) -> &'a str {
    input
        .queries
        .get_key_value(name)
        .map(|(k, _)| k.as_str())
        .expect("served queries are workload queries")
}

/// Reasons known before comparing candidates with each other.
fn prefilter(input: &SelectionInput, candidate: &Costed) -> Option<RejectReason> {
    let spec = &candidate.spec;
    if let Some(existing) = input.existing.iter().find(|e| covers(&e.spec, spec)) {
        return Some(RejectReason::AlreadyCovered {
            index: existing.name.clone(),
        });
    }
    let load = load_of(input, spec);
    if load.rows < TINY_TABLE_ROWS {
        return Some(RejectReason::TinyTable { rows: load.rows });
    }
    let benefit = raw_benefit(input, candidate);
    if benefit <= 0.0 {
        return Some(RejectReason::NoPlanImprovement {
            best_saving_pct: best_saving_pct(input, candidate),
        });
    }
    write_refusal(&load, candidate, benefit)
}

/// [`RejectReason::WriteCost`] when maintaining the candidate costs at least `read_benefit`.
fn write_refusal(load: &TableLoad, candidate: &Costed, read_benefit: f64) -> Option<RejectReason> {
    let cost = write_cost(load, candidate)?;
    (cost.per_session() >= read_benefit).then(|| RejectReason::WriteCost {
        read_benefit,
        write_cost: cost.per_session(),
        writes_per_session: cost.writes_per_session,
        cost_per_row: cost.cost_per_row,
        source: cost.source,
    })
}

fn load_of(input: &SelectionInput, spec: &IndexSpec) -> TableLoad {
    input
        .tables
        .get(&(spec.schema.clone(), spec.table.clone()))
        .cloned()
        .unwrap_or_default()
}

/// The queries whose cost `candidate` cuts by at least [`MIN_SAVING_SHARE`] below `current`.
fn served(
    input: &SelectionInput,
    candidate: &Costed,
    current: &BTreeMap<&str, f64>,
) -> Vec<String> {
    candidate
        .costs
        .iter()
        .filter(|(query, cost)| {
            let baseline = input.queries.get(*query).map(|q| q.cost).unwrap_or(0.0);
            let now = current.get(query.as_str()).copied().unwrap_or(baseline);
            **cost <= now * (1.0 - MIN_SAVING_SHARE)
        })
        .map(|(query, _)| query.clone())
        .collect()
}

/// Read benefit beyond the `current` costs, minus the write cost: the net a candidate adds.
fn marginal(input: &SelectionInput, candidate: &Costed, current: &BTreeMap<&str, f64>) -> f64 {
    let load = load_of(input, &candidate.spec);
    let write = write_cost(&load, candidate).map_or(0.0, |c| c.per_session());
    saved(input, candidate, current) - write
}

/// Σ weight × planner cost saved beyond the `current` costs, on the queries it serves.
fn saved(input: &SelectionInput, candidate: &Costed, current: &BTreeMap<&str, f64>) -> f64 {
    served(input, candidate, current)
        .iter()
        .map(|query| {
            let weight = input.queries[query].weight;
            weight * (current[query.as_str()] - candidate.costs[query])
        })
        .sum()
}

/// What the candidate alone is worth: its read benefit on the baseline costs (before any
/// choice), its write cost deducted.
pub fn net_benefit(input: &SelectionInput, candidate: &Costed) -> f64 {
    marginal(input, candidate, &baseline(input))
}

fn baseline(input: &SelectionInput) -> BTreeMap<&str, f64> {
    input
        .queries
        .iter()
        .map(|(name, q)| (name.as_str(), q.cost))
        .collect()
}

/// Read benefit on the baseline costs (before any choice), write cost not deducted.
fn raw_benefit(input: &SelectionInput, candidate: &Costed) -> f64 {
    saved(input, candidate, &baseline(input))
}

fn best_saving_pct(input: &SelectionInput, candidate: &Costed) -> f64 {
    candidate
        .costs
        .iter()
        .filter_map(|(query, cost)| {
            let baseline = input.queries.get(query)?.cost;
            (baseline > 0.0).then(|| 100.0 * (baseline - cost) / baseline)
        })
        .fold(0.0, f64::max)
}

/// The open candidate with the largest marginal benefit; within 2% of each other the one that
/// leaves clearly less cost wins, else the smaller (then narrower) index, so a wider
/// near-duplicate never beats a lean one by noise.
fn best(
    input: &SelectionInput,
    open: &[usize],
    current: &BTreeMap<&str, f64>,
) -> Option<(usize, f64)> {
    let mut best: Option<(usize, f64)> = None;
    for (position, &index) in open.iter().enumerate() {
        let benefit = marginal(input, &input.candidates[index], current);
        if benefit <= 0.0 {
            continue;
        }
        let better = match best {
            None => true,
            Some((best_position, best_benefit)) => {
                let this = &input.candidates[index];
                let other = &input.candidates[open[best_position]];
                let (this_left, other_left) = (
                    residual(input, this, current),
                    residual(input, other, current),
                );
                if benefit > best_benefit * 1.02 {
                    true
                } else if benefit * 1.02 < best_benefit {
                    false
                } else if this_left < other_left * 0.75 || other_left < this_left * 0.75 {
                    this_left < other_left
                } else {
                    (this.estimated_size_bytes, width(this))
                        < (other.estimated_size_bytes, width(other))
                }
            }
        };
        if better {
            best = Some((position, benefit));
        }
    }
    best
}

/// Weighted cost left on the candidate's queries once it exists: between two candidates that
/// both save almost everything, a clearly lower remainder (a 25% difference) still decides.
fn residual(input: &SelectionInput, candidate: &Costed, current: &BTreeMap<&str, f64>) -> f64 {
    candidate
        .costs
        .iter()
        .filter_map(|(query, cost)| {
            let now = current.get(query.as_str())?;
            Some(input.queries[query].weight * cost.min(*now))
        })
        .sum()
}

fn width(candidate: &Costed) -> usize {
    candidate.spec.keys.len() + candidate.spec.include.len()
}

/// Why a candidate that passed the prefilter was not chosen.
/// Not superseded: it still saves reads beyond the chosen set but not what its writes cost,
/// or it saves nothing more.
fn leftover_reason(
    input: &SelectionInput,
    chosen: &[Chosen],
    index: usize,
    current: &BTreeMap<&str, f64>,
) -> RejectReason {
    let candidate = &input.candidates[index];
    let by = chosen.iter().find(|c| {
        let other = &input.candidates[c.candidate].spec;
        other.table == candidate.spec.table && candidate.costs.keys().any(|q| c.serves.contains(q))
    });
    match by {
        Some(chosen) => RejectReason::Superseded {
            by: super::ddl::index_name(&input.candidates[chosen.candidate].spec),
        },
        None => {
            let saved = saved(input, candidate, current);
            let load = load_of(input, &candidate.spec);
            (saved > 0.0)
                .then(|| write_refusal(&load, candidate, saved))
                .flatten()
                .unwrap_or(RejectReason::NoPlanImprovement {
                    best_saving_pct: best_saving_pct(input, candidate),
                })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::advice::IndexKey;

    fn spec(keys: &[&str]) -> IndexSpec {
        IndexSpec {
            schema: "public".into(),
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
        }
    }

    fn costed(keys: &[&str], size: u64, costs: &[(&str, f64)]) -> Costed {
        Costed {
            spec: spec(keys),
            companions: vec![],
            origins: vec![],
            estimated_size_bytes: size,
            costs: costs.iter().map(|(q, c)| (q.to_string(), *c)).collect(),
        }
    }

    fn input(candidates: Vec<Costed>) -> SelectionInput {
        let mut queries = BTreeMap::new();
        queries.insert(
            "q1".into(),
            QueryBaseline {
                weight: 1.0,
                cost: 1000.0,
            },
        );
        queries.insert(
            "q2".into(),
            QueryBaseline {
                weight: 2.0,
                cost: 1000.0,
            },
        );
        let mut tables = BTreeMap::new();
        tables.insert(
            ("public".into(), "t".into()),
            TableLoad {
                rows: 100_000.0,
                ..TableLoad::default()
            },
        );
        SelectionInput {
            candidates,
            queries,
            tables,
            ..SelectionInput::default()
        }
    }

    fn decisions(input: &SelectionInput) -> String {
        let selection = select(input);
        let mut text = String::new();
        for chosen in &selection.chosen {
            let keys = &input.candidates[chosen.candidate].spec.keys;
            let keys: Vec<&str> = keys.iter().map(|k| k.sql.as_str()).collect();
            text.push_str(&format!("chosen {keys:?} serves {:?}\n", chosen.serves));
        }
        for rejected in &selection.rejected {
            let keys = &input.candidates[rejected.candidate].spec.keys;
            let keys: Vec<&str> = keys.iter().map(|k| k.sql.as_str()).collect();
            text.push_str(&format!("rejected {keys:?}: {:?}\n", rejected.reason));
        }
        text
    }

    #[test]
    fn one_multi_column_index_instead_of_two_singles() {
        let input = input(vec![
            costed(&["a"], 2_000_000, &[("q1", 10.0), ("q2", 400.0)]),
            costed(&["a", "b"], 3_000_000, &[("q1", 10.0), ("q2", 8.0)]),
            costed(&["b"], 2_000_000, &[("q2", 300.0)]),
        ]);
        insta::assert_snapshot!(decisions(&input), @r#"
        chosen ["\"a\"", "\"b\""] serves ["q1", "q2"]
        rejected ["\"a\""]: Superseded { by: "t_a_b_4bee06_idx" }
        rejected ["\"b\""]: Superseded { by: "t_a_b_4bee06_idx" }
        "#);
    }

    #[test]
    fn existing_prefix_budget_tiny_and_useless() {
        let mut input = input(vec![
            costed(&["a"], 2_000_000, &[("q1", 10.0)]),
            costed(&["c"], 2_000_000, &[("q1", 990.0)]),
            costed(&["d"], 9_000_000, &[("q2", 10.0)]),
        ]);
        input.existing.push(Existing {
            name: "t_a_b".into(),
            spec: spec(&["a", "b"]),
        });
        input.budget_bytes = Some(5_000_000);
        insta::assert_snapshot!(decisions(&input), @r#"
        rejected ["\"a\""]: AlreadyCovered { index: "t_a_b" }
        rejected ["\"c\""]: NoPlanImprovement { best_saving_pct: 1.0 }
        rejected ["\"d\""]: OverBudget { size_bytes: 9000000, remaining_bytes: 5000000 }
        "#);
        input.tables.values_mut().for_each(|t| t.rows = 50.0);
        assert!(matches!(
            select(&input).rejected[1].reason,
            RejectReason::TinyTable { .. }
        ));
    }

    #[test]
    fn writes_refuse_a_marginal_index_and_keep_a_strong_one() {
        // 24-byte entries on 100k rows: 3 planner units per written row.
        let mut input = input(vec![
            costed(&["a"], 2_400_000, &[("q1", 10.0)]),
            costed(&["b"], 2_400_000, &[("q2", 850.0)]),
        ]);
        input
            .tables
            .values_mut()
            .for_each(|t| t.workload_writes = Some(200.0));
        // a saves 990 per session against 600 of writes; b saves 2 × 150 = 300 < 600.
        insta::assert_snapshot!(decisions(&input), @r#"
        chosen ["\"a\""] serves ["q1"]
        rejected ["\"b\""]: WriteCost { read_benefit: 300.0, write_cost: 600.0, writes_per_session: 200.0, cost_per_row: 3.0, source: Workload }
        "#);
        input
            .tables
            .values_mut()
            .for_each(|t| t.workload_writes = Some(400.0));
        let selection = select(&input);
        assert!(
            selection.chosen.is_empty(),
            "1200 of writes outweigh 990: {selection:?}"
        );
    }

    #[test]
    fn reversed_direction_and_partial_coverage() {
        let mut desc = spec(&["a", "b"]);
        desc.keys.iter_mut().for_each(|k| k.descending = true);
        assert!(covers(&desc, &spec(&["a", "b"])));
        let mut partial = spec(&["a"]);
        partial.predicate = Some("\"s\" = 'x'".into());
        assert!(!covers(&partial, &spec(&["a"])));
        assert!(covers(&spec(&["a"]), &partial));
    }

    #[test]
    fn a_brin_keeping_half_the_saving_replaces_the_btree_on_its_column() {
        let brin = |cost: f64| Costed {
            spec: IndexSpec {
                method: IndexMethod::Brin,
                ..spec(&["created_at"])
            },
            ..costed(&["created_at"], 24_576, &[("q1", cost)])
        };
        let btree = costed(&["created_at"], 4_000_000, &[("q1", 100.0)]);
        // Candidate 0 is the B-tree, 1 the BRIN.
        let kept = select(&input(vec![btree.clone(), brin(500.0)]));
        let chosen: Vec<usize> = kept.chosen.iter().map(|c| c.candidate).collect();
        assert_eq!(
            chosen,
            [1],
            "the BRIN saves 500 of the B-tree's 900: {kept:?}"
        );
        let lost = select(&input(vec![btree, brin(700.0)]));
        let chosen: Vec<usize> = lost.chosen.iter().map(|c| c.candidate).collect();
        assert_eq!(chosen, [0], "the BRIN saves 300 of 900: {lost:?}");
    }
}
