//! Under Row Level Security, PostgreSQL evaluates a query's own conditions after the policy's
//! unless their operators are leakproof, so such a condition cannot be an index condition: an
//! index on a jsonb column compared with `=` (jsonb_eq is not leakproof) is never used for a
//! caller the policy applies to. Advise says so and proposes the rewrite, instead of leaving a
//! rejected candidate that "saves too little".

use postgres::Client;

use super::AdviseError;
use crate::model::advice::{QueryAdvice, RejectReason, RejectedCandidate};

/// The equality of `column`'s type when the table has RLS enabled and that equality is not
/// leakproof: `(type, function)`.
fn non_leakproof_equality(
    client: &mut Client,
    schema: &str,
    table: &str,
    column: &str,
) -> Result<Option<(String, String)>, AdviseError> {
    let row = client.query_opt(
        "SELECT format_type(a.atttypid, NULL), p.proname::text \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = $3 \
         JOIN pg_operator o ON o.oprname = '=' AND o.oprleft = a.atttypid AND o.oprright = a.atttypid \
         JOIN pg_proc p ON p.oid = o.oprcode \
         WHERE n.nspname = $1 AND c.relname = $2 AND c.relrowsecurity AND NOT p.proleakproof",
        &[&schema, &table, &column],
    )?;
    Ok(row.map(|row| (row.get(0), row.get(1))))
}

/// Adds the explanation to each query that runs under a persona and had a single-column
/// candidate the planner would not use because its equality is not leakproof.
pub fn explain_non_leakproof(
    client: &mut Client,
    queries: &mut [QueryAdvice],
    rejected: &[RejectedCandidate],
    under_persona: &dyn Fn(&str) -> bool,
) -> Result<(), AdviseError> {
    for query in queries.iter_mut().filter(|q| under_persona(&q.name)) {
        for candidate in rejected.iter().filter(|r| {
            r.queries.contains(&query.name)
                && matches!(r.reason, RejectReason::NoPlanImprovement { .. })
                && r.spec.keys.len() == 1
                && r.spec.predicate.is_none()
        }) {
            let spec = &candidate.spec;
            let column = spec.keys[0].sql.trim_matches('"').replace("\"\"", "\"");
            let Some((type_name, function)) =
                non_leakproof_equality(client, &spec.schema, &spec.table, &column)?
            else {
                continue;
            };
            let text = format!(
                "under the RLS policy of {}.{}, `{column} = …` cannot use an index: {type_name}'s = ({function}) is not leakproof, so PostgreSQL checks the policy first and filters after; compare a typed column with a leakproof operator instead (e.g. a generated column extracting the value you match, as text or bigint) and index that",
                spec.schema, spec.table
            );
            query.note = Some(match query.note.take() {
                Some(existing) => format!("{existing}; {text}"),
                None => text,
            });
            break;
        }
    }
    Ok(())
}
