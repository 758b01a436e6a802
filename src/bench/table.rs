//! The terminal summary of a run: one row per query (n, P50, P95 with its interval, P99, the
//! budget verdict, server calls, rows, buffers per call, server mean time), then the warnings
//! with their remedies and a closing line with the outcome and exit code. Rendered to a
//! `String` so it is snapshot-tested; colour only when asked.
//!
//! A narrow terminal drops whole columns in a fixed order ([`DROP_ORDER`]: the least read
//! first, see [`crate::terminal`]) and says which; what still does not fit wraps inside its
//! cells. The query name, the P95 with its interval and the budget verdict always stay.

use comfy_table::{Cell, Color};

use crate::model::{QueryResult, RunResult, Warning};

use super::warnings::MIN_SAMPLES_FOR_P95;

/// The budget verdict of a query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Within,
    Breached,
    /// No P95 verdict: too few samples or no budget.
    Unjudged,
}

/// Within or above its P95 budget; judged with enough samples for a P95 interval, or as
/// breached when a one-sided lower bound of P95 from fewer samples is already above it.
pub fn verdict(query: &QueryResult) -> Verdict {
    match (&query.latency, query.budget_p95_us) {
        (Some(latency), Some(budget_us)) if latency.n >= MIN_SAMPLES_FOR_P95 => {
            if latency.p95.value_us > budget_us {
                Verdict::Breached
            } else {
                Verdict::Within
            }
        }
        // Too few samples for an interval, but a one-sided bound already above the budget.
        (Some(_), Some(budget_us))
            if super::warnings::p95_lower_bound_us(query).is_some_and(|low| low > budget_us) =>
        {
            Verdict::Breached
        }
        _ => Verdict::Unjudged,
    }
}

/// How the table is drawn.
#[derive(Debug, Clone, Copy, Default)]
pub struct RenderOptions {
    /// Green ✓ and red ✗ (only for a terminal, and not with `NO_COLOR`).
    pub color: bool,
    /// Fit the table into this many columns (a terminal's width); `None` keeps every column
    /// and one line per query, for pipes and files.
    pub width: Option<usize>,
}

/// The table's columns, left to right.
const HEADER: [&str; 10] = [
    "query",
    "n",
    "P50",
    "P95 [95% CI]",
    "P99",
    "budget",
    "calls",
    "rows/call",
    "buffers/call hit/read",
    "server mean",
];

/// Columns left out, in this order, until the table fits: server-side detail first (the
/// report has it), then the other quantiles, then the sample count.
pub const DROP_ORDER: [&str; 7] = [
    "calls",
    "server mean",
    "rows/call",
    "P99",
    "buffers/call hit/read",
    "P50",
    "n",
];

/// The summary table, the warnings and the closing line, as printed to stdout.
pub fn render(result: &RunResult, options: RenderOptions) -> String {
    let rows: Vec<Vec<Cell>> = result
        .queries
        .iter()
        .map(|query| row(query, options.color))
        .collect();
    let fitted = crate::terminal::fit(&HEADER, &DROP_ORDER, &rows, options.width);
    let mut text = fitted.table.to_string();
    text.push('\n');
    if let Some(note) = options.width.and_then(|width| fitted.note(width)) {
        text.push_str(&note);
        text.push('\n');
    }
    for warning in &result.warnings {
        text.push_str(&format!("warning: {warning}\n"));
    }
    for query in &result.queries {
        if let Some(error) = &query.first_error {
            text.push_str(&format!("error in {}: {}\n", query.name, error.message));
        }
    }
    text.push_str(&query_warning_lines(&result.queries));
    text.push_str(&closing_line(result));
    text.push('\n');
    text
}

/// `4 of 42 queries over budget; exit 1`, or why the run exits as it does.
pub fn closing_line(result: &RunResult) -> String {
    let total = result.queries.len();
    let count = |wanted: Verdict| {
        result
            .queries
            .iter()
            .filter(|query| verdict(query) == wanted)
            .count()
    };
    let (breached, unjudged) = (count(Verdict::Breached), count(Verdict::Unjudged));
    let not_judged = if unjudged > 0 {
        format!(
            " ({unjudged} without a verdict: no budget, or fewer than {MIN_SAMPLES_FOR_P95} samples)"
        )
    } else {
        String::new()
    };
    match &result.abort_reason {
        Some(reason) => format!("run stopped early ({reason}); partial results written; exit 3"),
        None => format!(
            "{breached} of {total} queries over budget{not_judged}; exit {}",
            u8::from(breached > 0)
        ),
    }
}

/// Queries sharing one kind of warning beyond which the warning is printed once, with the
/// list of queries, instead of once per query.
pub const GROUP_WARNINGS_ABOVE: usize = 3;

/// A kind of warning, whatever its numbers.
type Kind = std::mem::Discriminant<Warning>;
/// A query name and one of its warnings.
type Hit<'a> = (&'a str, &'a Warning);

/// One line per query warning, or one line per kind when many queries share it, so a noisy
/// machine does not bury the table under forty identical lines.
fn query_warning_lines(queries: &[QueryResult]) -> String {
    let mut kinds: Vec<(Kind, Vec<Hit<'_>>)> = Vec::new();
    for query in queries {
        for warning in &query.warnings {
            let kind = std::mem::discriminant(warning);
            match kinds.iter_mut().find(|(k, _)| *k == kind) {
                Some((_, hits)) => hits.push((&query.name, warning)),
                None => kinds.push((kind, vec![(&query.name, warning)])),
            }
        }
    }
    let mut text = String::new();
    for (_, hits) in kinds {
        if hits.len() > GROUP_WARNINGS_ABOVE {
            let names: Vec<&str> = hits.iter().map(|(name, _)| *name).collect();
            let (first, warning) = hits[0];
            text.push_str(&format!(
                "warning: {} queries ({}): e.g. {first}: {warning}\n",
                hits.len(),
                names.join(", ")
            ));
        } else {
            for (name, warning) in hits {
                text.push_str(&format!("warning: {name}: {warning}\n"));
            }
        }
    }
    text
}

fn row(query: &QueryResult, color: bool) -> Vec<Cell> {
    let latency = query.latency.as_ref();
    let p95 = latency.map_or("-".to_string(), |l| {
        match (l.p95.ci_low_us, l.p95.ci_high_us) {
            (Some(low), Some(high)) => format!(
                "{} [{}, {}]",
                duration(l.p95.value_us),
                duration(low),
                duration(high)
            ),
            _ => format!("{} [n<{MIN_SAMPLES_FOR_P95}]", duration(l.p95.value_us)),
        }
    });
    let budget = query.budget_p95_us.map_or("-".to_string(), duration);
    let budget_cell = match verdict(query) {
        Verdict::Within => paint(Cell::new(format!("✓ {budget}")), Color::Green, color),
        Verdict::Breached => paint(Cell::new(format!("✗ {budget}")), Color::Red, color),
        Verdict::Unjudged => Cell::new(format!("? {budget}")),
    };
    let server = query.server.as_ref();
    vec![
        Cell::new(&query.name),
        Cell::new(query.samples),
        Cell::new(latency.map_or("-".to_string(), |l| duration(l.p50.value_us))),
        Cell::new(p95),
        Cell::new(latency.map_or("-".to_string(), |l| duration(l.p99.value_us))),
        budget_cell,
        Cell::new(server.map_or("-".to_string(), |s| s.calls.to_string())),
        Cell::new(format!("{:.1}", query.rows_per_call)),
        Cell::new(server.map_or("-".to_string(), buffers_per_call)),
        Cell::new(server.map_or("-".to_string(), |s| duration(s.mean_exec_time_ms * 1000.0))),
    ]
}

/// Shared blocks hit / read per call, as the report shows them.
fn buffers_per_call(server: &crate::model::StatementStats) -> String {
    let calls = server.calls.max(1) as f64;
    let per_call = |blocks: i64| {
        let value = blocks as f64 / calls;
        if value >= 100.0 {
            format!("{value:.0}")
        } else {
            format!("{value:.1}")
        }
    };
    format!(
        "{}/{}",
        per_call(server.shared_blks_hit),
        per_call(server.shared_blks_read)
    )
}

fn paint(cell: Cell, fg: Color, color: bool) -> Cell {
    if color { cell.fg(fg) } else { cell }
}

/// Three significant digits in the largest fitting unit: `850 µs`, `1.27 ms`, `12.3 ms`,
/// `152 ms`, `1.25 s`.
pub fn duration(us: f64) -> String {
    let (value, unit) = if us < 1_000.0 {
        (us, "µs")
    } else if us < 1_000_000.0 {
        (us / 1_000.0, "ms")
    } else {
        (us / 1_000_000.0, "s")
    };
    let decimals = if value < 10.0 && unit != "µs" {
        2
    } else if value < 100.0 && unit != "µs" {
        1
    } else {
        0
    };
    format!("{value:.decimals$} {unit}")
}
