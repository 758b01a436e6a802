//! Where results go: `<out>/<run-id>/results.json`, the run id sortable (UTC timestamp, then a
//! short random suffix so two runs in the same second do not collide), and `<out>/latest`, a
//! relative symbolic link to the newest run's folder, so scripts and CI steps can name
//! `<out>/latest/results.json` without listing the folder.

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

/// Name of the link to the newest run's folder inside `--out`.
pub const LATEST_LINK: &str = "latest";

/// Writes `result` to `<out>/<run_id>/results.json` (pretty JSON), points `<out>/latest` at its
/// folder and returns the path of the results.
pub fn write(out: &Path, result: &RunResult) -> std::io::Result<PathBuf> {
    let path = write_results(out, result)?;
    link_latest(out, &result.run_id).map_err(|error| {
        std::io::Error::other(format!(
            "the results were written to {}, but {} cannot point at them: {error}",
            path.display(),
            out.join(LATEST_LINK).display()
        ))
    })?;
    Ok(path)
}

fn write_results(out: &Path, result: &RunResult) -> std::io::Result<PathBuf> {
    let dir = out.join(&result.run_id);
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(RESULTS_FILE);
    let text = serde_json::to_string_pretty(result).map_err(std::io::Error::other)?;
    let partial = dir.join(format!("{RESULTS_FILE}.partial"));
    std::fs::write(&partial, text)?;
    std::fs::rename(&partial, &path)?;
    Ok(path)
}

/// Replaces `<out>/latest` with a relative link to `run_id` (a new link renamed over the old
/// one, so readers never see it missing). Anything at `latest` that is not a link is the
/// user's and stays: that is an error.
fn link_latest(out: &Path, run_id: &str) -> std::io::Result<()> {
    let latest = out.join(LATEST_LINK);
    if let Ok(metadata) = std::fs::symlink_metadata(&latest)
        && !metadata.file_type().is_symlink()
    {
        return Err(std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            "it exists and is not a link pgperf made; move it away",
        ));
    }
    let staging = out.join(format!(".{LATEST_LINK}.{run_id}"));
    // A staging link left by an interrupted run would make `symlink` fail; absent is fine.
    let _ = std::fs::remove_file(&staging);
    std::os::unix::fs::symlink(run_id, &staging)?;
    std::fs::rename(&staging, &latest)
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

    #[test]
    fn latest_points_at_the_newest_run_and_a_user_folder_there_is_kept() {
        let out = tempfile::tempdir().expect("temp dir");
        link_latest(out.path(), "run-1").expect("first link");
        link_latest(out.path(), "run-2").expect("replaced");
        let target = std::fs::read_link(out.path().join(LATEST_LINK)).expect("a link");
        assert_eq!(target, Path::new("run-2"));

        let user = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir(user.path().join(LATEST_LINK)).expect("user folder");
        assert!(link_latest(user.path(), "run-1").is_err());
        assert!(user.path().join(LATEST_LINK).is_dir());
    }
}
