//! The advise pipeline on one held connection: statements → baseline plans → candidates
//! (parse tree + plan) → what-if per candidate → workload-wide selection → what-if of the chosen
//! set → verification by measurement → the advice with every decision's reason.

use std::collections::{BTreeMap, BTreeSet};

use postgres::Client;

use super::AdviseError;
use super::access::TableAccess;
use super::catalog::{self, Catalog, ExistingIndex, Relation};
use super::ddl::{create_concurrently, index_name};
use super::parse::extract;
use super::plan;
use super::retry;
use super::select::{self, Costed, QueryBaseline, SelectionInput};
use super::session::{Statement, explain};
use super::shapes::{TableFacts, or_bundle, shapes};
use super::statements::{derived_statements, workload_statements};
use super::verify::{self, VerifyOptions};
use super::whatif::WhatIf;
use crate::model::advice::{
    ExistingIndexFinding, ExistingIndexIssue, IndexMethod, IndexSpec, PlanMode, QueryAdvice,
    QueryEffect, Recommendation, RejectReason, RejectedCandidate, SERVER_REJECTED_NOTE,
    Verification, WhatIfMethod,
};
use crate::workload::Workload;

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
}

/// Tables seen, resolved once.
#[derive(Default)]
struct Tables {
    relations: BTreeMap<(String, String), (Relation, TableFacts)>,
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
    notes.extend(super::distribution::notes(client, workload)?);
    phases.lap("findings");
    Ok(Advice {
        what_if: whatif.method(),
        verification,
        recommendations,
        rejected,
        queries,
        existing_indexes,
        notes,
        phases: phases.done,
    })
}

/// What verification rounds share.
struct Run<'a> {
    workload: &'a Workload,
    analyzed: &'a [Analyzed],
    input: &'a SelectionInput,
    options: &'a AdviseOptions,
    /// Where the rounds' time went.
    spent: verify::Spent,
}

/// Verification rounds at most: the selected set, then the candidates it set aside for an
/// index the first round dropped or for a budget that real sizes left room for (`retry`).
const VERIFICATION_ROUNDS: usize = 2;

impl Run<'_> {
    /// Verifies the recommendations (unless `--no-verify`), then gives the candidates whose
    /// rejection verification undid a round of their own on top of the indexes kept. The
    /// budget is checked with real sizes after every round.
    fn verify_in_rounds(
        &mut self,
        client: &mut Client,
        whatif: &mut WhatIf,
        selection: &select::Selection,
        recommendations: &mut Vec<Recommendation>,
        rejected: &mut Vec<RejectedCandidate>,
    ) -> Result<(Verification, Vec<String>), AdviseError> {
        let Some(verify_options) = &self.options.verify else {
            let reason = "--no-verify: recommendations rest on planner estimates only".into();
            return Ok((Verification::Skipped { reason }, Vec::new()));
        };
        let mut notes = Vec::new();
        let mut tried: Vec<usize> = selection.chosen.iter().map(|c| c.candidate).collect();
        let mut dropped = self.verify_round(client, recommendations, &[], rejected, &mut notes)?;
        for _ in 1..VERIFICATION_ROUNDS {
            let retry = retry::retry_candidates(
                &self.input.candidates,
                &selection.rejected,
                &dropped,
                &tried,
            );
            if retry.is_empty() {
                break;
            }
            tried.extend(&retry);
            let (mut more, still_rejected) =
                self.reselect(client, whatif, recommendations, &retry)?;
            let retried: Vec<&IndexSpec> = retry
                .iter()
                .map(|id| &self.input.candidates[*id].spec)
                .collect();
            rejected.retain(|r| !retried.contains(&&r.spec));
            rejected.extend(still_rejected);
            if more.is_empty() {
                break;
            }
            notes.push(format!(
                "second verification round, on top of the indexes kept: {} (set aside for an index verification dropped, or for the budget before real sizes were known)",
                more.iter().map(|m| m.name.as_str()).collect::<Vec<_>>().join(", ")
            ));
            dropped =
                self.verify_round(client, &mut more, recommendations, rejected, &mut notes)?;
            recommendations.extend(more);
        }
        let executions = verify_options.executions;
        Ok((Verification::Measured { executions }, notes))
    }

    /// One verification round of `recommendations` with `base` built first; drops the ones
    /// that do not pay off (or no longer fit the budget at real size) into `rejected` and
    /// returns their specs.
    fn verify_round(
        &mut self,
        client: &mut Client,
        recommendations: &mut Vec<Recommendation>,
        base: &[Recommendation],
        rejected: &mut Vec<RejectedCandidate>,
        notes: &mut Vec<String>,
    ) -> Result<Vec<IndexSpec>, AdviseError> {
        let verify_options = self
            .options
            .verify
            .as_ref()
            .expect("rounds run only with verification");
        let before: Vec<IndexSpec> = recommendations.iter().map(|r| r.spec.clone()).collect();
        let touched = touching(self.analyzed, recommendations);
        let trial = verify::Trial {
            workload: self.workload,
            statements: &touched.statements,
            inner: &touched.inner,
            writes: &touched.writes,
            base,
            lock_timeout_ms: self.options.lock_timeout_ms,
        };
        let outcome = verify::verify(client, recommendations, &trial, verify_options)?;
        rejected.extend(outcome.rejected);
        self.spent.add(outcome.spent);
        if !outcome.once.is_empty() {
            notes.push(verify::once_note(&outcome.once));
        }
        if let Some(budget) = self.options.budget_bytes {
            let room = budget.saturating_sub(retry::real_bytes(base));
            rejected.extend(retry::fit_budget(recommendations, room));
        }
        if !outcome.unmeasured.is_empty() {
            notes.push(format!(
                "not timed (a probe execution failed): {}; the indexes serving them rest on planner estimates for these queries",
                outcome.unmeasured.join(", ")
            ));
        }
        if !outcome.unchanged.is_empty() {
            notes.push(format!(
                "read an indexed table but kept the same plans with the indexes (under 3 parameter draws each), so were not timed: {}",
                outcome.unchanged.join(", ")
            ));
        }
        Ok(before
            .into_iter()
            .filter(|spec| !recommendations.iter().any(|r| r.spec == *spec))
            .collect())
    }

    /// Selects among the `retry` candidates on top of the `kept` indexes (costs rebased on
    /// them, sizes corrected by what the real builds measured, the budget left at real size):
    /// the new recommendations, and the retried candidates that were not chosen with their
    /// reason now.
    fn reselect(
        &self,
        client: &mut Client,
        whatif: &mut WhatIf,
        kept: &[Recommendation],
        retry: &[usize],
    ) -> Result<(Vec<Recommendation>, Vec<RejectedCandidate>), AdviseError> {
        let specs: Vec<IndexSpec> = kept.iter().map(|r| r.spec.clone()).collect();
        let mut round = self.input.clone();
        if !specs.is_empty() {
            rebase(client, whatif, self.analyzed, &specs, &mut round)?;
        }
        round.existing.extend(kept.iter().map(|r| select::Existing {
            name: r.name.clone(),
            spec: r.spec.clone(),
        }));
        round.budget_bytes = self
            .options
            .budget_bytes
            .map(|b| b.saturating_sub(retry::real_bytes(kept)));
        let correction = retry::size_correction(kept);
        let mut candidates = Vec::new();
        for id in retry {
            let candidate = &self.input.candidates[*id];
            let mut costed = recost(client, whatif, self.analyzed, &specs, candidate, &round)?;
            costed.estimated_size_bytes = (costed.estimated_size_bytes as f64 * correction) as u64;
            candidates.push(costed);
        }
        round.candidates = candidates;
        let selection = select::select(&round);
        let rejected = selection
            .rejected
            .iter()
            .map(|r| rejected_candidate(&round.candidates[r.candidate], r.reason.clone(), &round))
            .collect();
        let chosen = recommend(client, whatif, self.analyzed, &round, &selection)?;
        Ok((chosen, rejected))
    }
}

/// Baseline plan, accesses and candidate specs of a statement and of the statements it implies.
fn analyze(
    client: &mut Client,
    catalog: &mut Catalog,
    tables: &mut Tables,
    statement: Statement,
    options: &AdviseOptions,
) -> Result<Vec<(Analyzed, Vec<Bundle>)>, AdviseError> {
    catalog.preload(client, &statement.sql)?;
    let extraction =
        extract(&statement.sql, &catalog.lookup()).map_err(|e| AdviseError::Parse {
            query: statement.name.clone(),
            message: e.to_string(),
        })?;
    let derived = derived_statements(client, catalog, &statement, &extraction)?;
    let baseline_plan = explain(client, &statement);
    let mut accesses = extraction.accesses.clone();
    if let Ok(plan) = &baseline_plan {
        for relation in plan::scanned_relations(plan) {
            catalog.relation(client, &relation)?;
        }
        accesses.extend(plan::accesses(plan, &catalog.lookup()));
    }
    let params = statement.params.clone().unwrap_or_default();
    let mut specs = Vec::new();
    let mut touched = BTreeSet::new();
    for access in merge_by_relation(client, catalog, accesses)? {
        let (relation, access) = access;
        let facts = tables.facts(client, &relation)?;
        touched.insert((relation.schema.clone(), relation.name.clone()));
        let singles = shapes(&access, &facts, &params, options.max_columns);
        specs.extend(singles.into_iter().map(|spec| vec![spec]));
        specs.extend(or_bundle(&access, &facts, options.max_columns));
    }
    let mut out = vec![(
        Analyzed {
            largest_scan: baseline_plan.as_ref().ok().and_then(plan::largest_scan),
            baseline: baseline_plan
                .map(|p| plan::total_cost(&p))
                .map_err(|e| e.to_string()),
            statement,
            top_level: true,
            tables: touched,
            uncaptured: derived.uncaptured,
            writes: !extraction.written.is_empty(),
        },
        specs,
    )];
    for inner in derived.statements {
        for (mut entry, specs) in analyze(client, catalog, tables, inner, options)? {
            entry.top_level = false;
            out.push((entry, specs));
        }
    }
    Ok(out)
}

/// Resolves each access's relation (views and unknown names drop out) and merges accesses to
/// the same table (a CTE, a view and the outer query can all filter one table).
fn merge_by_relation(
    client: &mut Client,
    catalog: &mut Catalog,
    accesses: Vec<TableAccess>,
) -> Result<Vec<(Relation, TableAccess)>, AdviseError> {
    let mut merged: Vec<(Relation, TableAccess)> = Vec::new();
    for access in accesses {
        let Some(name) = &access.relation else {
            continue;
        };
        let Some(relation) = catalog.relation(client, name)? else {
            continue;
        };
        if !matches!(relation.kind, 'r' | 'p' | 'm') {
            continue;
        }
        match merged.iter_mut().find(|(r, _)| r.oid == relation.oid) {
            Some((_, existing)) => existing.merge(access),
            None => merged.push((relation, access)),
        }
    }
    Ok(merged)
}

impl Tables {
    fn facts(
        &mut self,
        client: &mut Client,
        relation: &Relation,
    ) -> Result<TableFacts, AdviseError> {
        let key = (relation.schema.clone(), relation.name.clone());
        if let Some((_, facts)) = self.relations.get(&key) {
            return Ok(facts.clone());
        }
        let facts = catalog::table_facts(client, relation)?;
        self.relations
            .insert(key, (relation.clone(), facts.clone()));
        Ok(facts)
    }
}

/// A candidate: one index, or an OR bundle that only pays off together.
type Bundle = Vec<IndexSpec>;

fn add_candidates(candidates: &mut Vec<(Bundle, Vec<String>)>, origin: &str, specs: Vec<Bundle>) {
    for spec in specs {
        match candidates.iter_mut().find(|(s, _)| *s == spec) {
            Some((_, origins)) if !origins.iter().any(|o| o == origin) => {
                origins.push(origin.to_string())
            }
            Some(_) => {}
            None => candidates.push((spec, vec![origin.to_string()])),
        }
    }
}

/// What-if of each candidate alone, on every statement that reads its table.
/// Without leave to lock, the candidates whose costing needs a real build (GIN: HypoPG cannot
/// create it), which would block writes to their table while it runs.
fn refuse_lock_only_candidates(
    candidates: Vec<(Bundle, Vec<String>)>,
    may_lock: bool,
) -> (Vec<(Bundle, Vec<String>)>, Vec<RejectedCandidate>) {
    if may_lock {
        return (candidates, Vec::new());
    }
    let (refused, kept): (Vec<_>, Vec<_>) = candidates
        .into_iter()
        .partition(|(bundle, _)| bundle.iter().any(|spec| spec.method == IndexMethod::Gin));
    let refused = refused
        .into_iter()
        .map(|(bundle, origins)| RejectedCandidate {
            spec: bundle[0].clone(),
            queries: origins,
            explanation: reason_sentence(&RejectReason::NeedsLocks),
            reason: RejectReason::NeedsLocks,
        })
        .collect();
    (kept, refused)
}

fn cost_candidates(
    client: &mut Client,
    whatif: &mut WhatIf,
    analyzed: &[Analyzed],
    candidates: &[(Bundle, Vec<String>)],
) -> Result<(Vec<Costed>, Vec<RejectedCandidate>), AdviseError> {
    let mut out = Vec::new();
    let mut refused = Vec::new();
    for (bundle, origins) in candidates {
        let affected = affected(analyzed, &bundle[0]);
        let statements: Vec<&Statement> = affected.iter().map(|a| &a.statement).collect();
        let result = match whatif.evaluate(client, bundle, &statements) {
            Ok(result) => result,
            Err(AdviseError::Database(error)) if error.as_db_error().is_some() => {
                let reason = RejectReason::BuildFailed {
                    message: crate::pg::describe(&error),
                };
                refused.push(RejectedCandidate {
                    spec: bundle[0].clone(),
                    queries: origins.clone(),
                    explanation: reason_sentence(&reason),
                    reason,
                });
                continue;
            }
            Err(other) => return Err(other),
        };
        let mut costs = BTreeMap::new();
        for (entry, costing) in affected.iter().zip(&result.costings) {
            if let (Ok(costing), Ok(baseline)) = (costing, &entry.baseline) {
                let cost = if costing.uses.is_empty() {
                    *baseline
                } else {
                    costing.cost
                };
                costs.insert(entry.statement.name.clone(), cost);
            }
        }
        out.push(Costed {
            spec: bundle[0].clone(),
            companions: bundle[1..].to_vec(),
            origins: origins.clone(),
            estimated_size_bytes: result.sizes_bytes.iter().sum(),
            costs,
        });
    }
    Ok((out, refused))
}

/// Workload queries that read a table of the recommendations, themselves or through the
/// functions and foreign keys they touch, with the statements derived from each (they follow
/// their query in `analyzed`) and whether it writes.
fn touching<'a>(analyzed: &'a [Analyzed], recommendations: &[Recommendation]) -> Touching<'a> {
    let tables: BTreeSet<(String, String)> = recommendations
        .iter()
        .map(|r| (r.spec.schema.clone(), r.spec.table.clone()))
        .collect();
    let mut out = Touching::default();
    let mut group: Vec<&Analyzed> = Vec::new();
    let flush = |group: &mut Vec<&'a Analyzed>, out: &mut Touching<'a>| {
        let hits = group
            .iter()
            .any(|entry| entry.tables.iter().any(|t| tables.contains(t)));
        if let Some((query, inner)) = group.split_first()
            && hits
            && query.baseline.is_ok()
        {
            out.statements.push(&query.statement);
            out.inner
                .push(inner.iter().map(|entry| &entry.statement).collect());
            out.writes.push(query.writes);
        }
        group.clear();
    };
    for entry in analyzed {
        if entry.top_level {
            flush(&mut group, &mut out);
        }
        group.push(entry);
    }
    flush(&mut group, &mut out);
    out
}

/// The statements a verification round times (see `verify::Trial`).
#[derive(Default)]
struct Touching<'a> {
    statements: Vec<&'a Statement>,
    inner: Vec<Vec<&'a Statement>>,
    writes: Vec<bool>,
}

fn affected<'a>(analyzed: &'a [Analyzed], spec: &IndexSpec) -> Vec<&'a Analyzed> {
    let key = (spec.schema.clone(), spec.table.clone());
    analyzed
        .iter()
        .filter(|a| a.tables.contains(&key) && a.baseline.is_ok())
        .collect()
}

fn selection_input(
    client: &mut Client,
    tables: &Tables,
    analyzed: &[Analyzed],
    candidates: Vec<Costed>,
    options: &AdviseOptions,
) -> Result<SelectionInput, AdviseError> {
    let mut input = SelectionInput {
        candidates,
        budget_bytes: options.budget_bytes,
        ..SelectionInput::default()
    };
    for entry in analyzed {
        if let Ok(cost) = entry.baseline {
            input.queries.insert(
                entry.statement.name.clone(),
                QueryBaseline {
                    weight: entry.statement.weight,
                    cost,
                },
            );
        }
    }
    for (key, (relation, facts)) in &tables.relations {
        let load = catalog::table_load(client, relation, facts.rows)?;
        input.tables.insert(key.clone(), load);
        let existing = catalog::existing_indexes(client, relation)?;
        input
            .existing
            .extend(existing.into_iter().map(|e| e.existing));
    }
    Ok(input)
}

/// Greedy rounds: after each round the open candidates are costed again on top of the indexes
/// chosen so far, so an index that only pays off next to another one (both sides of a join)
/// is found; single-candidate costs cannot see that.
const SELECTION_ROUNDS: usize = 3;

fn select_in_rounds(
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
            .find(|spec| {
                *spec != own
                    && (&spec.schema, &spec.table, &spec.keys, &spec.predicate)
                        == (&own.schema, &own.table, &own.keys, &own.predicate)
            })
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
fn rebase(
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
fn recost(
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

/// The chosen set costed together: which statements use which index, at what cost.
fn recommend(
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

fn rejected_candidate(
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
    format!("{} ({})", reason_sentence(reason), costs.join("; "))
}

/// A rejection reason as a sentence a reviewer can check; callers add their evidence.
pub fn reason_sentence(reason: &RejectReason) -> String {
    use super::ddl::format_bytes;
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

fn query_advice(
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
/// budget alone says so (with the smallest such candidate), instead of "no index helps".
fn refused_for_budget(queries: &mut [QueryAdvice], rejected: &[RejectedCandidate]) {
    for query in queries
        .iter_mut()
        .filter(|q| q.uses.is_empty() && q.cost_before.is_some())
    {
        let smallest = rejected
            .iter()
            .filter(|r| r.queries.contains(&query.name))
            .filter_map(|r| match r.reason {
                RejectReason::OverBudget { size_bytes, .. } => Some((size_bytes, &r.spec)),
                _ => None,
            })
            .min_by_key(|(size, _)| *size);
        if let Some((size, spec)) = smallest {
            query.note = Some(format!(
                "an index would help but was refused only for --budget-mb: {} ({} estimated) serves it; raise the budget to take it",
                index_name(spec),
                super::ddl::format_bytes(size)
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

fn existing_findings(
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

fn notes(analyzed: &[Analyzed], method: WhatIfMethod) -> Vec<String> {
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

/// The migration's statements for one index and the partitions they cover: concurrently on a
/// plain table; on a partitioned table, per partition and attached (`create_on_partitions`);
/// with nested partitioning, where that would need an `ON ONLY` index at every level, a plain
/// `CREATE INDEX` on the parent, which blocks writes while it builds (said in a comment).
fn migration_ddl(
    client: &mut Client,
    spec: &IndexSpec,
    name: &str,
) -> Result<(String, Vec<String>), AdviseError> {
    let children = super::catalog::partitions(client, &spec.schema, &spec.table)?;
    let names: Vec<String> = children
        .iter()
        .map(|(s, t, _)| format!("{s}.{t}"))
        .collect();
    if children.is_empty() {
        return Ok((create_concurrently(spec, name), names));
    }
    if children.iter().any(|(_, _, nested)| *nested) {
        let ddl = format!(
            "-- nested partitions: built on the parent in one statement, which blocks writes to {}.{} while it runs\n{}",
            spec.schema,
            spec.table,
            super::ddl::create_in_transaction(spec, name).replacen(
                "CREATE INDEX",
                "CREATE INDEX IF NOT EXISTS",
                1
            )
        );
        return Ok((ddl, names));
    }
    let pairs: Vec<(String, String)> = children.into_iter().map(|(s, t, _)| (s, t)).collect();
    Ok((
        super::ddl::create_on_partitions(spec, name, &pairs).join(";\n"),
        names,
    ))
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
