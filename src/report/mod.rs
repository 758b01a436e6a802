//! The HTML report (DESIGN §10): one self-contained file that opens offline, rendered from model
//! types only; it never touches a database.
//!
//! Rendering happens in two steps so that what a reader sees can be tested as data:
//! [`view::build`] turns a [`RunResult`] into a [`view::ReportView`] (ordered, formatted,
//! redacted; snapshot-tested), and [`html`] lays that out with inline CSS and SVG charts drawn by
//! [`svg`]. All text reaches the page through [`escape::escape`].

pub mod advice;
pub mod chart_data;
pub mod check;
pub mod environment;
pub mod escape;
pub mod format;
pub mod history;
pub mod html;
pub mod input;
pub mod plan;
pub mod statistics;
pub mod svg;
pub mod view;

use crate::model::RunResult;
use crate::model::advice::AdviceResult;
use crate::model::check::CheckReport;
use escape::Html;
use input::Document;

/// The documents one report page shows; each present one adds its sections.
#[derive(Debug, Clone, Copy, Default)]
pub struct Parts<'a> {
    pub run: Option<&'a RunResult>,
    pub advice: Option<&'a AdviceResult>,
    pub check: Option<&'a CheckReport>,
}

/// Two documents of the same kind were given for one page.
#[derive(Debug, thiserror::Error)]
#[error(
    "two {0} files were given: pass at most one results.json, one advice.json and one check JSON"
)]
pub struct DuplicateDocument(&'static str);

fn set_once<'a, T>(
    slot: &mut Option<&'a T>,
    value: &'a T,
    kind: &'static str,
) -> Result<(), DuplicateDocument> {
    match slot {
        Some(_) => Err(DuplicateDocument(kind)),
        None => {
            *slot = Some(value);
            Ok(())
        }
    }
}

impl<'a> Parts<'a> {
    /// Collects documents into the parts of one page.
    pub fn from_documents(documents: &'a [Document]) -> Result<Parts<'a>, DuplicateDocument> {
        let mut parts = Parts::default();
        for document in documents {
            match document {
                Document::Run(run) => set_once(&mut parts.run, run, "bench result")?,
                Document::Advice(advice) => set_once(&mut parts.advice, advice, "advice")?,
                Document::Check(check) => set_once(&mut parts.check, check, "check")?,
            }
        }
        Ok(parts)
    }
}

/// Renders the bench report of a run as one HTML document.
pub fn render_run(run: &RunResult) -> String {
    render(&Parts {
        run: Some(run),
        ..Parts::default()
    })
}

/// Renders the advice of an advise run as one HTML document.
pub fn render_advice(advice: &AdviceResult) -> String {
    render(&Parts {
        advice: Some(advice),
        ..Parts::default()
    })
}

/// Renders the verdicts of a check as one HTML document.
pub fn render_check(check: &CheckReport) -> String {
    render(&Parts {
        check: Some(check),
        ..Parts::default()
    })
}

/// The contexts of every part given, built once.
struct Views {
    run: Option<view::ReportView>,
    advice: Option<advice::AdviceView>,
    check: Option<check::CheckView>,
    title: String,
}

impl Views {
    fn build(parts: &Parts<'_>) -> Views {
        let title = match (parts.run, parts.advice, parts.check) {
            (Some(run), _, _) => view::title(run),
            (None, Some(advice), _) => format!("pgperf index advice: {}", advice.workload_name),
            (None, None, Some(check)) => format!(
                "pgperf check: {} against {}",
                check.current.run_id, check.baseline.run_id
            ),
            (None, None, None) => "pgperf report".to_string(),
        };
        Views {
            run: parts.run.map(view::build),
            advice: parts.advice.map(advice::build),
            check: parts.check.map(check::build),
            title,
        }
    }

    fn links(&self) -> Vec<(&'static str, &'static str)> {
        let mut links = Vec::new();
        if self.check.is_some() {
            links.push(("check", "Check"));
        }
        if self.run.is_some() {
            links.extend([("summary", "Summary"), ("queries", "Queries")]);
        }
        if self.advice.is_some() {
            links.push(("advice", "Index advice"));
        }
        if self.run.is_some() {
            links.push(("environment", "Environment"));
        }
        links
    }
}

/// Renders every part given as one self-contained HTML document: the check first (it decides
/// the exit code), then the bench summary and queries, the advice, and the environment.
pub fn render(parts: &Parts<'_>) -> String {
    let views = Views::build(parts);
    let mut page = Html::default();
    html::page_start(&mut page, &views.title);
    match &views.run {
        Some(view) => html::header(&mut page, view),
        None => {
            page.open("header", &[("id", "top")])
                .element("h1", &[], &views.title)
                .close("header");
        }
    }
    html::nav(&mut page, &views.links());
    if let Some(view) = &views.check {
        check::render(&mut page, view);
    }
    if let Some(view) = &views.run {
        html::summary_and_queries(&mut page, view);
    }
    if let Some(view) = &views.advice {
        advice::render(&mut page, view);
    }
    if let Some(view) = &views.run {
        html::environment(&mut page, &view.environment);
    }
    html::page_end(&mut page);
    page.finish()
}
