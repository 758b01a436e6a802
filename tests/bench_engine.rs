//! `pgperf::bench` against a real embedded cluster loaded with the shop fixture: roles and
//! claims reach the server, writes are rolled back, failures are recorded while the other
//! queries go on, timeouts work, a killed server gives a partial result.

use pgperf::bench::{self, BenchContext, MeasureOptions, Wrapping};
use pgperf::embedded::{Cluster, ClusterOptions};
use pgperf::model::{BenchSettings, Protocol, RunResult, Target, TimeBudget, Warning};
use pgperf::workload::{self, Workload};

const SCHEMA: &str = include_str!("fixtures/shop/schema.sql");
const WORKLOAD: &str = include_str!("fixtures/shop/workload.toml");

fn shop(name: &str) -> (Cluster, postgres::Config) {
    let cluster = Cluster::start(&ClusterOptions::default()).expect("embedded cluster starts");
    cluster.create_database(name).expect("create database");
    cluster
        .connect(name)
        .expect("connect")
        .batch_execute(SCHEMA)
        .expect("fixture schema loads");
    let config = cluster.config(name);
    (cluster, config)
}

fn settings(iterations: u64, protocol: Protocol) -> BenchSettings {
    BenchSettings {
        iterations,
        warmup: 5,
        concurrency: 1,
        rate_qps: None,
        protocol,
        statement_timeout_ms: 30_000,
        rng_seed: 7,
        time_budget: None,
    }
}

fn context(cluster: &Cluster, db: &str) -> BenchContext {
    BenchContext {
        target: Target {
            embedded: true,
            url_redacted: cluster.url(db),
            database: db.to_string(),
            clock: None,
        },
        scale: None,
        seed_rng_seed: None,
        progress: false,
        progress_interval: std::time::Duration::ZERO,
        data_now: None,
    }
}

fn workload(text: &str) -> Workload {
    workload::load_str(text, "test.toml").expect("valid workload")
}

fn query<'a>(result: &'a RunResult, name: &str) -> &'a pgperf::model::QueryResult {
    result
        .queries
        .iter()
        .find(|q| q.name == name)
        .expect("query in result")
}

#[test]
fn shop_workload_runs_under_every_protocol_with_server_stats_and_plans() {
    let (cluster, config) = shop("shop");
    let workload = workload(WORKLOAD);
    for protocol in [Protocol::Prepared, Protocol::Extended, Protocol::Simple] {
        let result = bench::run(
            &config,
            &workload,
            &settings(60, protocol),
            &context(&cluster, "shop"),
        )
        .expect("run");
        assert!(result.complete, "{protocol:?}: {:?}", result.abort_reason);
        for query in &result.queries {
            assert_eq!(
                query.samples, 60,
                "{protocol:?} {}: {:?}",
                query.name, query.first_error
            );
            assert_eq!(query.errors, 0);
            let latency = query.latency.expect("latency");
            assert!(
                latency.p95.ci_low_us.is_some(),
                "60 samples give a P95 interval"
            );
            let server = query
                .server
                .as_ref()
                .unwrap_or_else(|| panic!("{protocol:?} {} has server stats", query.name));
            assert_eq!(server.calls, 60, "{protocol:?} {}", query.name);
            let plan = query.plan.as_ref().expect("plan captured");
            assert_eq!(plan.shape_hash.len(), 64);
            assert!(
                !query
                    .warnings
                    .iter()
                    .any(|w| matches!(w, Warning::PlanChanged { .. }))
            );
        }
        let recent = query(&result, "recent_orders");
        assert!(
            recent
                .plan
                .as_ref()
                .expect("plan")
                .shape
                .iter()
                .any(|line| line.contains("orders"))
        );
        assert_eq!(result.environment.server_version_num / 10000, 15);
        assert!(
            result
                .environment
                .extensions
                .contains_key("pg_stat_statements")
        );
    }
}

#[test]
fn role_and_claims_reach_the_server_and_follow_persona_switches() {
    let (cluster, config) = shop("claims");
    let mut client = cluster.connect("claims").expect("connect");
    client
        .batch_execute(
            "CREATE TABLE seen (who text, claims text, shop text);
             GRANT INSERT ON seen TO authenticated, public;",
        )
        .expect("table");
    let workload = workload(
        r#"
name = "claims"
[personas.alice]
role = "authenticated"
claims = { sub = "alice", shop_id = 3 }
[[query]]
name = "as_alice"
kind = "write"
commit = true
persona = "alice"
sql = "INSERT INTO seen SELECT current_user, current_setting('request.jwt.claims'), current_setting('request.jwt.claim.sub', true)"
[[query]]
name = "as_owner"
kind = "write"
commit = true
sql = "INSERT INTO seen SELECT current_user, coalesce(current_setting('request.jwt.claims', true), ''), coalesce(current_setting('request.jwt.claim.sub', true), '')"
"#,
    );
    let result = bench::run(
        &config,
        &workload,
        &settings(10, Protocol::Prepared),
        &context(&cluster, "claims"),
    )
    .expect("run");
    assert!(result.complete);
    let rows = client
        .query(
            "SELECT DISTINCT who, claims, shop FROM seen ORDER BY who",
            &[],
        )
        .expect("select");
    let seen: Vec<(String, String, String)> = rows
        .iter()
        .map(|r| {
            (
                r.get(0),
                r.get::<_, Option<String>>(1).unwrap_or_default(),
                r.get::<_, Option<String>>(2).unwrap_or_default(),
            )
        })
        .collect();
    let owner: String = client
        .query_one("SELECT current_user::text", &[])
        .expect("user")
        .get(0);
    assert_eq!(
        seen,
        vec![
            (
                "authenticated".to_string(),
                r#"{"shop_id":3,"sub":"alice"}"#.to_string(),
                "alice".to_string()
            ),
            (owner, String::new(), String::new()),
        ]
    );
}

#[test]
fn writes_are_rolled_back_unless_they_may_commit() {
    let (cluster, config) = shop("writes");
    let mut client = cluster.connect("writes").expect("connect");
    let count = |client: &mut postgres::Client| -> i64 {
        client
            .query_one("SELECT count(*) FROM orders", &[])
            .expect("count")
            .get(0)
    };
    let before = count(&mut client);
    let result = bench::run(
        &config,
        &workload(WORKLOAD),
        &settings(20, Protocol::Prepared),
        &context(&cluster, "writes"),
    )
    .expect("run");
    assert_eq!(query(&result, "place_order").samples, 20);
    assert_eq!(count(&mut client), before, "the bench left no row behind");
}

#[test]
fn a_failing_query_is_recorded_and_the_others_go_on() {
    let (cluster, config) = shop("failing");
    let workload = workload(
        r#"
name = "failing"
[[query]]
name = "broken"
sql = "SELECT 1 / (id - id) FROM product WHERE id = $1"
params = [{ int_between = [1, 10] }]
[[query]]
name = "slow"
sql = "SELECT pg_sleep(0.2)"
statement_timeout_ms = 20
[[query]]
name = "fine"
sql = "SELECT name FROM product WHERE id = $1"
params = [{ int_between = [1, 10] }]
"#,
    );
    let result = bench::run(
        &config,
        &workload,
        &settings(8, Protocol::Prepared),
        &context(&cluster, "failing"),
    )
    .expect("run");
    assert!(result.complete);
    let broken = query(&result, "broken");
    assert_eq!((broken.samples, broken.errors), (0, 8));
    let error = broken.first_error.as_ref().expect("error recorded");
    assert_eq!(
        error.sqlstate.as_deref(),
        Some("22012"),
        "{}",
        error.message
    );
    assert!(broken.warnings.contains(&Warning::Errors { count: 8 }));
    let slow = query(&result, "slow");
    assert_eq!(slow.errors, 8);
    assert_eq!(
        slow.first_error
            .as_ref()
            .and_then(|e| e.sqlstate.as_deref()),
        Some("57014"),
        "statement_timeout cancels"
    );
    assert_eq!(query(&result, "fine").samples, 8);
}

#[test]
fn a_killed_server_gives_a_partial_result_and_leaves_nothing_behind() {
    let (cluster, config) = shop("killed");
    let dir = cluster.dir().to_path_buf();
    let pid_file = std::fs::read_to_string(dir.join("data/postmaster.pid")).expect("pid file");
    let postmaster: i32 = pid_file
        .lines()
        .next()
        .expect("pid line")
        .trim()
        .parse()
        .expect("pid");
    let workload = workload(
        r#"
name = "killed"
[[query]]
name = "tick"
sql = "SELECT pg_sleep(0.002)"
"#,
    );
    let killer = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(700));
        // SIGQUIT is PostgreSQL's immediate shutdown: every backend dies at once.
        // SAFETY: sending a signal to a pid we read from the server's own pid file.
        unsafe { libc::kill(postmaster, libc::SIGQUIT) };
    });
    let result = bench::run(
        &config,
        &workload,
        &settings(100_000, Protocol::Prepared),
        &context(&cluster, "killed"),
    )
    .expect("the run started, so it returns a result");
    killer.join().expect("killer");
    assert!(!result.complete);
    let reason = result.abort_reason.as_deref().expect("reason");
    assert!(reason.contains("connection"), "{reason}");
    let tick = query(&result, "tick");
    assert!(tick.samples > 0 && tick.samples < 100_000);
    assert!(tick.latency.is_some());
    drop(cluster);
    assert!(!dir.exists(), "the cluster directory is removed");
    // SAFETY: signal 0 only checks whether the process exists.
    assert_ne!(
        unsafe { libc::kill(postmaster, 0) },
        0,
        "no server process survives"
    );
}

#[test]
fn measure_queries_times_queries_inside_the_callers_transaction() {
    let (cluster, _config) = shop("measure");
    let mut client = cluster.connect("measure").expect("connect");
    let workload = workload(WORKLOAD);
    client.batch_execute("BEGIN").expect("begin");
    let options = MeasureOptions {
        iterations: 30,
        warmup: 2,
        protocol: Protocol::Prepared,
        rng_seed: 1,
        wrapping: Wrapping::Savepoint,
    };
    let results =
        bench::measure_queries(&mut client, &workload.queries, &options).expect("measured");
    assert_eq!(results.len(), workload.queries.len());
    assert!(
        results.iter().all(|r| r.samples == 30 && r.errors == 0),
        "{results:?}"
    );
    client
        .batch_execute("ROLLBACK")
        .expect("the caller's transaction is still usable");
}

#[test]
fn connection_refused_is_a_clear_error() {
    let (cluster, mut config) = shop("refused");
    let context = context(&cluster, "refused");
    config.port(1);
    drop(cluster);
    let error = bench::run(
        &config,
        &workload(WORKLOAD),
        &settings(5, Protocol::Prepared),
        &context,
    )
    .expect_err("no server");
    assert!(
        error.to_string().starts_with("cannot connect to"),
        "{error}"
    );
}

#[test]
fn open_loop_rate_counts_queueing_and_warns_when_the_server_cannot_keep_up() {
    let (cluster, config) = shop("rate");
    let workload = workload(
        r#"
name = "rate"
[[query]]
name = "slow"
sql = "SELECT pg_sleep(0.01)"
"#,
    );
    let mut too_fast = settings(60, Protocol::Prepared);
    too_fast.rate_qps = Some(400.0);
    let result =
        bench::run(&config, &workload, &too_fast, &context(&cluster, "rate")).expect("run");
    assert!(
        result
            .warnings
            .iter()
            .any(|w| matches!(w, Warning::RateNotReached { .. })),
        "{:?}",
        result.warnings
    );
    let slow = query(&result, "slow");
    let latency = slow.latency.expect("latency");
    let last = slow.raw_samples.last().expect("samples");
    assert!(
        last.latency_us > latency.min_us * 5.0,
        "later executions queued behind earlier ones, and their latency shows it"
    );

    let mut feasible = settings(60, Protocol::Prepared);
    feasible.rate_qps = Some(40.0);
    let result =
        bench::run(&config, &workload, &feasible, &context(&cluster, "rate")).expect("run");
    assert!(result.warnings.is_empty(), "{:?}", result.warnings);
}

#[test]
fn environment_records_settings_as_the_server_shows_them() {
    let (cluster, config) = shop("environment");
    let workload = workload("name = \"e\"\n[[query]]\nname = \"one\"\nsql = \"SELECT 1\"\n");
    let result = bench::run(
        &config,
        &workload,
        &settings(5, Protocol::Prepared),
        &context(&cluster, "environment"),
    )
    .expect("run");
    let settings = &result.environment.server_settings;
    let shared_buffers = settings.get("shared_buffers").expect("recorded");
    assert!(
        shared_buffers.ends_with("MB")
            || shared_buffers.ends_with("GB")
            || shared_buffers.ends_with("kB"),
        "{shared_buffers}"
    );
    assert_eq!(settings.get("fsync").map(String::as_str), Some("off"));
    assert_eq!(result.environment.workload_hash, workload.hash);
    assert!(result.environment.machine.cpus >= 1);
}

#[test]
fn a_time_budget_bounds_the_measured_phase_and_records_why_each_query_stopped() {
    let (cluster, config) = shop("budgeted");
    let workload = workload(
        r#"
name = "budgeted"
[[query]]
name = "fast"
sql = "SELECT name FROM product WHERE id = $1"
params = [{ int_between = [1, 10] }]
[[query]]
name = "slow"
sql = "SELECT pg_sleep(0.1)"
budget_p95_ms = 50
"#,
    );
    let budget_ms = 3_000;
    let settings = BenchSettings {
        time_budget: Some(TimeBudget {
            budget_ms,
            warmup_budget_ms: 300,
            target_precision: 0.05,
            measured_ms: 0.0,
        }),
        ..settings(10_000, Protocol::Prepared)
    };
    let result = bench::run(
        &config,
        &workload,
        &settings,
        &context(&cluster, "budgeted"),
    )
    .expect("run");
    assert!(result.complete, "{:?}", result.abort_reason);
    let measured_ms = result
        .settings
        .time_budget
        .expect("budget recorded")
        .measured_ms;
    let slowest_ms = 150.0;
    assert!(
        measured_ms <= budget_ms as f64 * 1.1 + slowest_ms,
        "measured for {measured_ms} ms"
    );
    let fast = query(&result, "fast");
    let slow = query(&result, "slow");
    assert!(fast.samples >= 59, "fast: {} samples", fast.samples);
    assert!(slow.samples >= 12, "slow: {} samples", slow.samples);
    assert!(fast.sampling.is_some() && slow.sampling.is_some());
    assert!(
        slow.warnings.iter().any(|w| matches!(
            w,
            Warning::TooFewSamples {
                p95_at_least_us: Some(bound_us),
                ..
            } if *bound_us > 100_000.0
        )),
        "{:?}",
        slow.warnings
    );
    assert_eq!(
        bench::table::verdict(slow),
        bench::table::Verdict::Breached,
        "a one-sided bound above the budget is a breach"
    );
}
