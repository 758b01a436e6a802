//! `app.teams` and `app.users`: the tenants and the people of the control center.

use std::io::{self, Write};

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::{ColType as T, Generator, PERSONAS, Sink};
use crate::seed::plan::{Plan, TEAMS};
use crate::seed::shape::DAY_US;

const TEAM_NAMES: [&str; 12] = [
    "Operations North",
    "Operations South",
    "Fulfilment East",
    "Fulfilment West",
    "Customer Care",
    "Marketplace",
    "Growth Marketing",
    "Procurement",
    "Finance Ops",
    "Content Studio",
    "Retail Stores",
    "Quick Commerce",
];

pub(crate) const FIRST_NAMES: [&str; 16] = [
    "Ada", "Bruno", "Chloé", "Dmitri", "Esther", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Kemi",
    "Luca", "Maya", "Nils", "Olga", "Priya",
];
pub(crate) const LAST_NAMES: [&str; 16] = [
    "Novak", "Okafor", "Silva", "Tanaka", "Müller", "Haddad", "Kowalski", "Berg", "Rossi",
    "Dubois", "Singh", "Larsen", "Moreau", "Costa", "Nguyen", "Ibrahim",
];

pub struct Teams;

impl Generator for Teams {
    fn table(&self) -> (&'static str, &'static str) {
        ("app", "teams")
    }

    fn columns(&self) -> &'static [(&'static str, T)] {
        &[
            ("id", T::Int8),
            ("name", T::Text),
            ("created_at", T::Timestamptz),
        ]
    }

    fn generate(&self, plan: &Plan, _rng: &mut ChaCha8Rng, out: &mut Sink<'_>) -> io::Result<()> {
        for id in 1..=TEAMS {
            let row = out.row()?;
            row.int8(id as i64);
            row.text(TEAM_NAMES[(id - 1) as usize % TEAM_NAMES.len()]);
            row.timestamptz(plan.end_us - (730 - id as i64 * 7) * DAY_US);
        }
        Ok(())
    }
}

pub struct Users;

impl Generator for Users {
    fn table(&self) -> (&'static str, &'static str) {
        ("app", "users")
    }

    fn columns(&self) -> &'static [(&'static str, T)] {
        &[
            ("id", T::Uuid),
            ("team_id", T::Int8),
            ("app_role", T::Enum),
            ("display_name", T::Text),
            ("email", T::Text),
            ("active", T::Bool),
            ("created_at", T::Timestamptz),
        ]
    }

    fn generate(&self, plan: &Plan, rng: &mut ChaCha8Rng, out: &mut Sink<'_>) -> io::Result<()> {
        for (index, user) in plan.users.iter().enumerate() {
            let row = out.row()?;
            row.uuid(&user.id);
            row.int8(user.team_id);
            row.text(user.role.label());
            match PERSONAS.get(index) {
                Some(persona) => {
                    row.text(&format!("{} (persona)", persona.name));
                    row.text(&format!("{}@control.example", persona.name));
                    row.bool(true);
                }
                None => {
                    let first = FIRST_NAMES[rng.gen_range(0..FIRST_NAMES.len())];
                    let last = LAST_NAMES[rng.gen_range(0..LAST_NAMES.len())];
                    row.text(&format!("{first} {last}"));
                    row.text_with(|buf| {
                        let _ = write!(buf, "{}.{}.{index}@control.example", first, last);
                    });
                    row.bool(rng.gen_bool(0.95));
                }
            }
            row.timestamptz(plan.end_us - rng.gen_range(30..700) * DAY_US);
        }
        Ok(())
    }
}
