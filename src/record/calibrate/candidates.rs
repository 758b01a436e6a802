//! Values to try for one parameter: the column's statistics (most common values, histogram
//! bounds) and, for timestamps and dates, windows counted back from now and from the newest
//! value the statistics know (a dashboard asks for "the last 7 days" of data that may have
//! stopped arriving). Pure: statistics and clock readings in, candidates out.

use chrono::{DateTime, SecondsFormat};

use crate::record::columns::ColumnStats;

/// One value to try.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// As sent to the server.
    pub text: String,
    /// For an instant: seconds before the recording's "now" (negative: in the future).
    pub back_s: Option<f64>,
    /// Share of the statistical draw (`sample_values`) this value stands for; 0 for values
    /// the draw does not hold (windows, narrowed instants).
    pub weight: f64,
    /// Where it came from, for the note: `"7 days back from the newest value"`.
    pub origin: String,
}

/// Histogram bounds tried at most (evenly spaced, both ends included).
pub const MAX_HISTOGRAM: usize = 21;
/// Most common values tried at most (the most frequent).
pub const MAX_COMMON: usize = 10;

/// Windows a dashboard commonly asks for, in seconds and as written in an `ago`.
const WINDOWS: [(f64, &str); 12] = [
    (3_600.0, "1 hour"),
    (6.0 * 3_600.0, "6 hours"),
    (86_400.0, "1 day"),
    (2.0 * 86_400.0, "2 days"),
    (3.0 * 86_400.0, "3 days"),
    (7.0 * 86_400.0, "7 days"),
    (14.0 * 86_400.0, "14 days"),
    (30.0 * 86_400.0, "30 days"),
    (60.0 * 86_400.0, "60 days"),
    (90.0 * 86_400.0, "90 days"),
    (180.0 * 86_400.0, "180 days"),
    (365.0 * 86_400.0, "365 days"),
];

/// The statistics' values, thinned, each with the share of the statistical draw it stands
/// for: common values first (their frequency), then evenly spaced histogram bounds (the
/// histogram's share split evenly among those kept).
pub fn from_stats(stats: &ColumnStats) -> Vec<(String, f64)> {
    let mut values: Vec<(String, f64)> = stats
        .most_common
        .iter()
        .zip(&stats.most_common_freqs)
        .take(MAX_COMMON)
        .map(|(value, freq)| (value.clone(), f64::from(*freq)))
        .collect();
    let bounds = thin(&stats.histogram, MAX_HISTOGRAM);
    let common: f32 = stats.most_common_freqs.iter().sum();
    let share = f64::from((1.0 - stats.null_frac - common).max(0.0)) / bounds.len().max(1) as f64;
    for bound in bounds {
        match values.iter_mut().find(|(value, _)| *value == bound) {
            Some((_, weight)) => *weight += share,
            None => values.push((bound, share)),
        }
    }
    values
}

/// Plain values (not instants) with their shares of the draw.
pub fn plain(values: Vec<(String, f64)>, origin: &str) -> Vec<Candidate> {
    values
        .into_iter()
        .map(|(text, weight)| Candidate {
            text,
            back_s: None,
            weight,
            origin: origin.to_string(),
        })
        .collect()
}

/// Instants to try: each statistics value (`(seconds since 1970, share of the draw)`), and
/// the common windows back from `now_s` and, when the data ends more than an hour before now,
/// back from the newest value.
pub fn instants(now_s: f64, stats: &[(f64, f64)]) -> Vec<Candidate> {
    let mut found: Vec<Candidate> = stats
        .iter()
        .map(|&(at, weight)| Candidate {
            weight,
            ..instant(now_s, at, "a value of the column's statistics".into())
        })
        .collect();
    for (window_s, name) in WINDOWS {
        found.push(instant(
            now_s,
            now_s - window_s,
            format!("{name} back from now"),
        ));
    }
    let newest = stats.iter().map(|s| s.0).fold(f64::NEG_INFINITY, f64::max);
    if newest.is_finite() && now_s - newest > 3_600.0 {
        for (window_s, name) in WINDOWS {
            found.push(instant(
                now_s,
                newest - window_s,
                format!("{name} back from the newest value in the statistics"),
            ));
        }
    }
    found
}

/// An instant that is not part of the statistical draw.
pub fn instant(now_s: f64, at_s: f64, origin: String) -> Candidate {
    Candidate {
        text: rfc3339(at_s),
        back_s: Some(now_s - at_s),
        weight: 0.0,
        origin,
    }
}

/// An ISO 8601 UTC timestamp, as `ago` parameters are sent.
pub fn rfc3339(epoch_s: f64) -> String {
    let millis = (epoch_s * 1000.0).round() as i64;
    DateTime::from_timestamp_millis(millis)
        .map(|at| at.to_rfc3339_opts(SecondsFormat::Millis, true))
        .unwrap_or_else(|| "1970-01-01T00:00:00.000Z".to_string())
}

/// `seconds` as an `ago` duration in the largest unit that keeps it within 1%: `"38 days"`,
/// `"36 hours"`, `"90 minutes"`. `None` below a minute (or in the future): no window.
pub fn ago_text(seconds: f64) -> Option<String> {
    if seconds < 60.0 {
        return None;
    }
    for (unit_s, unit) in [(86_400.0, "days"), (3_600.0, "hours")] {
        let count = (seconds / unit_s).round();
        if count >= 1.0 && (count * unit_s - seconds).abs() <= seconds * 0.01 {
            return Some(format!("{count:.0} {unit}"));
        }
    }
    Some(format!("{:.0} minutes", (seconds / 60.0).round()))
}

/// At most `max` items evenly spaced over `items`, the first and the last included.
fn thin(items: &[String], max: usize) -> Vec<String> {
    if items.len() <= max {
        return items.to_vec();
    }
    if max < 2 {
        return items.iter().take(max).cloned().collect();
    }
    let step = (items.len() - 1) as f64 / (max - 1) as f64;
    (0..max)
        .map(|i| items[((i as f64 * step).round() as usize).min(items.len() - 1)].clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statistics_are_thinned_to_common_values_and_spaced_bounds() {
        let stats = ColumnStats {
            most_common: vec!["a".into(), "b".into()],
            most_common_freqs: vec![0.5, 0.2],
            histogram: (0..101).map(|i| format!("v{i}")).collect(),
            ..ColumnStats::default()
        };
        let values = from_stats(&stats);
        assert_eq!(values.len(), 2 + MAX_HISTOGRAM);
        let texts: Vec<&str> = values.iter().map(|(v, _)| v.as_str()).collect();
        assert_eq!(texts[..3], ["a", "b", "v0"]);
        assert_eq!(texts.last(), Some(&"v100"));
        let total: f64 = values.iter().map(|(_, w)| w).sum();
        assert!(
            (total - 1.0).abs() < 1e-6,
            "the shares add up to the draw: {total}"
        );
        assert!((values[0].1 - 0.5).abs() < 1e-6);
    }

    #[test]
    fn windows_count_back_from_now_and_from_stale_data() {
        let day = 86_400.0;
        let now = 1_800_000_000.0;
        // The data stopped 31 days ago.
        let found = instants(now, &[(now - 400.0 * day, 0.5), (now - 31.0 * day, 0.5)]);
        let seven_from_newest = found
            .iter()
            .find(|c| c.origin == "7 days back from the newest value in the statistics")
            .expect("a window back from the newest value");
        assert_eq!(seven_from_newest.back_s, Some(38.0 * day));
        assert!(found.iter().any(|c| c.origin == "7 days back from now"));
        assert_eq!(found.len(), 2 + 2 * WINDOWS.len());
        // Fresh data: no second set of windows.
        assert_eq!(instants(now, &[(now - 10.0, 1.0)]).len(), 1 + WINDOWS.len());
    }

    #[test]
    fn durations_are_written_in_the_largest_exact_unit() {
        assert_eq!(ago_text(38.0 * 86_400.0).as_deref(), Some("38 days"));
        assert_eq!(ago_text(36.0 * 3_600.0).as_deref(), Some("36 hours"));
        assert_eq!(ago_text(90.0 * 60.0).as_deref(), Some("90 minutes"));
        assert_eq!(ago_text(30.0), None);
        assert_eq!(ago_text(-86_400.0), None);
        assert_eq!(rfc3339(0.0), "1970-01-01T00:00:00.000Z");
    }
}
