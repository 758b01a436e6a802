//! `pgperf record --from-stat-statements` calibrating sampled parameters against what
//! pg_stat_statements measured per call, on a real embedded cluster: an application asks for
//! the last 10 days of a year of events (a window between the usual 7 and 14 that only the
//! narrowing finds), a rare kind, one id at a time; the recording must give a cut-off window
//! near 10 days (not a spread over the whole histogram), the rare kind, and leave the id
//! lookup, which no estimate tells apart, with its statistical draw.

use pgperf::embedded::{Cluster, ClusterOptions};
use pgperf::pg::TextParam;
use pgperf::record::draft::Draft;
use pgperf::record::{StatOptions, from_stats};
use pgperf::workload::ParamSpec;
use pgperf::workload::params::parse_duration;

mod record_support;

const SETUP: &str = "
    CREATE TABLE events (
        id bigint PRIMARY KEY,
        kind text NOT NULL,
        amount int NOT NULL,
        created_at timestamptz NOT NULL
    );
    -- A year of events, 10 an hour; 2% refunds.
    INSERT INTO events
    SELECT i,
           CASE WHEN i % 50 = 0 THEN 'refund' WHEN i % 10 = 1 THEN 'return' ELSE 'sale' END,
           i % 997,
           now() - (i / 10) * interval '1 hour'
      FROM generate_series(1, 87600) AS i;
    CREATE INDEX ON events (created_at);
    ANALYZE events;
    CREATE ROLE app LOGIN;
    GRANT SELECT ON events TO app;";

/// The application: what a dashboard sends, with its values.
fn run_application(cluster: &Cluster) {
    let mut app = record_support::app(cluster);
    let cut_off: String = app
        .query_one("SELECT (now() - interval '10 days')::text", &[])
        .expect("clock")
        .get(0);
    let recent = app
        .prepare("SELECT id, kind, amount FROM events WHERE created_at > $1 ORDER BY id")
        .expect("prepares");
    let by_kind = app
        .prepare("SELECT id, amount FROM events WHERE kind = $1")
        .expect("prepares");
    let by_id = app
        .prepare("SELECT kind, amount FROM events WHERE id = $1")
        .expect("prepares");
    for i in 0..20_i64 {
        app.query(&recent, &[&TextParam(Some(cut_off.clone()))])
            .expect("runs");
        app.query(&by_kind, &[&"refund"]).expect("runs");
        app.query(&by_id, &[&(i * 1_000 + 7)]).expect("runs");
    }
}

fn recorded(cluster: &Cluster) -> Vec<Draft> {
    let mut admin = cluster.connect("shop").expect("connects");
    let options = StatOptions {
        top: 10,
        min_calls: 1,
        keep_literals: false,
    };
    let recording = from_stats::record(&mut admin, &options).expect("records");
    eprintln!("{}", recording.report.join("\n"));
    assert!(
        recording
            .report
            .iter()
            .any(|line| line.starts_with("calibrated 2 of 3 ")),
        "{:#?}",
        recording.report
    );
    recording.drafts
}

fn draft<'a>(drafts: &'a [Draft], text: &str) -> &'a Draft {
    drafts
        .iter()
        .find(|d| d.statement.sql.contains(text))
        .unwrap_or_else(|| panic!("a statement with {text}"))
}

#[test]
fn a_last_10_days_cut_off_is_calibrated_to_a_window_near_10_days() {
    let cluster = Cluster::start(&ClusterOptions::default()).expect("cluster starts");
    record_support::shop(&cluster, SETUP);
    run_application(&cluster);
    let drafts = recorded(&cluster);

    let recent = &draft(&drafts, "created_at > $1").params[0];
    let ParamSpec::Ago { ago, jitter: None } = &recent.spec else {
        panic!("a window back from now: {recent:?}");
    };
    let days = parse_duration(ago).expect("a duration").num_hours() as f64 / 24.0;
    assert!(
        (9.0..=11.0).contains(&days),
        "the application asked for 10 days, the recording says {ago}: {}",
        recent.note
    );
    assert!(
        recent.note.contains("calibrated: rows/call"),
        "{}",
        recent.note
    );

    let kind = &draft(&drafts, "kind = $1").params[0];
    assert_eq!(
        kind.spec,
        ParamSpec::Recorded {
            recorded: vec![toml::Value::String("refund".into())],
            sampled: true
        },
        "{}",
        kind.note
    );

    let id = &draft(&drafts, "id = $1").params[0];
    let ParamSpec::Recorded {
        recorded,
        sampled: true,
    } = &id.spec
    else {
        panic!("the statistical draw: {id:?}");
    };
    assert!(recorded.len() > 50, "{recorded:?}");
    assert!(id.note.contains("not calibrated"), "{}", id.note);
}
