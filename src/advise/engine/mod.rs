//! The advise pipeline on one held connection: statements → baseline plans → candidates
//! (parse tree + plan) → what-if per candidate → workload-wide selection → what-if of the chosen
//! set → verification by measurement → extended statistics (`extstats`, on top of the indexes
//! kept) → the advice with every decision's reason.

mod analyze;
mod costing;
mod findings;
mod reasons;
mod recommend;
mod rounds;
mod verify_rounds;

use std::collections::{BTreeMap, BTreeSet};

use postgres::Client;

use super::AdviseError;
use super::catalog::{Catalog, Relation};
use super::session::Statement;
use super::shapes::TableFacts;
use super::statements::workload_statements;
use super::verify::{self, VerifyOptions};
use super::whatif::WhatIf;
use crate::model::advice::{
    ExistingIndexFinding, QueryAdvice, Recommendation, RejectedCandidate, RejectedStatistics,
    StatisticsRecommendation, Verification, WhatIfMethod,
};
use crate::workload::Workload;
use analyze::{Bundle, add_candidates, analyze};
use costing::{cost_candidates, refuse_lock_only_candidates, selection_input};
use findings::{existing_findings, notes, query_advice, refused_for_budget};
pub use reasons::{explain_rejection, reason_sentence};
use recommend::{recommend, rejected_candidate};
use rounds::select_in_rounds;
use verify_rounds::Run;

/// Options of an advise run.
#[derive(Debug, Clone, PartialEq)]
pub struct AdviseOptions {
    /// Most key columns of a candidate (`--max-columns`).
    pub max_columns: usize,
    /// Storage budget for new indexes (`--budget-mb`).
    pub budget_bytes: Option<u64>,
    /// Measure for real; `None` = `--no-verify`.
    pub verify: Option<VerifyOptions>,
    /// `lock_timeout` for every real build.
    pub lock_timeout_ms: u64,
    /// Real builds may block writes here (the embedded database, or `--allow-locks`); without
    /// it, candidates that only a real build can cost (GIN) are refused, not built.
    pub may_lock: bool,
}

impl Default for AdviseOptions {
    fn default() -> Self {
        AdviseOptions {
            max_columns: 3,
            budget_bytes: None,
            verify: Some(VerifyOptions::default()),
            lock_timeout_ms: 5_000,
            may_lock: true,
        }
    }
}

/// What the engine decided; the command adds run id, target and files.
#[derive(Debug, Clone, PartialEq)]
pub struct Advice {
    pub what_if: WhatIfMethod,
    pub verification: Verification,
    pub recommendations: Vec<Recommendation>,
    pub rejected: Vec<RejectedCandidate>,
    /// Extended statistics kept by their trial, and the ones refused.
    pub statistics: Vec<StatisticsRecommendation>,
    pub rejected_statistics: Vec<RejectedStatistics>,
    pub queries: Vec<QueryAdvice>,
    pub existing_indexes: Vec<ExistingIndexFinding>,
    pub notes: Vec<String>,
    /// Wall time of each phase, in order, for the progress line and the benchmarks.
    pub phases: Vec<(&'static str, std::time::Duration)>,
}

/// Wall time per phase of a run.
#[derive(Default)]
struct Phases {
    done: Vec<(&'static str, std::time::Duration)>,
    started: Option<std::time::Instant>,
}

impl Phases {
    /// Ends the running phase as `name` and starts the next.
    fn lap(&mut self, name: &'static str) {
        let now = std::time::Instant::now();
        if let Some(started) = self.started {
            self.done.push((name, now - started));
        }
        self.started = Some(now);
    }
}

/// One statement with its baseline plan.
struct Analyzed {
    statement: Statement,
    /// A workload query (not a function-body or foreign-key statement).
    top_level: bool,
    baseline: Result<f64, String>,
    /// The sequential scan reading the most rows in the baseline plan: `(relation, rows)`.
    largest_scan: Option<(String, f64)>,
    /// `(schema, table)` of every base table the statement reads.
    tables: BTreeSet<(String, String)>,
    /// Why SQL its functions build at run time could not be captured.
    uncaptured: Option<String>,
    /// It inserts, updates or deletes: every new index on the table costs it time.
    writes: bool,
    /// `(schema, table)` it writes, with the rows its baseline plan writes per execution.
    written: BTreeMap<(String, String), f64>,
}

/// Tables seen, resolved once.
#[derive(Default)]
struct Tables {
    relations: BTreeMap<(String, String), (Relation, TableFacts)>,
}

/// Extended statistics for the workload's reads, on top of the kept indexes: only with
/// verification, whose leave to lock their trial needs (`extstats`).
fn statistics(
    client: &mut Client,
    catalog: &Catalog,
    workload: &Workload,
    analyzed: &[Analyzed],
    kept: &[Recommendation],
    options: &AdviseOptions,
) -> Result<super::extstats::StatisticsAdvice, AdviseError> {
    let Some(verify) = options.verify.as_ref().filter(|_| options.may_lock) else {
        return Ok(super::extstats::StatisticsAdvice::default());
    };
    let readers = analyzed
        .iter()
        .filter(|a| a.top_level && !a.writes && a.baseline.is_ok())
        .map(|a| super::extstats::Reader {
            statement: &a.statement,
            tables: &a.tables,
        })
        .collect();
    let context = super::extstats::Context {
        workload,
        readers,
        base: kept,
        lock_timeout_ms: options.lock_timeout_ms,
        verify,
    };
    super::extstats::advise(client, &catalog.lookup(), &context)
}

/// Runs the whole pipeline.
pub fn advise(
    client: &mut Client,
    workload: &Workload,
    options: &AdviseOptions,
) -> Result<Advice, AdviseError> {
    let mut phases = Phases::default();
    phases.lap("");
    let mut catalog = Catalog::new();
    let mut tables = Tables::default();
    let mut candidates: Vec<(Bundle, Vec<String>)> = Vec::new();
    let mut analyzed = Vec::new();
    for statement in workload_statements(client, workload)? {
        let found = analyze(client, &mut catalog, &mut tables, statement, options)?;
        for (entry, specs) in found {
            add_candidates(&mut candidates, &entry.statement.name, specs);
            analyzed.push(entry);
        }
    }
    phases.lap("statements and candidates");
    let mut whatif = WhatIf::new(client, options.lock_timeout_ms, options.verify.is_some())?;
    let (candidates, needs_locks) = refuse_lock_only_candidates(candidates, options.may_lock);
    let (costed, mut refused) = cost_candidates(client, &mut whatif, &analyzed, &candidates)?;
    refused.extend(needs_locks);
    phases.lap("what-if");
    let input = selection_input(client, &tables, &analyzed, costed, options)?;
    let selection = select_in_rounds(client, &mut whatif, &analyzed, &input)?;
    let mut rejected: Vec<RejectedCandidate> = selection
        .rejected
        .iter()
        .map(|r| rejected_candidate(&input.candidates[r.candidate], r.reason.clone(), &input))
        .chain(refused)
        .collect();
    let mut recommendations = recommend(client, &mut whatif, &analyzed, &input, &selection)?;
    phases.lap("selection");
    let mut run = Run {
        workload,
        analyzed: &analyzed,
        input: &input,
        options,
        spent: verify::Spent::default(),
    };
    let (verification, verification_notes) = run.verify_in_rounds(
        client,
        &mut whatif,
        &selection,
        &mut recommendations,
        &mut rejected,
    )?;
    phases.lap("verification");
    phases.done.extend(run.spent.phases());
    let statistics = statistics(
        client,
        &catalog,
        workload,
        &analyzed,
        &recommendations,
        options,
    )?;
    phases.lap("extended statistics");
    let mut queries = query_advice(&analyzed, &recommendations, &tables);
    refused_for_budget(&mut queries, &rejected);
    let under_persona = |name: &str| {
        analyzed
            .iter()
            .any(|a| a.top_level && a.statement.name == name && a.statement.caller.is_some())
    };
    super::leakproof::explain_non_leakproof(client, &mut queries, &rejected, &under_persona)?;
    let existing_indexes = existing_findings(client, &tables)?;
    let mut notes = notes(&analyzed, whatif.method());
    if whatif.gin_builds() > 0 {
        notes.push(format!(
            "HypoPG cannot create GIN indexes: {} GIN build(s) for real costed the GIN candidates, each in a transaction rolled back at once (a build blocks writes to its table while it runs)",
            whatif.gin_builds()
        ));
    }
    notes.extend(verification_notes);
    notes.extend(statistics.notes);
    notes.extend(super::distribution::notes(client, workload)?);
    phases.lap("findings");
    Ok(Advice {
        what_if: whatif.method(),
        verification,
        recommendations,
        rejected,
        statistics: statistics.recommendations,
        rejected_statistics: statistics.rejected,
        queries,
        existing_indexes,
        notes,
        phases: phases.done,
    })
}
