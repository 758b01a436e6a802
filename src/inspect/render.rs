//! The terminal view of an [`InspectReport`]: one titled table per question, findings first
//! (unused and duplicate indexes, blocking locks), a sentence where a section is empty.

use comfy_table::{ContentArrangement, Table, presets::UTF8_BORDERS_ONLY};

use super::InspectReport;
use crate::advise::ddl::format_bytes;

/// Indexes listed in the terminal (largest first); JSON has them all.
const INDEX_ROWS: usize = 20;

/// The whole report as text.
pub fn render(report: &InspectReport) -> String {
    let mut out = format!(
        "database {} on PostgreSQL {}\n",
        report.database, report.server_version
    );
    out.push_str(&format!(
        "cache hit ratio: tables {}, indexes {}\n",
        ratio(report.cache.table_hit_ratio),
        ratio(report.cache.index_hit_ratio)
    ));
    section(&mut out, "blocking locks", "no session waits for a lock", {
        let rows = report.blocking.iter().map(|b| {
            vec![
                b.blocked_pid.to_string(),
                format!("{:.1} s", b.waiting_ms / 1e3),
                b.blocked_query.clone(),
                b.blocking_pid.to_string(),
                b.blocking_state.clone(),
                b.blocking_query.clone(),
            ]
        });
        table(
            [
                "waiting pid",
                "for",
                "query",
                "blocked by",
                "its state",
                "its query",
            ],
            rows,
        )
    });
    section(
        &mut out,
        "unused indexes (never scanned; enforce no constraint)",
        "none",
        {
            let rows = report.unused_indexes.iter().map(|i| {
                vec![
                    format!("{}.{}", i.schema, i.table),
                    i.index.clone(),
                    format_bytes(i.size_bytes.max(0) as u64),
                ]
            });
            table(["table", "index", "size"], rows)
        },
    );
    section(&mut out, "duplicate indexes", "none", {
        let rows = report.duplicate_indexes.iter().map(|d| {
            vec![
                format!("{}.{}", d.schema, d.table),
                d.redundant_index.clone(),
                d.kind.clone(),
                d.covered_by.clone(),
                format_bytes(d.size_bytes.max(0) as u64),
            ]
        });
        table(
            ["table", "redundant index", "kind", "covered by", "size"],
            rows,
        )
    });
    section(&mut out, "sequential scans on large tables", "none", {
        let rows = report.seq_scans.iter().map(|s| {
            vec![
                format!("{}.{}", s.schema, s.table),
                s.live_rows.to_string(),
                s.seq_scans.to_string(),
                s.seq_rows_read.to_string(),
                s.index_scans.to_string(),
                format_bytes(s.size_bytes.max(0) as u64),
            ]
        });
        table(
            [
                "table",
                "live rows",
                "seq scans",
                "rows read",
                "index scans",
                "size",
            ],
            rows,
        )
    });
    let shown = report.indexes.len().min(INDEX_ROWS);
    let title = match report.indexes.len() - shown {
        0 => "index usage".to_string(),
        more => format!("index usage, the {shown} largest ({more} more in --format json)"),
    };
    section(&mut out, &title, "no index on a user table", {
        let rows = report.indexes.iter().take(INDEX_ROWS).map(|i| {
            vec![
                format!("{}.{}", i.schema, i.table),
                format!("{}{}", i.index, if i.valid { "" } else { " (INVALID)" }),
                i.scans.to_string(),
                format_bytes(i.size_bytes.max(0) as u64),
            ]
        });
        table(["table", "index", "scans", "size"], rows)
    });
    section(
        &mut out,
        "bloat (statistical estimate from pg_stats)",
        "no analyzed table",
        {
            let rows = report.bloat.iter().map(|b| {
                vec![
                    format!("{}.{}", b.schema, b.table),
                    format_bytes(b.size_bytes.max(0) as u64),
                    format_bytes(b.bloat_bytes.max(0) as u64),
                    format!("{:.0}%", b.bloat_ratio * 100.0),
                ]
            });
            table(["table", "size", "est. bloat", "share"], rows)
        },
    );
    match (&report.top_statements, &report.statements_note) {
        (Some(statements), _) => {
            section(&mut out, "top statements by total time", "none recorded", {
                let rows = statements.iter().map(|s| {
                    vec![
                        format!("{:.1}", s.total_ms),
                        s.calls.to_string(),
                        format!("{:.2}", s.mean_ms),
                        s.rows.to_string(),
                        s.query.clone(),
                    ]
                });
                table(["total ms", "calls", "mean ms", "rows", "query"], rows)
            })
        }
        (None, note) => out.push_str(&format!(
            "\ntop statements by total time: {}\n",
            note.as_deref().unwrap_or("not available")
        )),
    }
    section(&mut out, "long-running queries", "none", {
        let rows = report.long_running.iter().map(|l| {
            vec![
                l.pid.to_string(),
                l.user.clone(),
                l.state.clone(),
                format!("{:.1} s", l.running_ms / 1e3),
                l.waiting_on.clone(),
                l.query.clone(),
            ]
        });
        table(
            ["pid", "user", "state", "running", "waiting on", "query"],
            rows,
        )
    });
    out
}

fn ratio(value: Option<f64>) -> String {
    value.map_or_else(
        || "n/a (nothing read yet)".into(),
        |r| format!("{:.1}%", r * 100.0),
    )
}

/// A titled table, or the title and `empty` when it has no rows.
fn section(out: &mut String, title: &str, empty: &str, table: Option<Table>) {
    match table {
        Some(table) => out.push_str(&format!("\n{title}\n{table}\n")),
        None => out.push_str(&format!("\n{title}: {empty}\n")),
    }
}

fn table<const N: usize>(
    header: [&str; N],
    rows: impl Iterator<Item = Vec<String>>,
) -> Option<Table> {
    let mut table = Table::new();
    table.load_preset(UTF8_BORDERS_ONLY);
    // Long query texts wrap inside 120 columns rather than run off the screen.
    table.set_content_arrangement(ContentArrangement::Dynamic);
    table.set_width(120);
    table.set_header(header);
    let mut any = false;
    for row in rows {
        table.add_row(row);
        any = true;
    }
    any.then_some(table)
}

#[cfg(test)]
mod tests {
    use super::super::*;
    use super::render;

    #[test]
    fn terminal_view() {
        let report = InspectReport {
            server_version: "15.8".into(),
            database: "app".into(),
            cache: CacheHit {
                table_hit_ratio: Some(0.991),
                index_hit_ratio: None,
            },
            indexes: Vec::new(),
            unused_indexes: vec![IndexUsage {
                schema: "public".into(),
                table: "orders".into(),
                index: "orders_note_idx".into(),
                size_bytes: 2_457_600,
                scans: 0,
                enforces_constraint: false,
                valid: true,
                definition: "CREATE INDEX orders_note_idx ON public.orders USING btree (note)"
                    .into(),
            }],
            duplicate_indexes: vec![DuplicateIndex {
                schema: "public".into(),
                table: "orders".into(),
                redundant_index: "orders_customer_idx".into(),
                covered_by: "orders_customer_id_created_idx".into(),
                kind: "prefix".into(),
                size_bytes: 1_048_576,
            }],
            seq_scans: Vec::new(),
            bloat: Vec::new(),
            top_statements: None,
            statements_note: Some("pg_stat_statements is not installed in this database".into()),
            long_running: Vec::new(),
            blocking: vec![BlockingLock {
                blocked_pid: 4242,
                blocked_query: "UPDATE orders SET note = $1 WHERE id = $2".into(),
                waiting_ms: 12_300.0,
                blocking_pid: 4141,
                blocking_state: "idle in transaction".into(),
                blocking_query: "UPDATE orders SET note = 'x' WHERE id = 1".into(),
            }],
        };
        insta::assert_snapshot!(render(&report));
    }
}
