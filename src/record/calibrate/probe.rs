//! Planner estimates of one recorded statement for given parameter values: `EXPLAIN (VERBOSE,
//! FORMAT JSON)` without ANALYZE, so nothing is executed (safe for writes, on a live
//! database), inside a read-only transaction that is rolled back.
//!
//! The estimate is taken as the role that ran the statement (`SET LOCAL ROLE`), so its RLS
//! policies are part of the plan as they were for the application. The role's JWT claims are
//! unknown: policies that read them through a sub-select (`(SELECT auth.uid())`) are planned
//! with the planner's default selectivity, since plain EXPLAIN never runs the sub-select. When
//! the role cannot be taken or a policy needs the claims at planning time, the estimate is the
//! recording user's, who may bypass the policies: it then counts rows before the policies
//! filter them, while pg_stat_statements counted rows after; the note says which it was.
//!
//! With `--measure` a read is run instead, `EXPLAIN (ANALYZE, BUFFERS)` in the same read-only
//! transaction, as the role with the persona's claims from the reference and a statement
//! timeout: measured rows and blocks, not estimates and a model of them. Only reads are run,
//! and nothing they did is kept.

use std::collections::HashMap;

use postgres::{Client, Transaction};

use super::choose::Estimate;
use super::plan;
use super::visible::Persona;
use crate::pg::session::set_local_claims;
use crate::pg::{TextParam, quote_ident};

/// How to run a read instead of estimating it (`--measure`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Measure {
    /// `statement_timeout` of each run: a candidate that takes much longer than the
    /// application's calls did is far from them anyway.
    pub timeout_ms: u64,
    /// Time all runs of one statement may take together; past it the statement is
    /// estimated instead, so one slow statement cannot keep a recording busy for hours.
    pub budget: std::time::Duration,
}

/// Whose estimate it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Planner {
    /// As the role that ran the statement (or the recording user is that role).
    Role(String),
    /// As the recording user, because the role could not be taken or planning failed as it.
    Recorder { role: String, why: String },
    /// Run (EXPLAIN ANALYZE) as the role, with these persona's claims.
    Measured {
        role: String,
        persona: Option<String>,
    },
}

impl Planner {
    pub fn measured(&self) -> bool {
        matches!(self, Planner::Measured { .. })
    }
}

impl std::fmt::Display for Planner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Planner::Role(role) => write!(f, "planned as {role}"),
            Planner::Measured {
                role,
                persona: Some(persona),
            } => write!(
                f,
                "measured with EXPLAIN ANALYZE as {role} with persona {persona}'s claims"
            ),
            Planner::Measured {
                role,
                persona: None,
            } => write!(f, "measured with EXPLAIN ANALYZE as {role}, no claims"),
            Planner::Recorder { role, why } => write!(
                f,
                "planned as the recording user, not {role} ({why}): rows before RLS policies"
            ),
        }
    }
}

/// An open estimating session on one statement.
pub struct Probe<'a> {
    tx: Transaction<'a>,
    sql: String,
    relpages: HashMap<(String, String), f64>,
    pub planner: Planner,
    /// Measuring time left; `None` when estimating.
    budget: Option<std::time::Duration>,
}

impl<'a> Probe<'a> {
    /// Opens the transaction and takes `role`; falls back to the recording user when the
    /// role cannot be taken (and then estimates: measuring as a user who may bypass the
    /// policies would measure other rows). Measuring runs with `persona`'s claims, if any.
    pub fn open(
        client: &'a mut Client,
        sql: &str,
        role: &str,
        measure: Option<Measure>,
        persona: Option<&Persona>,
    ) -> Result<Probe<'a>, postgres::Error> {
        let mut tx = client.build_transaction().read_only(true).start()?;
        let mut budget = None;
        let planner = match (take_role(&mut tx, role), measure) {
            (Ok(()), Some(measure)) => {
                if let Some(persona) = persona {
                    set_local_claims(&mut tx, &persona.claims, &persona.settings)?;
                }
                tx.query_one(
                    "SELECT set_config('statement_timeout', $1, true)",
                    &[&measure.timeout_ms.to_string()],
                )?;
                budget = Some(measure.budget);
                Planner::Measured {
                    role: role.to_string(),
                    persona: persona.map(|p| p.name.clone()),
                }
            }
            (Ok(()), None) => Planner::Role(role.to_string()),
            (Err(error), _) => Planner::Recorder {
                role: role.to_string(),
                why: crate::pg::describe(&error),
            },
        };
        Ok(Probe {
            tx,
            sql: sql.to_string(),
            relpages: HashMap::new(),
            planner,
            budget,
        })
    }

    /// Whether measuring ran out of time (the figures so far cover only some candidates).
    pub fn out_of_budget(&self) -> bool {
        self.budget.is_some_and(|left| left.is_zero())
    }

    /// Leaves the role for the rest of the session (planning failed as it).
    pub fn fall_back(&mut self, why: String) -> Result<(), postgres::Error> {
        if let Planner::Role(role) = &self.planner {
            self.planner = Planner::Recorder {
                role: role.clone(),
                why,
            };
            self.tx.batch_execute("RESET ROLE")?;
        }
        Ok(())
    }

    /// The estimate (or measurement) for `values`; `Ok(Err(why))` when the server refused
    /// to plan or run it (a value its type rejects, a policy needing claims, the timeout): a
    /// savepoint keeps the session usable.
    pub fn estimate(
        &mut self,
        values: &[Option<String>],
    ) -> Result<Result<Estimate, String>, postgres::Error> {
        let options = if self.planner.measured() {
            "ANALYZE, BUFFERS, VERBOSE, FORMAT JSON"
        } else {
            "VERBOSE, FORMAT JSON"
        };
        let text = format!("EXPLAIN ({options}) {}", self.sql);
        let binds: Vec<TextParam> = values.iter().cloned().map(TextParam).collect();
        let refs: Vec<&(dyn postgres::types::ToSql + Sync)> = binds
            .iter()
            .map(|bind| bind as &(dyn postgres::types::ToSql + Sync))
            .collect();
        if self.out_of_budget() {
            return Ok(Err("the measuring budget is spent".to_string()));
        }
        let started = std::time::Instant::now();
        let mut savepoint = self.tx.transaction()?;
        let explained = savepoint.query_one(&text, &refs);
        if let Some(left) = &mut self.budget {
            *left = left.saturating_sub(started.elapsed());
        }
        let explain: serde_json::Value = match explained {
            Ok(row) => row.get(0),
            Err(error) => {
                savepoint.rollback()?;
                return Ok(Err(crate::pg::describe(&error)));
            }
        };
        savepoint.commit()?;
        if self.planner.measured() {
            return Ok(plan::measured(&explain)
                .ok_or_else(|| "EXPLAIN ANALYZE returned no measurements".to_string()));
        }
        self.fetch_relpages(&explain)?;
        let relpages = &self.relpages;
        let mut lookup = |schema: &str, table: &str| {
            relpages
                .get(&(schema.to_string(), table.to_string()))
                .copied()
                .unwrap_or(1.0)
        };
        Ok(plan::estimate(&explain, &mut lookup)
            .ok_or_else(|| "EXPLAIN returned no plan".to_string()))
    }

    /// Reads the size of every relation of `explain` not yet known.
    fn fetch_relpages(&mut self, explain: &serde_json::Value) -> Result<(), postgres::Error> {
        for key in relations(explain) {
            if self.relpages.contains_key(&key) {
                continue;
            }
            let pages = self
                .tx
                .query_opt(include_str!("../queries/relpages.sql"), &[&key.0, &key.1])?
                .map_or(1.0, |row| row.get::<_, f64>(0));
            self.relpages.insert(key, pages);
        }
        Ok(())
    }

    /// Ends the session; nothing it did is kept.
    pub fn close(self) -> Result<(), postgres::Error> {
        self.tx.rollback()
    }
}

/// `SET LOCAL ROLE`, inside a savepoint so a refusal leaves the transaction usable.
fn take_role(tx: &mut Transaction<'_>, role: &str) -> Result<(), postgres::Error> {
    let mut savepoint = tx.transaction()?;
    match savepoint.batch_execute(&format!("SET LOCAL ROLE {}", quote_ident(role))) {
        Ok(()) => savepoint.commit(),
        Err(error) => {
            savepoint.rollback()?;
            Err(error)
        }
    }
}

/// `(schema, table)` of every scanned relation in the plan.
fn relations(explain: &serde_json::Value) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut stack: Vec<&serde_json::Value> = explain
        .get(0)
        .and_then(|root| root.get("Plan"))
        .into_iter()
        .collect();
    while let Some(node) = stack.pop() {
        if let (Some(schema), Some(table)) = (
            node.get("Schema").and_then(|v| v.as_str()),
            node.get("Relation Name").and_then(|v| v.as_str()),
        ) {
            found.push((schema.to_string(), table.to_string()));
        }
        if let Some(children) = node.get("Plans").and_then(|v| v.as_array()) {
            stack.extend(children);
        }
    }
    found
}
