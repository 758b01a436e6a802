//! `approvals.approvals`, `approval_grades` and `approval_edits`: a year of approval requests,
//! most decided within hours, about 2-3% still pending (nearly all from the last week).

use std::io::{self, Write};

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, LogNormal};

use super::{ColType as T, Generator, Sink, Weighted};
use crate::seed::plan::{AppRole, Plan, TEAMS};
use crate::seed::shape::{DAY_US, Diurnal, HOUR_US, Popularity, row_rng, stream_seed};

/// Days of approval history.
const HISTORY_DAYS: i64 = 365;
const KINDS: [&str; 6] = [
    "refund",
    "discount",
    "purchase_order",
    "price_change",
    "payout",
    "content_publish",
];
const KIND_WEIGHTS: [f64; 6] = [35.0, 20.0, 12.0, 10.0, 15.0, 8.0];
const RUBRICS: [&str; 4] = [
    "policy_compliance",
    "accuracy",
    "timeliness",
    "communication",
];

/// Where an approval stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Pending,
    Approved,
    Rejected,
    Expired,
}

impl Status {
    fn label(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Approved => "approved",
            Status::Rejected => "rejected",
            Status::Expired => "expired",
        }
    }
}

/// What child tables need to know about approval `id`, drawn from the approval's own stream.
#[derive(Debug, Clone)]
pub struct ApprovalFacts {
    pub team_id: i64,
    pub kind: &'static str,
    pub status: Status,
    pub created_us: i64,
    /// Set unless pending.
    pub decided_us: Option<i64>,
}

/// Computes [`ApprovalFacts`] for one seeding; the approvals table and its children share it.
pub struct FactsSource<'a> {
    plan: &'a Plan,
    key: [u8; 32],
    teams: Popularity,
    kinds: Weighted<&'static str>,
    diurnal: Diurnal,
    decision_hours: LogNormal<f64>,
}

impl<'a> FactsSource<'a> {
    pub fn new(plan: &'a Plan) -> FactsSource<'a> {
        FactsSource {
            plan,
            key: stream_seed(plan.rng_seed, "approvals.approvals#facts"),
            teams: Popularity::new(TEAMS, 0.6),
            kinds: Weighted::new(&KINDS, &KIND_WEIGHTS),
            diurnal: Diurnal::default(),
            decision_hours: LogNormal::new(1.8, 1.0).expect("constant parameters are valid"),
        }
    }

    /// Facts of approval `id` (1-based), from the approval's own stream.
    pub fn get(&self, id: u64) -> ApprovalFacts {
        let mut rng = row_rng(&self.key, id);
        let team_id = self.teams.sample(&mut rng) as i64;
        let kind = self.kinds.sample(&mut rng);
        let created_us = self
            .diurnal
            .within(&mut rng, self.plan.end_us, HISTORY_DAYS);
        let status = status(&mut rng, (self.plan.end_us - created_us) / DAY_US);
        let decided_us = (status != Status::Pending).then(|| {
            let wait_us = match status {
                Status::Expired => 14 * DAY_US,
                _ => (self.decision_hours.sample(&mut rng) * HOUR_US as f64) as i64,
            };
            (created_us + wait_us).min(self.plan.end_us - 1)
        });
        ApprovalFacts {
            team_id,
            kind,
            status,
            created_us,
            decided_us,
        }
    }
}

/// Nearly all pending approvals are from the last week (2-3% of all); old undecided ones expire.
fn status(rng: &mut ChaCha8Rng, age_days: i64) -> Status {
    let pending_chance = match age_days {
        0..7 => 0.7,
        7..30 => 0.05,
        _ => 0.005,
    };
    if rng.gen_bool(pending_chance) {
        Status::Pending
    } else if age_days >= 14 && rng.gen_bool(0.03) {
        Status::Expired
    } else if rng.gen_bool(0.78) {
        Status::Approved
    } else {
        Status::Rejected
    }
}

pub struct Approvals;

impl Generator for Approvals {
    fn table(&self) -> (&'static str, &'static str) {
        ("approvals", "approvals")
    }

    fn columns(&self) -> &'static [(&'static str, T)] {
        &[
            ("id", T::Int8),
            ("kind", T::Enum),
            ("subject", T::Text),
            ("status", T::Enum),
            ("requester_id", T::Uuid),
            ("assignee_id", T::Uuid),
            ("team_id", T::Int8),
            ("payload", T::Jsonb),
            ("amount_cents", T::Int8),
            ("created_at", T::Timestamptz),
            ("decided_at", T::Timestamptz),
            ("decided_by", T::Uuid),
            ("decision_note", T::Text),
        ]
    }

    fn generate(&self, plan: &Plan, rng: &mut ChaCha8Rng, out: &mut Sink<'_>) -> io::Result<()> {
        let source = FactsSource::new(plan);
        for id in 1..=plan.approvals {
            let facts = source.get(id);
            let row = out.row()?;
            row.int8(id as i64);
            row.text(facts.kind);
            row.text_with(|buf| {
                let _ = write!(buf, "{} #{id}", facts.kind.replace('_', " "));
            });
            row.text(facts.status.label());
            row.uuid(&plan.pick_user(rng, facts.team_id, &[]).id);
            match assignee(plan, rng, &facts) {
                Some(user) => row.uuid(&user),
                None => row.null(),
            }
            row.int8(facts.team_id);
            let reason = REASONS[rng.gen_range(0..REASONS.len())];
            let items: u32 = rng.gen_range(1..12);
            let channel = if rng.gen_bool(0.7) { "web" } else { "store" };
            row.jsonb_with(|buf| {
                let _ = write!(
                    buf,
                    r#"{{"reason": "{reason}", "items": {items}, "currency": "EUR", "channel": "{channel}"}}"#
                );
            });
            match amount_cents(rng, facts.kind) {
                Some(cents) => row.int8(cents),
                None => row.null(),
            }
            row.timestamptz(facts.created_us);
            match facts.decided_us {
                Some(us) => row.timestamptz(us),
                None => row.null(),
            }
            write_decision(plan, rng, &facts, row);
        }
        Ok(())
    }
}

const REASONS: [&str; 6] = [
    "damaged in transit",
    "customer goodwill",
    "supplier price increase",
    "seasonal promotion",
    "weekly picker payout",
    "campaign launch",
];

/// Operators (sometimes managers) work approvals; 1 in 20 of a persona team's go to its
/// operator persona, so the workload's operator always has a queue.
fn assignee(plan: &Plan, rng: &mut ChaCha8Rng, facts: &ApprovalFacts) -> Option<uuid::Uuid> {
    if rng.gen_bool(if facts.status == Status::Pending {
        0.2
    } else {
        0.08
    }) {
        return None;
    }
    if rng.gen_bool(0.05)
        && let Some(persona) = plan.persona(facts.team_id, AppRole::Operator)
    {
        return Some(persona.id);
    }
    Some(
        plan.pick_user(rng, facts.team_id, &[AppRole::Operator, AppRole::Manager])
            .id,
    )
}

fn amount_cents(rng: &mut ChaCha8Rng, kind: &str) -> Option<i64> {
    let median_eur = match kind {
        "refund" => 45.0,
        "discount" => 15.0,
        "purchase_order" => 4_800.0,
        "payout" => 750.0,
        _ => return None,
    };
    let euros = LogNormal::new(f64::ln(median_eur), 0.9)
        .expect("constant parameters are valid")
        .sample(rng);
    Some((euros * 100.0).round() as i64)
}

/// `decided_by` and `decision_note`.
fn write_decision(
    plan: &Plan,
    rng: &mut ChaCha8Rng,
    facts: &ApprovalFacts,
    row: &mut crate::seed::Row,
) {
    match facts.status {
        Status::Approved | Status::Rejected => {
            row.uuid(
                &plan
                    .pick_user(rng, facts.team_id, &[AppRole::Manager, AppRole::Admin])
                    .id,
            );
            if rng.gen_bool(0.4) {
                row.text(if facts.status == Status::Approved {
                    "within policy"
                } else {
                    "outside policy: see payload"
                });
            } else {
                row.null();
            }
        }
        Status::Expired => {
            row.null();
            row.text("expired without a decision");
        }
        Status::Pending => {
            row.null();
            row.null();
        }
    }
}

pub struct Grades;

impl Generator for Grades {
    fn table(&self) -> (&'static str, &'static str) {
        ("approvals", "approval_grades")
    }

    fn columns(&self) -> &'static [(&'static str, T)] {
        &[
            ("id", T::Int8),
            ("approval_id", T::Int8),
            ("grader_id", T::Uuid),
            ("rubric", T::Enum),
            ("score", T::Int2),
            ("note", T::Text),
            ("graded_at", T::Timestamptz),
            ("team_id", T::Int8),
        ]
    }

    /// A quarter of approved and rejected decisions are graded by one manager on 1-4 rubrics.
    fn generate(&self, plan: &Plan, rng: &mut ChaCha8Rng, out: &mut Sink<'_>) -> io::Result<()> {
        let source = FactsSource::new(plan);
        let scores = Weighted::new(&[1i16, 2, 3, 4, 5], &[3.0, 7.0, 20.0, 40.0, 30.0]);
        let mut next_id = 1i64;
        for approval_id in 1..=plan.approvals {
            let facts = source.get(approval_id);
            let (Some(decided_us), Status::Approved | Status::Rejected) =
                (facts.decided_us, facts.status)
            else {
                continue;
            };
            if !rng.gen_bool(0.25) {
                continue;
            }
            let grader = plan
                .pick_user(rng, facts.team_id, &[AppRole::Manager, AppRole::Admin])
                .id;
            let graded_us = (decided_us + rng.gen_range(1..72) * HOUR_US).min(plan.end_us - 1);
            for rubric in RUBRICS.iter().take(rng.gen_range(1..=RUBRICS.len())) {
                let row = out.row()?;
                row.int8(next_id);
                next_id += 1;
                row.int8(approval_id as i64);
                row.uuid(&grader);
                row.text(rubric);
                row.int2(scores.sample(rng));
                if rng.gen_bool(0.2) {
                    row.text("see rubric guidance")
                } else {
                    row.null()
                }
                row.timestamptz(graded_us);
                // The approval's team, as the trigger sets it (replica mode skips it).
                row.int8(facts.team_id);
            }
        }
        Ok(())
    }
}

pub struct Edits;

impl Generator for Edits {
    fn table(&self) -> (&'static str, &'static str) {
        ("approvals", "approval_edits")
    }

    fn columns(&self) -> &'static [(&'static str, T)] {
        &[
            ("id", T::Int8),
            ("approval_id", T::Int8),
            ("editor_id", T::Uuid),
            ("edited_at", T::Timestamptz),
            ("before_payload", T::Jsonb),
            ("after_payload", T::Jsonb),
            ("diff", T::Jsonb),
        ]
    }

    /// One approval in five is edited one to three times before its decision: the quantity
    /// changes each time.
    fn generate(&self, plan: &Plan, rng: &mut ChaCha8Rng, out: &mut Sink<'_>) -> io::Result<()> {
        let source = FactsSource::new(plan);
        let mut next_id = 1i64;
        for approval_id in 1..=plan.approvals {
            if !rng.gen_bool(0.2) {
                continue;
            }
            let facts = source.get(approval_id);
            let until_us = facts.decided_us.unwrap_or(plan.end_us - 1);
            let mut items: i64 = rng.gen_range(1..12);
            for edit in 0..rng.gen_range(1..=3i64) {
                let editor = plan
                    .pick_user(rng, facts.team_id, &[AppRole::Operator, AppRole::Manager])
                    .id;
                let after = items + rng.gen_range(1..4);
                let span_us = (until_us - facts.created_us).max(4);
                let row = out.row()?;
                row.int8(next_id);
                next_id += 1;
                row.int8(approval_id as i64);
                row.uuid(&editor);
                row.timestamptz(facts.created_us + span_us * (edit + 1) / 4);
                row.jsonb_with(|buf| {
                    let _ = write!(buf, r#"{{"items": {items}}}"#);
                });
                row.jsonb_with(|buf| {
                    let _ = write!(buf, r#"{{"items": {after}}}"#);
                });
                row.jsonb_with(|buf| {
                    let _ = write!(
                        buf,
                        r#"{{"items": {{"before": {items}, "after": {after}}}}}"#
                    );
                });
                items = after;
            }
        }
        Ok(())
    }
}
