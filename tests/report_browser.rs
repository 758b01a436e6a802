//! Runs the report's browser test (`tests/browser/run.sh`) with this build's pgperf: headless
//! Chromium must find the main sections and a silent console. Needs Debian's `chromium`
//! (`scripts/setup.sh` installs it); without it this test fails, it does not skip.

use std::path::Path;
use std::process::Command;

#[test]
fn reports_render_in_headless_chromium() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = root.join("target/browser-test");
    let output = Command::new("bash")
        .arg(root.join("tests/browser/run.sh"))
        .arg(&out)
        .env("PGPERF", env!("CARGO_BIN_EXE_pgperf"))
        .output()
        .expect("bash runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "browser test failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("all reports passed"), "{stdout}");
}
