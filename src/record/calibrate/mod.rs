//! Calibrating sampled parameters against what pg_stat_statements measured.
//!
//! Values sampled from `pg_stats` follow the data's distribution, not the application's: a
//! `created_at > $1` cut-off drawn over the whole histogram selects far more rows than "the
//! last 7 days" did. But pg_stat_statements did record what the calls returned (rows per
//! call) and touched (shared blocks per call). For each statement, every parameter that was
//! sampled (or holds a time or `LIMIT` placeholder) is given candidate values ([`candidates`]);
//! the planner estimates the statement for each ([`probe`], EXPLAIN without ANALYZE), and the
//! values whose estimate best explains the measurements are kept ([`choose`]). With several
//! such parameters, each is chosen in turn with the others fixed, twice over. A parameter no
//! estimate moves with keeps its statistical draw, and its note says so.

pub mod candidates;
pub mod choose;
pub mod plan;
pub mod probe;
pub mod visible;

use std::collections::{HashMap, HashSet};

use postgres::types::Type;

use self::candidates::Candidate;
pub use self::choose::Observed;
use self::choose::{Choice, Estimate, Signal};
use self::probe::{Measure, Planner, Probe};
use self::visible::Persona;
use super::columns::Catalog;
use super::draft::{DraftParam, toml_value};
use super::sql::{ParamTarget, Statement};
use crate::workload::params::{parse_duration, value_to_text};
use crate::workload::{ParamSpec, QueryKind};

/// Who ran the statement, and how to learn what a candidate value does.
#[derive(Debug, Clone, Copy)]
pub struct Caller<'a> {
    /// The role that ran it.
    pub role: &'a str,
    /// The persona a reference workload gives the statement, with its claims.
    pub persona: Option<&'a Persona>,
    /// Run reads for each candidate instead of estimating them (`--measure`).
    pub measure: Option<Measure>,
}

/// One parameter to calibrate: its position (0-based) and the values to try.
struct Slot {
    index: usize,
    candidates: Vec<Candidate>,
    /// The server's clock when the candidates were made (seconds since 1970).
    now_s: f64,
}

/// What the search found for one slot.
struct Decision {
    choice: Choice,
    /// `(candidate index, estimate)` of every candidate the server could plan.
    tried: Vec<(usize, Estimate)>,
    /// Why a candidate could not be planned, when one could not.
    refused: Option<String>,
}

/// Calibrates `params` of `statement` (run by `caller`, with server-inferred `types`) against
/// `observed`, rewriting the calibrated ones and their notes; with the caller's persona from
/// a reference workload, sampled draws first keep only values it can see. With `measure`, a
/// read is run for each candidate instead of estimated. Returns one line per parameter
/// considered, for the report.
pub fn calibrate(
    catalog: &mut Catalog,
    statement: &Statement,
    caller: &Caller<'_>,
    types: Option<&[Type]>,
    observed: &Observed,
    params: &mut [DraftParam],
) -> Result<Vec<String>, postgres::Error> {
    let query = super::first_line(&statement.sql);
    let mut lines: Vec<String> = limits(statement, observed, params)
        .into_iter()
        .map(|note| format!("{query}: {note}"))
        .collect();
    let seen = restrict_to_visible(catalog, statement, caller.persona, observed, params)?;
    let (now_s, _) = clock(catalog, &[])?;
    let mut slots = slots(catalog, statement, types, params, &seen, now_s)?;
    for index in seen
        .keys()
        .filter(|i| !slots.iter().any(|s| s.index == **i))
    {
        lines.push(format!("{query}: {}", params[*index].note));
    }
    if slots.is_empty() {
        return Ok(lines);
    }
    let mut current: Vec<Option<String>> = params
        .iter()
        .map(|p| representative(&p.spec, now_s))
        .collect();
    // Only reads are run: a write would fail in the read-only transaction anyway.
    let is_read = statement.verb == "select" && statement.kind == QueryKind::Read;
    let caller = Caller {
        measure: caller.measure.filter(|_| is_read),
        ..*caller
    };
    let (decisions, planner, unmeasured) = search(
        catalog.client(),
        &statement.sql,
        &caller,
        &mut slots,
        &mut current,
        observed,
    )?;
    if let Some(why) = unmeasured {
        lines.push(format!("{query}: not measured ({why}); estimated instead"));
    }
    for (slot, decision) in slots.iter().zip(&decisions) {
        let param = &mut params[slot.index];
        apply(param, slot, decision, observed, &planner);
        lines.push(format!("{query}: {}", param.note));
    }
    Ok(lines)
}

/// A `LIMIT $n` whose value pg_stat_statements hid. When every call returned the same whole
/// number of rows, a limit of that number returns as many (whether the limit or the data
/// stopped them); otherwise the limit was not always reached and says nothing about its value.
fn limits(statement: &Statement, observed: &Observed, params: &mut [DraftParam]) -> Vec<String> {
    let mut notes = Vec::new();
    for (index, param) in params.iter_mut().enumerate() {
        let is_limit = statement.targets.get(&(index + 1)) == Some(&ParamTarget::Limit);
        if !is_limit || !param.placeholder {
            continue;
        }
        let rows = observed.rows_per_call;
        let whole = rows.round();
        if whole >= 1.0 && (rows - whole).abs() <= whole * 0.005 {
            param.spec = ParamSpec::Value {
                value: toml::Value::Integer(whole as i64),
            };
            param.placeholder = false;
            param.note = format!(
                "${}: calibrated: LIMIT {whole:.0}, since every call returned {whole:.0} rows (rows/call {rows:.2}), as many as such a limit returns",
                index + 1
            );
        } else {
            param.note.push_str(&format!(
                "; not calibrated: rows/call {rows:.2} is not a whole number of at least 1, so calls did not all stop at the limit"
            ));
        }
        notes.push(param.note.clone());
    }
    notes
}

/// Writes each calibrated `LIMIT` into the text as the constant it stands for and drops its
/// parameter (renumbering the later ones and their notes). pg_stat_statements turns every
/// constant into `$n`, so a `LIMIT $n` is most often a constant the application wrote; left a
/// parameter, a prepared statement's generic plan assumes an unknown limit and may pick
/// another plan (the scale-1 round trip's `inventory.my_payouts` walked an index on its sort
/// column: 5 → 1 290 blocks per call).
pub fn inline_limits(statement: &mut Statement, params: &mut Vec<DraftParam>) {
    for index in (0..params.len()).rev() {
        let is_limit = statement.targets.get(&(index + 1)) == Some(&ParamTarget::Limit);
        let ParamSpec::Value {
            value: toml::Value::Integer(limit),
        } = &params[index].spec
        else {
            continue;
        };
        if is_limit && !params[index].placeholder {
            let limit = limit.to_string();
            super::draft::inline(statement, params, index + 1, &limit);
        }
    }
}

/// Restricts sampled draws to the values `persona` sees ([`visible`]) when the calls found
/// rows; returns the visible values by parameter index. A failed check is noted, not fatal.
fn restrict_to_visible(
    catalog: &mut Catalog,
    statement: &Statement,
    persona: Option<&Persona>,
    observed: &Observed,
    params: &mut [DraftParam],
) -> Result<HashMap<usize, HashSet<String>>, postgres::Error> {
    let mut found = HashMap::new();
    let Some(persona) = persona.filter(|_| observed.rows_per_call > 0.0) else {
        return Ok(found);
    };
    for (index, param) in params.iter_mut().enumerate() {
        let Some(target @ ParamTarget::Column { array: false, .. }) =
            statement.targets.get(&(index + 1))
        else {
            continue;
        };
        let column = match catalog.resolve(statement, target)? {
            Some(column) if !param.placeholder => column,
            _ => continue,
        };
        match visible::restrict(catalog.client(), &column, persona, param) {
            Ok(Some(seen)) => {
                found.insert(index, seen);
            }
            Ok(None) => {}
            Err(error) => param.note.push_str(&format!(
                "; could not check which values persona {} sees: {}",
                persona.name,
                crate::pg::describe(&error)
            )),
        }
    }
    Ok(found)
}

/// The parameters worth calibrating, with their candidates (of a draw restricted to what the
/// persona sees, only those values).
fn slots(
    catalog: &mut Catalog,
    statement: &Statement,
    types: Option<&[Type]>,
    params: &[DraftParam],
    seen: &HashMap<usize, HashSet<String>>,
    now_s: f64,
) -> Result<Vec<Slot>, postgres::Error> {
    let mut found = Vec::new();
    for (index, param) in params.iter().enumerate() {
        let target = statement.targets.get(&(index + 1));
        let time = types.and_then(|t| t.get(index)).is_some_and(is_time);
        let candidates = match (target, &param.spec) {
            (
                Some(target @ ParamTarget::Column { array: false, .. }),
                ParamSpec::Recorded { .. },
            ) if !param.placeholder => {
                column_candidates(catalog, statement, target, seen.get(&index), time, now_s)?
            }
            // A timestamp nothing is known about (an RPC argument): windows back from now.
            (_, ParamSpec::Ago { .. }) if param.placeholder => candidates::instants(now_s, &[]),
            // Every label of an enum argument.
            (_, ParamSpec::Recorded { recorded, .. }) if param.placeholder => candidates::plain(
                recorded
                    .iter()
                    .filter_map(value_to_text)
                    .map(|label| (label, 1.0))
                    .collect(),
                "a label of the enum",
            ),
            _ => continue,
        };
        if candidates.len() >= 2 {
            found.push(Slot {
                index,
                candidates,
                now_s,
            });
        }
    }
    Ok(found)
}

/// Runs the search measuring as `role` when asked, else (or when no measurement could be
/// used, said in the third value) estimating as `role`, or as the recording user when
/// planning as the role fails for every candidate (a policy that needs the claims while
/// planning).
fn search(
    client: &mut postgres::Client,
    sql: &str,
    caller: &Caller<'_>,
    slots: &mut [Slot],
    current: &mut [Option<String>],
    observed: &Observed,
) -> Result<(Vec<Decision>, Planner, Option<String>), postgres::Error> {
    let start = current.to_vec();
    let mut unmeasured = None;
    let role = caller.role;
    if let Some(measure) = caller.measure {
        let sizes: Vec<usize> = slots.iter().map(|s| s.candidates.len()).collect();
        let mut probe = Probe::open(client, sql, role, Some(measure), caller.persona)?;
        if probe.planner.measured() {
            let decisions = passes(&mut probe, slots, current, observed)?;
            let why = if probe.out_of_budget() {
                Some(format!(
                    "measuring took more than {} s",
                    measure.budget.as_secs()
                ))
            } else {
                unusable_measurements(&decisions, observed)
            };
            match why {
                None => {
                    let planner = probe.planner.clone();
                    probe.close()?;
                    return Ok((decisions, planner, None));
                }
                Some(why) => unmeasured = Some(why),
            }
        } else if let Planner::Recorder { why, .. } = &probe.planner {
            unmeasured = Some(format!("{role} could not be taken: {why}"));
        }
        probe.close()?;
        current.clone_from_slice(&start);
        for (slot, size) in slots.iter_mut().zip(sizes) {
            slot.candidates.truncate(size);
        }
    }
    let mut probe = Probe::open(client, sql, role, None, None)?;
    let mut decisions = passes(&mut probe, slots, current, observed)?;
    let planned_nothing = decisions.iter().all(|d| d.tried.is_empty());
    if planned_nothing && matches!(probe.planner, Planner::Role(_)) {
        let why = decisions
            .iter()
            .find_map(|d| d.refused.clone())
            .unwrap_or_default();
        probe.fall_back(why)?;
        current.clone_from_slice(&start);
        decisions = passes(&mut probe, slots, current, observed)?;
    }
    let planner = probe.planner.clone();
    probe.close()?;
    Ok((decisions, planner, unmeasured))
}

/// Why measurements cannot stand for the application's calls: none could be run, or none
/// found a row where the calls did (the policies saw claims other than the application's).
fn unusable_measurements(decisions: &[Decision], observed: &Observed) -> Option<String> {
    if decisions.iter().all(|d| d.tried.is_empty()) {
        let why = decisions.iter().find_map(|d| d.refused.clone());
        return Some(format!(
            "no candidate could be run: {}",
            why.unwrap_or_default()
        ));
    }
    let found_nothing = decisions
        .iter()
        .all(|d| d.tried.iter().all(|(_, e)| e.rows == 0.0));
    (found_nothing && observed.rows_per_call > 0.0).then(|| {
        format!(
            "no candidate returned a row, where the calls returned {:.1} per call",
            observed.rows_per_call
        )
    })
}

/// Coordinate search: each slot chosen with the others at their current values; twice over
/// when there are several, so the first sees the second's choice.
fn passes(
    probe: &mut Probe<'_>,
    slots: &mut [Slot],
    current: &mut [Option<String>],
    observed: &Observed,
) -> Result<Vec<Decision>, postgres::Error> {
    let rounds = if slots.len() > 1 { 2 } else { 1 };
    let mut decisions = Vec::new();
    for _ in 0..rounds {
        decisions.clear();
        for slot in slots.iter_mut() {
            let decision = decide(probe, slot, current, observed)?;
            if let Choice::Calibrated { chosen, .. } = &decision.choice {
                let best = decision.tried[chosen[0]].0;
                current[slot.index] = Some(slot.candidates[best].text.clone());
            }
            decisions.push(decision);
        }
    }
    Ok(decisions)
}

/// Plans every candidate of `slot` and chooses; when rows decide (or measured blocks: the
/// buffer model is too rough to narrow on) and the parameter is an instant, narrows the
/// window between the two candidates whose figures bracket the measurement first (the usual
/// windows are a coarse grid), then chooses again.
fn decide(
    probe: &mut Probe<'_>,
    slot: &mut Slot,
    current: &[Option<String>],
    observed: &Observed,
) -> Result<Decision, postgres::Error> {
    let mut decision = Decision {
        choice: Choice::Uninformative,
        tried: Vec::new(),
        refused: None,
    };
    for index in 0..slot.candidates.len() {
        plan_candidate(probe, slot, index, current, &mut decision)?;
    }
    decision.choice = choose::choose(&estimates(&decision), None, observed);
    let by_rows: Option<(Figure, f64)> = Some((|e| e.rows, observed.rows_per_call));
    let by_blocks = observed.blocks_per_call.map(|b| (pages as Figure, b));
    let narrowing = match (&decision.choice, probe.planner.measured()) {
        (
            Choice::Calibrated {
                signal: Signal::Rows,
                ..
            },
            _,
        ) => by_rows,
        (
            Choice::Calibrated {
                signal: Signal::RowsThenBlocks | Signal::Blocks,
                ..
            },
            true,
        ) => by_blocks,
        (
            Choice::Calibrated {
                signal: Signal::RowsThenBlocks,
                ..
            },
            false,
        ) => by_rows,
        _ => None,
    };
    if let Some((figure, target)) = narrowing
        && let Some(bracket) = bracket(slot, &decision, figure, target)
    {
        bisect(
            probe,
            slot,
            current,
            &mut decision,
            (figure, target),
            bracket,
        )?;
    }
    let draw = draw_estimate(slot, &decision);
    decision.choice = choose::choose(&estimates(&decision), draw, observed);
    Ok(decision)
}

fn plan_candidate(
    probe: &mut Probe<'_>,
    slot: &Slot,
    index: usize,
    current: &[Option<String>],
    decision: &mut Decision,
) -> Result<Option<Estimate>, postgres::Error> {
    let mut values = current.to_vec();
    values[slot.index] = Some(slot.candidates[index].text.clone());
    Ok(match probe.estimate(&values)? {
        Ok(estimate) => {
            decision.tried.push((index, estimate));
            Some(estimate)
        }
        Err(why) => {
            decision.refused.get_or_insert(why);
            None
        }
    })
}

/// The mean estimate over the parameter's current draw, from the candidates it holds.
fn draw_estimate(slot: &Slot, decision: &Decision) -> Option<Estimate> {
    let weighted: Vec<(f64, Estimate)> = decision
        .tried
        .iter()
        .map(|(i, e)| (slot.candidates[*i].weight, *e))
        .collect();
    choose::mean(&weighted)
}

fn estimates(decision: &Decision) -> Vec<Estimate> {
    decision.tried.iter().map(|(_, e)| *e).collect()
}

/// Bisection steps when narrowing a window (each halves the gap between two candidates).
const BISECTIONS: usize = 8;

/// One figure of an estimate: its rows or its pages.
type Figure = fn(&Estimate) -> f64;

fn pages(estimate: &Estimate) -> f64 {
    estimate.pages
}

/// `(back_s, figure)` of two instants next to each other in time whose figures lie either
/// side of `target`, the pair nearest the target's log distance first.
fn bracket(
    slot: &Slot,
    decision: &Decision,
    figure: Figure,
    target: f64,
) -> Option<[(f64, f64); 2]> {
    let mut points: Vec<(f64, f64)> = decision
        .tried
        .iter()
        .filter_map(|(i, e)| slot.candidates[*i].back_s.map(|back| (back, figure(e))))
        .collect();
    points.sort_by(|a, b| a.0.total_cmp(&b.0));
    points
        .windows(2)
        .filter(|pair| (pair[0].1 - target) * (pair[1].1 - target) < 0.0)
        .map(|pair| [pair[0], pair[1]])
        .min_by(|a, b| {
            let gap = |p: &[(f64, f64); 2]| choose::distance(p[0].1, p[1].1);
            gap(a).total_cmp(&gap(b))
        })
}

/// Narrows `bracket` by halving, adding each midpoint as a candidate, until its `figure`
/// meets `target`.
fn bisect(
    probe: &mut Probe<'_>,
    slot: &mut Slot,
    current: &[Option<String>],
    decision: &mut Decision,
    (figure, target): (Figure, f64),
    bracket: [(f64, f64); 2],
) -> Result<(), postgres::Error> {
    let [mut low, mut high] = bracket;
    let now_s = slot.now_s;
    for _ in 0..BISECTIONS {
        let back_s = (low.0 + high.0) / 2.0;
        slot.candidates.push(Candidate {
            text: candidates::rfc3339(now_s - back_s),
            back_s: Some(back_s),
            weight: 0.0,
            origin: "narrowed between two candidates".to_string(),
        });
        let index = slot.candidates.len() - 1;
        let Some(estimate) = plan_candidate(probe, slot, index, current, decision)? else {
            break;
        };
        let value = figure(&estimate);
        if (value - target) * (low.1 - target) > 0.0 {
            low = (back_s, value);
        } else {
            high = (back_s, value);
        }
    }
    Ok(())
}

/// Writes the decision into the parameter: the chosen values (a time as an `ago` window back
/// from now, as the application asked for it), and a note saying what matched what.
fn apply(
    param: &mut DraftParam,
    slot: &Slot,
    decision: &Decision,
    observed: &Observed,
    planner: &Planner,
) {
    let about = param
        .note
        .split(": ")
        .next()
        .unwrap_or_default()
        .to_string();
    if let Choice::DrawExplains(draw) = &decision.choice {
        param.note.push_str(&format!(
            "; checked: the draw's mean {} ({:.0} rows, {:.0} pages) explains rows/call {:.1} as well as any single value ({planner})",
            word(planner), draw.rows, draw.pages, observed.rows_per_call
        ));
        return;
    }
    let Choice::Calibrated { chosen, signal } = &decision.choice else {
        let why = match &decision.refused {
            Some(why) if decision.tried.is_empty() => {
                format!("the server could not plan it: {why}")
            }
            _ => format!(
                "no planner estimate moved with it ({} values tried, {planner})",
                decision.tried.len()
            ),
        };
        param.note.push_str(&format!("; not calibrated: {why}"));
        return;
    };
    let picked: Vec<(&Candidate, Estimate)> = chosen
        .iter()
        .map(|&k| {
            let (index, estimate) = decision.tried[k];
            (&slot.candidates[index], estimate)
        })
        .collect();
    let (best, estimate) = picked[0];
    param.spec = match best.back_s.and_then(candidates::ago_text) {
        Some(ago) => ParamSpec::Ago { ago, jitter: None },
        None => ParamSpec::Recorded {
            recorded: picked.iter().map(|(c, _)| toml_value(&c.text)).collect(),
            sampled: true,
        },
    };
    param.placeholder = false;
    param.note = format!(
        "{about}: calibrated: {}; {}, {} of {} values planned; {planner}",
        matched(*signal, observed, &estimate, word(planner)),
        best.origin,
        decision.tried.len(),
        slot.candidates.len()
    );
}

/// What the figures compared with pg_stat_statements' are.
fn word(planner: &Planner) -> &'static str {
    if planner.measured() {
        "measured"
    } else {
        "estimate"
    }
}

/// `rows/call 48.0 → estimate 51`, with blocks when they decided.
fn matched(signal: Signal, observed: &Observed, estimate: &Estimate, word: &str) -> String {
    let rows = format!(
        "rows/call {:.1} → {word} {:.0}",
        observed.rows_per_call, estimate.rows
    );
    let blocks = format!(
        "blocks/call {:.0} → {word} {:.0}",
        observed.blocks_per_call.unwrap_or_default(),
        estimate.pages
    );
    match signal {
        Signal::Rows => rows,
        Signal::RowsThenBlocks => format!("{rows}, {blocks}"),
        Signal::Blocks => format!(
            "{blocks} (rows/call {:.1} did not tell)",
            observed.rows_per_call
        ),
    }
}

/// Candidates from the statistics of the column `target` resolves to (only the values in
/// `seen` when the persona's visible values are known): instants for a time column.
fn column_candidates(
    catalog: &mut Catalog,
    statement: &Statement,
    target: &ParamTarget,
    seen: Option<&HashSet<String>>,
    time: bool,
    now_s: f64,
) -> Result<Vec<Candidate>, postgres::Error> {
    let mut values = column_values(catalog, statement, target)?;
    if let Some(seen) = seen {
        values.retain(|(value, _)| seen.contains(value));
    }
    if !time {
        return Ok(candidates::plain(
            values,
            "a value of the column's statistics",
        ));
    }
    let texts: Vec<String> = values.iter().map(|(v, _)| v.clone()).collect();
    let epochs = clock(catalog, &texts)?.1;
    let instants: Vec<(f64, f64)> = epochs
        .into_iter()
        .zip(values.iter().map(|(_, w)| *w))
        .filter_map(|(at, weight)| at.map(|at| (at, weight)))
        .collect();
    Ok(candidates::instants(now_s, &instants))
}

/// The statistics values of the column `target` resolves to, with their shares of the draw
/// (empty when it has none).
fn column_values(
    catalog: &mut Catalog,
    statement: &Statement,
    target: &ParamTarget,
) -> Result<Vec<(String, f64)>, postgres::Error> {
    let Some(column) = catalog.resolve(statement, target)? else {
        return Ok(Vec::new());
    };
    Ok(catalog
        .stats(&column)?
        .map(|stats| candidates::from_stats(&stats))
        .unwrap_or_default())
}

/// The server's clock and `values` (time texts) in seconds since 1970, in order; `None` for
/// a value that is not a finite instant (`infinity`).
fn clock(
    catalog: &mut Catalog,
    values: &[String],
) -> Result<(f64, Vec<Option<f64>>), postgres::Error> {
    let row = catalog
        .client()
        .query_one(include_str!("../queries/epochs.sql"), &[&values])?;
    let epochs: Vec<Option<f64>> = row.get(1);
    Ok((
        row.get(0),
        epochs
            .into_iter()
            .map(|e| e.filter(|e| e.is_finite()))
            .collect(),
    ))
}

fn is_time(param_type: &Type) -> bool {
    matches!(param_type.name(), "timestamptz" | "timestamp" | "date")
}

/// A value standing for the parameter while the others are calibrated: the middle of its
/// values, its fixed value, its window. `None` (SQL NULL) for a `sample`, whose values are
/// only known at bench time.
fn representative(spec: &ParamSpec, now_s: f64) -> Option<String> {
    match spec {
        ParamSpec::Value { value } => value_to_text(value),
        ParamSpec::Recorded { recorded, .. } => {
            recorded.get(recorded.len() / 2).and_then(value_to_text)
        }
        ParamSpec::OneOf { one_of, .. } => one_of.first().and_then(value_to_text),
        ParamSpec::IntBetween { int_between } => Some(int_between[0].to_string()),
        ParamSpec::FloatBetween { float_between } => Some(float_between[0].to_string()),
        ParamSpec::Ago { ago, .. } => parse_duration(ago)
            .ok()
            .map(|back| candidates::rfc3339(now_s - back.num_milliseconds() as f64 / 1000.0)),
        ParamSpec::Sample { .. } => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::sql;

    fn limit_placeholder() -> DraftParam {
        DraftParam {
            spec: ParamSpec::Value {
                value: toml::Value::Integer(50),
            },
            note: "$2: TODO LIMIT value unknown".into(),
            placeholder: true,
        }
    }

    fn observed(rows_per_call: f64) -> Observed {
        Observed {
            rows_per_call,
            blocks_per_call: None,
        }
    }

    #[test]
    fn a_limit_every_call_reached_is_written_and_a_fractional_one_is_not() {
        let statement = sql::analyse("SELECT * FROM t WHERE a = $1 LIMIT 100").expect("kept");
        let mut params = vec![limit_placeholder(), limit_placeholder()];
        params[0].placeholder = false;
        let notes = limits(&statement, &observed(100.0), &mut params);
        assert_eq!(notes.len(), 1);
        assert_eq!(
            params[1].spec,
            ParamSpec::Value {
                value: toml::Value::Integer(100)
            }
        );
        assert!(!params[1].placeholder);

        let mut params = vec![limit_placeholder(), limit_placeholder()];
        params[0].placeholder = false;
        limits(&statement, &observed(37.4), &mut params);
        assert!(params[1].placeholder);
        assert!(
            params[1].note.contains("not calibrated"),
            "{}",
            params[1].note
        );
        limits(&statement, &observed(0.0), &mut params);
        assert!(params[1].placeholder);
    }

    #[test]
    fn a_calibrated_limit_becomes_the_constant_it_stands_for() {
        let mut statement =
            sql::analyse("SELECT * FROM t WHERE a = $1 ORDER BY b LIMIT 12 OFFSET 5")
                .expect("kept");
        assert_eq!(
            statement.sql,
            "SELECT * FROM t WHERE a = $1 ORDER BY b LIMIT $2 OFFSET $3"
        );
        let mut params = vec![
            limit_placeholder(),
            limit_placeholder(),
            limit_placeholder(),
        ];
        params[0].placeholder = false;
        params[2].note = "$3: TODO OFFSET value unknown".into();
        limits(&statement, &observed(12.0), &mut params);
        inline_limits(&mut statement, &mut params);
        assert_eq!(
            statement.sql,
            "SELECT * FROM t WHERE a = $1 ORDER BY b LIMIT 12 OFFSET $2"
        );
        assert_eq!(statement.param_count, 2);
        assert_eq!(params.len(), 2);
        assert_eq!(params[1].note, "$2: TODO OFFSET value unknown");
        assert_eq!(statement.targets.get(&2), Some(&ParamTarget::Offset));
    }

    #[test]
    fn measurements_that_ran_nothing_or_found_nothing_are_not_used() {
        let decision = |tried: Vec<(usize, Estimate)>| Decision {
            choice: Choice::Uninformative,
            tried,
            refused: Some("canceling statement due to statement timeout".into()),
        };
        let nothing = Estimate {
            rows: 0.0,
            pages: 3.0,
        };
        let some = Estimate {
            rows: 12.0,
            pages: 30.0,
        };
        let why = unusable_measurements(&[decision(Vec::new())], &observed(5.0));
        assert!(why.is_some_and(|why| why.contains("statement timeout")));
        let why = unusable_measurements(
            &[decision(vec![(0, nothing), (1, nothing)])],
            &observed(5.0),
        );
        assert!(why.is_some_and(|why| why.contains("no candidate returned a row")));
        // The calls found nothing either: measuring nothing agrees with them.
        assert_eq!(
            unusable_measurements(&[decision(vec![(0, nothing)])], &observed(0.0)),
            None
        );
        assert_eq!(
            unusable_measurements(&[decision(vec![(0, nothing), (1, some)])], &observed(5.0)),
            None
        );
    }

    #[test]
    fn the_bracket_is_the_pair_of_neighbours_either_side_of_the_target() {
        let instant = |back_s: f64| Candidate {
            text: String::new(),
            back_s: Some(back_s),
            weight: 0.0,
            origin: String::new(),
        };
        let slot = Slot {
            index: 0,
            candidates: vec![instant(30.0), instant(1.0), instant(7.0)],
            now_s: 0.0,
        };
        let rows = |rows: f64| Estimate { rows, pages: 1.0 };
        let decision = Decision {
            choice: Choice::Uninformative,
            tried: vec![(0, rows(3_000.0)), (1, rows(100.0)), (2, rows(700.0))],
            refused: None,
        };
        let by_rows: Figure = |e| e.rows;
        assert_eq!(
            bracket(&slot, &decision, by_rows, 1_000.0),
            Some([(7.0, 700.0), (30.0, 3_000.0)])
        );
        assert_eq!(bracket(&slot, &decision, by_rows, 5_000.0), None);
        assert_eq!(bracket(&slot, &decision, pages, 1_000.0), None);
    }
}
