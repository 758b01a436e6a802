//! Fitting a table into a terminal: whole columns are left out in an order the caller gives
//! (the least read first) until the table fits the width, and what still does not fit wraps
//! inside its cells. `bench`'s results table and `check`'s verdict table share it, so both
//! behave alike at 80 and 120 columns; without a width (a pipe, a file) every column stays and
//! each row is one line.

use comfy_table::{Cell, ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};

/// The width of the terminal on stdout, `None` when stdout is not a terminal.
pub fn width() -> Option<usize> {
    Table::new().width().map(usize::from)
}

/// A table fitted to a width.
pub struct Fitted {
    pub table: Table,
    /// Names of the columns left out, in the order they were dropped.
    pub dropped: Vec<&'static str>,
}

impl Fitted {
    /// The line under the table naming the columns left out, `None` when none were.
    pub fn note(&self, width: usize) -> Option<String> {
        (!self.dropped.is_empty()).then(|| {
            format!(
                "(left out to fit {width} columns: {}; pipe through cat to see all)",
                self.dropped.join(", ")
            )
        })
    }
}

/// `rows` (one cell per `header` column) as a table that fits `width`: columns named in
/// `drop_order` are left out in that order until it fits, then cells wrap.
pub fn fit(
    header: &[&'static str],
    drop_order: &[&'static str],
    rows: &[Vec<Cell>],
    width: Option<usize>,
) -> Fitted {
    let mut dropped: Vec<&'static str> = Vec::new();
    loop {
        let table = table_of(header, rows, &dropped, None);
        let fits = width.is_none_or(|width| table_width(&table) <= width);
        let next = drop_order.iter().find(|name| !dropped.contains(name));
        match (fits, next, width) {
            (false, Some(name), _) => dropped.push(name),
            (false, None, Some(width)) => {
                let table = table_of(header, rows, &dropped, Some(width));
                return Fitted { table, dropped };
            }
            _ => return Fitted { table, dropped },
        }
    }
}

fn table_of(
    header: &[&'static str],
    rows: &[Vec<Cell>],
    dropped: &[&str],
    wrap_at: Option<usize>,
) -> Table {
    let keep: Vec<usize> = (0..header.len())
        .filter(|&index| !dropped.contains(&header[index]))
        .collect();
    let mut table = Table::new();
    table
        .load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(keep.iter().map(|&index| header[index]));
    if let Some(width) = wrap_at {
        table
            .set_content_arrangement(ContentArrangement::Dynamic)
            .set_width(u16::try_from(width).unwrap_or(u16::MAX));
    }
    for cells in rows {
        table.add_row(keep.iter().map(|&index| cells[index].clone()));
    }
    table
}

/// Columns the drawn table takes (its widest line).
fn table_width(table: &Table) -> usize {
    table
        .lines()
        .map(|line| console_width(&line))
        .max()
        .unwrap_or(0)
}

/// Terminal columns of `line`, ignoring colour escape sequences.
fn console_width(line: &str) -> usize {
    let mut width = 0;
    let mut in_escape = false;
    for c in line.chars() {
        match (in_escape, c) {
            (false, '\u{1b}') => in_escape = true,
            (true, 'm') => in_escape = false,
            (false, _) => width += 1,
            (true, _) => {}
        }
    }
    width
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_codes_take_no_columns() {
        assert_eq!(console_width("\u{1b}[38;5;9m✗ 100 ms\u{1b}[39m"), 8);
    }
}
