//! Step 5: verification rounds of the recommendations (the second re-selects what the first
//! set aside), with the budget checked at real sizes after each.

use std::collections::BTreeSet;

use postgres::Client;

use super::recommend::{recommend, rejected_candidate};
use super::rounds::{rebase, recost};
use super::{AdviseOptions, Analyzed};
use crate::advise::AdviseError;
use crate::advise::keylist::same_keys;
use crate::advise::retry;
use crate::advise::select::{self, SelectionInput};
use crate::advise::session::Statement;
use crate::advise::verify;
use crate::advise::whatif::WhatIf;
use crate::model::advice::{
    IndexSpec, Recommendation, RejectReason, RejectedCandidate, Verification,
};
use crate::workload::Workload;

/// What verification rounds share.
pub(super) struct Run<'a> {
    pub(super) workload: &'a Workload,
    pub(super) analyzed: &'a [Analyzed],
    pub(super) input: &'a SelectionInput,
    pub(super) options: &'a AdviseOptions,
    /// Where the rounds' time went.
    pub(super) spent: verify::Spent,
}

/// Verification rounds at most: the selected set, then the candidates it set aside for an
/// index the first round dropped or for a budget that real sizes left room for (`retry`).
const VERIFICATION_ROUNDS: usize = 2;

impl Run<'_> {
    /// Verifies the recommendations (unless `--no-verify`), then gives the candidates whose
    /// rejection verification undid a round of their own on top of the indexes kept. The
    /// budget is checked with real sizes after every round.
    pub(super) fn verify_in_rounds(
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
    /// reason now. A retried twin of a kept index (same key columns) is superseded by it:
    /// the kept one was measured, and one index per key list is advised (`keylist`).
    fn reselect(
        &self,
        client: &mut Client,
        whatif: &mut WhatIf,
        kept: &[Recommendation],
        retry: &[usize],
    ) -> Result<(Vec<Recommendation>, Vec<RejectedCandidate>), AdviseError> {
        let twin_of = |id: &usize| {
            kept.iter()
                .find(|k| same_keys(&k.spec, &self.input.candidates[*id].spec))
        };
        let mut twins = Vec::new();
        let mut retry_ids = Vec::new();
        for id in retry {
            match twin_of(id) {
                Some(by) => twins.push(rejected_candidate(
                    &self.input.candidates[*id],
                    RejectReason::Superseded {
                        by: by.name.clone(),
                    },
                    self.input,
                )),
                None => retry_ids.push(*id),
            }
        }
        let (chosen, mut rejected) = self.reselect_apart(client, whatif, kept, &retry_ids)?;
        rejected.extend(twins);
        Ok((chosen, rejected))
    }

    /// [`Self::reselect`] of candidates with no twin among the `kept` indexes.
    fn reselect_apart(
        &self,
        client: &mut Client,
        whatif: &mut WhatIf,
        kept: &[Recommendation],
        retry: &[usize],
    ) -> Result<(Vec<Recommendation>, Vec<RejectedCandidate>), AdviseError> {
        if retry.is_empty() {
            return Ok((Vec::new(), Vec::new()));
        }
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
