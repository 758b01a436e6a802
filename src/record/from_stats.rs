//! Recording from `pg_stat_statements`: the top statements of the current database by total
//! execution time, calls as weights, the role that ran them, and parameter values sampled from
//! the statistics of the column each `$n` is compared to (the statistics view keeps no values),
//! then calibrated against the rows and shared blocks per call the view did keep
//! ([`super::calibrate`]).

use super::calibrate::probe::Measure;
use super::calibrate::visible::Persona;
use super::calibrate::{self, Observed};
use super::columns::Catalog;
use super::draft::{self, Draft};
use super::reference::{self, Reference};
use super::sql::{self, Statement};
use super::{RecordError, Recording};
use crate::pg::quote_qualified;
use crate::workload::params::value_to_text;

/// Which statements to take.
#[derive(Debug, Clone)]
pub struct StatOptions {
    /// How many statements, after leaving out utility and catalog ones.
    pub top: usize,
    /// Leave out statements called fewer times.
    pub min_calls: i64,
    pub keep_literals: bool,
    /// A reference workload (`--reference`): its constants come back into the text, its
    /// generators replace placeholders, and its personas' claims let calibration ask which
    /// sampled values a persona can see under RLS.
    pub reference: Option<Reference>,
    /// Calibrate reads by running each candidate (`--measure`), not by estimates.
    pub measure: bool,
}

/// One statement row of the view.
struct Row {
    query: String,
    role: String,
    calls: i64,
    total_ms: f64,
    rows: i64,
    /// Shared blocks hit + read.
    blocks: i64,
}

/// Each measured run may take this many times the calls' mean, and at least
/// [`MIN_MEASURE_TIMEOUT_MS`].
const MEASURE_TIMEOUT_FACTOR: f64 = 20.0;
const MIN_MEASURE_TIMEOUT_MS: f64 = 1_000.0;
/// Time all measured runs of one statement may take together.
const MEASURE_BUDGET: std::time::Duration = std::time::Duration::from_secs(60);

impl Row {
    fn measure(&self) -> Measure {
        let mean_ms = self.total_ms / self.calls.max(1) as f64;
        Measure {
            timeout_ms: (mean_ms * MEASURE_TIMEOUT_FACTOR)
                .max(MIN_MEASURE_TIMEOUT_MS)
                .ceil() as u64,
            budget: MEASURE_BUDGET,
        }
    }

    fn observed(&self) -> Observed {
        let calls = self.calls.max(1) as f64;
        Observed {
            rows_per_call: self.rows as f64 / calls,
            blocks_per_call: Some(self.blocks as f64 / calls),
        }
    }
}

/// Records the top statements of the database `client` is connected to.
pub fn record(
    client: &mut postgres::Client,
    options: &StatOptions,
) -> Result<Recording, RecordError> {
    let rows = top_rows(client, options.min_calls)?;
    let mut skipped: std::collections::BTreeMap<String, u64> = Default::default();
    let mut kept: Vec<(Row, Statement)> = Vec::new();
    for row in rows {
        if kept.len() >= options.top {
            break;
        }
        match sql::analyse(&row.query) {
            Ok(statement) => kept.push((row, statement)),
            Err(why) => *skipped.entry(why.to_string()).or_default() += 1,
        }
    }
    let mut catalog = Catalog::new(client);
    let mut drafts = Vec::new();
    let mut calibrations = Vec::new();
    let mut from_reference = Vec::new();
    for (row, mut statement) in kept {
        // Before typing: the reference's constants need no cast, and its parameters line up
        // only with the text as pg_stat_statements wrote it.
        let generators = match &options.reference {
            Some(reference) => {
                from_reference.extend(reference.write_constants(&mut statement));
                reference.generators(&statement)
            }
            None => Default::default(),
        };
        let types = typed(&mut catalog, &mut statement);
        let mut params = Vec::new();
        for number in 1..=statement.param_count {
            let param_type = types.as_ref().and_then(|t| t.get(number - 1));
            params.push(
                draft::from_statistics(
                    number,
                    &statement,
                    &mut catalog,
                    param_type,
                    options.keep_literals,
                )
                .map_err(RecordError::database)?,
            );
        }
        // Calibration only improves values: when the database refuses it, the statistical
        // draw stays and the report says why.
        let persona = persona(options.reference.as_ref(), &statement, &row.role);
        let caller = calibrate::Caller {
            role: &row.role,
            persona: persona.as_ref(),
            measure: options.measure.then(|| row.measure()),
        };
        match calibrate::calibrate(
            &mut catalog,
            &statement,
            &caller,
            types.as_deref(),
            &row.observed(),
            &mut params,
        ) {
            Ok(lines) => calibrations.extend(lines),
            Err(error) => calibrations.push(format!(
                "{}: not calibrated: {}",
                super::first_line(&statement.sql),
                crate::pg::describe(&error)
            )),
        }
        // What the database could not tell, the reference may: its generators replace the
        // placeholders calibration left (the numbers still match: nothing was inlined yet).
        from_reference.extend(
            reference::fill_placeholders(&generators, &mut params)
                .into_iter()
                .map(|line| format!("{}: {line}", super::first_line(&statement.sql))),
        );
        calibrate::inline_limits(&mut statement, &mut params);
        drafts.push(Draft {
            statement,
            role: Some(row.role),
            calls: u64::try_from(row.calls).unwrap_or(0),
            total_ms: Some(row.total_ms),
            params,
        });
    }
    let mut report = vec![format!(
        "recorded the top {} statements of pg_stat_statements",
        drafts.len()
    )];
    report.extend(
        skipped
            .iter()
            .map(|(why, n)| format!("left out {n} × {why}")),
    );
    if !from_reference.is_empty() {
        report.push("taken from the reference workload:".to_string());
        report.extend(from_reference.iter().map(|line| format!("  {line}")));
    }
    report.extend(calibration_report(&calibrations));
    Ok(Recording {
        drafts,
        report,
        source: "pg_stat_statements".to_string(),
    })
}

/// The persona the reference gives the statement, when it runs as the recorded role and has
/// claims or settings.
fn persona(reference: Option<&Reference>, statement: &Statement, role: &str) -> Option<Persona> {
    let reference = reference?;
    let (name, persona) = reference.persona_of(reference.query(&statement.fingerprint)?)?;
    if persona.claims.is_none() && persona.settings.is_empty() {
        return None;
    }
    let claims = serde_json::to_value(persona.claims.unwrap_or_default()).ok()?;
    let settings = persona
        .settings
        .iter()
        .filter_map(|(key, value)| Some((key.clone(), value_to_text(value)?)))
        .collect();
    (persona.role == role).then_some(Persona {
        name,
        role: persona.role,
        claims,
        settings,
    })
}

/// A count of what calibration did, then one line per parameter it considered.
fn calibration_report(lines: &[String]) -> Vec<String> {
    if lines.is_empty() {
        return Vec::new();
    }
    let calibrated = lines
        .iter()
        .filter(|l| l.contains(": calibrated: "))
        .count();
    let mut report = vec![format!(
        "calibrated {calibrated} of {} sampled or placeholder parameters against pg_stat_statements' rows and blocks per call (the others keep their values):",
        lines.len()
    )];
    report.extend(lines.iter().map(|line| format!("  {line}")));
    report
}

/// The parameter types the server infers, after casting to text each parameter it cannot type
/// (pg_stat_statements replaced every constant, also `'id'` in `jsonb_build_object('id', …)`,
/// where an unknown literal would have been text). `None` when the statement does not prepare.
fn typed(catalog: &mut Catalog, statement: &mut Statement) -> Option<Vec<postgres::types::Type>> {
    for _ in 0..=statement.param_count {
        match catalog.param_types(&statement.sql) {
            Ok(types) => return Some(types),
            Err(error) => {
                let number = untyped_parameter(&error)?;
                statement.sql = sql::cast_param(&statement.sql, number, "text")?;
            }
        }
    }
    None
}

/// `n` of "could not determine data type of parameter $n" (SQLSTATE 42P18).
fn untyped_parameter(error: &postgres::Error) -> Option<usize> {
    let db = error
        .as_db_error()
        .filter(|db| db.code().code() == "42P18")?;
    db.message().rsplit('$').next()?.trim().parse().ok()
}

fn top_rows(client: &mut postgres::Client, min_calls: i64) -> Result<Vec<Row>, RecordError> {
    let found = client
        .query_opt(include_str!("queries/stat_statements_schema.sql"), &[])
        .map_err(RecordError::database)?
        .ok_or(RecordError::NoStatStatements)?;
    let (schema, has_toplevel): (String, bool) = (found.get(0), found.get(1));
    let sql = include_str!("queries/stat_statements.sql")
        .replace("{view}", &quote_qualified(&schema, "pg_stat_statements"))
        .replace(
            "{toplevel}",
            if has_toplevel { "s.toplevel" } else { "true" },
        );
    let rows = client
        .query(&sql, &[&min_calls])
        .map_err(RecordError::database)?;
    Ok(rows
        .into_iter()
        .map(|row| Row {
            query: row.get(0),
            role: row.get(1),
            calls: row.get(2),
            total_ms: row.get(3),
            rows: row.get(4),
            blocks: row.get(5),
        })
        .collect())
}
