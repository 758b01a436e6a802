//! `pgperf.toml` through the binary: a file value reaches a command's flag, the environment
//! and flags win over it, `pgperf config` says where each value came from, a typo is exit 2,
//! and a password in the file never shows in `--help`.

use std::process::{Command, Output};

fn pgperf(dir: &std::path::Path, args: &[&str], database_url: Option<&str>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_pgperf"));
    command.args(args).current_dir(dir).env("COLUMNS", "200");
    match database_url {
        Some(url) => command.env("DATABASE_URL", url),
        None => command.env_remove("DATABASE_URL"),
    };
    command.output().expect("pgperf runs")
}

fn row<'a>(stdout: &'a str, option: &str) -> &'a str {
    stdout
        .lines()
        .find(|line| line.contains(&format!(" {option} ")))
        .unwrap_or_else(|| panic!("no {option} row in\n{stdout}"))
}

#[test]
fn config_prints_each_value_with_its_source_in_precedence_order() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("pgperf.toml"),
        "db = \"postgres://app:s3cret@db.example/app\"\nscale = 0.1\n[bench]\niterations = 50\nwarmup = 5\n[inspect]\ntop = 3\n",
    )
    .expect("write");
    let output = pgperf(
        dir.path(),
        &["config", "bench", "--warmup", "9"],
        Some("postgres://env:pw@envhost/envdb"),
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        row(&stdout, "--iterations").contains("50")
            && row(&stdout, "--iterations").contains("file (pgperf.toml)")
    );
    assert!(row(&stdout, "--warmup").contains("9") && row(&stdout, "--warmup").contains("flag"));
    assert!(
        row(&stdout, "--db").contains("environment (DATABASE_URL)"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("s3cret") && !stdout.contains(":pw@"),
        "{stdout}"
    );

    let output = pgperf(dir.path(), &["config", "inspect"], None);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        row(&stdout, "--top").contains("file (pgperf.toml)"),
        "{stdout}"
    );
    assert!(
        row(&stdout, "--db").contains("app:***@db.example"),
        "{stdout}"
    );
    assert!(row(&stdout, "--format").contains("default"), "{stdout}");

    let help = pgperf(dir.path(), &["bench", "--help"], None);
    assert!(!String::from_utf8_lossy(&help.stdout).contains("s3cret"));
}

#[test]
fn a_key_that_is_no_option_is_a_usage_error_naming_the_valid_ones() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("pgperf.toml"), "[check]\nthreshhold = 5\n").expect("write");
    let output = pgperf(dir.path(), &["check", "--help"], None);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("threshhold") && stderr.contains("threshold"),
        "{stderr}"
    );
}
