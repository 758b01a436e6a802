//! Whether extended statistics are kept (pure): measured like an index, with the same
//! per-query judgement (`decide::judge`), and kept only when, for a query whose estimate
//! was off, the estimate got closer **and** the plan changed **and** the query got better by
//! the index rule (many times fewer buffers, or twice as fast beyond noise), while no query
//! that reads the table got slower or read more buffers. Statistics that change no plan
//! change nothing a user can feel, however much closer the estimate gets; a changed plan
//! that measures the same (the kept indexes already fixed it) is no reason to add them.

use super::detect::error_factor;
use crate::advise::decide::{self, Evidence, HARM_RATIO, Judgement};

/// What one workload query did without and with the statistics.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Measured {
    pub query: String,
    /// Its estimate on the statistics' columns was off: the statistics are for it.
    pub served: bool,
    /// The scan of the table: estimated rows without / with the statistics, actual rows.
    pub estimated_before: f64,
    pub estimated_after: f64,
    pub actual_rows: f64,
    pub plan_changed: bool,
    pub evidence: Evidence,
}

impl Measured {
    /// The per-query judgement; "uses the change" is "its plan changed".
    pub fn judgement(&self) -> Judgement {
        decide::judge(&self.evidence, self.plan_changed)
    }

    fn closer(&self) -> bool {
        error_factor(self.estimated_after, self.actual_rows)
            < error_factor(self.estimated_before, self.actual_rows)
    }

    /// Slower by the index rule, or reading more than [`HARM_RATIO`] times the buffers.
    fn worse(&self) -> bool {
        let more_buffers = matches!(
            (self.evidence.buffers_before, self.evidence.buffers_after),
            (Some(before), Some(after)) if after > HARM_RATIO * before.max(1.0)
        );
        self.judgement() == Judgement::Slower || (self.plan_changed && more_buffers)
    }
}

/// Why statistics are not kept.
#[derive(Debug, Clone, PartialEq)]
pub enum Refusal {
    /// They made this query slower or read more buffers.
    Worse { query: String },
    /// No query's plan changed with them.
    NoPlanChange,
    /// Plans changed, but no misestimated query's estimate got closer.
    EstimateNotCloser,
    /// The plans changed and the estimates got closer, but no query got better.
    NoImprovement,
}

impl Refusal {
    pub fn sentence(&self) -> String {
        match self {
            Refusal::Worse { query } => {
                format!("with them {query} got slower or read more buffers")
            }
            Refusal::NoPlanChange => {
                "no plan changed with them: the closer estimate changes nothing the queries do"
                    .into()
            }
            Refusal::EstimateNotCloser => {
                "the plans changed but the misestimated scans' estimates did not get closer".into()
            }
            Refusal::NoImprovement => {
                "the plans changed and the estimates got closer, but no query read many times fewer buffers or got twice as fast".into()
            }
        }
    }
}

/// Keep (`Ok`) or the reason not to.
pub fn decide(measured: &[Measured]) -> Result<(), Refusal> {
    if let Some(worse) = measured.iter().find(|m| m.worse()) {
        return Err(Refusal::Worse {
            query: worse.query.clone(),
        });
    }
    let served: Vec<&Measured> = measured.iter().filter(|m| m.served).collect();
    if !served.iter().any(|m| m.plan_changed) {
        return Err(Refusal::NoPlanChange);
    }
    if !served.iter().any(|m| m.plan_changed && m.closer()) {
        return Err(Refusal::EstimateNotCloser);
    }
    let better = served
        .iter()
        .any(|m| m.plan_changed && m.closer() && m.judgement().helps());
    if better {
        Ok(())
    } else {
        Err(Refusal::NoImprovement)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runs(us: f64, n: usize) -> Vec<f64> {
        (0..n).map(|i| us + (i % 5) as f64 * us / 100.0).collect()
    }

    fn measured(
        after_us: f64,
        buffers: (f64, f64),
        plan_changed: bool,
        after_rows: f64,
    ) -> Measured {
        Measured {
            query: "q".into(),
            served: true,
            estimated_before: 1.0,
            estimated_after: after_rows,
            actual_rows: 1000.0,
            plan_changed,
            evidence: Evidence {
                before_us: runs(280_000.0, 12),
                after_us: runs(after_us, 12),
                buffers_before: Some(buffers.0),
                buffers_after: Some(buffers.1),
                ..Evidence::default()
            },
        }
    }

    #[test]
    fn a_closer_estimate_that_turns_a_nested_loop_into_a_hash_join_is_kept() {
        assert_eq!(
            decide(&[measured(1_300.0, (5_738.0, 743.0), true, 973.0)]),
            Ok(())
        );
    }

    #[test]
    fn a_closer_estimate_with_the_same_plan_is_refused() {
        assert_eq!(
            decide(&[measured(280_000.0, (743.0, 743.0), false, 973.0)]),
            Err(Refusal::NoPlanChange)
        );
    }

    #[test]
    fn a_changed_plan_without_a_closer_estimate_is_refused() {
        assert_eq!(
            decide(&[measured(1_300.0, (5_738.0, 743.0), true, 1.0)]),
            Err(Refusal::EstimateNotCloser)
        );
    }

    #[test]
    fn a_changed_plan_that_measures_the_same_is_refused() {
        assert_eq!(
            decide(&[measured(280_000.0, (743.0, 743.0), true, 973.0)]),
            Err(Refusal::NoImprovement)
        );
    }

    #[test]
    fn a_query_made_slower_or_reading_more_buffers_refuses_them() {
        let slower = measured(600_000.0, (743.0, 743.0), true, 973.0);
        assert!(matches!(decide(&[slower]), Err(Refusal::Worse { .. })));
        let mut other = measured(280_000.0, (743.0, 2_000.0), true, 1.0);
        other.served = false;
        other.query = "other".into();
        assert_eq!(
            decide(&[measured(1_300.0, (5_738.0, 743.0), true, 973.0), other]),
            Err(Refusal::Worse {
                query: "other".into()
            })
        );
    }
}
