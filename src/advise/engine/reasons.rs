//! Rejection reasons as sentences a reviewer can check.

use crate::advise::ddl::index_name;
use crate::advise::keylist::same_keys;
use crate::advise::select::{self, Costed, SelectionInput};
use crate::model::advice::RejectReason;

/// The reason as a sentence a reviewer can check.
pub fn explain_rejection(
    reason: &RejectReason,
    candidate: &Costed,
    input: &SelectionInput,
) -> String {
    let RejectReason::Superseded { by } = reason else {
        return reason_sentence(reason);
    };
    let other = input.candidates.iter().find(|c| index_name(&c.spec) == *by);
    let costs: Vec<String> = candidate
        .costs
        .iter()
        .map(|(query, cost)| {
            let theirs = other
                .and_then(|o| o.costs.get(query))
                .copied()
                .unwrap_or(f64::NAN);
            format!("{query}: planner cost {cost:.0} with this, {theirs:.0} with {by}")
        })
        .collect();
    let sentence = match other {
        Some(other) if same_keys(&other.spec, &candidate.spec) => format!(
            "{by} has the same key columns and is kept: one index per key list, with INCLUDE columns only where its index-only scan pays"
        ),
        _ => reason_sentence(reason),
    };
    format!("{sentence} ({})", costs.join("; "))
}

/// A rejection reason as a sentence a reviewer can check; callers add their evidence.
pub fn reason_sentence(reason: &RejectReason) -> String {
    use crate::advise::ddl::format_bytes;
    match reason {
        RejectReason::AlreadyCovered { index } => format!(
            "existing index {index} already serves this lookup (its leading columns match)"
        ),
        RejectReason::TinyTable { rows } => {
            format!("the table has about {rows:.0} rows: a sequential scan is as fast")
        }
        RejectReason::NoPlanImprovement { best_saving_pct } => format!(
            "the planner would not use it or saves too little (best saving {best_saving_pct:.0}% of a query's cost; at least {:.0}% needed): the condition keeps too many rows",
            select::MIN_SAVING_SHARE * 100.0
        ),
        RejectReason::Superseded { by } => format!("{by} serves the same queries at least as well"),
        RejectReason::OverBudget {
            size_bytes,
            remaining_bytes,
        } => format!(
            "its estimated size {} exceeds the remaining --budget-mb ({})",
            format_bytes(*size_bytes),
            format_bytes(*remaining_bytes)
        ),
        RejectReason::WriteCost {
            read_benefit,
            write_cost,
            writes_per_session,
            cost_per_row,
            source,
        } => format!(
            "maintaining it costs more than the reads gain: {writes_per_session:.1} rows written per session ({}) × {cost_per_row:.0} planner units per row = {write_cost:.0} per session, against a read benefit of {read_benefit:.0} per session",
            match source {
                crate::model::advice::WriteSource::Workload => "the workload's writes",
                crate::model::advice::WriteSource::TableStatistics =>
                    "pg_stat_user_tables, scaled to the workload's reads",
            }
        ),
        RejectReason::WriteHeavy { writes, benefit } => format!(
            "the table is write-heavy ({writes} rows written beyond its size): maintaining the index costs more than the reads gain (planner benefit {benefit:.0})"
        ),
        RejectReason::NotUsed => "built for real, no workload query used it".into(),
        RejectReason::CheckXmin => "built for real, indcheckxmin made it unusable inside the verification transaction (recent HOT updates); run advise again later".into(),
        RejectReason::NoMeasuredImprovement { query } => {
            format!("measured P95 of {query} did not improve beyond noise")
        }
        RejectReason::SlowsOtherQuery { query } => format!("it made {query} slower"),
        RejectReason::NeedsLocks => "only a real build can cost it (HypoPG cannot create GIN indexes), which blocks writes to its table while it runs; pass --allow-locks to accept that".to_string(),
        RejectReason::BuildFailed { message } => {
            format!("the server refused to build it: {message}")
        }
    }
}
