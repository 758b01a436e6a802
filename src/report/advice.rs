//! The advice section: each recommended index with the queries it serves, planner cost and
//! measured P95 before → after (one chart per index), its real size, the candidates rejected and
//! why, extended statistics kept and refused with their evidence, existing indexes worth a
//! look, and the migration text ready to copy.

use serde::Serialize;

use super::chart_data::{cdf_points, sample_distribution};
use super::environment::redact;
use super::escape::Html;
use super::format;
use super::html::{Severity, figure, folded, key_values, note};
use super::svg::{self, Interval};
use super::view::anchor;
use crate::model::QuantileEstimate;
use crate::model::advice::{
    AdviceResult, ExistingIndexIssue, IndexSpec, PlanMode, QueryAdvice, QueryEffect,
    Recommendation, RejectedCandidate, StatisticsSpec, Verification, WhatIfMethod,
};

/// The advice section's context.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AdviceView {
    pub run_id: String,
    pub workload: String,
    pub facts: Vec<(String, String)>,
    pub notes: Vec<String>,
    pub recommendations: Vec<RecommendationView>,
    pub queries: Vec<QueryAdviceView>,
    pub rejected: Vec<RejectedView>,
    /// Extended statistics recommended, and those tried and refused (`definition` names them);
    /// absent when none were tried.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub statistics: Vec<StatisticsView>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rejected_statistics: Vec<RejectedView>,
    pub existing: Vec<(String, String, String)>,
    pub migration: Option<MigrationView>,
}

/// One recommended index.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecommendationView {
    pub anchor: String,
    pub name: String,
    pub definition: String,
    pub serves: Vec<String>,
    pub size: String,
    pub benefit: String,
    pub effects: Vec<EffectView>,
    pub ddl: String,
}

/// CDF points `[latency_us, share]`, as [`cdf_points`] returns them.
pub type CdfPoints = Vec<[f64; 2]>;

/// What the index did to one query.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EffectView {
    pub query: String,
    pub cost: String,
    pub p95: String,
    /// Buffers, rows, plan and timing verdict (`EffectEvidence::summary`); empty when the
    /// advice carries none.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub evidence: String,
    /// Before and after with intervals, for the chart; `None` when not measured.
    #[serde(skip)]
    pub measured: Option<(QuantileEstimate, QuantileEstimate)>,
    /// CDF points `[latency_us, share]` before and after, from the measured samples; `None` in
    /// advice files that carry no samples.
    #[serde(skip)]
    pub cdfs: Option<(CdfPoints, CdfPoints)>,
}

/// The advice from one query's point of view.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QueryAdviceView {
    pub name: String,
    pub plan_mode: &'static str,
    pub cost: String,
    pub p95: String,
    pub uses: String,
    pub note: Option<String>,
}

/// A candidate that was not recommended.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RejectedView {
    pub definition: String,
    pub queries: String,
    pub reason: String,
    pub explanation: String,
}

/// Extended statistics recommended, with one evidence line per query served.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatisticsView {
    pub name: String,
    /// `schema.table (columns)`.
    pub definition: String,
    pub serves: String,
    pub evidence: Vec<String>,
}

/// The migration pair.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MigrationView {
    pub up_path: String,
    pub down_path: String,
    pub up_sql: String,
    pub down_sql: String,
}

/// `schema.table (keys) INCLUDE (...) WHERE ...`.
pub fn definition(spec: &IndexSpec) -> String {
    let keys: Vec<String> = spec
        .keys
        .iter()
        .map(|key| {
            if key.descending {
                format!("{} DESC", key.sql)
            } else {
                key.sql.clone()
            }
        })
        .collect();
    let mut text = format!("{}.{} ({})", spec.schema, spec.table, keys.join(", "));
    if !spec.include.is_empty() {
        text.push_str(&format!(" INCLUDE ({})", spec.include.join(", ")));
    }
    if let Some(predicate) = &spec.predicate {
        text.push_str(&format!(" WHERE {predicate}"));
    }
    text
}

/// `schema.table (columns)` of extended statistics.
fn statistics_definition(spec: &StatisticsSpec) -> String {
    format!(
        "{}.{} ({})",
        spec.schema,
        spec.table,
        spec.columns.join(", ")
    )
}

/// Builds the advice section's context.
pub fn build(advice: &AdviceResult) -> AdviceView {
    AdviceView {
        run_id: advice.run_id.clone(),
        workload: advice.workload_name.clone(),
        facts: facts(advice),
        notes: advice.notes.iter().map(|note| redact(note)).collect(),
        recommendations: advice
            .recommendations
            .iter()
            .enumerate()
            .map(|(i, r)| recommendation(i, r))
            .collect(),
        queries: advice.queries.iter().map(query).collect(),
        rejected: advice.rejected.iter().map(rejected).collect(),
        statistics: advice
            .statistics
            .iter()
            .map(|s| StatisticsView {
                name: s.name.clone(),
                definition: statistics_definition(&s.spec),
                serves: s.serves.join(", "),
                evidence: s.effects.iter().map(|e| redact(&e.summary())).collect(),
            })
            .collect(),
        rejected_statistics: advice
            .rejected_statistics
            .iter()
            .map(|r| RejectedView {
                definition: format!("{} {}", r.name, statistics_definition(&r.spec)),
                queries: r.queries.join(", "),
                reason: "statistics refused".into(),
                explanation: redact(&r.explanation),
            })
            .collect(),
        existing: advice
            .existing_indexes
            .iter()
            .map(|finding| {
                let issue = match &finding.issue {
                    ExistingIndexIssue::Unused => {
                        "unused since statistics were last reset".to_string()
                    }
                    ExistingIndexIssue::Duplicate { of } => format!("duplicates {of}"),
                };
                (
                    format!("{}.{}.{}", finding.schema, finding.table, finding.index),
                    issue,
                    format::bytes(finding.size_bytes),
                )
            })
            .collect(),
        migration: advice.migration.as_ref().map(|files| MigrationView {
            up_path: files.up_path.clone(),
            down_path: files.down_path.clone(),
            up_sql: files.up_sql.clone(),
            down_sql: files.down_sql.clone(),
        }),
    }
}

fn facts(advice: &AdviceResult) -> Vec<(String, String)> {
    let what_if = match advice.what_if {
        WhatIfMethod::Hypopg => "HypoPG hypothetical indexes".to_string(),
        WhatIfMethod::RealBuild => {
            "real builds in rolled-back transactions (HypoPG not installed)".to_string()
        }
    };
    let verification = match &advice.verification {
        Verification::Measured { executions } => format!(
            "measured: built in BEGIN … ROLLBACK, each affected query run {executions} times before and after"
        ),
        Verification::Skipped { reason } => format!(
            "not measured ({}); recommendations rest on planner estimates only",
            redact(reason)
        ),
    };
    let total: u64 = advice
        .recommendations
        .iter()
        .map(|r| r.size_bytes.unwrap_or(r.estimated_size_bytes))
        .sum();
    vec![
        ("run id".into(), advice.run_id.clone()),
        ("target".into(), redact(&advice.target.url_redacted)),
        ("what-if costing".into(), what_if),
        ("verification".into(), verification),
        (
            "storage budget".into(),
            advice.budget_bytes.map_or("none".into(), format::bytes),
        ),
        (
            "size of the recommended indexes".into(),
            format::bytes(total),
        ),
    ]
}

fn recommendation(index: usize, rec: &Recommendation) -> RecommendationView {
    let size = match rec.size_bytes {
        Some(real) => format!(
            "{} built (HypoPG estimated {})",
            format::bytes(real),
            format::bytes(rec.estimated_size_bytes)
        ),
        None => format!(
            "HypoPG estimate {} (not built; such estimates run 2-5× large)",
            format::bytes(rec.estimated_size_bytes)
        ),
    };
    RecommendationView {
        anchor: anchor(index, &format!("index-{}", rec.name)),
        name: rec.name.clone(),
        definition: definition(&rec.spec),
        serves: rec.serves.clone(),
        size,
        benefit: format::significant(rec.benefit, 3),
        effects: rec.effects.iter().map(effect).collect(),
        ddl: rec.ddl.clone(),
    }
}

fn cost_change(before: f64, after: f64) -> String {
    let change = if before > 0.0 {
        format!(" ({:+.1}%)", (after / before - 1.0) * 100.0)
    } else {
        String::new()
    };
    format!(
        "{} → {}{change}",
        format::significant(before, 4),
        format::significant(after, 4)
    )
}

/// `"12.3 ms → 0.81 ms (15× faster)"`, or why there is no measurement.
pub fn p95_change(before: Option<&QuantileEstimate>, after: Option<&QuantileEstimate>) -> String {
    match (before, after) {
        (Some(before), Some(after)) if after.value_us > 0.0 => {
            let ratio = before.value_us / after.value_us;
            let direction = if ratio >= 1.0 {
                format!("{}× faster", format::significant(ratio, 2))
            } else {
                format!("{}× slower", format::significant(1.0 / ratio, 2))
            };
            format!(
                "{} → {} ({direction})",
                format::latency_us(before.value_us),
                format::latency_us(after.value_us)
            )
        }
        _ => "not measured".to_string(),
    }
}

fn effect(effect: &QueryEffect) -> EffectView {
    EffectView {
        query: effect.query.clone(),
        cost: cost_change(effect.cost_before, effect.cost_after),
        p95: p95_change(effect.p95_before.as_ref(), effect.p95_after.as_ref()),
        evidence: effect
            .evidence
            .as_ref()
            .map(|evidence| evidence.summary())
            .unwrap_or_default(),
        measured: effect.p95_before.zip(effect.p95_after),
        cdfs: effect_cdfs(effect),
    }
}

fn effect_cdfs(effect: &QueryEffect) -> Option<(CdfPoints, CdfPoints)> {
    let cdf = |samples_us: &[f64]| cdf_points(&sample_distribution(samples_us));
    let (before, after) = (
        cdf(&effect.samples_before_us),
        cdf(&effect.samples_after_us),
    );
    (!before.is_empty() && !after.is_empty()).then_some((before, after))
}

fn query(query: &QueryAdvice) -> QueryAdviceView {
    QueryAdviceView {
        name: query.name.clone(),
        plan_mode: match query.plan_mode {
            PlanMode::Custom => "custom (real parameters)",
            PlanMode::Generic => "generic (no parameter values)",
        },
        cost: match (query.cost_before, query.cost_after) {
            (Some(before), Some(after)) => cost_change(before, after),
            (Some(before), None) => format::significant(before, 4),
            _ => "–".to_string(),
        },
        p95: p95_change(query.p95_before.as_ref(), query.p95_after.as_ref()),
        uses: if query.uses.is_empty() {
            "–".into()
        } else {
            query.uses.join(", ")
        },
        note: query.note.as_deref().map(redact),
    }
}

fn rejected(candidate: &RejectedCandidate) -> RejectedView {
    let reason = serde_json::to_value(&candidate.reason)
        .ok()
        .and_then(|value| {
            value
                .get("kind")
                .and_then(|kind| kind.as_str().map(|k| k.replace('_', " ")))
        })
        .unwrap_or_default();
    RejectedView {
        definition: definition(&candidate.spec),
        queries: candidate.queries.join(", "),
        reason,
        explanation: redact(&candidate.explanation),
    }
}

/// Lays the advice section out.
pub fn render(html: &mut Html, view: &AdviceView) {
    html.open("section", &[("id", "advice")])
        .element("h2", &[], "Index advice");
    key_values(html, &view.facts);
    // Advise's notes are caveats about the method (a generic plan, a second round), not failures.
    for text in &view.notes {
        note(html, Severity::Info, text);
    }
    html.element(
        "h3",
        &[],
        &format!("Recommended indexes ({})", view.recommendations.len()),
    );
    if view.recommendations.is_empty() {
        html.element(
            "p",
            &[("class", "muted")],
            "No index is recommended: no candidate paid off (see the rejected candidates below).",
        );
    }
    for recommendation in &view.recommendations {
        render_recommendation(html, recommendation);
    }
    render_queries(html, &view.queries);
    render_rejected(html, &view.rejected);
    render_statistics(html, &view.statistics, &view.rejected_statistics);
    render_existing(html, &view.existing);
    if let Some(migration) = &view.migration {
        render_migration(html, migration);
    }
    html.close("section");
}

fn render_recommendation(html: &mut Html, rec: &RecommendationView) {
    html.open(
        "details",
        &[
            ("class", "query"),
            ("id", rec.anchor.as_str()),
            ("open", "open"),
        ],
    )
    .open("summary", &[]);
    html.element("strong", &[], &rec.name)
        .element("span", &[("class", "muted")], &rec.definition)
        .close("summary");
    html.open("div", &[("class", "query-body")]);
    key_values(
        html,
        &[
            ("serves".into(), rec.serves.join(", ")),
            ("size".into(), rec.size.clone()),
            (
                "workload benefit (Σ weight × cost saved)".into(),
                rec.benefit.clone(),
            ),
        ],
    );
    let headers = [
        "query",
        "planner cost before → after",
        "measured P95 before → after",
        "evidence: buffers, rows, plan, time → judgement",
    ];
    // The evidence column only for advice that carries evidence (files from older versions do not).
    let columns = if rec.effects.iter().any(|e| !e.evidence.is_empty()) {
        4
    } else {
        3
    };
    let rows = rec
        .effects
        .iter()
        .map(|e| {
            let mut row = vec![e.query.clone(), e.cost.clone(), e.p95.clone()];
            row.push(e.evidence.clone());
            row.truncate(columns);
            row
        })
        .collect();
    table(html, &headers[..columns], rows);
    html.open("div", &[("class", "effects")])
        .open("pre", &[("class", "migration")])
        .text(&rec.ddl)
        .close("pre");
    effects_chart(html, &rec.effects);
    html.close("div").close("div").close("details");
}

/// Both distributions per query where the samples were kept, and one interval chart for the
/// measured queries without samples (advice files written before samples were kept).
fn effects_chart(html: &mut Html, effects: &[EffectView]) {
    for effect in effects {
        if let (Some((before, after)), Some((p95_before, p95_after))) =
            (&effect.cdfs, &effect.measured)
        {
            let chart =
                svg::before_after_cdf(before, after, (p95_before.value_us, p95_after.value_us));
            let caption = format!(
                "{}: latency distribution without (grey) and with (blue) the index; dashed lines \
                 mark each P95.",
                effect.query
            );
            figure(html, chart, &caption, "No latencies to draw.");
        }
    }
    let with_cdf = effects.iter().any(|effect| effect.cdfs.is_some());
    let intervals: Vec<Interval> = effects
        .iter()
        .filter(|effect| effect.cdfs.is_none())
        .filter_map(|effect| {
            effect.measured.map(|(before, after)| Interval {
                label: effect.query.clone(),
                before,
                after,
            })
        })
        .collect();
    if with_cdf && intervals.is_empty() {
        return;
    }
    let chart = if intervals.is_empty() {
        Ok(None)
    } else {
        svg::before_after(&intervals)
    };
    figure(
        html,
        chart,
        "Measured P95 per query without (grey) and with (blue) the index; bars are 95% intervals.",
        "Not measured: verification was skipped.",
    );
}

fn table(html: &mut Html, headers: &[&'static str], rows: Vec<Vec<String>>) {
    html.open("div", &[("class", "table-wrap")])
        .open("table", &[])
        .open("thead", &[])
        .open("tr", &[]);
    for header in headers {
        html.element("th", &[], header);
    }
    html.close("tr").close("thead").open("tbody", &[]);
    for row in rows {
        html.open("tr", &[]);
        for cell in row {
            html.element("td", &[], &cell);
        }
        html.close("tr");
    }
    html.close("tbody").close("table").close("div");
}

fn render_queries(html: &mut Html, queries: &[QueryAdviceView]) {
    html.element("h3", &[], "Queries");
    let rows = queries
        .iter()
        .map(|q| {
            vec![
                q.name.clone(),
                q.plan_mode.to_string(),
                q.cost.clone(),
                q.p95.clone(),
                q.uses.clone(),
                q.note.clone().unwrap_or_default(),
            ]
        })
        .collect();
    table(
        html,
        &[
            "query",
            "plan costed",
            "planner cost before → after",
            "P95 before → after",
            "uses",
            "note",
        ],
        rows,
    );
}

/// Folded by default: the recommendations are what most readers came for.
fn render_rejected(html: &mut Html, rejected: &[RejectedView]) {
    let title = format!("Rejected candidates ({})", rejected.len());
    folded(html, &title, |html| rejected_table(html, rejected));
}

fn rejected_table(html: &mut Html, rejected: &[RejectedView]) {
    let rows = rejected
        .iter()
        .map(|r| {
            vec![
                r.definition.clone(),
                r.queries.clone(),
                r.reason.clone(),
                r.explanation.clone(),
            ]
        })
        .collect();
    table(
        html,
        &["candidate", "from queries", "reason", "evidence"],
        rows,
    );
}

fn render_statistics(html: &mut Html, kept: &[StatisticsView], refused: &[RejectedView]) {
    if kept.is_empty() && refused.is_empty() {
        return;
    }
    html.element(
        "h3",
        &[],
        &format!("Recommended extended statistics ({})", kept.len()),
    );
    let rows = kept
        .iter()
        .map(|s| {
            vec![
                format!("{} {}", s.name, s.definition),
                s.serves.clone(),
                s.evidence.join("\n"),
            ]
        })
        .collect();
    table(html, &["statistics", "serves", "evidence"], rows);
    if !refused.is_empty() {
        let title = format!("Refused extended statistics ({})", refused.len());
        folded(html, &title, |html| rejected_table(html, refused));
    }
}

fn render_existing(html: &mut Html, existing: &[(String, String, String)]) {
    if existing.is_empty() {
        return;
    }
    html.element(
        "h3",
        &[],
        "Existing indexes worth a look (reported only, never dropped)",
    );
    let rows = existing
        .iter()
        .map(|(index, issue, size)| vec![index.clone(), issue.clone(), size.clone()])
        .collect();
    table(html, &["index", "issue", "size"], rows);
}

fn render_migration(html: &mut Html, migration: &MigrationView) {
    html.open("div", &[("id", "migration")])
        .element("h3", &[], "Migration");
    html.element("p", &[("class", "muted")], "Ready to review and commit. CREATE INDEX CONCURRENTLY cannot run inside a transaction: apply one statement per call (pgperf migrate does).");
    for (path, sql) in [
        (&migration.up_path, &migration.up_sql),
        (&migration.down_path, &migration.down_sql),
    ] {
        html.open("p", &[]).element("code", &[], path).close("p");
        html.open("pre", &[("class", "migration")])
            .text(sql)
            .close("pre");
    }
    html.close("div");
}
