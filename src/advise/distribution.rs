//! Advice on the distribution itself, on Citus: a query that filters a distributed table by
//! equality on a tenant column (`team_id`, any `*_id`) other than the table's distribution
//! column runs on every shard; distributed by that column it would run on one. Reported as a
//! note, never emitted: redistributing a table moves all of its rows and is the owner's call.

use std::collections::BTreeMap;

use postgres::Client;

use super::AdviseError;
use super::access::{PredicateKind, TableAccess};
use super::parse::extract;
use crate::workload::Workload;

/// Hash-distributed tables (`schema.name`, unqualified name) with their distribution column
/// and their columns.
const DISTRIBUTED_SQL: &str = "
SELECT format('%s.%s', n.nspname, c.relname), c.relname::text,
       column_to_column_name(p.logicalrelid, p.partkey),
       array(SELECT a.attname::text FROM pg_attribute a
             WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum)
FROM pg_dist_partition p
JOIN pg_class c ON c.oid = p.logicalrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE p.partmethod = 'h'";

/// A distributed table as advice needs it.
#[derive(Debug, Clone, PartialEq)]
struct Distributed {
    qualified: String,
    column: String,
}

/// The distribution notes for `workload`; none when the database is not Citus.
pub fn notes(client: &mut Client, workload: &Workload) -> Result<Vec<String>, AdviseError> {
    if !crate::citus::is_installed(client)? {
        return Ok(Vec::new());
    }
    let mut tables: BTreeMap<String, Distributed> = BTreeMap::new();
    let mut columns: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for row in client.query(DISTRIBUTED_SQL, &[])? {
        let name: String = row.get(1);
        let qualified = row.get(0);
        tables.insert(
            name.clone(),
            Distributed {
                qualified,
                column: row.get(2),
            },
        );
        columns.insert(name, row.get(3));
    }
    let mut filters = Vec::new();
    for query in &workload.queries {
        // A query the parser refuses gets its error from the index advice already.
        if let Ok(extraction) = extract(&query.sql, &columns) {
            filters.extend(
                extraction
                    .accesses
                    .iter()
                    .filter_map(|access| tenant_filter(&query.name, access)),
            );
        }
    }
    Ok(proposals(&tables, &filters))
}

/// (query, table, equality-compared tenant columns) of one access.
type Filter = (String, String, Vec<String>);

fn tenant_filter(query: &str, access: &TableAccess) -> Option<Filter> {
    let relation = access.relation.as_ref()?;
    let equal: Vec<String> = access
        .predicates
        .iter()
        .filter(|p| matches!(p.kind, PredicateKind::Equality | PredicateKind::In))
        .filter_map(|p| p.key.column().map(str::to_string))
        .collect();
    (!equal.is_empty()).then(|| (query.to_string(), relation.name.clone(), equal))
}

fn is_tenant_column(column: &str) -> bool {
    column.ends_with("_id")
}

/// One note per (table, proposed column): the queries that would become single-shard.
fn proposals(tables: &BTreeMap<String, Distributed>, filters: &[Filter]) -> Vec<String> {
    let mut found: BTreeMap<(&str, &str, &str), Vec<&str>> = BTreeMap::new();
    for (query, table, equal) in filters {
        let Some(distributed) = tables.get(table) else {
            continue;
        };
        if equal.contains(&distributed.column) {
            continue; // Already one shard.
        }
        for column in equal.iter().filter(|column| is_tenant_column(column)) {
            let key = (
                distributed.qualified.as_str(),
                distributed.column.as_str(),
                column.as_str(),
            );
            let queries = found.entry(key).or_default();
            if !queries.contains(&query.as_str()) {
                queries.push(query);
            }
        }
    }
    found
        .into_iter()
        .map(|((table, current, proposed), queries)| {
            let count = match queries.len() {
                1 => "1 query becomes".to_string(),
                n => format!("{n} queries become"),
            };
            format!(
                "distribute {table} by {proposed} instead of {current}: {count} single-shard ({}); not emitted, as redistributing moves every row (alter_distributed_table)",
                queries.join(", ")
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tables() -> BTreeMap<String, Distributed> {
        [
            ("ticket_events", "public.ticket_events", "id"),
            ("tickets", "public.tickets", "team_id"),
        ]
        .into_iter()
        .map(|(name, qualified, column)| {
            let table = Distributed {
                qualified: qualified.to_string(),
                column: column.to_string(),
            };
            (name.to_string(), table)
        })
        .collect()
    }

    fn filter(query: &str, table: &str, columns: &[&str]) -> Filter {
        let columns = columns.iter().map(|c| c.to_string()).collect();
        (query.to_string(), table.to_string(), columns)
    }

    #[test]
    fn a_tenant_filter_on_another_distribution_column_is_advised() {
        let notes = proposals(
            &tables(),
            &[
                filter("team_event_count", "ticket_events", &["team_id", "kind"]),
                filter("team_events", "ticket_events", &["team_id"]),
                filter("open_tickets", "tickets", &["team_id", "status"]),
                filter("event_by_id", "ticket_events", &["id"]),
            ],
        );
        insta::assert_snapshot!(notes.join("\n"), @"distribute public.ticket_events by team_id instead of id: 2 queries become single-shard (team_event_count, team_events); not emitted, as redistributing moves every row (alter_distributed_table)");
    }
}
