//! Outputs of `pgperf history check`, as `pgperf check` has them: a terminal table, JSON, Markdown
//! for a CI step summary, JUnit XML (one testcase per query) and GitHub workflow annotations
//! (`::error`). Each is written through a generic [`io::Write`] so it is snapshot-tested.

use std::io;

use crate::model::history::{BudgetReport, QueryBudget};
use crate::report::escape::escape;

/// An output format of `pgperf history check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Human,
    Json,
    Markdown,
    Junit,
    /// GitHub Actions workflow commands, one `::error` per failing query.
    Github,
}

/// Writes `report` to `out` in `format`.
pub fn write(report: &BudgetReport, format: Format, out: &mut impl io::Write) -> io::Result<()> {
    match format {
        Format::Human => human(report, out),
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, report)?;
            writeln!(out)
        }
        Format::Markdown => markdown(report, out),
        Format::Junit => junit(report, out),
        Format::Github => github(report, out),
    }
}

/// One line on the whole history, with the exit code.
pub fn outcome_line(report: &BudgetReport) -> String {
    format!("{}; exit {}", summary_line(report), u8::from(report.fails))
}

/// One line on the whole history.
pub fn summary_line(report: &BudgetReport) -> String {
    let failing = report.queries.iter().filter(|q| q.fails()).count();
    format!(
        "{failing} of {} {} with a budget exhausted or burning too fast (objective {}% under budget over {} days)",
        report.queries.len(),
        if report.per_tile { "tiles" } else { "queries" },
        percent(report.objective),
        report.window_days
    )
}

/// What is wrong with a query, or "ok".
pub fn status(query: &QueryBudget) -> String {
    let mut parts: Vec<String> = Vec::new();
    if query.exhausted() {
        parts.push(format!(
            "budget exhausted ({:.0}% spent)",
            query.spent * 100.0
        ));
    }
    for alert in &query.alerts {
        parts.push(format!(
            "{}: burn rate {:.1}× over the long window and {:.1}× over the short one (threshold {}×)",
            alert.rule, alert.long_burn_rate, alert.short_burn_rate, alert.threshold
        ));
    }
    if parts.is_empty() {
        "ok".to_owned()
    } else {
        parts.join("; ")
    }
}

fn percent(share: f64) -> String {
    format!("{}", (share * 1000.0).round() / 10.0)
}

/// The cells of a query's row under [`HEADERS`].
pub fn row(query: &QueryBudget) -> [String; 6] {
    [
        query.name.clone(),
        query.budget_p95_us.map_or_else(
            || "per query".to_owned(),
            |us| format!("{:.2} ms", us / 1000.0),
        ),
        format!("{} / {}", query.bad, query.executions),
        format!("{:.0}%", query.spent * 100.0),
        format!("{:.2}×", query.latest_burn_rate),
        status(query),
    ]
}

/// The columns of the budget table, in the terminal, Markdown and the history page.
pub const HEADERS: [&str; 6] = [
    "query",
    "budget",
    "bad / executions",
    "spent",
    "burn (latest)",
    "status",
];

fn human(report: &BudgetReport, out: &mut impl io::Write) -> io::Result<()> {
    let mut table = comfy_table::Table::new();
    table.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
    table.set_header(HEADERS);
    for query in &report.queries {
        table.add_row(row(query));
    }
    writeln!(out, "{table}")?;
    writeln!(out, "{}", outcome_line(report))
}

fn markdown(report: &BudgetReport, out: &mut impl io::Write) -> io::Result<()> {
    let cell = |text: &str| text.replace('|', "\\|").replace('\n', " ");
    writeln!(out, "## pgperf history check\n")?;
    writeln!(out, "{}\n", outcome_line(report))?;
    writeln!(out, "| {} |", HEADERS.join(" | "))?;
    writeln!(out, "|{}", "---|".repeat(HEADERS.len()))?;
    for query in &report.queries {
        let mut cells: Vec<String> = row(query).iter().map(|c| cell(c)).collect();
        if query.fails() {
            cells[0] = format!("**{}**", cells[0]);
        }
        writeln!(out, "| {} |", cells.join(" | "))?;
    }
    Ok(())
}

fn junit(report: &BudgetReport, out: &mut impl io::Write) -> io::Result<()> {
    let failures = report.queries.iter().filter(|q| q.fails()).count();
    let counts = format!(r#"tests="{}" failures="{failures}""#, report.queries.len());
    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(out, r#"<testsuites name="pgperf history check" {counts}>"#)?;
    writeln!(out, r#"  <testsuite name="pgperf history check" {counts}>"#)?;
    writeln!(out, "    <properties>")?;
    writeln!(
        out,
        r#"      <property name="outcome" value="{}"/>"#,
        escape(&outcome_line(report))
    )?;
    writeln!(out, "    </properties>")?;
    for query in &report.queries {
        let open = format!(
            r#"    <testcase classname="pgperf.history" name="{}""#,
            escape(&query.name)
        );
        if query.fails() {
            writeln!(out, "{open}>")?;
            writeln!(
                out,
                r#"      <failure type="error_budget" message="{}"/>"#,
                escape(&status(query))
            )?;
            writeln!(out, "    </testcase>")?;
        } else {
            writeln!(out, "{open}/>")?;
        }
    }
    writeln!(out, "  </testsuite>")?;
    writeln!(out, "</testsuites>")
}

/// One GitHub `::error` annotation per query whose budget is spent or burning too fast, escaped
/// as check's are.
fn github(report: &BudgetReport, out: &mut impl io::Write) -> io::Result<()> {
    for query in report.queries.iter().filter(|q| q.fails()) {
        crate::check::render::github_error_annotation(
            out,
            &format!("error budget of {}", query.name),
            &status(query),
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::budget::BudgetOptions;
    use crate::model::history::Alert;

    fn report() -> BudgetReport {
        let options = BudgetOptions::default();
        let healthy = QueryBudget {
            name: "approvals_list".into(),
            tile: None,
            budget_p95_us: Some(100_000.0),
            runs: 12,
            executions: 2400,
            bad: 30,
            spent: 0.25,
            latest_burn_rate: 0.2,
            burn_rates: vec![0.2; 12],
            alerts: Vec::new(),
        };
        let burning = QueryBudget {
            name: "seo, anomalies: 100%".into(),
            spent: 3.4,
            latest_burn_rate: 19.0,
            alerts: vec![Alert {
                rule: "fast burn".into(),
                long_burn_rate: 15.2,
                short_burn_rate: 19.0,
                threshold: 14.4,
            }],
            ..healthy.clone()
        };
        BudgetReport {
            objective: options.objective,
            window_days: options.window_days,
            per_tile: false,
            rules: options.rules,
            queries: vec![healthy, burning],
            fails: true,
        }
    }

    fn rendered(format: Format) -> String {
        let mut out = Vec::new();
        write(&report(), format, &mut out).expect("writes to a Vec");
        String::from_utf8(out).expect("UTF-8")
    }

    #[test]
    fn human_output() {
        insta::assert_snapshot!(rendered(Format::Human));
    }

    #[test]
    fn markdown_output() {
        insta::assert_snapshot!(rendered(Format::Markdown));
    }

    #[test]
    fn junit_output() {
        insta::assert_snapshot!(rendered(Format::Junit));
    }

    #[test]
    fn github_annotations_escape_properties_and_messages() {
        insta::assert_snapshot!(rendered(Format::Github));
    }
}
