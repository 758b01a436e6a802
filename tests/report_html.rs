//! The rendered page: every text escaped (also inside SVG), no password, no network, the main
//! sections present, and a 50-query report under 3 MB.

mod report_support;

use pgperf::model::check::{Difference, Finding, FindingKind};
use pgperf::model::{QueryError, Warning};
use pgperf::report::{Parts, render, render_advice, render_run};
use report_support::{advice_result, check_report, dashboard_run, many_queries};

const ATTACK: &str = "PWNED</script><script>alert(1)</script><img src=x onerror=alert(2)>\"'&";

fn hostile_run() -> pgperf::model::RunResult {
    let mut run = dashboard_run();
    run.run_id = format!("run {ATTACK}");
    run.environment.workload_name = format!("dash {ATTACK}");
    run.environment
        .server_settings
        .insert(format!("key {ATTACK}"), format!("value {ATTACK}"));
    run.warnings.push(Warning::PlanChanged {
        before: ATTACK.into(),
        after: "x".into(),
    });
    let query = &mut run.queries[0];
    query.name = format!("name {ATTACK}");
    query.sql = format!("select '{ATTACK}' -- sql");
    query.tile = Some(format!("tile {ATTACK}"));
    query.role = format!("role {ATTACK}");
    query.claims = Some(serde_json::json!({ "claim": ATTACK }));
    query.first_error = Some(QueryError {
        sqlstate: Some("XX000".into()),
        message: format!("error {ATTACK}"),
    });
    let plan = query.plan.as_mut().expect("dashboard queries have plans");
    plan.params = vec![Some(format!("param {ATTACK}"))];
    plan.explain[0]["Plan"]["Relation Name"] = serde_json::json!(format!("rel {ATTACK}"));
    plan.explain[0]["Plan"]["Filter"] = serde_json::json!(format!("filter {ATTACK}"));
    run
}

fn hostile_advice() -> pgperf::model::advice::AdviceResult {
    let mut advice = advice_result();
    advice.notes.push(format!("note {ATTACK}"));
    let recommendation = &mut advice.recommendations[0];
    recommendation.effects[0].query = format!("chart label {ATTACK}");
    recommendation.ddl = format!("CREATE INDEX {ATTACK}");
    advice.rejected[0].explanation = format!("because {ATTACK}");
    advice
}

fn hostile_check() -> pgperf::model::check::CheckReport {
    let mut check = check_report();
    check.queries[1].name = format!("verdict {ATTACK}");
    check.comparability.differences.push(Difference {
        what: format!("setting {ATTACK}"),
        baseline: ATTACK.into(),
        current: "x".into(),
    });
    if let FindingKind::PlanChanged { after, .. } = &mut check.queries[1].findings[1].kind {
        after.push(format!("plan line {ATTACK}"));
    }
    check
}

/// Every place a marker shows up, with a little context, for the escaping snapshot.
fn occurrences(html: &str, marker: &str) -> Vec<String> {
    html.match_indices(marker)
        .map(|(at, _)| {
            let end = html[at..]
                .char_indices()
                .nth(140)
                .map_or(html.len(), |(i, _)| at + i);
            html[at..end].replace('\n', "⏎")
        })
        .collect()
}

fn assert_no_markup_escaped(html: &str) {
    for raw in ["<script", "</script>", "<img", "onerror=alert(2)>"] {
        assert!(!html.contains(raw), "raw {raw:?} reached the page");
    }
}

#[test]
fn every_text_is_escaped_in_html_and_svg() {
    let run = hostile_run();
    let advice = hostile_advice();
    let check = hostile_check();
    let html = render(&Parts {
        run: Some(&run),
        advice: Some(&advice),
        check: Some(&check),
    });
    assert_no_markup_escaped(&html);
    let svg_part: String = html.split("<svg").skip(1).collect();
    assert!(
        svg_part.contains("chart label PWNED&lt;/script&gt;"),
        "the SVG label is escaped text"
    );
    insta::assert_json_snapshot!("escaped_occurrences", occurrences(&html, "PWNED"));
}

#[test]
fn a_password_planted_anywhere_does_not_leak() {
    let secret_url = "postgresql://app:hunter2@db.internal:5432/prod";
    let mut run = dashboard_run();
    run.environment.target.url_redacted = secret_url.to_string();
    run.environment.server_settings.insert(
        "primary_conninfo".into(),
        "host=db user=rep password=hunter2".into(),
    );
    run.complete = false;
    run.abort_reason = Some(format!("lost connection to {secret_url}"));
    run.queries[0].first_error = Some(QueryError {
        sqlstate: None,
        message: format!("could not connect to {secret_url}"),
    });
    let mut advice = advice_result();
    advice.target.url_redacted = secret_url.to_string();
    advice.notes.push(format!("verified against {secret_url}"));
    let mut check = check_report();
    check.queries[0].findings.push(Finding {
        kind: FindingKind::Errors {
            errors: 1,
            executions: 10,
            first_error: Some(format!("08006: lost {secret_url}")),
        },
        fails_gate: true,
    });
    let html = render(&Parts {
        run: Some(&run),
        advice: Some(&advice),
        check: Some(&check),
    });
    assert!(!html.contains("hunter2"), "a password reached the report");
    assert!(html.contains("postgresql://app:***@db.internal:5432/prod"));
}

#[test]
fn fifty_queries_with_ten_thousand_samples_stay_under_3_mb() {
    let html = render_run(&many_queries(50, 10_000));
    let size_bytes = html.len();
    eprintln!("50-query report: {size_bytes} bytes");
    assert!(size_bytes < 3 * 1024 * 1024, "report is {size_bytes} bytes");
}

#[test]
fn the_page_is_self_contained_and_has_its_sections() {
    let html = render(&Parts {
        run: Some(&dashboard_run()),
        advice: Some(&advice_result()),
        check: Some(&check_report()),
    });
    for section in [
        "id=\"summary\"",
        "id=\"check\"",
        "id=\"queries\"",
        "id=\"advice\"",
        "id=\"migration\"",
        "id=\"environment\"",
        "id=\"run-warnings\"",
    ] {
        assert!(html.contains(section), "missing {section}");
    }
    let without_svg_namespace = html.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
    for external in ["http://", "https://", "<link", "src=", "@import", "url("] {
        assert!(
            !without_svg_namespace.contains(external),
            "external reference {external:?}"
        );
    }
    assert!(
        html.contains("default-src 'none'"),
        "the CSP forbids scripts and network"
    );
    assert_eq!(
        html.matches("<svg").count(),
        7 * 3 - 1 + 2 + 1,
        "3 charts per query (one without drift), one before/after distribution chart per \
         measured advice query (two), one check chart"
    );
}

#[test]
fn an_advice_only_page_renders() {
    let html = render_advice(&advice_result());
    assert!(html.contains("id=\"advice\""));
    assert!(!html.contains("id=\"summary\""));
    assert!(html.contains("DROP INDEX CONCURRENTLY IF EXISTS"));
}

#[test]
fn advice_draws_both_distributions_and_falls_back_to_intervals_without_samples() {
    let with_samples = render_advice(&advice_result());
    assert_eq!(
        with_samples.matches("<svg").count(),
        2,
        "one chart per query"
    );
    assert!(with_samples.contains("latency distribution without (grey) and with (blue)"));

    let mut older = advice_result();
    for effect in &mut older.recommendations[0].effects {
        effect.samples_before_us.clear();
        effect.samples_after_us.clear();
    }
    let without_samples = render_advice(&older);
    assert_eq!(
        without_samples.matches("<svg").count(),
        1,
        "one interval chart"
    );
    assert!(without_samples.contains("bars are 95% intervals"));
}

#[test]
fn extended_statistics_are_rendered_with_their_evidence_and_escaped() {
    use pgperf::model::advice::{
        EffectEvidence, Judgement, Quantile, RejectedStatistics, StatisticsEffect,
        StatisticsRecommendation, StatisticsSpec,
    };
    let spec = StatisticsSpec {
        schema: "public".into(),
        table: "addresses".into(),
        columns: vec!["city".into(), format!("zip {ATTACK}")],
    };
    let mut advice = advice_result();
    advice.statistics.push(StatisticsRecommendation {
        name: "addresses_city_zip_stats".into(),
        spec: spec.clone(),
        ddl: String::new(),
        serves: vec![format!("by_place {ATTACK}")],
        effects: vec![StatisticsEffect {
            query: format!("by_place {ATTACK}"),
            estimated_rows_before: 1.0,
            estimated_rows_after: 993.0,
            actual_rows: 1000.0,
            plan_changed: true,
            evidence: EffectEvidence {
                buffers_before: Some(5738.0),
                buffers_after: Some(743.0),
                rows_before: Some(1.0),
                rows_after: Some(1.0),
                uses_index: true,
                compared_on: Some(Quantile::P50),
                ratio: Some(0.004),
                floor_ratio: Some(0.005),
                significant: true,
                executions_before: 12,
                executions_after: 12,
                judgement: Judgement::FewerBuffers,
            },
        }],
    });
    advice.rejected_statistics.push(RejectedStatistics {
        name: "people_a_b_stats".into(),
        spec,
        queries: vec!["by_ab".into()],
        explanation: format!("no plan changed with them {ATTACK}"),
    });
    let html = render_advice(&advice);
    assert_no_markup_escaped(&html);
    assert!(
        html.contains("Recommended extended statistics (1)"),
        "{html}"
    );
    assert!(html.contains("estimated rows 1 -&gt; 993 (actual 1000), plan changed"));
    assert!(html.contains("Refused extended statistics (1)"));
}
