//! Whether two runs can be compared honestly: the same workload on the same data (scale and
//! seeder seed), on the same server major version with the same plan-relevant settings,
//! replayed the same way with the same parameter values. Timings of
//! runs that differ in any of these say nothing about the code under review.

use crate::model::check::Difference;
use crate::model::{BenchSettings, Environment, RunResult};

/// Everything that differs between the two runs in a way that invalidates a comparison.
pub fn differences(baseline: &RunResult, current: &RunResult) -> Vec<Difference> {
    let mut found = environment_differences(&baseline.environment, &current.environment);
    found.extend(replay_differences(&baseline.settings, &current.settings));
    found
}

fn environment_differences(baseline: &Environment, current: &Environment) -> Vec<Difference> {
    let mut found = Vec::new();
    push_if_differs(
        &mut found,
        "workload hash",
        &baseline.workload_hash,
        &current.workload_hash,
    );
    push_if_differs(
        &mut found,
        "scale",
        &optional(baseline.scale),
        &optional(current.scale),
    );
    push_if_differs(
        &mut found,
        "seeder seed",
        &optional(baseline.rng_seed),
        &optional(current.rng_seed),
    );
    push_if_differs(
        &mut found,
        "embedded server clock",
        &optional(baseline.target.clock),
        &optional(current.target.clock),
    );
    push_if_differs(
        &mut found,
        "server major version",
        &major_version(baseline.server_version_num),
        &major_version(current.server_version_num),
    );
    let names = baseline
        .server_settings
        .keys()
        .chain(current.server_settings.keys());
    let mut names: Vec<&String> = names.collect();
    names.sort();
    names.dedup();
    for name in names {
        let (before, after) = (
            baseline.server_settings.get(name),
            current.server_settings.get(name),
        );
        if let (Some(before), Some(after)) = (before, after)
            && same_quantity(before, after)
        {
            continue;
        }
        push_if_differs(
            &mut found,
            &format!("setting {name}"),
            &optional(baseline.server_settings.get(name)),
            &optional(current.server_settings.get(name)),
        );
    }
    found
}

/// Replay options that change what is measured: how queries are sent, how many at once, at
/// what rate, and with which parameter values (their seed).
fn replay_differences(baseline: &BenchSettings, current: &BenchSettings) -> Vec<Difference> {
    let mut found = Vec::new();
    push_if_differs(
        &mut found,
        "protocol",
        &format!("{:?}", baseline.protocol).to_lowercase(),
        &format!("{:?}", current.protocol).to_lowercase(),
    );
    push_if_differs(
        &mut found,
        "concurrency",
        &baseline.concurrency.to_string(),
        &current.concurrency.to_string(),
    );
    push_if_differs(
        &mut found,
        "rate (queries/s)",
        &optional(baseline.rate_qps),
        &optional(current.rate_qps),
    );
    push_if_differs(
        &mut found,
        "parameter seed",
        &baseline.rng_seed.to_string(),
        &current.rng_seed.to_string(),
    );
    found
}

fn push_if_differs(found: &mut Vec<Difference>, what: &str, baseline: &str, current: &str) {
    if baseline != current {
        found.push(Difference {
            what: what.to_owned(),
            baseline: baseline.to_owned(),
            current: current.to_owned(),
        });
    }
}

/// True when two setting values are the same amount written in different units: `4MB` and
/// `4096kB`, `1s` and `1000ms`. Values without a recognised unit compare as text.
fn same_quantity(a: &str, b: &str) -> bool {
    match (quantity(a), quantity(b)) {
        (Some((x, unit_a)), Some((y, unit_b))) => unit_a == unit_b && (x - y).abs() < 1e-9,
        _ => false,
    }
}

/// A value with a memory or time unit as (amount in bytes or microseconds, which of the two).
fn quantity(text: &str) -> Option<(f64, &'static str)> {
    let text = text.trim();
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-'))?;
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().ok()?;
    let (factor, kind) = match unit.trim() {
        "B" => (1.0, "bytes"),
        "kB" => (1024.0, "bytes"),
        "MB" => (1024.0 * 1024.0, "bytes"),
        "GB" => (1024.0 * 1024.0 * 1024.0, "bytes"),
        "TB" => (1024.0 * 1024.0 * 1024.0 * 1024.0, "bytes"),
        "us" => (1.0, "time"),
        "ms" => (1e3, "time"),
        "s" => (1e6, "time"),
        "min" => (60e6, "time"),
        "h" => (3600e6, "time"),
        "d" => (86400e6, "time"),
        _ => return None,
    };
    Some((number * factor, kind))
}

fn optional(value: Option<impl ToString>) -> String {
    value.map_or_else(|| "(none)".to_owned(), |v| v.to_string())
}

/// PostgreSQL's major version from `server_version_num` (15 from 150018; 9.6 from 90624).
fn major_version(version_num: u32) -> String {
    if version_num >= 100_000 {
        (version_num / 10_000).to_string()
    } else {
        format!("{}.{}", version_num / 10_000, version_num / 100 % 100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 15: `4MB` vs `4096kB` made check exit 3 (not comparable).
    #[test]
    fn settings_compare_as_quantities_with_their_units() {
        assert!(same_quantity("4MB", "4096kB"));
        assert!(same_quantity("1s", "1000ms"));
        assert!(same_quantity("1GB", "1024MB"));
        assert!(!same_quantity("4MB", "8MB"));
        assert!(!same_quantity("1s", "1kB"));
        assert!(!same_quantity("on", "on "));
        assert!(
            !same_quantity("200", "200"),
            "no unit: compared as text elsewhere"
        );
    }

    #[test]
    fn old_version_numbers_keep_their_minor_part() {
        assert_eq!(major_version(90_624), "9.6");
        assert_eq!(major_version(130_004), "13");
        assert_eq!(major_version(150_018), "15");
    }
}
