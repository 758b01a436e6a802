//! GitHub Actions workflow commands: one `::error` annotation per query that fails the gate,
//! and one for an outcome that stops the gate without a failing query (not comparable,
//! inconclusive), so the reason shows on the pull request's checks page without opening the
//! log. Escaped per the runner's rules (actions/toolkit `command.ts`): in the message `%`, CR
//! and LF; in a property also `:` and `,`, which would otherwise end the property.

use std::io;

use super::{finding_summary, outcome_line};
use crate::model::check::{CheckReport, GateOutcome};

/// Writes the annotations of `report`; nothing for a passing run.
pub(super) fn write(report: &CheckReport, out: &mut impl io::Write) -> io::Result<()> {
    for query in report.queries.iter().filter(|q| q.fails_gate) {
        let findings: Vec<String> = query
            .findings
            .iter()
            .filter(|f| f.fails_gate)
            .map(|f| finding_summary(&f.kind))
            .collect();
        let title = format!("pgperf: {} {}", query.name, query.verdict.name());
        command(out, &title, &findings.join("\n"))?;
    }
    if matches!(
        report.outcome,
        GateOutcome::NotComparable | GateOutcome::Inconclusive
    ) {
        command(out, "pgperf check", &outcome_line(report))?;
    }
    Ok(())
}

/// One `::error` workflow command, title and message escaped; also used by `history check`.
pub fn command(out: &mut impl io::Write, title: &str, message: &str) -> io::Result<()> {
    writeln!(
        out,
        "::error title={}::{}",
        escape_property(title),
        escape_data(message)
    )
}

/// The message after `::`: a newline would end the command.
fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A property value: as data, and `:` / `,` which separate properties.
fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_escapes_percent_before_the_line_breaks_it_introduces() {
        assert_eq!(escape_data("100%\r\nnext"), "100%25%0D%0Anext");
    }

    #[test]
    fn properties_also_escape_colon_and_comma() {
        assert_eq!(escape_property("a: b, c%"), "a%3A b%2C c%25");
    }
}
