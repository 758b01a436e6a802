//! A second chance after verification (pure). Selection sets a candidate aside when a chosen
//! index already serves its queries (superseded) or when the budget, counted in HypoPG's size
//! estimates, is spent (over budget). Verification can undo both reasons: it drops chosen
//! indexes that do not pay off for real, and it measures real sizes, which are 2-5× smaller than
//! HypoPG's (no B-tree deduplication). The candidates whose reason was undone are selected again
//! on top of the indexes kept, and verified in a round of their own; the budget is re-checked
//! with real sizes after every round.

use crate::model::advice::{IndexSpec, Recommendation, RejectReason, RejectedCandidate};

use super::ddl::index_name;
use super::select::{Costed, Rejected};

/// Candidates (indexes into `candidates`) whose rejection verification may have undone: over
/// a budget that real sizes may have left room for; superseded by an index verification
/// dropped; or of no use on a table where verification dropped an index (a later selection
/// round costs candidates on top of the earlier choices, so "no improvement" may mean "the
/// dropped index already did that"). `tried` are left out: nobody gets a third chance.
pub fn retry_candidates(
    candidates: &[Costed],
    rejected: &[Rejected],
    dropped: &[IndexSpec],
    tried: &[usize],
) -> Vec<usize> {
    let names: Vec<String> = dropped.iter().map(index_name).collect();
    let on_dropped_table = |spec: &IndexSpec| {
        dropped
            .iter()
            .any(|d| d.schema == spec.schema && d.table == spec.table)
    };
    rejected
        .iter()
        .filter(|r| !tried.contains(&r.candidate))
        .filter(|r| match &r.reason {
            RejectReason::Superseded { by } => names.contains(by),
            RejectReason::NoPlanImprovement { .. } => {
                on_dropped_table(&candidates[r.candidate].spec)
            }
            RejectReason::OverBudget { .. } => true,
            _ => false,
        })
        .map(|r| r.candidate)
        .collect()
}

/// Real bytes per estimated byte over the indexes built so far, to correct the estimates of
/// candidates not built yet; 1 when nothing was built.
pub fn size_correction(built: &[Recommendation]) -> f64 {
    let (real, estimated) = built
        .iter()
        .filter_map(|r| Some((r.size_bytes?, r.estimated_size_bytes)))
        .fold((0u64, 0u64), |(a, b), (r, e)| (a + r, b + e));
    if real == 0 || estimated == 0 {
        return 1.0;
    }
    real as f64 / estimated as f64
}

/// Total real size of built recommendations (estimated where a build is missing).
pub fn real_bytes(recommendations: &[Recommendation]) -> u64 {
    recommendations
        .iter()
        .map(|r| r.size_bytes.unwrap_or(r.estimated_size_bytes))
        .sum()
}

/// Keeps the recommendations whose real sizes fit `budget_bytes`, giving up the least benefit
/// per byte first; the ones given up are returned as over budget, with their real size.
pub fn fit_budget(
    recommendations: &mut Vec<Recommendation>,
    budget_bytes: u64,
) -> Vec<RejectedCandidate> {
    let mut out = Vec::new();
    while real_bytes(recommendations) > budget_bytes {
        let worst = recommendations
            .iter()
            .enumerate()
            .min_by(|(_, a), (_, b)| benefit_per_byte(a).total_cmp(&benefit_per_byte(b)))
            .map(|(position, _)| position)
            .expect("a positive total has at least one recommendation");
        let dropped = recommendations.remove(worst);
        let size_bytes = dropped.size_bytes.unwrap_or(dropped.estimated_size_bytes);
        let others = real_bytes(recommendations);
        let reason = RejectReason::OverBudget {
            size_bytes,
            remaining_bytes: budget_bytes.saturating_sub(others),
        };
        out.push(RejectedCandidate {
            explanation: format!(
                "{} (real size after the build; the kept indexes give more benefit per byte)",
                super::engine::reason_sentence(&reason)
            ),
            spec: dropped.spec,
            queries: dropped.serves,
            reason,
        });
    }
    out
}

fn benefit_per_byte(recommendation: &Recommendation) -> f64 {
    let bytes = recommendation
        .size_bytes
        .unwrap_or(recommendation.estimated_size_bytes)
        .max(1);
    recommendation.benefit / bytes as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::advice::{IndexKey, IndexSpec};

    fn recommendation(
        column: &str,
        benefit: f64,
        estimated: u64,
        real: Option<u64>,
    ) -> Recommendation {
        Recommendation {
            name: format!("t_{column}_idx"),
            spec: IndexSpec {
                schema: "public".into(),
                table: "t".into(),
                keys: vec![IndexKey {
                    sql: format!("\"{column}\""),
                    descending: false,
                }],
                include: vec![],
                predicate: None,
                method: Default::default(),
            },
            ddl: String::new(),
            partitions: vec![],
            serves: vec![format!("q_{column}")],
            estimated_size_bytes: estimated,
            size_bytes: real,
            benefit,
            effects: vec![],
        }
    }

    fn rejected(candidate: usize, reason: RejectReason) -> Rejected {
        Rejected { candidate, reason }
    }

    fn costed(table: &str, column: &str) -> Costed {
        let mut spec = recommendation(column, 0.0, 0, None).spec;
        spec.table = table.into();
        Costed {
            spec,
            companions: vec![],
            origins: vec![],
            estimated_size_bytes: 1,
            costs: Default::default(),
        }
    }

    #[test]
    fn a_candidate_set_aside_for_a_dropped_index_gets_a_second_chance() {
        let dropped = vec![costed("t", "dropped").spec];
        let by = |spec: &IndexSpec| RejectReason::Superseded {
            by: index_name(spec),
        };
        let none = RejectReason::NoPlanImprovement {
            best_saving_pct: 0.0,
        };
        let candidates = [
            costed("t", "a"),
            costed("t", "b"),
            costed("t", "c"),
            costed("t", "d"),
            costed("t", "e"),
            costed("u", "f"),
        ];
        let all = [
            rejected(0, by(&dropped[0])),
            rejected(1, by(&candidates[4].spec)),
            rejected(2, RejectReason::TinyTable { rows: 10.0 }),
            rejected(
                3,
                RejectReason::OverBudget {
                    size_bytes: 10,
                    remaining_bytes: 5,
                },
            ),
            rejected(4, none.clone()),
            rejected(5, none),
        ];
        assert_eq!(
            retry_candidates(&candidates, &all, &dropped, &[]),
            vec![0, 3, 4]
        );
        assert_eq!(
            retry_candidates(&candidates, &all, &dropped, &[4]),
            vec![0, 3]
        );
        // Nothing dropped: only the budget can have changed.
        assert_eq!(retry_candidates(&candidates, &all, &[], &[]), vec![3]);
    }

    #[test]
    fn the_size_correction_is_real_over_estimated_bytes_of_built_indexes() {
        let built = [
            recommendation("a", 1.0, 300, Some(100)),
            recommendation("b", 1.0, 100, Some(50)),
            recommendation("c", 1.0, 1_000, None),
        ];
        assert!((size_correction(&built) - 150.0 / 400.0).abs() < 1e-9);
        assert_eq!(size_correction(&built[2..]), 1.0);
        assert_eq!(size_correction(&[]), 1.0);
    }

    #[test]
    fn real_sizes_over_the_budget_give_up_the_least_benefit_per_byte() {
        let mut kept = vec![
            recommendation("dense", 1_000.0, 100, Some(100)),
            recommendation("bulky", 1_000.0, 100, Some(900)),
            recommendation("lean", 10.0, 10, Some(5)),
        ];
        let dropped = fit_budget(&mut kept, 200);
        let names: Vec<&str> = kept.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, vec!["t_dense_idx", "t_lean_idx"]);
        assert_eq!(dropped.len(), 1);
        assert_eq!(dropped[0].queries, vec!["q_bulky"]);
        assert_eq!(
            dropped[0].reason,
            RejectReason::OverBudget {
                size_bytes: 900,
                remaining_bytes: 95
            }
        );
        assert!(fit_budget(&mut kept, 200).is_empty());
    }
}
