//! The HTML report (DESIGN §10): one self-contained file that opens offline, rendered from model
//! types only; it never touches a database.
//!
//! Rendering happens in two steps so that what a reader sees can be tested as data:
//! [`view::build`] turns a [`RunResult`] into a [`view::ReportView`] (ordered, formatted,
//! redacted; snapshot-tested), and [`html`] lays that out with inline CSS and SVG charts drawn by
//! [`svg`]. All text reaches the page through [`escape::escape`].

pub mod advice;
pub mod chart_data;
pub mod environment;
pub mod escape;
pub mod format;
pub mod html;
pub mod input;
pub mod plan;
pub mod statistics;
pub mod svg;
pub mod view;

use crate::model::RunResult;
use crate::model::advice::AdviceResult;
use escape::Html;
use input::Document;

/// The documents one report page shows; each present one adds its sections.
#[derive(Debug, Clone, Copy, Default)]
pub struct Parts<'a> {
    pub run: Option<&'a RunResult>,
    pub advice: Option<&'a AdviceResult>,
}

/// Two documents of the same kind were given for one page.
#[derive(Debug, thiserror::Error)]
#[error("two {0} files were given: pass at most one results.json and one advice.json")]
pub struct DuplicateDocument(&'static str);

impl<'a> Parts<'a> {
    /// Collects documents into the parts of one page.
    pub fn from_documents(documents: &'a [Document]) -> Result<Parts<'a>, DuplicateDocument> {
        let mut parts = Parts::default();
        for document in documents {
            match document {
                Document::Run(run) if parts.run.is_none() => parts.run = Some(run),
                Document::Run(_) => return Err(DuplicateDocument("bench result")),
                Document::Advice(advice) if parts.advice.is_none() => parts.advice = Some(advice),
                Document::Advice(_) => return Err(DuplicateDocument("advice")),
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

/// Renders every part given as one self-contained HTML document.
pub fn render(parts: &Parts<'_>) -> String {
    let run_view = parts.run.map(view::build);
    let advice_view = parts.advice.map(advice::build);
    let title = match (&run_view, &advice_view) {
        (Some(run), _) => run.title.clone(),
        (None, Some(advice)) => format!("pgperf index advice: {}", advice.workload),
        (None, None) => "pgperf report".to_string(),
    };
    let mut links = Vec::new();
    if run_view.is_some() {
        links.extend([("summary", "Summary"), ("queries", "Queries")]);
    }
    if advice_view.is_some() {
        links.push(("advice", "Index advice"));
    }
    if run_view.is_some() {
        links.push(("environment", "Environment"));
    }
    let mut page = Html::default();
    html::page_start(&mut page, &title);
    match &run_view {
        Some(view) => html::header(&mut page, view),
        None => {
            page.open("header", &[("id", "top")])
                .element("h1", &[], &title)
                .close("header");
        }
    }
    html::nav(&mut page, &links);
    if let Some(view) = &run_view {
        html::summary_and_queries(&mut page, view);
    }
    if let Some(view) = &advice_view {
        advice::render(&mut page, view);
    }
    if let Some(view) = &run_view {
        html::environment(&mut page, &view.environment);
    }
    html::page_end(&mut page);
    page.finish()
}
