//! Warnings about who a query ran as, which timing cannot show: a persona missing a claim or a
//! setting the row-level security policies of its tables read (checked before measuring, on
//! the control connection), and a read that returned no rows on any execution.

use postgres::Client;

use crate::model::{QueryResult, Warning};
use crate::pg::policies;
use crate::workload::{Query, QueryKind, sql};

/// Per query, the claims and settings its persona lacks, as a warning. A catalog error gives
/// no warning: this check only adds information.
pub(super) fn persona_warnings(client: &mut Client, queries: &[Query]) -> Vec<Option<Warning>> {
    queries
        .iter()
        .map(|query| {
            let persona = query.persona.as_ref()?;
            let tables = sql::tables(&query.sql);
            let found = policies::policies_for(client, &tables, &persona.role).ok()?;
            let missing = policies::missing(&found, persona.claims.as_ref(), &persona.settings);
            (!missing.is_empty()).then(|| Warning::PersonaLacks {
                persona: persona.name.clone(),
                missing,
            })
        })
        .collect()
}

/// Adds the persona warnings, and [`Warning::NoRows`] to reads that succeeded but never
/// returned a row.
pub(super) fn add_warnings(
    results: &mut [QueryResult],
    queries: &[Query],
    personas: Vec<Option<Warning>>,
) {
    for ((result, query), persona) in results.iter_mut().zip(queries).zip(personas) {
        result.warnings.extend(persona);
        if query.kind != QueryKind::Write && result.samples > 0 && result.rows_per_call == 0.0 {
            result.warnings.push(Warning::NoRows);
        }
    }
}
