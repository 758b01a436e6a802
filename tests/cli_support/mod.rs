//! Running the pgperf binary from integration tests, the way a user's shell would.

use std::process::Command;

/// Runs `pgperf args` with no DATABASE_URL and no colour; returns (exit code, stdout, stderr).
pub fn pgperf(args: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_pgperf"))
        .args(args)
        .env_remove("DATABASE_URL")
        .env("NO_COLOR", "1")
        .output()
        .expect("pgperf runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}
