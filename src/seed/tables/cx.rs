//! `cx.*`: half a year of customer conversations with channel-shaped response times, SLA
//! targets per team × channel × priority, the breaches those targets imply, quality grades.

use std::io;

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, LogNormal, Normal};

use super::app::{FIRST_NAMES, LAST_NAMES};
use super::{ColType as T, Generator, Sink, Weighted};
use crate::seed::plan::{AppRole, Plan, TEAMS};
use crate::seed::shape::{DAY_US, Diurnal, Popularity, row_rng, stream_seed};

const HISTORY_DAYS: i64 = 180;
const MINUTE_US: i64 = 60_000_000;
const CHANNELS: [&str; 4] = ["email", "chat", "phone", "social"];
const PRIORITIES: [&str; 4] = ["low", "normal", "high", "urgent"];
/// Median minutes to a first response per channel.
const FIRST_RESPONSE_MEDIAN_MIN: [f64; 4] = [120.0, 3.0, 1.0, 60.0];
/// First-response target per priority (minutes), scaled per channel by [`CHANNEL_FACTOR`].
const TARGET_FIRST_RESPONSE_MIN: [i32; 4] = [480, 240, 60, 15];
const CHANNEL_FACTOR: [f64; 4] = [1.0, 0.25, 0.1, 1.0];
/// Resolution target per priority (minutes): 5 days, 3 days, 1 day, 8 hours.
const TARGET_RESOLUTION_MIN: [i32; 4] = [7_200, 4_320, 1_440, 480];
/// Median hours from first response to resolution per priority.
const RESOLUTION_MEDIAN_HOURS: [f64; 4] = [30.0, 20.0, 10.0, 4.0];
const SUBJECTS: [&str; 8] = [
    "Where is my order",
    "Refund request",
    "Damaged item",
    "Change delivery address",
    "Invoice copy",
    "Wrong item received",
    "Promo code not working",
    "Account access",
];

/// What child tables need to know about conversation `id`.
#[derive(Debug, Clone, Copy)]
pub struct ConversationFacts {
    pub team_id: i64,
    pub channel: usize,
    pub priority: usize,
    pub opened_us: i64,
    pub first_response_us: Option<i64>,
    pub resolved_us: Option<i64>,
    /// `closed` rather than `resolved` (for resolved conversations).
    pub closed: bool,
}

/// Computes [`ConversationFacts`] for one seeding.
pub struct ConversationSource<'a> {
    plan: &'a Plan,
    key: [u8; 32],
    teams: Popularity,
    channels: Weighted<usize>,
    priorities: Weighted<usize>,
    diurnal: Diurnal,
}

impl<'a> ConversationSource<'a> {
    pub fn new(plan: &'a Plan) -> ConversationSource<'a> {
        ConversationSource {
            plan,
            key: stream_seed(plan.rng_seed, "cx.conversations#facts"),
            teams: Popularity::new(TEAMS, 0.6),
            channels: Weighted::new(&[0, 1, 2, 3], &[35.0, 40.0, 15.0, 10.0]),
            priorities: Weighted::new(&[0, 1, 2, 3], &[20.0, 55.0, 20.0, 5.0]),
            diurnal: Diurnal::default(),
        }
    }

    pub fn get(&self, id: u64) -> ConversationFacts {
        let mut rng = row_rng(&self.key, id);
        let end_us = self.plan.end_us;
        let channel = self.channels.sample(&mut rng);
        let opened_us = self.diurnal.within(&mut rng, end_us, HISTORY_DAYS);
        let first_minutes = LogNormal::new(f64::ln(FIRST_RESPONSE_MEDIAN_MIN[channel]), 1.1)
            .expect("constant parameters are valid")
            .sample(&mut rng);
        let first_response_us = Some(opened_us + (first_minutes * MINUTE_US as f64) as i64 + 1)
            .filter(|at| *at < end_us && rng.gen_bool(0.97));
        let priority = self.priorities.sample(&mut rng);
        let resolve_hours = LogNormal::new(f64::ln(RESOLUTION_MEDIAN_HOURS[priority]), 1.2)
            .expect("constant parameters are valid")
            .sample(&mut rng);
        let resolved_us = first_response_us
            .map(|first| first + (resolve_hours * 60.0 * MINUTE_US as f64) as i64)
            .filter(|at| *at < end_us);
        ConversationFacts {
            team_id: self.teams.sample(&mut rng) as i64,
            channel,
            priority,
            opened_us,
            first_response_us,
            resolved_us,
            closed: rng.gen_bool(0.3),
        }
    }
}

/// `(first response, resolution)` target minutes of a channel and priority.
fn target_minutes(channel: usize, priority: usize) -> (i32, i32) {
    let first =
        (f64::from(TARGET_FIRST_RESPONSE_MIN[priority]) * CHANNEL_FACTOR[channel]).max(2.0) as i32;
    (first, TARGET_RESOLUTION_MIN[priority])
}

/// The `cx.sla_targets` id of a team, channel and priority (one row per combination).
fn target_id(team_id: i64, channel: usize, priority: usize) -> i64 {
    (team_id - 1) * 16 + (channel * 4 + priority) as i64 + 1
}

pub struct Conversations;

impl Generator for Conversations {
    fn table(&self) -> (&'static str, &'static str) {
        ("cx", "conversations")
    }

    fn columns(&self) -> &'static [(&'static str, T)] {
        &[
            ("id", T::Int8),
            ("team_id", T::Int8),
            ("channel", T::Enum),
            ("priority", T::Enum),
            ("status", T::Enum),
            ("assignee_id", T::Uuid),
            ("customer_name", T::Text),
            ("customer_email", T::Text),
            ("subject", T::Text),
            ("opened_at", T::Timestamptz),
            ("first_response_at", T::Timestamptz),
            ("resolved_at", T::Timestamptz),
        ]
    }

    fn generate(&self, plan: &Plan, rng: &mut ChaCha8Rng, out: &mut Sink<'_>) -> io::Result<()> {
        let source = ConversationSource::new(plan);
        for id in 1..=plan.conversations {
            let facts = source.get(id);
            let status = match (facts.resolved_us, facts.first_response_us) {
                (Some(_), _) if facts.closed => "closed",
                (Some(_), _) => "resolved",
                (None, Some(_)) if rng.gen_bool(0.5) => "pending",
                _ => "open",
            };
            let row = out.row()?;
            row.int8(id as i64);
            row.int8(facts.team_id);
            row.text(CHANNELS[facts.channel]);
            row.text(PRIORITIES[facts.priority]);
            row.text(status);
            match assignee(plan, rng, facts.team_id, status) {
                Some(id) => row.uuid(&id),
                None => row.null(),
            }
            let first = FIRST_NAMES[rng.gen_range(0..FIRST_NAMES.len())];
            let last = LAST_NAMES[rng.gen_range(0..LAST_NAMES.len())];
            row.text(&format!("{first} {last}"));
            row.text(&format!("customer{id}@mail.example"));
            row.text(&format!(
                "{} ({id})",
                SUBJECTS[rng.gen_range(0..SUBJECTS.len())]
            ));
            row.timestamptz(facts.opened_us);
            optional_time(row, facts.first_response_us);
            optional_time(row, facts.resolved_us);
        }
        Ok(())
    }
}

/// An operator of the team; 1 in 20 of a persona team's go to its operator persona, so the
/// workload's operator always has conversations. Some open ones are not assigned yet.
fn assignee(plan: &Plan, rng: &mut ChaCha8Rng, team_id: i64, status: &str) -> Option<uuid::Uuid> {
    if status == "open" && rng.gen_bool(0.3) {
        return None;
    }
    if rng.gen_bool(0.05)
        && let Some(persona) = plan.persona(team_id, AppRole::Operator)
    {
        return Some(persona.id);
    }
    Some(plan.pick_user(rng, team_id, &[AppRole::Operator]).id)
}

fn optional_time(row: &mut crate::seed::Row, unix_us: Option<i64>) {
    match unix_us {
        Some(us) => row.timestamptz(us),
        None => row.null(),
    }
}

pub struct SlaTargets;

impl Generator for SlaTargets {
    fn table(&self) -> (&'static str, &'static str) {
        ("cx", "sla_targets")
    }

    fn columns(&self) -> &'static [(&'static str, T)] {
        &[
            ("id", T::Int8),
            ("team_id", T::Int8),
            ("channel", T::Enum),
            ("priority", T::Enum),
            ("first_response_minutes", T::Int4),
            ("resolution_minutes", T::Int4),
        ]
    }

    fn generate(&self, _plan: &Plan, _rng: &mut ChaCha8Rng, out: &mut Sink<'_>) -> io::Result<()> {
        for team_id in 1..=TEAMS as i64 {
            for (channel, channel_label) in CHANNELS.iter().enumerate() {
                for (priority, priority_label) in PRIORITIES.iter().enumerate() {
                    let (first, resolution) = target_minutes(channel, priority);
                    let row = out.row()?;
                    row.int8(target_id(team_id, channel, priority));
                    row.int8(team_id);
                    row.text(channel_label);
                    row.text(priority_label);
                    row.int4(first);
                    row.int4(resolution);
                }
            }
        }
        Ok(())
    }
}

pub struct SlaBreaches;

impl Generator for SlaBreaches {
    fn table(&self) -> (&'static str, &'static str) {
        ("cx", "sla_breaches")
    }

    fn columns(&self) -> &'static [(&'static str, T)] {
        &[
            ("id", T::Int8),
            ("conversation_id", T::Int8),
            ("sla_target_id", T::Int8),
            ("kind", T::Enum),
            ("breached_at", T::Timestamptz),
            ("overdue_minutes", T::Int4),
            ("team_id", T::Int8),
        ]
    }

    /// Exactly the breaches the conversations' times imply against their targets.
    fn generate(&self, plan: &Plan, _rng: &mut ChaCha8Rng, out: &mut Sink<'_>) -> io::Result<()> {
        let source = ConversationSource::new(plan);
        let mut next_id = 1i64;
        for id in 1..=plan.conversations {
            let facts = source.get(id);
            let (first, resolution) = target_minutes(facts.channel, facts.priority);
            for (kind, target, done_us) in [
                ("first_response", first, facts.first_response_us),
                ("resolution", resolution, facts.resolved_us),
            ] {
                let due_us = facts.opened_us + i64::from(target) * MINUTE_US;
                let overdue_minutes = (done_us.unwrap_or(plan.end_us) - due_us) / MINUTE_US;
                if overdue_minutes < 1 {
                    continue;
                }
                let row = out.row()?;
                row.int8(next_id);
                next_id += 1;
                row.int8(id as i64);
                row.int8(target_id(facts.team_id, facts.channel, facts.priority));
                row.text(kind);
                row.timestamptz(due_us);
                row.int4(overdue_minutes.min(i64::from(i32::MAX)) as i32);
                // The conversation's team, as the trigger sets it (replica mode skips it).
                row.int8(facts.team_id);
            }
        }
        Ok(())
    }
}

pub struct QualityGrades;

impl Generator for QualityGrades {
    fn table(&self) -> (&'static str, &'static str) {
        ("cx", "quality_grades")
    }

    fn columns(&self) -> &'static [(&'static str, T)] {
        &[
            ("id", T::Int8),
            ("conversation_id", T::Int8),
            ("grader_id", T::Uuid),
            ("score", T::Int2),
            ("note", T::Text),
            ("graded_at", T::Timestamptz),
            ("team_id", T::Int8),
        ]
    }

    /// One resolved conversation in five is graded by a manager within two days.
    fn generate(&self, plan: &Plan, rng: &mut ChaCha8Rng, out: &mut Sink<'_>) -> io::Result<()> {
        let source = ConversationSource::new(plan);
        let scores = Normal::new(82.0f64, 11.0).expect("constant parameters are valid");
        let mut next_id = 1i64;
        for id in 1..=plan.conversations {
            if !rng.gen_bool(0.2) {
                continue;
            }
            let facts = source.get(id);
            let Some(resolved_us) = facts.resolved_us else {
                continue;
            };
            let row = out.row()?;
            row.int8(next_id);
            next_id += 1;
            row.int8(id as i64);
            row.uuid(&plan.pick_user(rng, facts.team_id, &[AppRole::Manager]).id);
            row.int2(scores.sample(rng).round().clamp(0.0, 100.0) as i16);
            if rng.gen_bool(0.15) {
                row.text("tone and accuracy reviewed");
            } else {
                row.null();
            }
            row.timestamptz((resolved_us + rng.gen_range(0..2 * DAY_US)).min(plan.end_us - 1));
            // The conversation's team, as the trigger sets it (replica mode skips it).
            row.int8(facts.team_id);
        }
        Ok(())
    }
}
