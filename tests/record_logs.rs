//! `pgperf record --from-log` on log fixtures of each format, with the awkward cases: parse and
//! bind lines, multi-line statements, embedded newlines in csv fields, quotes and NULLs in
//! parameters, a line in another format, garbage, invalid UTF-8, and a truncated last record.

use std::path::{Path, PathBuf};
use std::process::Command;

use pgperf::record::draft::Draft;
use pgperf::record::log::{self, LogFormat};
use pgperf::record::{LogOptions, from_log};
use pgperf::workload::{ParamSpec, WorkloadFile};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/logs")
        .join(name)
}

fn read(name: &str) -> Vec<u8> {
    std::fs::read(fixture(name)).expect("fixture exists")
}

fn options() -> LogOptions {
    LogOptions::default()
}

fn recorded(param: &ParamSpec) -> Vec<String> {
    match param {
        ParamSpec::Recorded { recorded, .. } => recorded
            .iter()
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
            .collect(),
        other => panic!("recorded values expected, got {other:?}"),
    }
}

fn by_sql<'a>(drafts: &'a [Draft], fragment: &str) -> &'a Draft {
    drafts
        .iter()
        .find(|d| d.statement.sql.contains(fragment))
        .unwrap_or_else(|| panic!("a query containing {fragment:?}"))
}

/// The same session is in every fixture: assert what each format must yield.
fn assert_session(name: &str, format: LogFormat) {
    let bytes = read(name);
    assert_eq!(log::detect_format(&bytes), format, "{name}");
    let reading = log::read_log(&bytes, LogFormat::Auto);
    assert_eq!(
        reading.problems.count(log::INVALID_UTF8),
        1,
        "{name}: {:?}",
        reading.problems
    );
    assert_eq!(
        reading.problems.count(log::TRUNCATED),
        1,
        "{name}: {:?}",
        reading.problems
    );
    assert_eq!(
        reading.problems.count(log::OTHER_FORMAT),
        1,
        "{name}: {:?}",
        reading.problems
    );

    let recording = from_log::record(&bytes, &options(), None).expect("records");
    let drafts = &recording.drafts;
    let orders = by_sql(drafts, "customer_id = $1 AND status = $2");
    assert_eq!(orders.calls, 4, "{name}: parse/bind lines are not calls");
    assert_eq!(orders.role.as_deref(), Some("app"));
    assert_eq!(recorded(&orders.params[0].spec), ["42", "42", "7", "it's"]);
    assert_eq!(recorded(&orders.params[1].spec), ["open", "open", "open"]);
    assert!(
        orders.params[1].note.contains("1 NULL left out"),
        "{}",
        orders.params[1].note
    );
    assert!((orders.total_ms.expect("durations") - 4.0 * 0.412).abs() < 1e-9);

    let report = by_sql(drafts, "GROUP BY c.name");
    assert!(
        report.statement.sql.contains("\n  FROM orders o\n"),
        "multi-line text kept"
    );
    assert_eq!(recorded(&report.params[0].spec), ["2024-04-01"]);

    let customers = by_sql(drafts, "FROM customers WHERE email = $1");
    assert_eq!(
        customers.params[0].spec,
        ParamSpec::Sample {
            sample: r#"SELECT "email" FROM "customers" WHERE "email" IS NOT NULL"#.into(),
            limit: None
        },
        "{name}: the email never reaches the file"
    );
    let note = by_sql(drafts, "WHERE note = $1");
    assert_eq!(recorded(&note.params[0].spec), ["caf\u{FFFD}"]);
    assert_eq!(
        drafts.len(),
        4,
        "{name}: {:#?}",
        drafts.iter().map(|d| &d.statement.sql).collect::<Vec<_>>()
    );
    let report = recording.report.join("\n");
    assert!(report.contains("pgperf's own traffic"), "{report}");
}

#[test]
fn csvlog_fixture() {
    assert_session("csvlog.csv", LogFormat::Csvlog);
}

#[test]
fn stderr_fixture() {
    assert_session("stderr.log", LogFormat::Stderr);
    let reading = log::read_log(&read("stderr.log"), LogFormat::Stderr);
    assert_eq!(
        reading.problems.count(log::UNREADABLE),
        1,
        "{:?}",
        reading.problems
    );
}

#[test]
fn jsonlog_fixture() {
    assert_session("jsonlog.json", LogFormat::Jsonlog);
}

#[test]
fn the_recorded_file_is_snapshotted_and_parses_back() {
    let recording = from_log::record(&read("csvlog.csv"), &options(), None).expect("records");
    let rendered =
        pgperf::record::write::render("fixture", &recording.report, &recording.drafts, None);
    let parsed: WorkloadFile = toml::from_str(&rendered.text).expect("parses back");
    assert_eq!(parsed, rendered.workload);
    insta::assert_snapshot!(rendered.text);
    let loaded = pgperf::workload::load_str(&rendered.text, "recorded.toml")
        .unwrap_or_else(|error| panic!("the workload validator accepts the recording: {error}"));
    assert_eq!(loaded.queries.len(), rendered.workload.queries.len());
}

#[test]
fn keep_literals_keeps_the_email() {
    let options = LogOptions {
        keep_literals: true,
        ..options()
    };
    let recording = from_log::record(&read("jsonlog.json"), &options, None).expect("records");
    let customers = by_sql(&recording.drafts, "FROM customers WHERE email = $1");
    assert_eq!(
        recorded(&customers.params[0].spec),
        ["jane.doe@mail.example.org"]
    );
}

#[test]
fn the_command_writes_a_file_and_fails_with_exit_3_on_unreadable_input() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("recorded.toml");
    let status = Command::new(env!("CARGO_BIN_EXE_pgperf"))
        .args(["record", "--from-log"])
        .arg(fixture("stderr.log"))
        .arg("--out")
        .arg(&out)
        .env_remove("DATABASE_URL")
        .output()
        .expect("runs");
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let text = std::fs::read_to_string(&out).expect("written");
    let parsed: WorkloadFile = toml::from_str(&text).expect("parses");
    assert_eq!(parsed.queries.len(), 4);

    let garbage = dir.path().join("garbage.log");
    std::fs::write(&garbage, b"not a log\n\xff\xfe nothing here\n").expect("write");
    let failed = Command::new(env!("CARGO_BIN_EXE_pgperf"))
        .args(["record", "--from-log"])
        .arg(&garbage)
        .env_remove("DATABASE_URL")
        .output()
        .expect("runs");
    assert_eq!(failed.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&failed.stderr);
    assert!(
        stderr.contains("nothing could be read") && stderr.contains("unreadable line"),
        "{stderr}"
    );

    // Measuring runs the recorded statements of pg_stat_statements; a log has its values.
    let misused = Command::new(env!("CARGO_BIN_EXE_pgperf"))
        .args(["record", "--measure", "--from-log"])
        .arg(fixture("stderr.log"))
        .env_remove("DATABASE_URL")
        .output()
        .expect("runs");
    assert_eq!(misused.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&misused.stderr).contains("--from-stat-statements"),
        "{}",
        String::from_utf8_lossy(&misused.stderr)
    );
}

#[test]
fn role_switches_of_a_pooler_become_personas() {
    // PostgREST logs in as `authenticator` and switches with set_config('role', $2, true).
    let recording = from_log::record(&read("postgrest.log"), &options(), None).expect("records");
    let roles: Vec<(Option<&str>, u64)> = recording
        .drafts
        .iter()
        .map(|d| (d.role.as_deref(), d.calls))
        .collect();
    assert_eq!(
        roles,
        [
            (Some("authenticated"), 2),
            (Some("anon"), 1),
            (Some("postgres"), 1)
        ],
        "one query per role, the session user only where no role was set"
    );
    let authenticated = &recording.drafts[0];
    assert_eq!(
        authenticated.statement.sql,
        "SELECT id, title FROM approvals WHERE status = $1 LIMIT $2"
    );
    assert_eq!(recorded(&authenticated.params[1].spec), ["20", "22"]);
}
