//! The history page of `pgperf history report`: one self-contained HTML file with, per query,
//! P50/P95/P99 over the runs with the P95's interval, the budget line, plan changes and detected
//! shifts marked on the timeline (each with its commit), and buffers per call; then the error
//! budgets. Reads [`TrendReport`] only, through the report's escaping and chart helpers.

use plotters::coord::Shift as AreaShift;
use plotters::coord::combinators::{BindKeyPoints, IntoLogRange};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use super::escape::{Html, Svg};
use super::format;
use super::html::{figure, key_values, nav, page_end, page_start};
use super::svg::{
    Axes, BLUE, ChartError, DrawError, GREEN, GREY, Line, ORANGE, RED, axis_ms, draw_lines,
    draw_mesh, log_ticks, render,
};
use crate::model::QuantileEstimate;
use crate::model::history::{BudgetReport, QueryTrend, TrendPoint, TrendReport};

const FONT: &str = "sans-serif";

/// Renders the history as one HTML document.
pub fn render_page(report: &TrendReport) -> String {
    let mut html = Html::default();
    let title = "pgperf history";
    page_start(&mut html, title);
    html.open("header", &[("id", "top")])
        .element("h1", &[], title);
    html.element("p", &[("class", "meta")], &span(report));
    html.close("header");
    nav(
        &mut html,
        &[
            ("shifts", "Shifts"),
            ("budgets", "Error budgets"),
            ("queries", "Queries"),
        ],
    );
    shifts(&mut html, report);
    if let Some(budgets) = &report.budgets {
        budget_section(&mut html, budgets);
    }
    html.open("section", &[("id", "queries")])
        .element("h2", &[], "Queries");
    for (index, query) in report.queries.iter().enumerate() {
        query_section(&mut html, report, index, query);
    }
    html.close("section");
    page_end(&mut html);
    html.finish()
}

/// What the page covers, in one line.
fn span(report: &TrendReport) -> String {
    match (report.runs.first(), report.runs.last()) {
        (Some(first), Some(last)) => format!(
            "{} runs from {} to {}; {} queries. Shift detection: {}.",
            report.runs.len(),
            first.started_at.format("%Y-%m-%d %H:%M UTC"),
            last.started_at.format("%Y-%m-%d %H:%M UTC"),
            report.queries.len(),
            report.method
        ),
        _ => "No runs.".to_owned(),
    }
}

fn short(commit: Option<&str>) -> String {
    commit.map_or_else(
        || "unknown commit".to_owned(),
        |c| c.chars().take(10).collect(),
    )
}

fn shifts(html: &mut Html, report: &TrendReport) {
    html.open("section", &[("id", "shifts")])
        .element("h2", &[], "Shifts");
    let rows: Vec<(String, String)> = report
        .queries
        .iter()
        .flat_map(|query| {
            query.shifts.iter().map(|shift| {
                let run = &report.runs[shift.run];
                (
                    query.name.clone(),
                    format!(
                        "P95 ×{:.2} from run {} at commit {} (after {}), q = {:.3}",
                        shift.ratio,
                        run.run_id,
                        short(shift.commit.as_deref()),
                        short(shift.previous_commit.as_deref()),
                        shift.q_value
                    ),
                )
            })
        })
        .collect();
    if rows.is_empty() {
        html.element("p", &[], "No query's P95 shifted over these runs.");
    } else {
        key_values(html, &rows);
    }
    html.close("section");
}

fn budget_section(html: &mut Html, budgets: &BudgetReport) {
    html.open("section", &[("id", "budgets")])
        .element("h2", &[], "Error budgets");
    html.element(
        "p",
        &[("class", "meta")],
        &crate::history::render::summary_line(budgets),
    );
    html.open("div", &[("class", "table-wrap")])
        .open("table", &[])
        .open("thead", &[])
        .open("tr", &[]);
    for header in crate::history::render::HEADERS {
        html.element("th", &[], header);
    }
    html.close("tr").close("thead").open("tbody", &[]);
    for query in &budgets.queries {
        let [name, cells @ .., status] = crate::history::render::row(query);
        html.open("tr", &[]).element("td", &[], &name);
        for cell in &cells {
            html.element("td", &[("class", "num")], cell);
        }
        let (class, label) = if query.fails() {
            ("badge s-breached", "fails")
        } else {
            ("badge s-holds", "ok")
        };
        html.open("td", &[])
            .element("span", &[("class", class)], label);
        if query.fails() {
            html.text(" ").text(&status);
        }
        html.close("td").close("tr");
    }
    html.close("tbody")
        .close("table")
        .close("div")
        .close("section");
}

fn query_section(html: &mut Html, report: &TrendReport, index: usize, query: &QueryTrend) {
    let anchor = format!("q{index}");
    html.open(
        "details",
        &[("class", "query"), ("id", &anchor), ("open", "")],
    )
    .open("summary", &[])
    .element("strong", &[], &query.name);
    if !query.shifts.is_empty() {
        html.element(
            "span",
            &[("class", "badge s-breached")],
            &format!("{} shift(s)", query.shifts.len()),
        );
    }
    html.close("summary")
        .open("div", &[("class", "query-body")])
        .open("div", &[("class", "charts")]);
    figure(
        html,
        latency_chart(report, query),
        "P50, P95 and P99 per run, each with its 95% interval as a thin bar (P99 needs 299 samples for one); red lines: detected shifts (labelled with the commit), grey dotted: plan changes, dashed red: the P95 budget.",
        "No run of this query has latencies.",
    );
    figure(
        html,
        buffers_chart(query),
        "Shared buffers (hit + read) per call, per run, from pg_stat_statements.",
        "No buffer counts were recorded for this query.",
    );
    html.close("div");
    let changes: Vec<String> = query
        .points
        .iter()
        .filter(|point| point.plan_changed)
        .map(|point| {
            let run = &report.runs[point.run];
            format!("{} ({})", run.run_id, short(run.commit.as_deref()))
        })
        .collect();
    if !changes.is_empty() {
        html.element(
            "p",
            &[],
            &format!("Plan changed at: {}", changes.join(", ")),
        );
    }
    html.close("div").close("details");
}

/// (x, y in ms) of one percentile over the runs.
fn percentile_line(
    query: &QueryTrend,
    label: &str,
    color: RGBColor,
    dashed: bool,
    pick: fn(&TrendPoint) -> Option<f64>,
) -> Line {
    Line {
        label: label.to_owned(),
        color,
        dashed,
        points: query
            .points
            .iter()
            .filter_map(|point| pick(point).map(|us| (point.run as f64, us / 1000.0)))
            .collect(),
    }
}

fn latency_chart(report: &TrendReport, query: &QueryTrend) -> Result<Option<Svg>, ChartError> {
    let mut lines = vec![
        percentile_line(query, "P50", BLUE, false, |p| p.p50.map(|e| e.value_us)),
        percentile_line(query, "P95", ORANGE, false, |p| p.p95.map(|e| e.value_us)),
        percentile_line(query, "P99", GREY, true, |p| p.p99.map(|e| e.value_us)),
    ];
    let percentiles: [(Pick, RGBColor); 3] =
        [(|p| p.p50, BLUE), (|p| p.p95, ORANGE), (|p| p.p99, GREY)];
    let intervals: Vec<Bar> = percentiles
        .iter()
        .flat_map(|(pick, color)| {
            query.points.iter().filter_map(move |point| {
                let estimate = pick(point)?;
                Some(Bar {
                    x: point.run as f64,
                    low_ms: estimate.ci_low_us? / 1000.0,
                    high_ms: estimate.ci_high_us? / 1000.0,
                    color: *color,
                })
            })
        })
        .collect();
    let values = lines
        .iter()
        .flat_map(|line| line.points.iter().map(|p| p.1))
        .chain(intervals.iter().flat_map(|bar| [bar.low_ms, bar.high_ms]))
        .chain(query.budget_p95_us.map(|us| us / 1000.0))
        .filter(|v| *v > 0.0);
    let (Some(low), Some(high)) = (values.clone().reduce(f64::min), values.reduce(f64::max)) else {
        return Ok(None);
    };
    let x_range = (-0.5, report.runs.len().max(2) as f64 - 0.5);
    if let Some(budget_ms) = query.budget_p95_us.map(|us| us / 1000.0) {
        lines.push(Line {
            label: "budget".into(),
            color: RED,
            dashed: true,
            points: vec![(x_range.0, budget_ms), (x_range.1, budget_ms)],
        });
    }
    let y_range = (low / 1.2, (high * 1.2).max(low * 2.0));
    let marks = Marks {
        plans: query
            .points
            .iter()
            .filter(|p| p.plan_changed)
            .map(|p| p.run as f64)
            .collect(),
        shifts: query
            .shifts
            .iter()
            .map(|shift| {
                (
                    shift.run as f64,
                    short(shift.commit.as_deref()).chars().take(7).collect(),
                )
            })
            .collect(),
    };
    render(&lines, |root| {
        draw_latency(root, &lines, &intervals, &marks, x_range, y_range)
    })
    .map(Some)
}

/// Axes over the runs: x is the run's number, 1 for the oldest.
fn run_axes<'a>(y_desc: &'a str, y_label: &'a dyn Fn(&f64) -> String) -> Axes<'a> {
    Axes {
        x_desc: "run (oldest first)",
        y_desc,
        x_labels: 8,
        x_label: &|x| format!("{}", x.round() as i64 + 1),
        y_label,
    }
}

/// Picks one percentile of a run.
type Pick = fn(&TrendPoint) -> Option<QuantileEstimate>;

/// A 95% interval drawn as a thin vertical bar at a run, in its percentile's colour.
struct Bar {
    x: f64,
    low_ms: f64,
    high_ms: f64,
    color: RGBColor,
}

/// Vertical marks on the timeline.
struct Marks {
    plans: Vec<f64>,
    shifts: Vec<(f64, String)>,
}

fn draw_latency(
    root: &DrawingArea<SVGBackend<'_>, AreaShift>,
    lines: &[Line],
    intervals: &[Bar],
    marks: &Marks,
    x_range: (f64, f64),
    y_range: (f64, f64),
) -> Result<(), DrawError> {
    let x_coord: RangedCoordf64 = (x_range.0..x_range.1).into();
    let mut chart = ChartBuilder::on(root)
        .margin(12)
        .x_label_area_size(42)
        .y_label_area_size(58)
        .build_cartesian_2d(
            x_coord,
            (y_range.0..y_range.1)
                .log_scale()
                .with_key_points(log_ticks(y_range.0, y_range.1)),
        )?;
    draw_mesh(&mut chart, &run_axes("latency (ms, log scale)", &axis_ms))?;
    let (top, bottom) = (y_range.1 / 1.05, y_range.0 * 1.05);
    for x in &marks.plans {
        chart.draw_series(DashedLineSeries::new(
            vec![(*x, bottom), (*x, top)],
            2,
            4,
            GREY.stroke_width(1),
        ))?;
    }
    for (x, commit) in &marks.shifts {
        let line = vec![(*x - 0.5, bottom), (*x - 0.5, top)];
        chart.draw_series(LineSeries::new(line, RED.stroke_width(2)))?;
        chart.draw_series(std::iter::once(Text::new(
            commit.clone(),
            (*x - 0.4, top),
            (FONT, 14).into_font().color(&RED),
        )))?;
    }
    for bar in intervals {
        chart.draw_series(LineSeries::new(
            vec![(bar.x, bar.low_ms), (bar.x, bar.high_ms)],
            bar.color.mix(0.5).stroke_width(1),
        ))?;
    }
    draw_lines(&mut chart, lines)
}

fn buffers_chart(query: &QueryTrend) -> Result<Option<Svg>, ChartError> {
    let line = Line {
        label: "buffers per call".into(),
        color: GREEN,
        dashed: false,
        points: query
            .points
            .iter()
            .filter_map(|p| p.buffers_per_call.map(|b| (p.run as f64, b)))
            .collect(),
    };
    let (Some(first), Some(last)) = (line.points.first(), line.points.last()) else {
        return Ok(None);
    };
    let high = line.points.iter().map(|p| p.1).fold(1.0, f64::max) * 1.15;
    let x_range = (first.0 - 0.5, last.0.max(first.0 + 1.0) + 0.5);
    let lines = [line];
    render(&lines, |root| {
        let x_coord: RangedCoordf64 = (x_range.0..x_range.1).into();
        let mut chart = ChartBuilder::on(root)
            .margin(12)
            .x_label_area_size(42)
            .y_label_area_size(58)
            .build_cartesian_2d(x_coord, 0.0..high)?;
        let y_label = |y: &f64| format::significant(*y, 3);
        draw_mesh(&mut chart, &run_axes("buffers per call", &y_label))?;
        draw_lines(&mut chart, &lines)
    })
    .map(Some)
}
