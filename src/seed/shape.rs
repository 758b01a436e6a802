//! Random streams and the shapes of realistic dashboard data: skewed popularity, diurnal
//! timestamps, daily series with weekly seasonality. Pure: no I/O, unit-tested here.
//!
//! Every table draws from its own ChaCha8 stream seeded from `(rng_seed, table name)`, so a
//! table's rows do not depend on which tables were generated before it, or how many rows they
//! had: adding a table or changing one's count leaves the others byte-identical.

use rand::Rng;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, WeightedIndex, Zipf};
use sha2::{Digest, Sha256};

/// Microseconds in a day.
pub const DAY_US: i64 = 86_400_000_000;
/// Microseconds in an hour.
pub const HOUR_US: i64 = 3_600_000_000;

/// The 256-bit key of a named stream.
pub fn stream_seed(rng_seed: u64, name: &str) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(rng_seed.to_le_bytes());
    hasher.update(name.as_bytes());
    hasher.finalize().into()
}

/// The random stream of one table.
pub fn table_rng(rng_seed: u64, table: &str) -> ChaCha8Rng {
    ChaCha8Rng::from_seed(stream_seed(rng_seed, table))
}

/// A stream of its own for row `index` of the facts keyed by `key`: facts a child table needs
/// about its parent row (a team, a time, a status) are drawn from it, so parent and child
/// compute the same values independently. ChaCha's stream number makes rows independent.
pub fn row_rng(key: &[u8; 32], index: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::from_seed(*key);
    rng.set_stream(index);
    rng
}

/// A random (version 4 layout) uuid from the table's stream, so uuids are reproducible.
pub fn uuid(rng: &mut ChaCha8Rng) -> uuid::Uuid {
    uuid::Builder::from_random_bytes(rng.r#gen()).into_uuid()
}

/// Zipf-skewed choice among `n` ids (1-based): a few are very popular, most are rare.
/// Ranks are spread over the id space by a fixed multiplicative permutation, so popularity does
/// not follow creation order.
#[derive(Debug, Clone)]
pub struct Popularity {
    zipf: Zipf<f64>,
    n: u64,
    stride: u64,
}

impl Popularity {
    /// `exponent` around 1.0-1.2 gives the usual "top 10% make half the sales" shape.
    pub fn new(n: u64, exponent: f64) -> Popularity {
        let n = n.max(1);
        let zipf = Zipf::new(n, exponent).expect("n >= 1 and a positive exponent are valid");
        Popularity {
            zipf,
            n,
            stride: coprime_stride(n),
        }
    }

    /// A 1-based id.
    pub fn sample(&self, rng: &mut ChaCha8Rng) -> u64 {
        let rank = self.zipf.sample(rng) as u64 - 1;
        (rank * self.stride) % self.n + 1
    }
}

/// A fixed permutation of `0..n`: where position `index` goes.
pub fn permute(index: u64, n: u64) -> u64 {
    let n = n.max(1);
    (index % n * coprime_stride(n)) % n
}

/// A stride near 0.618·n that shares no factor with n, so `rank · stride mod n` is a permutation.
fn coprime_stride(n: u64) -> u64 {
    let mut stride = ((n as f64) * 0.618) as u64 | 1;
    while gcd(stride, n) != 1 {
        stride += 1;
    }
    stride
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// Relative activity per UTC hour of a working day: quiet nights, a morning ramp, a lunch dip
/// and an afternoon peak.
const HOURLY_WEIGHTS: [f64; 24] = [
    1.0, 0.6, 0.4, 0.4, 0.5, 0.8, 1.5, 3.0, 6.0, 9.0, 10.0, 9.5, 7.0, 8.5, 10.0, 9.5, 8.0, 6.0,
    4.0, 3.0, 2.5, 2.0, 1.5, 1.2,
];

/// Timestamps with the daily rhythm of a business: a weighted hour, then a uniform instant in it.
#[derive(Debug, Clone)]
pub struct Diurnal {
    hours: WeightedIndex<f64>,
}

impl Default for Diurnal {
    fn default() -> Self {
        Diurnal {
            hours: WeightedIndex::new(HOURLY_WEIGHTS).expect("the hourly weights are positive"),
        }
    }
}

impl Diurnal {
    /// An instant on the day starting at `day_start_us`.
    pub fn at(&self, rng: &mut ChaCha8Rng, day_start_us: i64) -> i64 {
        let hour = self.hours.sample(rng) as i64;
        day_start_us + hour * HOUR_US + rng.gen_range(0..HOUR_US)
    }

    /// An instant within the last `days` days before `anchor_us` (whole days, today excluded),
    /// weighted towards recent days (linear growth of activity) and weekdays.
    pub fn within(&self, rng: &mut ChaCha8Rng, anchor_us: i64, days: i64) -> i64 {
        let day = recent_day(rng, days);
        let mut day_start = anchor_us - (day + 1) * DAY_US;
        if is_weekend(day_start) && rng.gen_bool(0.6) {
            day_start -= 2 * DAY_US; // most weekend activity moves to the working week
        }
        self.at(rng, day_start)
    }
}

/// Days back (0 = yesterday) in `0..days`, twice as likely today as `days` ago.
fn recent_day(rng: &mut ChaCha8Rng, days: i64) -> i64 {
    let days = days.max(1) as f64;
    // inverse CDF of a density falling linearly from 2 to 1 over [0, 1)
    let u: f64 = rng.r#gen();
    let x = 2.0 - (4.0 - 3.0 * u).sqrt();
    ((x * days) as i64).min(days as i64 - 1)
}

/// Whether the day containing `unix_us` is a Saturday or Sunday (1970-01-01 was a Thursday).
pub fn is_weekend(unix_us: i64) -> bool {
    let weekday = (unix_us.div_euclid(DAY_US) + 3).rem_euclid(7); // 0 = Monday
    weekday >= 5
}

/// Multiplier of a daily metric on the day starting at `unix_us`: weekends lower, a slow
/// upward trend over the year (`days_ago` 365 → 0.8, 0 → 1.0).
pub fn daily_factor(unix_us: i64, days_ago: i64) -> f64 {
    let weekly = if is_weekend(unix_us) { 0.65 } else { 1.0 };
    let trend = 1.0 - 0.2 * (days_ago as f64 / 365.0).min(1.0);
    weekly * trend
}

/// `round(base · scale)`, at least `min`: how table sizes grow linearly with `--scale`.
pub fn scaled(base: u64, scale: f64, min: u64) -> u64 {
    ((base as f64 * scale).round() as u64).max(min)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_streams_depend_on_seed_and_name_only() {
        let a: u64 = table_rng(1, "products").r#gen();
        assert_eq!(a, table_rng(1, "products").r#gen::<u64>());
        assert_ne!(a, table_rng(2, "products").r#gen::<u64>());
        assert_ne!(a, table_rng(1, "approvals").r#gen::<u64>());
    }

    #[test]
    fn popularity_is_skewed_and_covers_the_id_range() {
        let popularity = Popularity::new(1000, 1.1);
        let mut rng = table_rng(7, "t");
        let mut counts = vec![0u32; 1001];
        for _ in 0..100_000 {
            let id = popularity.sample(&mut rng) as usize;
            assert!((1..=1000).contains(&id));
            counts[id] += 1;
        }
        counts.sort_unstable_by(|a, b| b.cmp(a));
        let top_decile: u32 = counts[..100].iter().sum();
        assert!(top_decile > 50_000, "top 10% got {top_decile} of 100000");
    }

    #[test]
    fn stride_permutes_the_ids() {
        for n in [1u64, 2, 10, 97, 1000, 1024] {
            let stride = coprime_stride(n);
            let mut seen: Vec<u64> = (0..n).map(|rank| (rank * stride) % n).collect();
            seen.sort_unstable();
            assert_eq!(seen, (0..n).collect::<Vec<_>>());
        }
    }

    #[test]
    fn diurnal_timestamps_peak_in_working_hours() {
        let diurnal = Diurnal::default();
        let mut rng = table_rng(3, "t");
        let samples: Vec<i64> = (0..20_000).map(|_| diurnal.at(&mut rng, 0)).collect();
        let working = samples
            .iter()
            .filter(|us| (8..18).contains(&(*us / HOUR_US)))
            .count();
        assert!(samples.iter().all(|us| (0..DAY_US).contains(us)));
        assert!(working > 14_000, "{working} of 20000 in 08-18h");
    }

    #[test]
    fn recent_days_stay_in_range_and_lean_recent() {
        let mut rng = table_rng(5, "t");
        let days: Vec<i64> = (0..10_000).map(|_| recent_day(&mut rng, 90)).collect();
        assert!(days.iter().all(|day| (0..90).contains(day)));
        let recent_half = days.iter().filter(|day| **day < 45).count();
        assert!(recent_half > 5_300, "{recent_half}");
    }

    #[test]
    fn weekends_and_scaling() {
        assert!(!is_weekend(0)); // Thursday 1970-01-01
        assert!(is_weekend(2 * DAY_US)); // Saturday
        assert!(is_weekend(3 * DAY_US)); // Sunday
        assert!(!is_weekend(4 * DAY_US));
        assert_eq!(scaled(1000, 0.01, 1), 10);
        assert_eq!(scaled(1000, 0.0001, 2), 2);
        assert_eq!(scaled(1000, 2.0, 1), 2000);
    }
}
