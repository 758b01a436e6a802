//! Applying the decision rule (`decide.rs`) to what verification measured: per index, the
//! queries it serves and the other queries whose plans the indexes changed, each judged on
//! buffers and time; the evidence goes onto the index's effects, in advice.json and reports.

use super::decide::{self, Decision, Evidence, Judgement};
use super::session::Statement;
use super::verify::{Failed, Samples, VerifyOutcome};
use crate::model::advice::{EffectEvidence, Recommendation, RejectReason, RejectedCandidate};

/// One query judged for one index.
#[derive(Debug, Clone, Copy)]
struct Judged {
    judgement: Judgement,
    uses_index: bool,
}

fn judged(sample: &Samples, position: usize) -> Judged {
    let uses_index = sample.uses.contains(&position);
    let evidence = &sample.evidence;
    Judged {
        judgement: decide::judge(evidence, uses_index),
        uses_index,
    }
}

/// Keeps the indexes that help a query they serve and harm no query of the workload.
pub(super) fn apply(
    recommendations: &mut Vec<Recommendation>,
    statements: &[&Statement],
    failed: Failed,
    samples: &[Samples],
) -> VerifyOutcome {
    let mut reasons: Vec<Option<RejectReason>> = vec![None; recommendations.len()];
    for (index, reason) in failed {
        reasons[index] = Some(reason);
    }
    let mut notes = Vec::new();
    for (position, recommendation) in recommendations.iter_mut().enumerate() {
        if reasons[position].is_some() {
            continue;
        }
        let planned = std::mem::take(&mut recommendation.serves);
        let (mut served, mut others) = (Vec::new(), Vec::new());
        for (statement, sample) in statements.iter().zip(samples) {
            // Real plans unchanged by the indexes: whatever the what-if thought, not affected.
            if sample.unchanged {
                continue;
            }
            let judgement = judged(sample, position);
            let serves =
                sample.uses.contains(&position) || serves_through(&planned, &statement.name);
            if serves {
                recommendation.serves.push(statement.name.clone());
                if judgement.judgement == Judgement::Unmeasured {
                    notes.push(match &sample.probe_error {
                        Some(error) => format!("{} (failed: {error})", statement.name),
                        None => statement.name.clone(),
                    });
                    served.push((statement.name.clone(), judgement.judgement));
                    continue;
                }
                record_effect(recommendation, &statement.name, sample, judgement);
                served.push((statement.name.clone(), judgement.judgement));
            } else if sample.uses.is_empty() && judgement.judgement == Judgement::Slower {
                // Its plan changed but uses none of the new indexes: the set as a whole did
                // it, so every index answers for it.
                record_effect(recommendation, &statement.name, sample, judgement);
                others.push((statement.name.clone(), judgement.judgement));
            }
        }
        reasons[position] = match decide::decide(&served, &others) {
            Decision::Keep | Decision::Unmeasured => None,
            Decision::Harms(query) => Some(RejectReason::SlowsOtherQuery { query }),
            Decision::NoImprovement(Some(query)) => {
                Some(RejectReason::NoMeasuredImprovement { query })
            }
            Decision::NoImprovement(None) => Some(RejectReason::NotUsed),
        };
    }
    notes.sort();
    notes.dedup();
    let mut outcome = VerifyOutcome {
        unmeasured: notes,
        ..VerifyOutcome::default()
    };
    let mut kept = Vec::new();
    for (recommendation, reason) in recommendations.drain(..).zip(reasons) {
        match reason {
            None => kept.push(recommendation),
            Some(reason) => outcome.rejected.push(rejection(recommendation, reason)),
        }
    }
    *recommendations = kept;
    outcome
}

/// The what-if found the index serving `query` itself or a statement inside it (a function
/// body, a foreign-key lookup), which the query's own plan does not show.
fn serves_through(planned: &[String], query: &str) -> bool {
    planned
        .iter()
        .any(|s| s == query || s.starts_with(&format!("{query} (")))
}

/// Stores the measured P95s and the thinned samples of `query` on its effect, creating the
/// effect when the plan did not show the index serving the query directly.
fn record_effect(
    recommendation: &mut Recommendation,
    query: &str,
    sample: &Samples,
    judged: Judged,
) {
    let position = match recommendation.effects.iter().position(|e| e.query == query) {
        Some(position) => position,
        None => {
            recommendation
                .effects
                .push(crate::model::advice::QueryEffect {
                    query: query.to_string(),
                    cost_before: 0.0,
                    cost_after: 0.0,
                    p95_before: None,
                    p95_after: None,
                    samples_before_us: Vec::new(),
                    samples_after_us: Vec::new(),
                    evidence: None,
                });
            recommendation.effects.len() - 1
        }
    };
    let evidence = &sample.evidence;
    let effect = &mut recommendation.effects[position];
    let p95 = |samples_us: &[f64]| {
        let mut p95 = crate::stats::summarize(samples_us)?.p95;
        // Too few for an interval: the one-sided bound still says how slow it was at least.
        if p95.ci_low_us.is_none() {
            let mut sorted = samples_us.to_vec();
            sorted.sort_by(f64::total_cmp);
            p95.ci_low_us = crate::stats::quantile_lower_bound(&sorted, 0.95, 0.975);
        }
        Some(p95)
    };
    effect.p95_before = p95(&evidence.before_us);
    effect.p95_after = p95(&evidence.after_us);
    effect.samples_before_us = thinned(&evidence.before_us);
    effect.samples_after_us = thinned(&evidence.after_us);
    effect.evidence = Some(evidence_of(evidence, judged.uses_index));
}

/// What verification measured for one query and how the rule judges it; `uses_index`: its
/// plan with the change uses it (for extended statistics: the plan changed).
pub(super) fn evidence_of(evidence: &Evidence, uses_index: bool) -> EffectEvidence {
    let timing = decide::compare(&evidence.before_us, &evidence.after_us);
    EffectEvidence {
        buffers_before: evidence.buffers_before,
        buffers_after: evidence.buffers_after,
        rows_before: evidence.rows_before,
        rows_after: evidence.rows_after,
        uses_index,
        compared_on: timing.map(|t| t.quantile),
        ratio: timing.map(|t| t.ratio),
        floor_ratio: timing.map(|t| t.floor_ratio),
        significant: timing.is_some_and(|t| t.significant),
        executions_before: evidence.before_us.len() as u64,
        executions_after: evidence.after_us.len() as u64,
        judgement: decide::judge(evidence, uses_index),
    }
}

/// Most samples kept per side of an effect, so that advice files and reports stay small.
const MAX_EFFECT_SAMPLES: usize = 2_000;

/// At most [`MAX_EFFECT_SAMPLES`] of `samples_us`, evenly spaced over the measurement order.
fn thinned(samples_us: &[f64]) -> Vec<f64> {
    let len = samples_us.len();
    if len <= MAX_EFFECT_SAMPLES {
        return samples_us.to_vec();
    }
    (0..MAX_EFFECT_SAMPLES)
        .map(|i| samples_us[i * len / MAX_EFFECT_SAMPLES])
        .collect()
}

pub(super) fn rejection(recommendation: Recommendation, reason: RejectReason) -> RejectedCandidate {
    let evidence: Vec<String> = recommendation
        .effects
        .iter()
        .filter_map(|e| {
            Some(format!(
                "{}: P95 {} -> {}",
                e.query,
                super::ddl::format_p95(e.p95_before.as_ref()?),
                super::ddl::format_p95(e.p95_after.as_ref()?)
            ))
        })
        .collect();
    let sentence = super::engine::reason_sentence(&reason);
    let explanation = if evidence.is_empty() {
        sentence
    } else {
        format!("{sentence} ({})", evidence.join("; "))
    };
    RejectedCandidate {
        spec: recommendation.spec,
        queries: recommendation.serves,
        reason,
        explanation,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_are_thinned_evenly_to_the_cap() {
        let few: Vec<f64> = (0..10).map(f64::from).collect();
        assert_eq!(thinned(&few), few);
        let many: Vec<f64> = (0..5_000).map(f64::from).collect();
        let kept = thinned(&many);
        assert_eq!(kept.len(), MAX_EFFECT_SAMPLES);
        assert_eq!(kept[0], 0.0);
        assert_eq!(kept[1], 2.0);
        assert_eq!(kept[MAX_EFFECT_SAMPLES - 1], 4_997.0);
    }
}
