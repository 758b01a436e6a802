//! The HTML report (DESIGN §10): one self-contained file that opens offline, rendered from model
//! types only; it never touches a database.
//!
//! Rendering happens in two steps so that what a reader sees can be tested as data:
//! [`view::build`] turns a [`RunResult`] into a [`view::ReportView`] (ordered, formatted,
//! redacted; snapshot-tested), and [`html`] lays that out with inline CSS and SVG charts drawn by
//! [`svg`]. All text reaches the page through [`escape::escape`].

pub mod chart_data;
pub mod environment;
pub mod escape;
pub mod format;
pub mod html;
pub mod plan;
pub mod statistics;
pub mod svg;
pub mod view;

use crate::model::RunResult;
use escape::Html;

/// Renders the bench report of a run as one HTML document.
pub fn render_run(run: &RunResult) -> String {
    let view = view::build(run);
    let mut page = Html::default();
    html::page_start(&mut page, &view.title);
    html::nav(
        &mut page,
        &[
            ("summary", "Summary"),
            ("queries", "Queries"),
            ("environment", "Environment"),
        ],
    );
    html::bench_sections(&mut page, &view);
    html::page_end(&mut page);
    page.finish()
}
