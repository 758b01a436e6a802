//! Where results go: `<out>/<run-id>/results.json`, the run id sortable (UTC timestamp, then a
//! short random suffix so two runs in the same second do not collide).

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use rand::Rng;

use crate::model::RunResult;

/// File name of the results inside a run's folder.
pub const RESULTS_FILE: &str = "results.json";

/// `20261125T135012Z-3fa9c1`: sorts by start time.
pub fn new_run_id(started_at: DateTime<Utc>) -> String {
    let suffix: u32 = rand::thread_rng().gen_range(0..0x100_0000);
    format!("{}-{suffix:06x}", started_at.format("%Y%m%dT%H%M%SZ"))
}

/// Writes `result` to `<out>/<run_id>/results.json` (pretty JSON) and returns the path.
pub fn write(out: &Path, result: &RunResult) -> std::io::Result<PathBuf> {
    let dir = out.join(&result.run_id);
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(RESULTS_FILE);
    let text = serde_json::to_string_pretty(result).map_err(std::io::Error::other)?;
    let partial = dir.join(format!("{RESULTS_FILE}.partial"));
    std::fs::write(&partial, text)?;
    std::fs::rename(&partial, &path)?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_ids_sort_by_time() {
        let early = new_run_id(
            DateTime::parse_from_rfc3339("2026-01-02T03:04:05Z")
                .expect("date")
                .to_utc(),
        );
        let late = new_run_id(
            DateTime::parse_from_rfc3339("2026-01-02T03:04:06Z")
                .expect("date")
                .to_utc(),
        );
        assert!(early.starts_with("20260102T030405Z-"));
        assert!(early < late);
    }
}
