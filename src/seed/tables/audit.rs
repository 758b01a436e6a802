//! `audit.log`: the trail the audit triggers would have written for the last 80 days of
//! approval requests and decisions (the triggers themselves are silenced while seeding).
//!
//! Rows carry the columns of `approvals.approvals` that the facts stream knows (id, kind,
//! status, team, times), not the whole row. Events are collected as small keys and sorted, so
//! audit ids increase with time as the real log's do.

use std::io::{self, Write};

use chrono::{DateTime, Datelike, NaiveDate};
use postgres::Transaction;
use rand_chacha::ChaCha8Rng;

use super::approvals::{ApprovalFacts, FactsSource, Status};
use super::{ColType as T, Generator, Sink};
use crate::seed::plan::{AppRole, Plan};
use crate::seed::shape::DAY_US;

/// Days of audit history: inside the 90-day retention.
const AUDIT_DAYS: i64 = 80;
/// First transaction id written into `txid`.
const FIRST_TXID: i64 = 10_000;

pub struct Log;

impl Generator for Log {
    fn table(&self) -> (&'static str, &'static str) {
        ("audit", "log")
    }

    fn columns(&self) -> &'static [(&'static str, T)] {
        &[
            ("id", T::Int8),
            ("logged_at", T::Timestamptz),
            ("actor_id", T::Uuid),
            ("actor_app_role", T::Text),
            ("db_role", T::Text),
            ("action", T::Enum),
            ("table_schema", T::Text),
            ("table_name", T::Text),
            ("row_key", T::Jsonb),
            ("team_id", T::Int8),
            ("old_row", T::Jsonb),
            ("new_row", T::Jsonb),
            ("undo_sql", T::Text),
            ("undo_complete", T::Bool),
            ("txid", T::Int8),
        ]
    }

    /// The monthly partitions of the audit window, through the schema's own function.
    fn before_load(&self, plan: &Plan, tx: &mut Transaction<'_>) -> Result<(), postgres::Error> {
        let mut month = first_of_month(plan.anchor_date - chrono::Days::new(AUDIT_DAYS as u64));
        while month <= plan.anchor_date {
            tx.execute("SELECT audit.ensure_partition($1)", &[&month])?;
            month = month + chrono::Months::new(1);
        }
        Ok(())
    }

    fn generate(&self, plan: &Plan, rng: &mut ChaCha8Rng, out: &mut Sink<'_>) -> io::Result<()> {
        let source = FactsSource::new(plan);
        let since_us = plan.end_us - AUDIT_DAYS * DAY_US;
        let mut events: Vec<(i64, u64, bool)> = Vec::new();
        for id in 1..=plan.approvals {
            let facts = source.get(id);
            if facts.created_us >= since_us {
                events.push((facts.created_us, id, false));
            }
            if let Some(decided_us) = facts.decided_us.filter(|us| *us >= since_us) {
                events.push((decided_us, id, true));
            }
        }
        events.sort_unstable();
        for (index, (logged_us, id, decision)) in events.into_iter().enumerate() {
            let facts = source.get(id);
            let roles: &[AppRole] = if decision {
                &[AppRole::Manager]
            } else {
                &[AppRole::Operator]
            };
            let actor = plan.pick_user(rng, facts.team_id, roles);
            let row = out.row()?;
            row.int8(index as i64 + 1);
            row.timestamptz(logged_us);
            row.uuid(&actor.id);
            row.text(actor.role.label());
            row.text("authenticated");
            row.text(if decision { "UPDATE" } else { "INSERT" });
            row.text("approvals");
            row.text("approvals");
            row.jsonb_with(|buf| {
                let _ = write!(buf, r#"{{"id": {id}}}"#);
            });
            row.int8(facts.team_id);
            write_change(row, id, &facts, decision);
            row.bool(true);
            row.int8(FIRST_TXID + index as i64);
        }
        Ok(())
    }
}

/// `old_row`, `new_row` and `undo_sql` of an insert or of the decision update.
fn write_change(row: &mut crate::seed::Row, id: u64, facts: &ApprovalFacts, decision: bool) {
    if decision {
        row.jsonb_with(|buf| approval_json(buf, id, facts, None));
        row.jsonb_with(|buf| approval_json(buf, id, facts, facts.decided_us));
        row.text_with(|buf| {
            let _ = write!(
                buf,
                "UPDATE approvals.approvals SET status = 'pending'::approvals.approval_status, decided_at = NULL::timestamp with time zone WHERE id = '{id}'::bigint"
            );
        });
    } else {
        row.null();
        row.jsonb_with(|buf| approval_json(buf, id, facts, None));
        row.text_with(|buf| {
            let _ = write!(
                buf,
                "DELETE FROM approvals.approvals WHERE id = '{id}'::bigint"
            );
        });
    }
}

/// The approval as `to_jsonb(row)` would show the columns the facts know (no escaping needed:
/// every value is a number, a fixed label or a timestamp).
fn approval_json(buf: &mut Vec<u8>, id: u64, facts: &ApprovalFacts, decided_us: Option<i64>) {
    let status = match (decided_us, facts.status) {
        (None, _) => "pending",
        (Some(_), Status::Approved) => "approved",
        (Some(_), Status::Rejected) => "rejected",
        (Some(_), _) => "expired",
    };
    let _ = write!(
        buf,
        r#"{{"id": {id}, "kind": "{}", "status": "{status}", "team_id": {}, "created_at": "{}", "decided_at": "#,
        facts.kind,
        facts.team_id,
        iso(facts.created_us)
    );
    let _ = match decided_us {
        Some(us) => write!(buf, r#""{}"}}"#, iso(us)),
        None => write!(buf, "null}}"),
    };
}

/// `2026-03-14T09:30:00.123456+00:00`, as PostgreSQL writes a timestamptz into JSON.
fn iso(unix_us: i64) -> impl std::fmt::Display {
    DateTime::from_timestamp_micros(unix_us)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S%.6f+00:00")
}

fn first_of_month(date: NaiveDate) -> NaiveDate {
    date.with_day(1).expect("day 1 exists in every month")
}
