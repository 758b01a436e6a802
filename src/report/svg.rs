//! Draws the charts as inline SVG with plotters' SVG backend. No fonts are needed: the browser
//! draws the text, and plotters escapes it. Latency axes are logarithmic with 1-2-5 ticks and
//! labels in milliseconds (raw log-axis labels print float noise).

use plotters::coord::Shift;
use plotters::coord::combinators::{BindKeyPoints, IntoLogRange};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::chart_data::{Drift, QueryCharts};
use super::escape::Svg;
use super::format;
use crate::model::QuantileEstimate;

const SIZE: (u32, u32) = (440, 280);
const FONT: &str = "sans-serif";
pub const BLUE: RGBColor = RGBColor(37, 99, 235);
pub const ORANGE: RGBColor = RGBColor(217, 119, 6);
pub const RED: RGBColor = RGBColor(220, 38, 38);
pub const GREY: RGBColor = RGBColor(115, 115, 115);
pub const GREEN: RGBColor = RGBColor(22, 163, 74);

pub(super) type DrawError = DrawingAreaErrorKind<std::io::Error>;

/// A chart could not be drawn; the report shows this message where the chart would be.
#[derive(Debug, thiserror::Error)]
#[error("chart not drawn: {0}")]
pub struct ChartError(String);

impl From<DrawError> for ChartError {
    fn from(error: DrawError) -> Self {
        ChartError(error.to_string())
    }
}

/// A polyline with a legend entry; latencies in ms, x or y depending on the chart.
#[derive(Debug, Clone)]
pub struct Line {
    pub label: String,
    pub color: RGBColor,
    pub dashed: bool,
    pub points: Vec<(f64, f64)>,
}

/// Height of the legend strip above each chart, so that no legend covers data.
const LEGEND_PX: u32 = 28;

pub(super) fn render(
    legend: &[Line],
    draw: impl for<'a> FnOnce(&DrawingArea<SVGBackend<'a>, Shift>) -> Result<(), DrawError>,
) -> Result<Svg, ChartError> {
    render_sized(SIZE, legend, draw)
}

fn render_sized(
    size: (u32, u32),
    legend: &[Line],
    draw: impl for<'a> FnOnce(&DrawingArea<SVGBackend<'a>, Shift>) -> Result<(), DrawError>,
) -> Result<Svg, ChartError> {
    let mut buffer = String::new();
    {
        let root = SVGBackend::with_string(&mut buffer, size).into_drawing_area();
        root.fill(&WHITE)?;
        let (strip, plot) = root.split_vertically(LEGEND_PX);
        draw_legend(&strip, legend)?;
        draw(&plot)?;
        root.present()?;
    }
    Ok(Svg(buffer))
}

/// A row of legend entries (a line sample and its label) above the plot.
fn draw_legend(area: &DrawingArea<SVGBackend<'_>, Shift>, lines: &[Line]) -> Result<(), DrawError> {
    let style = TextStyle::from((FONT, 16).into_font()).pos(Pos::new(HPos::Left, VPos::Center));
    let y = LEGEND_PX as i32 / 2;
    let mut x = 64;
    for line in lines {
        let stroke = line.color.stroke_width(2);
        if line.dashed {
            area.draw(&PathElement::new(vec![(x, y), (x + 7, y)], stroke))?;
            area.draw(&PathElement::new(vec![(x + 11, y), (x + 18, y)], stroke))?;
        } else {
            area.draw(&PathElement::new(vec![(x, y), (x + 18, y)], stroke))?;
        }
        area.draw_text(&line.label, &style, (x + 24, y))?;
        x += 24 + 8 * line.label.chars().count() as i32 + 20;
    }
    Ok(())
}

/// Ticks at 1, 2, 5 × 10^k inside `[low, high]`: 1 × 10^k only when that is too many, finer
/// steps when the range is too narrow for three.
pub fn log_ticks(low: f64, high: f64) -> Vec<f64> {
    let ticks_with = |multipliers: &[f64]| -> Vec<f64> {
        let first = low.log10().floor() as i32;
        let last = high.log10().ceil() as i32;
        (first..=last)
            .flat_map(|exponent| multipliers.iter().map(move |m| m * 10f64.powi(exponent)))
            .filter(|tick| *tick >= low && *tick <= high)
            .collect()
    };
    [
        &[1.0, 2.0, 5.0][..],
        &[1.0, 2.0, 3.0, 5.0],
        &[1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 7.0],
    ]
    .iter()
    .map(|multipliers| ticks_with(multipliers))
    .map(|ticks| {
        if ticks.len() > 9 {
            ticks_with(&[1.0])
        } else {
            ticks
        }
    })
    .find(|ticks| ticks.len() >= 3)
    .unwrap_or_else(|| vec![low, high])
}

pub(super) fn axis_ms(value: &f64) -> String {
    format::significant(*value, 2)
}

/// Widens `[low, high]` (ms) so that the budget shows when it is within 4× of the data.
fn latency_range(low_ms: f64, high_ms: f64, budget_us: Option<f64>) -> (f64, f64) {
    match budget_us.map(|us| us / 1000.0) {
        Some(budget) if budget > high_ms && budget <= high_ms * 4.0 => (low_ms, budget * 1.15),
        Some(budget) if budget < low_ms && budget * 4.0 >= low_ms => (budget / 1.15, high_ms),
        _ => (low_ms, high_ms),
    }
}

fn vertical(label: &str, color: RGBColor, x_ms: f64, y_top: f64, dashed: bool) -> Line {
    Line {
        label: label.to_string(),
        color,
        dashed,
        points: vec![(x_ms, 0.0), (x_ms, y_top)],
    }
}

fn budget_and_p95(charts: &QueryCharts, y_top: f64, range: (f64, f64)) -> Vec<Line> {
    let p95 = charts.markers.iter().find(|(label, _)| label == "P95");
    let mut lines: Vec<Line> = p95
        .map(|(_, us)| vertical("P95", ORANGE, us / 1000.0, y_top, false))
        .into_iter()
        .collect();
    if let Some(budget_us) = charts.budget_us {
        lines.push(vertical("budget", RED, budget_us / 1000.0, y_top, true));
    }
    lines.retain(|line| line.points[0].0 >= range.0 && line.points[0].0 <= range.1);
    lines
}

pub(super) fn draw_lines<'a, X, Y>(
    chart: &mut ChartContext<'a, SVGBackend<'a>, Cartesian2d<X, Y>>,
    lines: &[Line],
) -> Result<(), DrawError>
where
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    for line in lines {
        let style = line.color.stroke_width(2);
        let points = line.points.clone();
        if line.dashed {
            chart.draw_series(DashedLineSeries::new(points, 6, 4, style))?;
        } else {
            chart.draw_series(LineSeries::new(points, style))?;
        }
    }
    Ok(())
}

/// Latency histogram with logarithmic bins, the P95 and the budget.
pub fn histogram(charts: &QueryCharts) -> Result<Option<Svg>, ChartError> {
    let (Some(first), Some(last)) = (charts.histogram.first(), charts.histogram.last()) else {
        return Ok(None);
    };
    let range = latency_range(
        first.low_us / 1000.0,
        last.high_us / 1000.0,
        charts.budget_us,
    );
    let max_count = charts
        .histogram
        .iter()
        .map(|bin| bin.count)
        .max()
        .unwrap_or(1) as f64;
    let y_top = max_count * 1.15;
    let lines = budget_and_p95(charts, y_top, range);
    render(&lines, |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(12)
            .x_label_area_size(42)
            .y_label_area_size(58)
            .build_cartesian_2d(
                (range.0..range.1)
                    .log_scale()
                    .with_key_points(log_ticks(range.0, range.1)),
                0.0..y_top,
            )?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .y_max_light_lines(0)
            .y_labels(5)
            .label_style((FONT, 16))
            .axis_desc_style((FONT, 16))
            .x_desc("latency (ms, log scale)")
            .y_desc("executions")
            .x_label_formatter(&axis_ms)
            .y_label_formatter(&|count| format::count(count.round() as i64))
            .draw()?;
        chart.draw_series(charts.histogram.iter().map(|bin| {
            Rectangle::new(
                [
                    (bin.low_us / 1000.0, 0.0),
                    (bin.high_us / 1000.0, bin.count as f64),
                ],
                BLUE.mix(0.55).filled(),
            )
        }))?;
        draw_lines(&mut chart, &lines)?;
        Ok(())
    })
    .map(Some)
}

/// One or more CDFs on a logarithmic latency axis, with extra marker lines.
pub fn cdf(series: &[Line], markers: &[Line]) -> Result<Option<Svg>, ChartError> {
    let xs = || {
        series
            .iter()
            .flat_map(|line| line.points.iter().map(|point| point.0))
    };
    let (Some(low), Some(high)) = (xs().reduce(f64::min), xs().reduce(f64::max)) else {
        return Ok(None);
    };
    let range = (low / 1.1, (high * 1.1).max(low * 2.0));
    let range = markers
        .iter()
        .map(|marker| marker.points[0].0)
        .fold(range, |(lo, hi), x| latency_range(lo, hi, Some(x * 1000.0)));
    let markers: Vec<Line> = markers
        .iter()
        .filter(|m| m.points[0].0 >= range.0 && m.points[0].0 <= range.1)
        .cloned()
        .collect();
    let labelled_series = if series.len() > 1 { series } else { &[] };
    let mut legend: Vec<Line> = Vec::new();
    for line in labelled_series.iter().chain(&markers) {
        if legend.iter().all(|shown| shown.label != line.label) {
            legend.push(line.clone());
        }
    }
    render(&legend, |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(12)
            .x_label_area_size(42)
            .y_label_area_size(58)
            .build_cartesian_2d(
                (range.0..range.1)
                    .log_scale()
                    .with_key_points(log_ticks(range.0, range.1)),
                0.0..1.02,
            )?;
        chart
            .configure_mesh()
            .x_max_light_lines(0)
            .y_max_light_lines(0)
            .y_labels(6)
            .label_style((FONT, 16))
            .axis_desc_style((FONT, 16))
            .x_desc("latency (ms, log scale)")
            .y_desc("share of executions")
            .x_label_formatter(&axis_ms)
            .y_label_formatter(&|share| format!("{:.0}%", share * 100.0))
            .bold_line_style(BLACK.mix(0.08))
            .draw()?;
        draw_lines(&mut chart, series)?;
        draw_lines(&mut chart, &markers)?;
        Ok(())
    })
    .map(Some)
}

/// A query's latency distribution without (grey) and with (blue) a change: both CDFs on one
/// logarithmic axis, each P95 as a dashed line of its colour. Points are `[latency_us, share]`.
pub fn before_after_cdf(
    before: &[[f64; 2]],
    after: &[[f64; 2]],
    p95_us: (f64, f64),
) -> Result<Option<Svg>, ChartError> {
    let line = |label: &str, color: RGBColor, points: &[[f64; 2]]| Line {
        label: label.to_string(),
        color,
        dashed: false,
        points: points
            .iter()
            .map(|[us, share]| (us / 1000.0, *share))
            .collect(),
    };
    let series = [
        line("without index", GREY, before),
        line("with index", BLUE, after),
    ];
    let markers = [
        vertical("P95", GREY, p95_us.0 / 1000.0, 1.0, true),
        vertical("P95", BLUE, p95_us.1 / 1000.0, 1.0, true),
    ];
    cdf(&series, &markers)
}

/// The CDF of one query with its P95 and budget.
pub fn query_cdf(charts: &QueryCharts) -> Result<Option<Svg>, ChartError> {
    let series = Line {
        label: "CDF".to_string(),
        color: BLUE,
        dashed: false,
        points: charts
            .cdf
            .iter()
            .map(|[us, share]| (us / 1000.0, *share))
            .collect(),
    };
    let markers = budget_and_p95(charts, 1.0, (0.0, f64::INFINITY));
    cdf(&[series], &markers)
}

/// Rolling-window P50 and P95 over the run's time, with the budget.
pub fn drift(drift: &Drift, budget_us: Option<f64>) -> Result<Option<Svg>, ChartError> {
    let mut lines = vec![
        drift_line("rolling P50", BLUE, drift, |point| point.p50_us),
        drift_line("rolling P95", ORANGE, drift, |point| point.p95_us),
    ];
    let ys = || {
        lines
            .iter()
            .flat_map(|line| line.points.iter().map(|point| point.1))
    };
    let (Some(low), Some(high)) = (ys().reduce(f64::min), ys().reduce(f64::max)) else {
        return Ok(None);
    };
    let y_range = latency_range(low / 1.2, (high * 1.2).max(low * 2.0), budget_us);
    let x_end = drift
        .points
        .last()
        .map_or(1.0, |point| point.at_s)
        .max(0.001);
    let budget_ms = budget_us.map(|us| us / 1000.0);
    if let Some(budget_ms) = budget_ms.filter(|ms| *ms >= y_range.0 && *ms <= y_range.1) {
        let points = vec![(0.0, budget_ms), (x_end, budget_ms)];
        lines.push(Line {
            label: "budget".into(),
            color: RED,
            dashed: true,
            points,
        });
    }
    render(&lines, |root| {
        draw_drift(root, &lines, (0.0, x_end * 1.02), y_range)
    })
    .map(Some)
}

fn drift_line(
    label: &str,
    color: RGBColor,
    drift: &Drift,
    value: fn(&super::chart_data::DriftPoint) -> f64,
) -> Line {
    Line {
        label: label.to_string(),
        color,
        dashed: false,
        points: drift
            .points
            .iter()
            .map(|point| (point.at_s, value(point) / 1000.0))
            .collect(),
    }
}

fn draw_drift(
    root: &DrawingArea<SVGBackend<'_>, Shift>,
    lines: &[Line],
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
    let axes = Axes {
        x_desc: "time into the run (s)",
        y_desc: "latency (ms, log scale)",
        x_labels: 6,
        x_label: &|seconds| format::significant(*seconds, 3),
        y_label: &axis_ms,
    };
    draw_mesh(&mut chart, &axes)?;
    draw_lines(&mut chart, lines)
}

/// The axes of a chart over numbers: descriptions, label count and label text.
pub(super) struct Axes<'a> {
    pub x_desc: &'a str,
    pub y_desc: &'a str,
    pub x_labels: usize,
    pub x_label: &'a dyn Fn(&f64) -> String,
    pub y_label: &'a dyn Fn(&f64) -> String,
}

/// Draws the light grid, axes and their labels in the report's style.
pub(super) fn draw_mesh<'a, X, Y>(
    chart: &mut ChartContext<'a, SVGBackend<'a>, Cartesian2d<X, Y>>,
    axes: &Axes<'_>,
) -> Result<(), DrawError>
where
    X: Ranged<ValueType = f64> + plotters::coord::ranged1d::ValueFormatter<f64>,
    Y: Ranged<ValueType = f64> + plotters::coord::ranged1d::ValueFormatter<f64>,
{
    chart
        .configure_mesh()
        .x_max_light_lines(0)
        .y_max_light_lines(0)
        .x_labels(axes.x_labels)
        .label_style((FONT, 16))
        .axis_desc_style((FONT, 16))
        .x_desc(axes.x_desc)
        .y_desc(axes.y_desc)
        .x_label_formatter(axes.x_label)
        .y_label_formatter(axes.y_label)
        .bold_line_style(BLACK.mix(0.08))
        .draw()
}

/// A query's P95 without and with a change, each with its interval.
#[derive(Debug, Clone)]
pub struct Interval {
    pub label: String,
    pub before: QuantileEstimate,
    pub after: QuantileEstimate,
}

/// One row of an interval chart: a label and estimates with intervals, in axis units.
#[derive(Debug, Clone, PartialEq)]
pub struct IntervalRow {
    pub label: String,
    pub points: Vec<IntervalPoint>,
}

/// An estimate with its interval, drawn as a dot on a bar.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IntervalPoint {
    pub value: f64,
    pub low: f64,
    pub high: f64,
    pub color: RGBColor,
}

/// Label of a row, shortened to fit above its bars.
fn short_label(label: &str) -> String {
    if label.chars().count() > 48 {
        format!("{}…", label.chars().take(47).collect::<String>())
    } else {
        label.to_string()
    }
}

fn ms_point(estimate: &QuantileEstimate, color: RGBColor) -> IntervalPoint {
    IntervalPoint {
        value: estimate.value_us / 1000.0,
        low: estimate.ci_low_us.unwrap_or(estimate.value_us) / 1000.0,
        high: estimate.ci_high_us.unwrap_or(estimate.value_us) / 1000.0,
        color,
    }
}

/// One row per query: P95 before (grey) and after (blue) with 95% interval bars, on a
/// logarithmic latency axis.
pub fn before_after(rows: &[Interval]) -> Result<Option<Svg>, ChartError> {
    let rows: Vec<IntervalRow> = rows
        .iter()
        .map(|row| IntervalRow {
            label: row.label.clone(),
            points: vec![ms_point(&row.before, GREY), ms_point(&row.after, BLUE)],
        })
        .collect();
    let legend = [
        legend_entry("P95 without the index", GREY, false),
        legend_entry("with the index", BLUE, false),
    ];
    interval_chart(&rows, &legend, "P95 latency (ms, log scale)", &[], axis_ms)
}

/// One row per query: the P95 ratio current / baseline with its interval, with reference lines
/// at 1 and at the regression and improvement thresholds.
pub fn ratio_chart(rows: &[IntervalRow], threshold: f64) -> Result<Option<Svg>, ChartError> {
    let references = [
        (1.0, GREY, false),
        (1.0 + threshold, RED, true),
        (1.0 / (1.0 + threshold), GREEN, true),
    ];
    let legend = [
        legend_entry("regressed", RED, false),
        legend_entry("improved", GREEN, false),
        legend_entry("other", GREY, false),
    ];
    interval_chart(
        rows,
        &legend,
        "P95 current / baseline (log scale)",
        &references,
        |ratio| format!("{}×", format::significant(*ratio, 2)),
    )
}

fn legend_entry(label: &str, color: RGBColor, dashed: bool) -> Line {
    Line {
        label: label.to_string(),
        color,
        dashed,
        points: Vec::new(),
    }
}

fn interval_range(
    rows: &[IntervalRow],
    references: &[(f64, RGBColor, bool)],
) -> Option<(f64, f64)> {
    let xs = rows
        .iter()
        .flat_map(|row| row.points.iter().flat_map(|p| [p.low, p.high]))
        .chain(references.iter().map(|r| r.0))
        .filter(|x| *x > 0.0 && x.is_finite());
    let (low, high) = xs.fold((f64::INFINITY, 0.0f64), |(lo, hi), x| {
        (lo.min(x), hi.max(x))
    });
    (high > 0.0).then(|| (low / 1.3, (high * 1.3).max(low * 2.0)))
}

/// Rows per chart above which rows are drawn closer together and the axis is repeated on top.
const TALL_CHART_ROWS: usize = 10;

/// Rows of estimates with interval bars on a logarithmic axis, each row labelled above its
/// bars (no label area to truncate), with vertical reference lines. A chart of many rows (a
/// check of 42 queries) packs them tighter and has its axis on top as well as below, so the
/// scale is readable without scrolling to the bottom.
fn interval_chart(
    rows: &[IntervalRow],
    legend: &[Line],
    x_desc: &str,
    references: &[(f64, RGBColor, bool)],
    x_format: impl Fn(&f64) -> String,
) -> Result<Option<Svg>, ChartError> {
    let Some(range) = interval_range(rows, references) else {
        return Ok(None);
    };
    let tall = rows.len() > TALL_CHART_ROWS;
    let (row_px, top_axis_px) = if tall { (34, 42) } else { (46, 0) };
    let height = 110 + top_axis_px + row_px * rows.len() as u32;
    let top = rows.len() as f64 - 0.35;
    render_sized((SIZE.0, height), legend, |root| {
        let y_coord: RangedCoordf64 = (-0.5..top).into();
        let mut chart = ChartBuilder::on(root)
            .margin(12)
            .x_label_area_size(42)
            .top_x_label_area_size(top_axis_px)
            .y_label_area_size(12)
            .build_cartesian_2d(
                (range.0..range.1)
                    .log_scale()
                    .with_key_points(log_ticks(range.0, range.1)),
                y_coord,
            )?;
        chart
            .configure_mesh()
            .x_max_light_lines(0)
            .disable_y_mesh()
            .disable_y_axis()
            .label_style((FONT, 16))
            .axis_desc_style((FONT, 16))
            .x_desc(x_desc)
            .x_label_formatter(&x_format)
            .bold_line_style(BLACK.mix(0.08))
            .draw()?;
        let lines: Vec<Line> = references
            .iter()
            .map(|(x, color, dashed)| Line {
                label: String::new(),
                color: *color,
                dashed: *dashed,
                points: vec![(*x, -0.5), (*x, top)],
            })
            .collect();
        draw_lines(&mut chart, &lines)?;
        for (index, row) in rows.iter().enumerate() {
            draw_row(&mut chart, row, (rows.len() - 1 - index) as f64, range.0)?;
        }
        Ok(())
    })
    .map(Some)
}

fn draw_row<'a, X, Y>(
    chart: &mut ChartContext<'a, SVGBackend<'a>, Cartesian2d<X, Y>>,
    row: &IntervalRow,
    y: f64,
    x_left: f64,
) -> Result<(), DrawError>
where
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    let text = short_label(&row.label);
    let width_px = 8 * text.chars().count() as i32 + 8;
    let label = EmptyElement::at((x_left, y + 0.5))
        + Rectangle::new([(0, 0), (width_px, 18)], WHITE.mix(0.9).filled())
        + Text::new(text, (4, 2), (FONT, 16).into_font());
    chart.draw_series(std::iter::once(label))?;
    let step = 0.28 / row.points.len().max(1) as f64;
    for (index, point) in row.points.iter().enumerate() {
        let y_point = y - 0.05 - step * index as f64 * 1.6;
        let stroke = point.color.stroke_width(2);
        chart.draw_series(LineSeries::new(
            vec![(point.low, y_point), (point.high, y_point)],
            stroke,
        ))?;
        chart.draw_series(std::iter::once(Circle::new(
            (point.value, y_point),
            5,
            point.color.filled(),
        )))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_ticks_are_round_numbers() {
        assert_eq!(log_ticks(0.15, 30.0), [0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0]);
        assert_eq!(
            log_ticks(0.01, 10_000.0),
            [0.01, 0.1, 1.0, 10.0, 100.0, 1000.0, 10_000.0]
        );
        assert_eq!(log_ticks(1.5, 4.5), [1.5, 2.0, 3.0, 4.0]);
        assert_eq!(log_ticks(12.0, 90.0), [20.0, 30.0, 50.0]);
    }

    #[test]
    fn axis_labels_have_no_float_noise() {
        assert_eq!(axis_ms(&0.30000000000000004), "0.3");
        assert_eq!(axis_ms(&2000.0), "2000");
    }
}
