//! How many rows each table gets at a scale, the time frame of the history, and the directory
//! of users: computed once, so child generators know their parents' keys without reading
//! them back from the database.
//!
//! Sizes at scale 1 (`docs/seed.md` has the full table): 12 teams and 24 locations (fixed, so
//! pairs of dimensions never grow quadratically), 1 200 users, 5 000 products, 200 000
//! approvals, 250 000 conversations, 500 SEO pages, 150 ad campaigns, 1 500 content items;
//! child tables follow from those.

use chrono::NaiveDate;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::shape::{DAY_US, row_rng, scaled, stream_seed, uuid};
use super::tables::PERSONAS;

/// Teams, whatever the scale: enough to prove isolation, few enough that every team has data.
pub const TEAMS: u64 = 12;
/// Locations (two per team), whatever the scale.
pub const LOCATIONS: u64 = 24;

/// Data directory of a fresh cluster with the migrations applied, before seeding.
const EMPTY_CLUSTER_BYTES: u64 = 200 << 20;
/// Tables, indexes and TOAST per unit of scale: `base/` measured with `du` after seeding at
/// scale 0.1, 1 and 10 (80 MB, 502 MB, 4 827 MB; docs/benchmarks.md, "Dashboard at scale
/// 0.1, 1 and 10 after the schema fixes"), rounded up.
const DATA_BYTES_PER_SCALE: u64 = 512 << 20;
/// WAL the load leaves in `pg_wal` per unit of scale (704 MB at scale 1), up to
/// [`WAL_CAP_BYTES`].
const WAL_BYTES_PER_SCALE: u64 = 720 << 20;
/// The embedded cluster's `max_wal_size` (4 GB; 4 081 MB of `pg_wal` at scale 10).
const WAL_CAP_BYTES: u64 = 4 << 30;

/// Bytes a cluster seeded at `scale` is expected to take on disk: what
/// [`crate::embedded::ClusterOptions::expected_bytes`] needs to pick a folder with room.
pub fn estimated_cluster_bytes(scale: f64) -> u64 {
    let scale = scale.max(0.0);
    let wal = ((scale * WAL_BYTES_PER_SCALE as f64) as u64).min(WAL_CAP_BYTES);
    EMPTY_CLUSTER_BYTES + (scale * DATA_BYTES_PER_SCALE as f64) as u64 + wal
}

/// An application role, the `app_role` claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppRole {
    Viewer,
    Operator,
    Manager,
    Admin,
}

impl AppRole {
    /// The enum label in `app.app_role`.
    pub fn label(self) -> &'static str {
        match self {
            AppRole::Viewer => "viewer",
            AppRole::Operator => "operator",
            AppRole::Manager => "manager",
            AppRole::Admin => "admin",
        }
    }

    fn from_label(label: &str) -> AppRole {
        match label {
            "viewer" => AppRole::Viewer,
            "operator" => AppRole::Operator,
            "manager" => AppRole::Manager,
            _ => AppRole::Admin,
        }
    }
}

/// Roles of the generated (non-persona) users by slot of a 20-user cycle: 11 operators,
/// 5 viewers, 3 managers, 1 admin per team and cycle.
const ROLE_CYCLE: [AppRole; 20] = {
    use AppRole::*;
    [
        Operator, Viewer, Operator, Manager, Operator, Viewer, Operator, Operator, Viewer,
        Operator, Manager, Operator, Viewer, Operator, Admin, Operator, Viewer, Operator, Manager,
        Operator,
    ]
};

/// One application user.
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub id: uuid::Uuid,
    pub team_id: i64,
    pub role: AppRole,
}

/// Sizes and time frame of one seeding.
#[derive(Debug, Clone)]
pub struct Plan {
    pub scale: f64,
    pub rng_seed: u64,
    /// Last day of the generated history.
    pub anchor_date: NaiveDate,
    /// Midnight (UTC) at the end of the anchor date: every generated event is before it.
    pub end_us: i64,
    /// Every user, personas first; index = position.
    pub users: Vec<User>,
    /// User indexes per team (index 0 = team 1).
    team_users: Vec<Vec<u32>>,
    pub products: u64,
    pub approvals: u64,
    pub conversations: u64,
    pub seo_pages: u64,
    pub campaigns: u64,
    pub content_items: u64,
    /// (picker, location) pairs paid weekly.
    pub picker_slots: u64,
}

impl Plan {
    pub fn new(scale: f64, rng_seed: u64, anchor_date: NaiveDate) -> Plan {
        let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("1970-01-01 is a date");
        let days = (anchor_date - epoch).num_days() + 1;
        let user_count = scaled(1_200, scale, PERSONAS.len() as u64 + 2 * TEAMS);
        let users = make_users(rng_seed, user_count);
        let mut team_users = vec![Vec::new(); TEAMS as usize];
        for (index, user) in users.iter().enumerate() {
            team_users[(user.team_id - 1) as usize].push(index as u32);
        }
        let smallest_team = team_users.iter().map(Vec::len).min().unwrap_or(1) as u64;
        Plan {
            scale,
            rng_seed,
            anchor_date,
            end_us: days * DAY_US,
            users,
            team_users,
            products: scaled(5_000, scale, 8),
            approvals: scaled(200_000, scale, 50),
            conversations: scaled(250_000, scale, 50),
            seo_pages: scaled(500, scale, 4),
            campaigns: scaled(150, scale, 4),
            content_items: scaled(1_500, scale, 4),
            picker_slots: scaled(400, scale, 4).min(LOCATIONS * smallest_team),
        }
    }

    /// Days since the Unix epoch of the day `days_back` days before the anchor date
    /// (0 = the anchor date itself).
    pub fn day(&self, days_back: i64) -> i32 {
        (self.end_us / DAY_US - 1 - days_back) as i32
    }

    /// Users of `team_id` (1-based).
    pub fn team_users(&self, team_id: i64) -> &[u32] {
        &self.team_users[(team_id - 1) as usize]
    }

    /// A user of `team_id` with one of `roles` (any user of the team when none has them).
    pub fn pick_user(&self, rng: &mut ChaCha8Rng, team_id: i64, roles: &[AppRole]) -> &User {
        let members = self.team_users(team_id);
        for _ in 0..32 {
            let user = &self.users[members[rng.gen_range(0..members.len())] as usize];
            if roles.contains(&user.role) {
                return user;
            }
        }
        &self.users[members[0] as usize]
    }

    /// The persona user of `team_id` with `role`, if that team has personas.
    pub fn persona(&self, team_id: i64, role: AppRole) -> Option<&User> {
        self.users[..PERSONAS.len()]
            .iter()
            .find(|user| user.team_id == team_id && user.role == role)
    }
}

/// Personas first (fixed uuids), then users spread round-robin over the teams with roles from
/// [`ROLE_CYCLE`] and uuids from their own stream.
fn make_users(rng_seed: u64, count: u64) -> Vec<User> {
    let ids = stream_seed(rng_seed, "app.users#ids");
    let mut users: Vec<User> = PERSONAS
        .iter()
        .map(|persona| User {
            id: persona.user_id.parse().expect("persona uuids are valid"),
            team_id: persona.team_id,
            role: AppRole::from_label(persona.app_role),
        })
        .collect();
    for index in PERSONAS.len() as u64..count {
        let slot = index - PERSONAS.len() as u64;
        users.push(User {
            id: uuid(&mut row_rng(&ids, index)),
            team_id: (slot % TEAMS) as i64 + 1,
            role: ROLE_CYCLE[((slot / TEAMS) % ROLE_CYCLE.len() as u64) as usize],
        });
    }
    users
}

#[cfg(test)]
mod tests {
    use super::estimated_cluster_bytes;

    const GIB: f64 = (1u64 << 30) as f64;

    #[test]
    fn estimates_cover_the_measured_clusters() {
        // du of the whole data directory after seeding: 0.18, 1.18 and 8.70 GiB.
        for (scale, measured_gib) in [(0.1, 0.18), (1.0, 1.18), (10.0, 8.70)] {
            let estimate_gib = estimated_cluster_bytes(scale) as f64 / GIB;
            assert!(
                estimate_gib >= measured_gib && estimate_gib < measured_gib * 2.0,
                "scale {scale}: estimate {estimate_gib:.2} GiB, measured {measured_gib} GiB"
            );
        }
    }

    #[test]
    fn wal_stops_growing_at_max_wal_size() {
        let step = estimated_cluster_bytes(20.0) - estimated_cluster_bytes(10.0);
        assert_eq!(step, 10 * (512u64 << 20));
    }
}
