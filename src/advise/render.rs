//! The terminal view of an [`AdviceResult`]: recommended indexes with their evidence, rejected
//! candidates with their reasons, existing indexes worth a look, and notes. Pure text,
//! snapshot-tested.

use comfy_table::{ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};

use super::ddl::{definition, format_bytes, format_p95};
use crate::model::advice::{AdviceResult, ExistingIndexIssue, Verification};

/// Renders the advice for a terminal `width` columns wide.
pub fn render(result: &AdviceResult, width: u16) -> String {
    let mut out = String::new();
    let verification = match &result.verification {
        Verification::Measured { executions } => {
            format!("verified: {executions} executions per query before and after")
        }
        Verification::Skipped { reason } => format!("not verified: {reason}"),
    };
    out.push_str(&format!(
        "{} recommended, {} rejected; what-if: {:?}; {verification}\n",
        result.recommendations.len(),
        result.rejected.len(),
        result.what_if
    ));
    if !result.recommendations.is_empty() {
        let mut table = table(width, ["index", "serves", "P95 before -> after", "size"]);
        for recommendation in &result.recommendations {
            let measured: Vec<String> = recommendation
                .effects
                .iter()
                .filter_map(|e| {
                    let evidence = e
                        .evidence
                        .as_ref()
                        .map(|ev| format!("\n  {}", ev.summary()));
                    Some(format!(
                        "{}: {} -> {}{}",
                        e.query,
                        format_p95(e.p95_before.as_ref()?),
                        format_p95(e.p95_after.as_ref()?),
                        evidence.unwrap_or_default()
                    ))
                })
                .collect();
            let size = recommendation
                .size_bytes
                .map(format_bytes)
                .unwrap_or_else(|| {
                    format!("~{}", format_bytes(recommendation.estimated_size_bytes))
                });
            table.add_row(vec![
                format!(
                    "{}\n{}",
                    recommendation.name,
                    definition(&recommendation.spec)
                ),
                recommendation.serves.join("\n"),
                measured.join("\n"),
                size,
            ]);
        }
        out.push_str(&format!("{table}\n"));
    }
    if !result.rejected.is_empty() {
        let mut table = table(width, ["rejected candidate", "from", "reason"]);
        for rejected in &result.rejected {
            table.add_row(vec![
                definition(&rejected.spec),
                rejected.queries.join("\n"),
                rejected.explanation.clone(),
            ]);
        }
        out.push_str(&format!("{table}\n"));
    }
    statistics(&mut out, result, width);
    for finding in &result.existing_indexes {
        let issue = match &finding.issue {
            ExistingIndexIssue::Unused => "never used since statistics were reset".to_string(),
            ExistingIndexIssue::Duplicate { of } => format!("duplicates {of}"),
        };
        out.push_str(&format!(
            "existing index {}.{} ({}): {issue}; pgperf never drops indexes, review it\n",
            finding.schema,
            finding.index,
            format_bytes(finding.size_bytes)
        ));
    }
    for query in &result.queries {
        if let Some(note) = &query.note {
            out.push_str(&format!("query {}: {note}\n", query.name));
        }
    }
    for note in &result.notes {
        out.push_str(&format!("note: {note}\n"));
    }
    if let Some(migration) = &result.migration {
        out.push_str(&format!(
            "wrote {} and {}\n",
            migration.up_path, migration.down_path
        ));
    }
    out
}

/// Extended statistics recommended and refused, each with its per-query evidence; nothing
/// when none were tried.
fn statistics(out: &mut String, result: &AdviceResult, width: u16) {
    if result.statistics.is_empty() && result.rejected_statistics.is_empty() {
        return;
    }
    out.push_str(&format!(
        "{} extended statistics recommended, {} rejected\n",
        result.statistics.len(),
        result.rejected_statistics.len()
    ));
    if !result.statistics.is_empty() {
        let mut table = table(width, ["statistics", "serves", "evidence"]);
        for recommendation in &result.statistics {
            let effects: Vec<String> = recommendation.effects.iter().map(|e| e.summary()).collect();
            table.add_row(vec![
                format!(
                    "{}\nON {} FROM {}.{}",
                    recommendation.name,
                    recommendation.spec.columns.join(", "),
                    recommendation.spec.schema,
                    recommendation.spec.table
                ),
                recommendation.serves.join("\n"),
                effects.join("\n"),
            ]);
        }
        out.push_str(&format!("{table}\n"));
    }
    if !result.rejected_statistics.is_empty() {
        let mut table = table(width, ["rejected statistics", "from", "reason"]);
        for rejected in &result.rejected_statistics {
            table.add_row(vec![
                rejected.name.clone(),
                rejected.queries.join("\n"),
                rejected.explanation.clone(),
            ]);
        }
        out.push_str(&format!("{table}\n"));
    }
}

fn table<const N: usize>(width: u16, header: [&str; N]) -> Table {
    let mut table = Table::new();
    table
        .load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(width)
        .set_header(header.to_vec());
    table
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::advice::*;
    use crate::model::{QuantileEstimate, Target};

    #[test]
    fn terminal_view() {
        let spec = IndexSpec {
            schema: "public".into(),
            table: "orders".into(),
            keys: vec![IndexKey {
                sql: "\"customer_id\"".into(),
                descending: false,
            }],
            include: vec![],
            predicate: None,
            method: Default::default(),
        };
        let estimate = |v: f64| QuantileEstimate {
            value_us: v,
            ci_low_us: Some(v * 0.9),
            ci_high_us: Some(v * 1.1),
        };
        let result = AdviceResult {
            schema_version: ADVICE_SCHEMA_VERSION,
            run_id: "r1".into(),
            started_at: chrono::DateTime::UNIX_EPOCH,
            finished_at: chrono::DateTime::UNIX_EPOCH,
            target: Target {
                embedded: true,
                url_redacted: "x".into(),
                database: "d".into(),
                clock: None,
            },
            workload_name: "w".into(),
            what_if: WhatIfMethod::Hypopg,
            verification: Verification::Measured { executions: 100 },
            budget_bytes: None,
            recommendations: vec![Recommendation {
                name: "orders_customer_id_abc123_idx".into(),
                spec: spec.clone(),
                ddl: String::new(),
                partitions: Vec::new(),
                serves: vec!["by_customer".into()],
                estimated_size_bytes: 5_000_000,
                size_bytes: Some(2_000_000),
                benefit: 1.0,
                effects: vec![QueryEffect {
                    query: "by_customer".into(),
                    cost_before: 1800.0,
                    cost_after: 8.0,
                    p95_before: Some(estimate(9000.0)),
                    p95_after: Some(estimate(80.0)),
                    samples_before_us: Vec::new(),
                    samples_after_us: Vec::new(),
                    evidence: Some(EffectEvidence {
                        buffers_before: Some(40_000.0),
                        buffers_after: Some(120.0),
                        rows_before: Some(10.0),
                        rows_after: Some(10.0),
                        uses_index: true,
                        compared_on: Some(Quantile::P95),
                        ratio: Some(0.009),
                        floor_ratio: Some(0.01),
                        significant: true,
                        executions_before: 100,
                        executions_after: 100,
                        judgement: Judgement::FewerBuffers,
                    }),
                }],
            }],
            rejected: vec![RejectedCandidate {
                spec,
                queries: vec!["by_status".into()],
                reason: RejectReason::NoPlanImprovement {
                    best_saving_pct: 0.0,
                },
                explanation: "the planner would not use it".into(),
            }],
            statistics: vec![StatisticsRecommendation {
                name: "addresses_city_zip_stats".into(),
                spec: StatisticsSpec {
                    schema: "public".into(),
                    table: "addresses".into(),
                    columns: vec!["city".into(), "zip".into()],
                },
                ddl: String::new(),
                serves: vec!["by_place".into()],
                effects: vec![StatisticsEffect {
                    query: "by_place".into(),
                    estimated_rows_before: 1.0,
                    estimated_rows_after: 973.0,
                    actual_rows: 1000.0,
                    plan_changed: true,
                    evidence: EffectEvidence {
                        buffers_before: Some(5_738.0),
                        buffers_after: Some(743.0),
                        rows_before: Some(1.0),
                        rows_after: Some(1.0),
                        uses_index: true,
                        compared_on: Some(Quantile::P50),
                        ratio: Some(0.005),
                        floor_ratio: Some(0.006),
                        significant: true,
                        executions_before: 12,
                        executions_after: 59,
                        judgement: Judgement::FewerBuffers,
                    },
                }],
            }],
            rejected_statistics: vec![RejectedStatistics {
                name: "people_a_b_stats".into(),
                spec: StatisticsSpec {
                    schema: "public".into(),
                    table: "people".into(),
                    columns: vec!["a".into(), "b".into()],
                },
                queries: vec!["by_ab".into()],
                explanation: "no plan changed with them".into(),
            }],
            queries: vec![QueryAdvice {
                name: "tile.totals".into(),
                weight: 1.0,
                plan_mode: PlanMode::Custom,
                cost_before: Some(90_000.0),
                cost_after: Some(90_000.0),
                p95_before: None,
                p95_after: None,
                uses: vec![],
                note: Some("no index helps: precompute it".into()),
            }],
            existing_indexes: vec![ExistingIndexFinding {
                schema: "public".into(),
                table: "orders".into(),
                index: "orders_old_idx".into(),
                issue: ExistingIndexIssue::Unused,
                size_bytes: 8192,
            }],
            migration: None,
            notes: vec!["a note".into()],
        };
        insta::assert_snapshot!(render(&result, 100));
    }
}
