//! Sampled values the persona can see. `pg_stats` holds every row's values, but under RLS a
//! persona sees its own: a `picker_id = $1` drawn over all pickers finds nothing for almost
//! every call of a picker who may read only their own payouts, so a `LIMIT` never fills and
//! the bench walks a whole index the application never walked. No planner estimate shows
//! this (EXPLAIN does not run the policies' sub-selects), but when a reference workload gives
//! the statement's persona its claims, pgperf can ask which sampled values that persona sees.
//!
//! The question is one read of the column itself (`SELECT DISTINCT col::text FROM table
//! WHERE col = ANY($1)`, the sampled values bound, an index lookup each), as the recorded
//! role with the persona's claims, in a read-only transaction that is rolled back; the recorded
//! statement is never run.

use std::collections::HashSet;

use postgres::Client;

use crate::pg::session::{array_text, set_local_claims};
use crate::pg::{TextParam, quote_ident, quote_qualified};
use crate::record::columns::Column;
use crate::record::draft::DraftParam;
use crate::workload::ParamSpec;
use crate::workload::params::value_to_text;

/// The persona a reference workload gives the statement, with the role it ran as.
#[derive(Debug, Clone, PartialEq)]
pub struct Persona {
    pub name: String,
    pub role: String,
    /// The JWT claims, as JSON.
    pub claims: serde_json::Value,
    /// The persona's session settings (`app.tenant_id`).
    pub settings: std::collections::BTreeMap<String, String>,
}

/// Of `param`'s sampled values, keeps those for which `persona` sees a row of `column`'s
/// table. Returns the visible values (as sent) when it restricted the draw, `None` when every
/// value was visible or none was (then the draw stays and the note says so).
pub fn restrict(
    client: &mut Client,
    column: &Column,
    persona: &Persona,
    param: &mut DraftParam,
) -> Result<Option<HashSet<String>>, postgres::Error> {
    let ParamSpec::Recorded {
        recorded,
        sampled: true,
    } = &param.spec
    else {
        return Ok(None);
    };
    let mut distinct: Vec<String> = recorded.iter().filter_map(value_to_text).collect();
    distinct.sort();
    distinct.dedup();
    let seen = visible(client, column, persona, &distinct)?;
    if seen.len() == distinct.len() {
        return Ok(None);
    }
    if seen.is_empty() {
        param.note.push_str(&format!(
            "; none of its {} values is visible to persona {} (RLS), kept anyway",
            distinct.len(),
            persona.name
        ));
        return Ok(None);
    }
    let kept: Vec<toml::Value> = recorded
        .iter()
        .filter(|v| value_to_text(v).is_some_and(|text| seen.contains(&text)))
        .cloned()
        .collect();
    param.note.push_str(&format!(
        "; kept the {} of {} values persona {} can see under RLS (its claims from the reference)",
        seen.len(),
        distinct.len(),
        persona.name
    ));
    param.spec = ParamSpec::Recorded {
        recorded: kept,
        sampled: true,
    };
    Ok(Some(seen))
}

/// Which of `values` the persona sees in `column`.
fn visible(
    client: &mut Client,
    column: &Column,
    persona: &Persona,
    values: &[String],
) -> Result<HashSet<String>, postgres::Error> {
    let table = match &column.schema {
        Some(schema) => quote_qualified(schema, &column.table),
        None => quote_ident(&column.table),
    };
    let name = quote_ident(&column.column);
    let sql = format!("SELECT DISTINCT {name}::text FROM {table} WHERE {name} = ANY($1)");
    let mut tx = client.build_transaction().read_only(true).start()?;
    tx.batch_execute(&format!("SET LOCAL ROLE {}", quote_ident(&persona.role)))?;
    set_local_claims(&mut tx, &persona.claims, &persona.settings)?;
    let rows = tx.query(&sql, &[&TextParam(Some(array_text(values)))])?;
    tx.rollback()?;
    Ok(rows
        .iter()
        .filter_map(|row| row.get::<_, Option<String>>(0))
        .collect())
}
