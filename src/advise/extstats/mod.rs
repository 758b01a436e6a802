//! Advice beyond indexes: extended statistics (issue 14, item 8). The planner multiplies the
//! selectivities of conditions on several columns of one table as if the columns were
//! independent; on correlated columns (a zip code decides its city) the row estimate is off by
//! orders of magnitude, and the plan built on it (a nested loop over "one" row that is a
//! thousand) can be slow. `CREATE STATISTICS … (dependencies, ndistinct, mcv)` teaches the
//! planner the correlation.
//!
//! Steps, inside transactions that are always rolled back (with verification only: the trial
//! runs `CREATE STATISTICS` and `ANALYZE`, which take a SHARE UPDATE EXCLUSIVE lock on the
//! table; it blocks neither reads nor writes, but conflicts with VACUUM, other ANALYZEs and
//! DDL, so on a user's database it runs under the same `--allow-locks` as index builds):
//!
//! 1. **detect** (`detect.rs`, pure): one `EXPLAIN (ANALYZE, BUFFERS, VERBOSE)` of every
//!    workload read with the kept indexes built; scans whose estimate is off ≥ 10× either way
//!    with two or more columns of their table compared by equality, `IN` or range;
//! 2. **trial** (`trial.rs`): `ANALYZE` the table (both sides stand on a fresh sample), then a
//!    before–after–before sitting around `CREATE STATISTICS` + `ANALYZE` in a savepoint,
//!    timing every workload read of the table with the bench's loop and taking plan shape,
//!    estimate and buffers from one `EXPLAIN (ANALYZE, BUFFERS)` per side;
//! 3. **rule** (`rule.rs`, pure): kept when a misestimated query's estimate gets closer, its
//!    plan changes and it gets better by the index rule's judgement (many times fewer buffers,
//!    or twice as fast), and no reader of the table gets slower or reads more buffers.
//!
//! PostgreSQL writes two things of `ANALYZE` outside the transaction, so a rollback keeps
//! them: the table's row and page counts in `pg_class` (updated in place) and its
//! `pg_stat_user_tables` analyze counters. Both are what any autovacuum ANALYZE would write.

pub mod detect;
pub mod rule;
pub mod sql;
mod trial;

use std::collections::BTreeSet;

use postgres::Client;

use super::AdviseError;
use super::parse::ColumnLookup;
use super::session::Statement;
use super::verify::VerifyOptions;
use crate::model::advice::{
    Recommendation, RejectedStatistics, StatisticsEffect, StatisticsRecommendation, StatisticsSpec,
};
use crate::workload::Workload;
pub use detect::MISESTIMATE_FACTOR;

/// Most statistics tried in one run: each trial times every reader of its table.
const MAX_TRIALS: usize = 4;

/// A workload query as the trial needs it.
pub struct Reader<'a> {
    pub statement: &'a Statement,
    /// `(schema, table)` of every base table it reads.
    pub tables: &'a BTreeSet<(String, String)>,
}

/// What the statistics step needs from the run.
pub struct Context<'a> {
    pub workload: &'a Workload,
    /// Workload reads (not writes) whose baseline plan succeeded.
    pub readers: Vec<Reader<'a>>,
    /// Indexes kept by verification: built first in every transaction, so the plans judged
    /// are the ones the migration leaves.
    pub base: &'a [Recommendation],
    pub lock_timeout_ms: u64,
    pub verify: &'a VerifyOptions,
}

/// Recommended and refused statistics, and notes.
#[derive(Debug, Default)]
pub struct StatisticsAdvice {
    pub recommendations: Vec<StatisticsRecommendation>,
    pub rejected: Vec<RejectedStatistics>,
    pub notes: Vec<String>,
}

/// Statistics proposed for one table's columns, and the queries whose estimate was off.
#[derive(Debug, Clone, PartialEq)]
struct Proposal {
    spec: StatisticsSpec,
    served: Vec<String>,
}

/// Detects misestimates, tries statistics for each, and keeps the ones the rule keeps.
pub fn advise(
    client: &mut Client,
    lookup: &dyn ColumnLookup,
    context: &Context,
) -> Result<StatisticsAdvice, AdviseError> {
    let mut out = StatisticsAdvice::default();
    let mut proposals = Vec::new();
    for (spec, query) in trial::detect(client, lookup, context)? {
        match proposals
            .iter_mut()
            .find(|p: &&mut Proposal| p.spec == spec)
        {
            Some(proposal) if !proposal.served.contains(&query) => proposal.served.push(query),
            Some(_) => {}
            None => proposals.push(Proposal {
                spec,
                served: vec![query],
            }),
        }
    }
    let mut tried = 0;
    for proposal in proposals {
        let name = sql::statistics_name(&proposal.spec);
        if let Some(existing) = trial::existing(client, &proposal.spec)? {
            out.notes.push(format!(
                "{} still misestimates rows on {}.{} ({}) although extended statistics {existing} cover those columns: a rollup or a rewritten condition may be needed",
                proposal.served.join(", "),
                proposal.spec.schema,
                proposal.spec.table,
                proposal.spec.columns.join(", ")
            ));
            continue;
        }
        if tried == MAX_TRIALS {
            out.notes.push(format!(
                "extended statistics {name} not tried: at most {MAX_TRIALS} statistics are tried per run"
            ));
            continue;
        }
        tried += 1;
        let refused = |explanation: String| RejectedStatistics {
            name: name.clone(),
            spec: proposal.spec.clone(),
            queries: proposal.served.clone(),
            explanation,
        };
        let measured = match trial::run(client, context, &proposal.spec, &proposal.served)? {
            Ok(measured) => measured,
            Err(message) => {
                out.rejected.push(refused(format!(
                    "the server refused to create them: {message}"
                )));
                continue;
            }
        };
        match rule::decide(&measured) {
            Ok(()) => out.recommendations.push(StatisticsRecommendation {
                ddl: sql::migration_ddl(&proposal.spec, &name),
                name: name.clone(),
                spec: proposal.spec.clone(),
                serves: proposal.served.clone(),
                effects: measured.iter().filter(|m| m.served).map(effect).collect(),
            }),
            Err(refusal) => {
                let evidence: Vec<String> = measured.iter().map(|m| effect(m).summary()).collect();
                out.rejected.push(refused(format!(
                    "{} ({})",
                    refusal.sentence(),
                    evidence.join("; ")
                )));
            }
        }
    }
    Ok(out)
}

fn effect(measured: &rule::Measured) -> StatisticsEffect {
    StatisticsEffect {
        query: measured.query.clone(),
        estimated_rows_before: measured.estimated_before,
        estimated_rows_after: measured.estimated_after,
        actual_rows: measured.actual_rows,
        plan_changed: measured.plan_changed,
        evidence: super::keep::evidence_of(&measured.evidence, measured.plan_changed),
    }
}
