//! A pinned clock for the embedded server (`--clock`): the server runs under libfaketime with
//! its wall clock shifted so that it starts at the chosen instant. Queries that read `now()` or
//! `current_date` then see the same data on every day, so a committed baseline's plans, rows
//! and buffers stay comparable. Only the wall clock moves: the monotonic clock that
//! `EXPLAIN ANALYZE` and the executor time with stays real, so durations are real durations.

use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::{DateTime, Utc};

/// Where Debian's `libfaketime` package puts the preload library.
const LIBFAKETIME_PATHS: &[&str] = &[
    "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1",
    "/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1",
    "/usr/lib/faketime/libfaketime.so.1",
    "/usr/local/lib/faketime/libfaketime.so.1",
];

/// The preload library: `PGPERF_LIBFAKETIME` when set, else the first of the usual paths;
/// `None` when that is not a file (the dynamic loader would skip it with only a warning).
pub fn find_libfaketime() -> Option<PathBuf> {
    match std::env::var_os("PGPERF_LIBFAKETIME") {
        Some(path) => Some(PathBuf::from(path)).filter(|path| path.is_file()),
        None => LIBFAKETIME_PATHS
            .iter()
            .map(PathBuf::from)
            .find(|path| path.is_file()),
    }
}

/// How far the server's `now()` may be from the pinned instant once it accepts connections:
/// start-up takes seconds; a clock that did not move is off by the real time's distance.
pub const TOLERANCE: chrono::TimeDelta = chrono::TimeDelta::minutes(10);

/// libfaketime's relative offset (`+N` / `-N` seconds) that moves `real_now` to `clock`. A
/// relative offset, not an absolute start time, so every forked backend agrees on the time.
pub fn offset_spec(clock: DateTime<Utc>, real_now: DateTime<Utc>) -> String {
    let seconds = (clock - real_now).num_seconds();
    format!("{seconds:+}")
}

/// Makes `command` start with its wall clock at `clock`.
pub fn pin(command: &mut Command, library: &Path, clock: DateTime<Utc>) {
    command
        .env("LD_PRELOAD", library)
        .env("FAKETIME", offset_spec(clock, Utc::now()))
        .env("FAKETIME_DONT_FAKE_MONOTONIC", "1");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_offset_moves_now_to_the_clock_in_whole_seconds() {
        let now = "2026-12-03T08:00:00.700Z".parse().expect("RFC 3339");
        let past = "2026-12-02T12:00:00Z".parse().expect("RFC 3339");
        assert_eq!(offset_spec(past, now), "-72000");
        let future = "2026-12-04T08:00:01Z".parse().expect("RFC 3339");
        assert_eq!(offset_spec(future, now), "+86400");
    }
}
