//! How many rows each table gets at a scale, and the time frame of the history: computed once,
//! so child generators know their parents' key ranges.

use chrono::NaiveDate;

use super::shape::{DAY_US, scaled};

/// Sizes and time frame of one seeding.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub scale: f64,
    pub rng_seed: u64,
    /// Last day of the generated history.
    pub anchor_date: NaiveDate,
    /// Midnight (UTC) at the end of the anchor date: every generated event is before it.
    pub end_us: i64,
}

impl Plan {
    pub fn new(scale: f64, rng_seed: u64, anchor_date: NaiveDate) -> Plan {
        let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("1970-01-01 is a date");
        let days = (anchor_date - epoch).num_days() + 1;
        Plan {
            scale,
            rng_seed,
            anchor_date,
            end_us: days * DAY_US,
        }
    }

    /// `base` rows at scale 1, at least `min`.
    pub fn count(&self, base: u64, min: u64) -> u64 {
        scaled(base, self.scale, min)
    }

    /// Days since the Unix epoch of the day `days_back` days before the anchor date's end
    /// (0 = the anchor date).
    pub fn day(&self, days_back: i64) -> i32 {
        (self.end_us / DAY_US - 1 - days_back) as i32
    }
}
