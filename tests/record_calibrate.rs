//! `pgperf record --from-stat-statements` calibrating sampled parameters against what
//! pg_stat_statements measured per call, on a real embedded cluster: an application asks for
//! the last 10 days of a year of events (a window between the usual 7 and 14 that only the
//! narrowing finds), a rare kind, one id at a time; the recording must give a cut-off window
//! near 10 days (not a spread over the whole histogram), the rare kind, and leave the id
//! lookup, which no estimate tells apart, with its statistical draw. Under RLS the estimate is
//! the recorded role's, or the note says it is not; with a reference workload's claims, a draw
//! keeps only the values its persona can see.

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

/// The server's `now() - 10 days`, as the application sends its cut-off.
fn ten_days_ago(app: &mut postgres::Client) -> String {
    app.query_one("SELECT (now() - interval '10 days')::text", &[])
        .expect("clock")
        .get(0)
}

/// The application: what a dashboard sends, with its values.
fn run_application(cluster: &Cluster) {
    let mut app = record_support::app(cluster);
    let cut_off = ten_days_ago(&mut app);
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
        reference: None,
        measure: false,
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

const RLS_SETUP: &str = "
    -- Two copies of a year of tickets from 20 tenants, 20 an hour; the application sees its
    -- tenant's only. `wrapped` reads the tenant in a sub-select (plain EXPLAIN never runs it),
    -- `bare` calls current_setting directly, which the planner evaluates and which fails
    -- while the setting is unset.
    CREATE TABLE wrapped (id bigint PRIMARY KEY, tenant int NOT NULL, opened_at timestamptz NOT NULL);
    INSERT INTO wrapped
    SELECT i, i % 20, now() - (i / 20) * interval '1 hour' FROM generate_series(1, 175200) AS i;
    CREATE TABLE bare (LIKE wrapped INCLUDING ALL);
    INSERT INTO bare SELECT * FROM wrapped;
    ANALYZE wrapped, bare;
    ALTER TABLE wrapped ENABLE ROW LEVEL SECURITY;
    ALTER TABLE bare ENABLE ROW LEVEL SECURITY;
    CREATE POLICY by_tenant ON wrapped USING (tenant = (SELECT current_setting('app.tenant')::int));
    CREATE POLICY by_tenant ON bare USING (tenant = current_setting('app.tenant')::int);
    CREATE ROLE app LOGIN;
    GRANT SELECT ON wrapped, bare TO app;";

#[test]
fn under_rls_the_estimate_is_the_roles_or_says_it_is_not() {
    let cluster = Cluster::start(&ClusterOptions::default()).expect("cluster starts");
    let mut admin = record_support::shop(&cluster, RLS_SETUP);
    let mut app = record_support::app(&cluster);
    app.batch_execute("SET app.tenant = '3'").expect("tenant");
    let month_ago: String = app
        .query_one("SELECT (now() - interval '30 days')::text", &[])
        .expect("clock")
        .get(0);
    for table in ["wrapped", "bare"] {
        let sql = format!("SELECT id FROM {table} WHERE opened_at > $1");
        for _ in 0..20 {
            app.query(&sql, &[&TextParam(Some(month_ago.clone()))])
                .expect("runs");
        }
    }
    let options = StatOptions {
        top: 10,
        min_calls: 1,
        keep_literals: false,
        reference: None,
        measure: false,
    };
    let drafts = from_stats::record(&mut admin, &options)
        .expect("records")
        .drafts;

    // The planner's default share for `tenant = (sub-select)` is 1 in 20 here, as the policy
    // keeps: the window comes out near the 30 days asked for.
    let wrapped = &draft(&drafts, "FROM wrapped").params[0];
    assert!(wrapped.note.contains("planned as app"), "{}", wrapped.note);
    let ParamSpec::Ago { ago, .. } = &wrapped.spec else {
        panic!("a window: {wrapped:?}");
    };
    let days = parse_duration(ago).expect("a duration").num_hours() as f64 / 24.0;
    assert!((20.0..=45.0).contains(&days), "{ago}: {}", wrapped.note);

    // Planning as app fails without the setting: the recording user's estimate, before the
    // policy, and the note says so.
    let bare = &draft(&drafts, "FROM bare").params[0];
    assert!(
        bare.note.contains("planned as the recording user, not app")
            && bare.note.contains("rows before RLS policies"),
        "{}",
        bare.note
    );
}

const PAYOUTS_SETUP: &str = "
    -- 200 pickers with 50 payouts each; a picker reads only their own.
    CREATE TABLE payouts (id bigint PRIMARY KEY, picker_id int NOT NULL, period_start date NOT NULL, amount int NOT NULL);
    INSERT INTO payouts
    SELECT i, i % 200, current_date - (i / 200) * 7, i % 1000 FROM generate_series(1, 10000) AS i;
    CREATE INDEX ON payouts (picker_id);
    ANALYZE payouts;
    ALTER TABLE payouts ENABLE ROW LEVEL SECURITY;
    CREATE POLICY own ON payouts
        USING (picker_id = (SELECT current_setting('request.jwt.claim.sub', true)::int));
    CREATE ROLE app LOGIN;
    GRANT SELECT ON payouts TO app;";

const PAYOUTS_REFERENCE: &str = r#"
name = "pay"

[personas.picker]
role = "app"
claims = { sub = "7" }

[[query]]
name = "my_payouts"
persona = "picker"
sql = "SELECT period_start, amount FROM payouts WHERE picker_id = $1 ORDER BY period_start DESC LIMIT 12"
params = [{ value = 7 }]
"#;

#[test]
fn with_a_reference_the_draw_keeps_the_values_its_persona_can_see() {
    let cluster = Cluster::start(&ClusterOptions::default()).expect("cluster starts");
    let mut admin = record_support::shop(&cluster, PAYOUTS_SETUP);
    let mut app = record_support::app(&cluster);
    app.batch_execute("SELECT set_config('request.jwt.claim.sub', '7', false)")
        .expect("claims");
    let mine = app
        .prepare("SELECT period_start, amount FROM payouts WHERE picker_id = $1 ORDER BY period_start DESC LIMIT 12")
        .expect("prepares");
    for _ in 0..20 {
        assert_eq!(app.query(&mine, &[&7_i32]).expect("runs").len(), 12);
    }
    let reference: pgperf::workload::WorkloadFile =
        toml::from_str(PAYOUTS_REFERENCE).expect("reference");
    let options = StatOptions {
        top: 10,
        min_calls: 1,
        keep_literals: false,
        reference: Some(pgperf::record::reference::Reference::new(&reference)),
        measure: false,
    };
    let drafts = from_stats::record(&mut admin, &options)
        .expect("records")
        .drafts;
    let payouts = draft(&drafts, "FROM payouts");
    // pg_stats holds 200 pickers; under the policy the persona sees only picker 7's rows.
    let ParamSpec::Recorded { recorded, .. } = &payouts.params[0].spec else {
        panic!("a draw: {:?}", payouts.params[0]);
    };
    assert!(
        !recorded.is_empty() && recorded.iter().all(|v| v.as_integer() == Some(7)),
        "{recorded:?}: {}",
        payouts.params[0].note
    );
    assert!(
        payouts.params[0].note.contains("persona picker can see"),
        "{}",
        payouts.params[0].note
    );
    // Every call returned 12 rows: the hidden LIMIT is written back as the constant 12.
    assert!(
        payouts.statement.sql.ends_with("LIMIT 12") && payouts.params.len() == 1,
        "{}",
        payouts.statement.sql
    );
}

/// Rows per call never move for an aggregate over a fixed set of groups, so only blocks can
/// tell the window; the buffer model counts a page per row for an index scan, while a table
/// written in time order packs a window's rows onto few pages. `--measure` runs the reads and
/// compares measured blocks, and narrows on them.
#[test]
fn measured_blocks_find_the_window_of_an_aggregate_whose_rows_never_move() {
    let cluster = Cluster::start(&ClusterOptions::default()).expect("cluster starts");
    let mut admin = record_support::shop(&cluster, SETUP);
    admin
        .batch_execute("GRANT UPDATE ON events TO app")
        .expect("grant");
    let mut app = record_support::app(&cluster);
    let cut_off = ten_days_ago(&mut app);
    let by_kind = app
        .prepare("SELECT kind, count(*) FROM events WHERE created_at > $1 GROUP BY kind")
        .expect("prepares");
    let touch = app
        .prepare("UPDATE events SET amount = amount + 1 WHERE created_at > $1")
        .expect("prepares");
    // The write first, so the reads the application timed saw the table as it stays.
    app.execute(&touch, &[&TextParam(Some(cut_off.clone()))])
        .expect("updates");
    for _ in 0..20 {
        let groups = app
            .query(&by_kind, &[&TextParam(Some(cut_off.clone()))])
            .expect("runs");
        assert_eq!(groups.len(), 3);
    }
    let total = |admin: &mut postgres::Client| -> i64 {
        admin
            .query_one("SELECT sum(amount)::bigint FROM events", &[])
            .expect("sums")
            .get(0)
    };
    let before = total(&mut admin);
    let mut window = |measure: bool| {
        let options = StatOptions {
            top: 10,
            min_calls: 1,
            keep_literals: false,
            reference: None,
            measure,
        };
        let drafts = from_stats::record(&mut admin, &options)
            .expect("records")
            .drafts;
        // A write is never run, only estimated.
        let write = &draft(&drafts, "UPDATE events").params[0];
        assert!(write.note.contains("planned as app"), "{}", write.note);
        let param = draft(&drafts, "GROUP BY kind").params[0].clone();
        let days = match &param.spec {
            ParamSpec::Ago { ago, .. } => {
                Some(parse_duration(ago).expect("a duration").num_minutes() as f64 / 1_440.0)
            }
            _ => None,
        };
        (days, param.note)
    };
    let (estimated, estimated_note) = window(false);
    eprintln!("estimated: {estimated:?} days: {estimated_note}");
    let (measured, note) = window(true);
    eprintln!("measured: {measured:?} days: {note}");
    assert!(
        measured.is_some_and(|days| (8.0..=12.0).contains(&days)),
        "the application asked for 10 days, the measured recording says {measured:?}: {note}"
    );
    assert!(
        note.contains("measured with EXPLAIN ANALYZE as app, no claims")
            && note.contains("blocks/call"),
        "{note}"
    );
    // Everything ran in transactions that were rolled back, as the role: nothing stayed.
    assert_eq!(total(&mut admin), before);
    let role: String = admin
        .query_one("SELECT current_user::text", &[])
        .expect("reads")
        .get(0);
    assert_ne!(role, "app");
}

/// Measuring one statement stops when its time budget is spent: the run in progress finishes,
/// the next candidates are refused, and calibration estimates the statement instead.
#[test]
fn measuring_stops_when_the_statements_budget_is_spent() {
    use pgperf::record::calibrate::probe::{Measure, Probe};
    let cluster = Cluster::start(&ClusterOptions::default()).expect("cluster starts");
    let mut admin = record_support::shop(&cluster, SETUP);
    let sql = "SELECT count(*) FROM events WHERE created_at > $1";
    let since = Some("2000-01-01".to_string());
    let measure = |budget| Measure {
        timeout_ms: 10_000,
        budget,
    };
    let mut probe = Probe::open(
        &mut admin,
        sql,
        "app",
        Some(measure(std::time::Duration::from_nanos(1))),
        None,
    )
    .expect("opens");
    assert!(probe.planner.measured());
    let first = probe.estimate(std::slice::from_ref(&since)).expect("runs");
    assert_eq!(first.map(|e| e.rows), Ok(1.0));
    assert!(probe.out_of_budget());
    let second = probe.estimate(std::slice::from_ref(&since)).expect("runs");
    assert_eq!(second, Err("the measuring budget is spent".to_string()));
    probe.close().expect("rolls back");
}
