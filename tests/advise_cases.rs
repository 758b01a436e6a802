//! Advisor decisions against a real embedded cluster (one per test binary, one database per
//! case), each on a table of 100k+ rows after ANALYZE. Assertions are about decisions (which
//! columns in which order, or no index and why), never about costs or milliseconds.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

use pgperf::advise::{Advice, AdviseOptions, VerifyOptions, advise};
use pgperf::embedded::{Cluster, ClusterOptions};
use pgperf::model::advice::{RejectReason, Verification};
use pgperf::workload::Workload;

fn cluster() -> &'static Cluster {
    static CLUSTER: OnceLock<Cluster> = OnceLock::new();
    CLUSTER.get_or_init(|| Cluster::start(&ClusterOptions::default()).expect("embedded cluster"))
}

/// A fresh database with `setup` applied and analyzed.
fn database(setup: &str) -> postgres::Client {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let name = format!("advise_{}", NEXT.fetch_add(1, Ordering::SeqCst));
    cluster().create_database(&name).expect("create database");
    let mut client = cluster().connect(&name).expect("connect");
    client.batch_execute(setup).expect("setup");
    client.batch_execute("ANALYZE").expect("analyze");
    client
}

/// The usual table: 200k orders, customer_id ~20k distinct, status skewed (98% 'done').
const ORDERS: &str = "
CREATE TABLE orders (
  id bigint PRIMARY KEY, customer_id int NOT NULL, status text NOT NULL,
  region text NOT NULL, created_at timestamptz NOT NULL, total numeric NOT NULL,
  email text NOT NULL, payload jsonb NOT NULL, flag boolean NOT NULL);
INSERT INTO orders
SELECT g, g % 20000, CASE WHEN g % 50 = 0 THEN 'pending' ELSE 'done' END,
       (ARRAY['eu','us','apac'])[1 + g % 3], now() - (g || ' minutes')::interval,
       (g % 1000) / 10.0, 'User' || g || '@Example.com',
       jsonb_build_object('kind', 'k' || (g % 5000)), g % 2 = 0
FROM generate_series(1, 200000) g;";

fn options(verify: bool) -> AdviseOptions {
    AdviseOptions {
        verify: verify.then(|| VerifyOptions {
            executions: 60,
            ..VerifyOptions::default()
        }),
        ..AdviseOptions::default()
    }
}

fn workload(toml_text: &str) -> Workload {
    pgperf::workload::load_str(&format!("name = \"case\"\n{toml_text}"), "case")
        .expect("valid workload")
}

fn run(client: &mut postgres::Client, toml_text: &str, verify: bool) -> Advice {
    advise(client, &workload(toml_text), &options(verify)).expect("advise runs")
}

/// `table(key, key DESC) INCLUDE (..) WHERE ..` for each recommendation.
fn decided(advice: &Advice) -> Vec<String> {
    advice
        .recommendations
        .iter()
        .map(|r| pgperf::advise::ddl::definition(&r.spec))
        .collect()
}

/// The first recommendation's definition; without one, the panic shows why.
fn first_decided(advice: &Advice) -> String {
    decided(advice)
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("{:#?} {:#?}", advice.rejected, advice.notes))
}

fn rejected_reasons(advice: &Advice) -> Vec<RejectReason> {
    advice.rejected.iter().map(|r| r.reason.clone()).collect()
}

fn assert_decided(advice: &Advice, expected: &[&str]) {
    assert_eq!(
        decided(advice),
        expected.iter().map(|e| e.to_string()).collect::<Vec<_>>(),
        "rejected: {:#?}",
        advice.rejected
    );
}

/// One `[[query]]` table; `params` is the inside of the TOML array.
fn query(name: &str, sql: &str, params: &str) -> String {
    let params = if params.is_empty() {
        String::new()
    } else {
        format!("params = [{params}]\n")
    };
    format!("[[query]]\nname = \"{name}\"\nsql = '''{sql}'''\n{params}\n")
}

#[test]
fn single_equality() {
    let mut client = database(ORDERS);
    let advice = run(
        &mut client,
        r#"[[query]]
name = "by_customer"
sql = "SELECT id, total FROM orders WHERE customer_id = $1"
params = [{ value = 42 }]"#,
        true,
    );
    assert!(matches!(advice.verification, Verification::Measured { .. }));
    assert_eq!(advice.recommendations.len(), 1, "{:#?}", advice.rejected);
    let spec = &advice.recommendations[0].spec;
    assert_eq!(spec.keys[0].sql, "\"customer_id\"");
    let effect = &advice.recommendations[0].effects[0];
    assert!(effect.p95_before.is_some() && effect.p95_after.is_some());
    for samples in [&effect.samples_before_us, &effect.samples_after_us] {
        assert!(
            !samples.is_empty() && samples.len() <= 2_000,
            "the measured latencies are kept for the report: {}",
            samples.len()
        );
    }
}

#[test]
fn tiny_table_gets_nothing() {
    let mut client = database(
        "CREATE TABLE tiny (id int PRIMARY KEY, kind text); INSERT INTO tiny SELECT g, 'k' || g FROM generate_series(1, 100) g;",
    );
    let advice = run(
        &mut client,
        r#"[[query]]
name = "tiny"
sql = "SELECT * FROM tiny WHERE kind = 'k5'""#,
        false,
    );
    assert!(advice.recommendations.is_empty());
    assert!(
        rejected_reasons(&advice)
            .iter()
            .all(|r| matches!(r, RejectReason::TinyTable { .. }))
    );
}

const ORDERS_IDX: &str = "ON \"public\".\"orders\" USING btree";

#[test]
fn two_equalities() {
    let mut client = database(
        "CREATE TABLE pairs (id bigint PRIMARY KEY, a int NOT NULL, b int NOT NULL, note text);
         INSERT INTO pairs SELECT g, g % 100, g % 97, 'n' FROM generate_series(1, 200000) g;",
    );
    let advice = run(
        &mut client,
        &query(
            "ab",
            "SELECT id FROM pairs WHERE a = $1 AND b = $2",
            "{ value = 5 }, { value = 7 }",
        ),
        false,
    );
    assert_eq!(decided(&advice).len(), 1, "{:#?}", advice.rejected);
    let keys: Vec<&str> = advice.recommendations[0]
        .spec
        .keys
        .iter()
        .map(|k| k.sql.as_str())
        .collect();
    assert_eq!(keys, ["\"a\"", "\"b\""], "more distinct values lead");
}

#[test]
fn equality_plus_range() {
    let mut client = database(
        "CREATE TABLE events (id bigint PRIMARY KEY, kind int NOT NULL, created_at timestamptz NOT NULL);
         INSERT INTO events SELECT g, g % 50, now() - (((g * 7919) % 200000) || ' minutes')::interval FROM generate_series(1, 200000) g;",
    );
    let advice = run(
        &mut client,
        &query(
            "recent_kind",
            "SELECT id FROM events WHERE kind = $1 AND created_at >= now() - interval '2 days'",
            "{ value = 7 }",
        ),
        false,
    );
    assert_decided(
        &advice,
        &["ON \"public\".\"events\" USING btree (\"kind\", \"created_at\")"],
    );
}

#[test]
fn equality_order_by_limit() {
    let mut client = database(
        "CREATE TABLE tickets (id bigint PRIMARY KEY, team int NOT NULL, created_at timestamptz NOT NULL, subject text NOT NULL);
         INSERT INTO tickets SELECT g, g % 200, now() - (g || ' minutes')::interval, 's' || g FROM generate_series(1, 200000) g;",
    );
    let advice = run(
        &mut client,
        &query(
            "latest",
            "SELECT id, subject FROM tickets WHERE team = $1 ORDER BY created_at DESC LIMIT 10",
            "{ value = 3 }",
        ),
        true,
    );
    let spec = &advice.recommendations.first().expect("an index").spec;
    let keys: Vec<(&str, bool)> = spec
        .keys
        .iter()
        .map(|k| (k.sql.as_str(), k.descending))
        .collect();
    assert_eq!(
        keys,
        [("\"team\"", false), ("\"created_at\"", true)],
        "{:#?}",
        advice.rejected
    );
}

#[test]
fn join_columns_on_both_sides() {
    let mut client = database(&format!(
        "{ORDERS}
         CREATE TABLE customers (id int PRIMARY KEY, email text NOT NULL, name text NOT NULL);
         INSERT INTO customers SELECT g, 'c' || g || '@x.org', 'n' || g FROM generate_series(0, 19999) g;"
    ));
    let advice = run(
        &mut client,
        &query(
            "orders_of_email",
            "SELECT o.id, o.total FROM customers c JOIN orders o ON o.customer_id = c.id WHERE c.email = $1",
            "{ value = 'c42@x.org' }",
        ),
        false,
    );
    let decided = decided(&advice);
    assert!(
        decided
            .iter()
            .any(|d| d.starts_with("ON \"public\".\"customers\" USING btree (\"email\")")),
        "{decided:?}"
    );
    assert!(
        decided
            .iter()
            .any(|d| d.starts_with(&format!("{ORDERS_IDX} (\"customer_id\")"))),
        "{decided:?}"
    );
}

#[test]
fn group_by_with_filter() {
    let mut client = database(ORDERS);
    let advice = run(
        &mut client,
        &query(
            "per_status",
            "SELECT status, count(*) FROM orders WHERE customer_id = $1 GROUP BY status",
            "{ value = 9 }",
        ),
        false,
    );
    let first = decided(&advice).into_iter().next().expect("an index");
    assert!(
        first.starts_with(&format!("{ORDERS_IDX} (\"customer_id\"")),
        "{first}"
    );
}

#[test]
fn in_list() {
    let mut client = database(ORDERS);
    let advice = run(
        &mut client,
        &query(
            "some",
            "SELECT id FROM orders WHERE customer_id IN (1, 2, 3)",
            "",
        ),
        false,
    );
    let first = decided(&advice).into_iter().next().expect("an index");
    assert!(
        first.starts_with(&format!("{ORDERS_IDX} (\"customer_id\")")),
        "{first}"
    );
}

#[test]
fn any_array_parameter() {
    let mut client = database(ORDERS);
    let advice = run(
        &mut client,
        &query(
            "any",
            "SELECT id FROM orders WHERE customer_id = ANY($1::int[])",
            "{ value = [1, 2, 3] }",
        ),
        false,
    );
    let first = decided(&advice).into_iter().next().expect("an index");
    assert!(
        first.starts_with(&format!("{ORDERS_IDX} (\"customer_id\")")),
        "{first}"
    );
}

#[test]
fn or_branches_get_one_index_each() {
    let mut client = database(ORDERS);
    let advice = run(
        &mut client,
        &query(
            "either",
            "SELECT id FROM orders WHERE customer_id = $1 OR email = $2",
            "{ value = 5 }, { value = 'User77@Example.com' }",
        ),
        false,
    );
    let decided = decided(&advice);
    assert!(
        decided
            .iter()
            .any(|d| d.starts_with(&format!("{ORDERS_IDX} (\"customer_id\")"))),
        "{decided:?} {:#?}",
        advice.rejected
    );
    assert!(
        decided
            .iter()
            .any(|d| d.starts_with(&format!("{ORDERS_IDX} (\"email\")"))),
        "{decided:?}"
    );
}

#[test]
fn expression_lower() {
    let mut client = database(ORDERS);
    let advice = run(
        &mut client,
        &query(
            "login",
            "SELECT id FROM orders WHERE lower(email) = lower($1)",
            "{ value = 'user5@example.com' }",
        ),
        false,
    );
    let first = decided(&advice).into_iter().next().expect("an index");
    assert!(
        first.starts_with(&format!("{ORDERS_IDX} ((lower(email)))")),
        "{first}"
    );
}

#[test]
fn expression_jsonb_key() {
    let mut client = database(ORDERS);
    let advice = run(
        &mut client,
        &query(
            "kind",
            "SELECT id FROM orders WHERE payload->>'kind' = $1",
            "{ value = 'k42' }",
        ),
        false,
    );
    let first = decided(&advice).into_iter().next().expect("an index");
    assert!(
        first.starts_with(&format!("{ORDERS_IDX} ((payload ->> 'kind'))")),
        "{first}"
    );
}

#[test]
fn partial_index_on_skewed_value() {
    let mut client = database(ORDERS);
    // The shape is decided by what-if: the measured gain here (a 2% slice vs a seq scan,
    // ~3.5×) sits inside the noise of a loaded 2-core CI machine, where verification rightly
    // refuses to call it proven (found by CI). single_equality and equality_order_by_limit
    // cover measured verification with effects no noise can hide.
    let advice = run(
        &mut client,
        &query(
            "pending",
            "SELECT id, created_at FROM orders WHERE status = 'pending'",
            "",
        ),
        false,
    );
    let decided = decided(&advice);
    assert_eq!(decided.len(), 1, "{:#?}", advice.rejected);
    assert!(
        decided[0].ends_with("WHERE \"status\" = 'pending'"),
        "{decided:?}"
    );
}

#[test]
fn skewed_parameter_rare_value_gets_an_index() {
    let mut client = database(ORDERS);
    let advice = run(
        &mut client,
        &query(
            "by_status",
            "SELECT id FROM orders WHERE status = $1",
            "{ value = 'pending' }",
        ),
        false,
    );
    assert_eq!(decided(&advice).len(), 1, "{:#?}", advice.rejected);
    let spec = &advice.recommendations[0].spec;
    assert!(
        spec.predicate.as_deref() == Some("\"status\" = 'pending'")
            || spec.keys[0].sql == "\"status\""
    );
}

#[test]
fn skewed_parameter_common_value_gets_nothing() {
    let mut client = database(ORDERS);
    let advice = run(
        &mut client,
        &query(
            "by_status",
            "SELECT id FROM orders WHERE status = $1",
            "{ value = 'done' }",
        ),
        false,
    );
    assert!(advice.recommendations.is_empty(), "{:?}", decided(&advice));
    assert!(
        rejected_reasons(&advice)
            .iter()
            .all(|r| matches!(r, RejectReason::NoPlanImprovement { .. }))
    );
}

#[test]
fn low_selectivity_gets_nothing() {
    let mut client = database(ORDERS);
    let advice = run(
        &mut client,
        &query("flagged", "SELECT * FROM orders WHERE flag", ""),
        false,
    );
    let advice2 = run(
        &mut client,
        &query("eu", "SELECT * FROM orders WHERE region = 'eu'", ""),
        false,
    );
    assert!(
        advice.recommendations.is_empty() && advice2.recommendations.is_empty(),
        "{:?}",
        decided(&advice2)
    );
    assert!(!advice2.rejected.is_empty());
    assert!(
        rejected_reasons(&advice2)
            .iter()
            .all(|r| matches!(r, RejectReason::NoPlanImprovement { .. }))
    );
}

#[test]
fn already_covered_by_existing_index() {
    let mut client = database(&format!(
        "{ORDERS}\nCREATE INDEX orders_customer_created ON orders (customer_id, created_at);"
    ));
    let advice = run(
        &mut client,
        &query(
            "by_customer",
            "SELECT * FROM orders WHERE customer_id = $1",
            "{ value = 3 }",
        ),
        false,
    );
    assert!(advice.recommendations.is_empty(), "{:?}", decided(&advice));
    assert!(
        rejected_reasons(&advice).contains(&RejectReason::AlreadyCovered {
            index: "orders_customer_created".into()
        }),
        "{:#?}",
        advice.rejected
    );
}

#[test]
fn through_a_view() {
    let mut client = database(&format!(
        "{ORDERS}\nCREATE VIEW eu_orders AS SELECT id, customer_id, total FROM orders WHERE region = 'eu';"
    ));
    let advice = run(
        &mut client,
        &query(
            "eu_customer",
            "SELECT * FROM eu_orders WHERE customer_id = $1",
            "{ value = 4 }",
        ),
        false,
    );
    let first = decided(&advice).into_iter().next().expect("an index");
    assert!(
        first.starts_with(&format!("{ORDERS_IDX} (\"customer_id\"")),
        "{first}"
    );
}

#[test]
fn through_a_cte() {
    let mut client = database(ORDERS);
    let advice = run(
        &mut client,
        &query(
            "cte",
            "WITH mine AS (SELECT * FROM orders WHERE customer_id = $1) SELECT count(*), sum(total) FROM mine",
            "{ value = 4 }",
        ),
        false,
    );
    let first = decided(&advice).into_iter().next().expect("an index");
    assert!(
        first.starts_with(&format!("{ORDERS_IDX} (\"customer_id\"")),
        "{first}"
    );
}

#[test]
fn through_a_subquery_alias() {
    let mut client = database(ORDERS);
    let advice = run(
        &mut client,
        &query(
            "sub",
            "SELECT s.cid FROM (SELECT customer_id AS cid, total FROM orders) s WHERE s.cid = $1",
            "{ value = 4 }",
        ),
        false,
    );
    let first = decided(&advice).into_iter().next().expect("an index");
    assert!(
        first.starts_with(&format!("{ORDERS_IDX} (\"customer_id\"")),
        "{first}"
    );
}

#[test]
fn materialized_view() {
    let mut client = database(&format!(
        "{ORDERS}\nCREATE MATERIALIZED VIEW customer_totals AS SELECT customer_id, sum(total) AS total, count(*) AS n FROM orders GROUP BY customer_id;
         INSERT INTO orders SELECT g, g % 20000, 'done', 'eu', now(), 1, 'x', '{{}}', true FROM generate_series(200001, 300000) g;
         REFRESH MATERIALIZED VIEW customer_totals;"
    ));
    client.batch_execute("CREATE MATERIALIZED VIEW big_totals AS SELECT id, customer_id, total FROM orders; ANALYZE big_totals").expect("matview");
    let advice = run(
        &mut client,
        &query(
            "mv",
            "SELECT total FROM big_totals WHERE customer_id = $1",
            "{ value = 11 }",
        ),
        false,
    );
    let first = decided(&advice).into_iter().next().expect("an index");
    assert!(
        first.starts_with("ON \"public\".\"big_totals\" USING btree (\"customer_id\""),
        "{first}"
    );
}

#[test]
fn inside_a_sql_function() {
    let mut client = database(&format!(
        "{ORDERS}\nCREATE FUNCTION orders_of(p_customer int) RETURNS SETOF orders LANGUAGE sql STABLE AS $$ SELECT * FROM orders WHERE customer_id = p_customer $$;"
    ));
    let advice = run(
        &mut client,
        &query("fn", "SELECT id FROM orders_of($1)", "{ value = 4 }"),
        false,
    );
    let first = decided(&advice).into_iter().next().expect("an index");
    assert!(
        first.starts_with(&format!("{ORDERS_IDX} (\"customer_id\"")),
        "{first}"
    );
}

#[test]
fn inside_a_plpgsql_function() {
    let mut client = database(&format!(
        "{ORDERS}\nCREATE FUNCTION find_by_email(p_email text) RETURNS SETOF orders LANGUAGE plpgsql STABLE AS $$
         BEGIN
           RETURN QUERY SELECT * FROM orders o WHERE o.email = p_email;
         END $$;"
    ));
    let advice = run(
        &mut client,
        &query(
            "plpgsql",
            "SELECT * FROM find_by_email($1)",
            "{ value = 'User8@Example.com' }",
        ),
        false,
    );
    let first = decided(&advice).into_iter().next().expect("an index");
    assert!(
        first.starts_with(&format!("{ORDERS_IDX} (\"email\"")),
        "{first}"
    );
    assert!(
        advice.recommendations[0]
            .serves
            .iter()
            .any(|s| s.contains("(fn find_by_email)"))
    );
}

#[test]
fn rls_policy_column_under_app_role() {
    let mut client = database(
        "CREATE TABLE docs (id bigint PRIMARY KEY, owner_id int NOT NULL, title text NOT NULL);
         INSERT INTO docs SELECT g, g % 5000, 't' || g FROM generate_series(1, 200000) g;
         ALTER TABLE docs ENABLE ROW LEVEL SECURITY;
         CREATE POLICY own ON docs FOR SELECT USING (owner_id = (current_setting('request.jwt.claims', true)::jsonb ->> 'sub')::int);
         DO $$ BEGIN
           IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'app_user') THEN CREATE ROLE app_user; END IF;
         END $$;
         GRANT SELECT ON docs TO app_user;",
    );
    let advice = run(
        &mut client,
        "[personas.app]\nrole = \"app_user\"\nclaims = { sub = \"42\" }\n\n[[query]]\nname = \"my_docs\"\npersona = \"app\"\nsql = \"SELECT id, title FROM docs\"",
        true,
    );
    let first = first_decided(&advice);
    assert!(
        first.starts_with("ON \"public\".\"docs\" USING btree (\"owner_id\""),
        "{first}"
    );
}

#[test]
fn foreign_key_hit_by_cascading_delete() {
    let mut client = database(
        "CREATE TABLE parents (id int PRIMARY KEY, name text);
         INSERT INTO parents SELECT g, 'p' FROM generate_series(1, 20000) g;
         CREATE TABLE children (id bigint PRIMARY KEY, parent_id int NOT NULL REFERENCES parents ON DELETE CASCADE, v int);
         INSERT INTO children SELECT g, 1 + g % 20000, g FROM generate_series(1, 200000) g;",
    );
    let advice = run(
        &mut client,
        "[[query]]\nname = \"remove_parent\"\nkind = \"write\"\nsql = \"DELETE FROM parents WHERE id = $1\"\nparams = [{ value = 7 }]",
        false,
    );
    let first = decided(&advice).into_iter().next().expect("an index");
    assert!(
        first.starts_with("ON \"public\".\"children\" USING btree (\"parent_id\")"),
        "{first}"
    );
}

#[test]
fn partitioned_table() {
    let mut client = database(
        "CREATE TABLE readings (sensor_id int NOT NULL, at timestamptz NOT NULL, value float8) PARTITION BY RANGE (at);
         CREATE TABLE readings_old PARTITION OF readings FOR VALUES FROM ('2000-01-01') TO ('2026-01-01');
         CREATE TABLE readings_new PARTITION OF readings FOR VALUES FROM ('2026-01-01') TO ('2100-01-01');
         INSERT INTO readings SELECT g % 3000, timestamptz '2025-06-01' + (g || ' minutes')::interval, g FROM generate_series(1, 300000) g;",
    );
    let advice = run(
        &mut client,
        &query(
            "sensor",
            "SELECT at, value FROM readings WHERE sensor_id = $1",
            "{ value = 12 }",
        ),
        true,
    );
    assert!(
        advice.recommendations[0].size_bytes.unwrap_or(0) > 0,
        "the size sums the partitions' indexes"
    );
    let first = decided(&advice).into_iter().next().expect("an index");
    assert!(
        first.starts_with("ON \"public\".\"readings\" USING btree (\"sensor_id\""),
        "{first} {:#?}",
        advice.rejected
    );
    // PostgreSQL refuses CREATE INDEX CONCURRENTLY on a partitioned table, and a migration
    // naming today's partitions breaks wherever they differ (found in the dashboard's 0011):
    // the statement builds on the parent; the online per-partition form is a comment.
    let recommendation = &advice.recommendations[0];
    assert_eq!(
        recommendation.partitions,
        ["public.readings_new", "public.readings_old"]
    );
    let statements: Vec<&str> = recommendation
        .ddl
        .lines()
        .filter(|line| !line.starts_with("--"))
        .collect();
    assert_eq!(statements.len(), 1, "{}", recommendation.ddl);
    assert!(
        statements[0].starts_with("CREATE INDEX IF NOT EXISTS")
            && statements[0].contains(" ON \"public\".\"readings\" USING btree"),
        "{}",
        recommendation.ddl
    );
    assert!(
        recommendation
            .ddl
            .contains("--   CREATE INDEX CONCURRENTLY IF NOT EXISTS")
            && recommendation
                .ddl
                .contains("ATTACH PARTITION \"public\".\"readings_old_"),
        "the online alternative is in the comments: {}",
        recommendation.ddl
    );
    let (up, down) =
        pgperf::advise::ddl::migration_pair(&advice.recommendations, &advice.statistics);
    let migrations = pgperf::migrate::pair_files(vec![
        ("0001_pgperf_indexes.sql".into(), up),
        ("0001_pgperf_indexes.rollback.sql".into(), down),
    ])
    .expect("a valid pair");
    pgperf::migrate::up(&mut client, &migrations, None).expect("the migration applies");
    let valid: Vec<(String, bool)> = client
        .query(
            "SELECT c.relname::text, i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid \
             WHERE i.indrelid IN (SELECT oid FROM pg_class WHERE relname LIKE 'readings%') ORDER BY 1",
            &[],
        )
        .expect("indexes")
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect();
    assert_eq!(
        valid.len(),
        3,
        "parent and both partitions indexed: {valid:?}"
    );
    assert!(
        valid.iter().all(|(_, ok)| *ok),
        "every index valid, parent attached: {valid:?}"
    );
    pgperf::migrate::down(&mut client, &migrations, 1).expect("the rollback applies");
    let left: i64 = client
        .query_one(
            "SELECT count(*) FROM pg_index WHERE indrelid IN (SELECT oid FROM pg_class WHERE relname LIKE 'readings%')",
            &[],
        )
        .expect("count")
        .get(0);
    assert_eq!(
        left, 0,
        "the rollback drops the partitions' indexes with the parent's"
    );
    // The same migration on another set of partitions (retention dropped one, a new one came).
    client
        .batch_execute(
            "DROP TABLE readings_old;
             CREATE TABLE readings_future PARTITION OF readings FOR VALUES FROM ('2100-01-01') TO ('2200-01-01');",
        )
        .expect("other partitions");
    pgperf::migrate::up(&mut client, &migrations, None)
        .expect("the migration applies whatever partitions exist");
    let indexed: i64 = client
        .query_one(
            "SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid \
             WHERE c.relname IN ('readings', 'readings_new', 'readings_future') AND i.indisvalid",
            &[],
        )
        .expect("count")
        .get(0);
    assert_eq!(indexed, 3, "parent and both current partitions indexed");
}

#[test]
fn mixed_case_quoted_schema_and_table() {
    let mut client = database(
        "CREATE SCHEMA \"Sales Data\";
         CREATE TABLE \"Sales Data\".\"Order Lines\" (\"Id\" bigint PRIMARY KEY, \"Customer Id\" int NOT NULL, \"select\" text);
         INSERT INTO \"Sales Data\".\"Order Lines\" SELECT g, g % 20000, 'x' FROM generate_series(1, 200000) g;",
    );
    let advice = run(
        &mut client,
        &query(
            "mixed",
            "SELECT \"Id\", \"select\" FROM \"Sales Data\".\"Order Lines\" l WHERE l.\"Customer Id\" = $1",
            "{ value = 5 }",
        ),
        true,
    );
    let first = decided(&advice).into_iter().next().expect("an index");
    assert!(
        first.starts_with("ON \"Sales Data\".\"Order Lines\" USING btree (\"Customer Id\""),
        "{first}"
    );
}

#[test]
fn comments_and_literals_with_semicolons_and_dashes() {
    let mut client = database(ORDERS);
    let sql = "SELECT id /* ; not the end */ FROM orders -- a comment; with a semicolon\n WHERE email = 'a;b -- not a comment' OR email = $1";
    let advice = run(
        &mut client,
        &query("tricky", sql, "{ value = 'User9@Example.com' }"),
        false,
    );
    let first = decided(&advice).into_iter().next().expect("an index");
    assert!(
        first.starts_with(&format!("{ORDERS_IDX} (\"email\"")),
        "{first}"
    );
}

#[test]
fn statements_without_values_use_a_generic_plan_and_say_so() {
    let mut client = database(&format!(
        "{ORDERS}\nCREATE FUNCTION count_for(p_customer int) RETURNS SETOF bigint LANGUAGE plpgsql STABLE AS $$
         BEGIN
           RETURN QUERY SELECT count(*) FROM orders WHERE customer_id = p_customer;
         END $$;"
    ));
    let advice = run(
        &mut client,
        &query("counted", "SELECT * FROM count_for($1)", "{ value = 4 }"),
        false,
    );
    assert_eq!(
        advice.queries[0].plan_mode,
        pgperf::model::advice::PlanMode::Custom
    );
    let note = advice
        .notes
        .iter()
        .find(|n| n.contains("generic plan"))
        .expect("a note");
    assert!(note.contains("counted (fn count_for)"), "{note}");
    let first = decided(&advice).into_iter().next().expect("an index");
    assert!(
        first.starts_with(&format!("{ORDERS_IDX} (\"customer_id\"")),
        "{first}"
    );
}

#[test]
fn one_multi_column_index_serves_two_queries() {
    let mut client = database(
        "CREATE TABLE tickets (id bigint PRIMARY KEY, team int NOT NULL, created_at timestamptz NOT NULL, subject text NOT NULL);
         INSERT INTO tickets SELECT g, g % 200, now() - (g || ' minutes')::interval, 's' || g FROM generate_series(1, 200000) g;",
    );
    let workload = format!(
        "{}{}",
        query(
            "by_team",
            "SELECT id, subject FROM tickets WHERE team = $1",
            "{ value = 3 }"
        ),
        query(
            "latest",
            "SELECT id, subject FROM tickets WHERE team = $1 ORDER BY created_at DESC LIMIT 10",
            "{ value = 3 }"
        )
    );
    let advice = run(&mut client, &workload, false);
    assert_eq!(advice.recommendations.len(), 1, "{:?}", decided(&advice));
    let keys: Vec<&str> = advice.recommendations[0]
        .spec
        .keys
        .iter()
        .map(|k| k.sql.as_str())
        .collect();
    assert_eq!(keys[0], "\"team\"");
    assert!(
        rejected_reasons(&advice)
            .iter()
            .any(|r| matches!(r, RejectReason::Superseded { .. }))
    );
}

#[test]
fn budget_and_max_columns() {
    let mut client = database(ORDERS);
    let workload = query(
        "recent",
        "SELECT id FROM orders WHERE customer_id = $1 AND created_at > now() - interval '1 day'",
        "{ value = 3 }",
    );
    // One page: since a BRIN on the (physically ordered) created_at is a candidate, 64 kB fits
    // an index (BRIN needs 3 pages), so "tight" is tighter than any index.
    let tight = AdviseOptions {
        budget_bytes: Some(8 * 1024),
        verify: None,
        ..AdviseOptions::default()
    };
    let advice = advise(&mut client, &workload_of(&workload), &tight).expect("advise");
    assert!(advice.recommendations.is_empty());
    assert!(
        rejected_reasons(&advice)
            .iter()
            .any(|r| matches!(r, RejectReason::OverBudget { .. }))
    );
    let note = advice.queries[0].note.clone().unwrap_or_default();
    assert!(
        note.starts_with(
            "candidates refused for the storage budget (needs 1 MB more): raise --budget-mb"
        ),
        "a budget refusal is not \"no index helps\": {note}"
    );
    let narrow = AdviseOptions {
        max_columns: 1,
        verify: None,
        ..AdviseOptions::default()
    };
    let advice = advise(&mut client, &workload_of(&workload), &narrow).expect("advise");
    assert!(
        advice
            .recommendations
            .iter()
            .all(|r| r.spec.keys.len() == 1)
    );
}

fn workload_of(text: &str) -> Workload {
    workload(text)
}

#[test]
fn existing_unused_and_duplicate_indexes_are_reported_not_dropped() {
    let mut client = database(&format!(
        "{ORDERS}\nCREATE INDEX orders_region ON orders (region);
         CREATE INDEX orders_cust ON orders (customer_id);
         CREATE INDEX orders_cust_created ON orders (customer_id, created_at);"
    ));
    let advice = run(
        &mut client,
        &query(
            "by_customer",
            "SELECT * FROM orders WHERE customer_id = $1",
            "{ value = 3 }",
        ),
        false,
    );
    let findings: Vec<(String, String)> = advice
        .existing_indexes
        .iter()
        .map(|f| (f.index.clone(), format!("{:?}", f.issue)))
        .collect();
    assert!(
        findings.contains(&(
            "orders_cust".into(),
            "Duplicate { of: \"orders_cust_created\" }".into()
        )),
        "{findings:?}"
    );
    assert!(
        findings
            .iter()
            .any(|(i, issue)| i == "orders_region" && issue == "Unused"),
        "{findings:?}"
    );
    let count: i64 = client
        .query_one(
            "SELECT count(*) FROM pg_indexes WHERE tablename = 'orders'",
            &[],
        )
        .expect("count")
        .get(0);
    assert_eq!(
        count, 4,
        "pgperf never drops indexes and leaves nothing behind"
    );
}

#[test]
fn without_hypopg_real_builds_in_rolled_back_transactions() {
    let mut client = database(&format!("{ORDERS}\nDROP EXTENSION IF EXISTS hypopg;"));
    let advice = run(
        &mut client,
        &query(
            "by_customer",
            "SELECT id FROM orders WHERE customer_id = $1",
            "{ value = 3 }",
        ),
        false,
    );
    assert_eq!(
        advice.what_if,
        pgperf::model::advice::WhatIfMethod::RealBuild
    );
    assert!(
        advice
            .notes
            .iter()
            .any(|n| n.contains("HypoPG is not installed"))
    );
    let first = decided(&advice).into_iter().next().expect("an index");
    assert!(
        first.starts_with(&format!("{ORDERS_IDX} (\"customer_id\"")),
        "{first}"
    );
    let count: i64 = client
        .query_one(
            "SELECT count(*) FROM pg_indexes WHERE tablename = 'orders'",
            &[],
        )
        .expect("count")
        .get(0);
    assert_eq!(count, 1, "every trial build was rolled back");
}

#[test]
fn whole_table_aggregate_gets_a_written_remedy_instead_of_an_index() {
    let mut client = database(ORDERS);
    let advice = run(
        &mut client,
        &query(
            "revenue_by_region",
            "SELECT region, sum(total) FROM orders GROUP BY region",
            "",
        ),
        false,
    );
    assert!(advice.recommendations.is_empty(), "{:?}", decided(&advice));
    let note = advice.queries[0].note.as_deref().expect("a remedy");
    assert!(note.contains("rollup"), "{note}");
    assert!(
        note.contains("100% of its 200000 rows"),
        "the number that shows it: {note}"
    );
}

#[test]
fn sql_built_at_run_time_inside_a_plpgsql_function() {
    // No parse of the body can see the statement: advise runs the query once and reads what
    // it executed from pg_stat_statements (track = all).
    let mut client = database(&format!(
        "{ORDERS}\nCREATE EXTENSION IF NOT EXISTS pg_stat_statements;
         CREATE FUNCTION find_dynamic(p_email text) RETURNS SETOF orders LANGUAGE plpgsql STABLE AS $$
         BEGIN
           RETURN QUERY EXECUTE format('SELECT * FROM %I o WHERE o.email = $1', 'orders') USING p_email;
         END $$;"
    ));
    let advice = run(
        &mut client,
        &query(
            "dynamic",
            "SELECT * FROM find_dynamic($1)",
            "{ value = 'User8@Example.com' }",
        ),
        false,
    );
    let first = first_decided(&advice);
    assert!(
        first.starts_with(&format!("{ORDERS_IDX} (\"email\"")),
        "{first}"
    );
    assert!(
        advice.recommendations[0]
            .serves
            .iter()
            .any(|s| s.contains("(run-time SQL)")),
        "{:?}",
        advice.recommendations[0].serves
    );
}

#[test]
fn partial_index_seen_through_a_view_under_rls() {
    // HypoPG 1.3 ignores a hypothetical partial index whose table is not the query's first
    // range-table entry (here: behind a view, under a policy); with verification allowed the
    // set is built for real, so the partial index is costed at all.
    let mut client = database(&format!(
        "{ORDERS}
         ALTER TABLE orders ENABLE ROW LEVEL SECURITY;
         CREATE POLICY everyone ON orders FOR SELECT USING (region <> 'none');
         CREATE VIEW pending_orders WITH (security_invoker = true) AS
           SELECT id, customer_id, created_at FROM orders WHERE status = 'pending';
         DO $$ BEGIN
           IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'app_user') THEN CREATE ROLE app_user; END IF;
         END $$;
         GRANT SELECT ON orders, pending_orders TO app_user;"
    ));
    let advice = run(
        &mut client,
        "[personas.app]\nrole = \"app_user\"\n\n[[query]]\nname = \"queue\"\npersona = \"app\"\nsql = \"SELECT * FROM pending_orders ORDER BY created_at LIMIT 50\"",
        true,
    );
    let partial_rejected_as_useless = advice.rejected.iter().any(|r| {
        r.spec.predicate.is_some() && matches!(r.reason, RejectReason::NoPlanImprovement { .. })
    });
    assert!(!partial_rejected_as_useless, "{:#?}", advice.rejected);
    let served = decided(&advice);
    assert!(
        served
            .iter()
            .any(|d| d.ends_with("WHERE \"status\" = 'pending'")),
        "{served:?} {:#?}",
        advice.rejected
    );
}

#[test]
fn a_query_slower_than_the_probe_limit_is_still_measured() {
    let mut client = database(ORDERS);
    let every_query_is_slow = AdviseOptions {
        verify: Some(VerifyOptions {
            executions: 60,
            max_execution_ms: 0,
            slow_side_budget_ms: 1,
            ..VerifyOptions::default()
        }),
        ..AdviseOptions::default()
    };
    let advice = advise(
        &mut client,
        &workload(&query(
            "by_customer",
            "SELECT id, total FROM orders WHERE customer_id = $1",
            "{ value = 42 }",
        )),
        &every_query_is_slow,
    )
    .expect("advise runs");
    assert_eq!(advice.recommendations.len(), 1, "{:#?}", advice.rejected);
    let effect = &advice.recommendations[0].effects[0];
    let before = effect.p95_before.as_ref().expect("measured before");
    assert!(
        effect.samples_before_us.len() < 59,
        "a slow side gets what fits in its time budget: {}",
        effect.samples_before_us.len()
    );
    assert!(before.ci_low_us.is_some() && before.ci_high_us.is_none());
    assert!(
        (12..59).contains(&effect.samples_after_us.len()),
        "a slow \"after\" side too, enough to compare medians both ways: {}",
        effect.samples_after_us.len()
    );
    let evidence = effect.evidence.as_ref().expect("evidence recorded");
    assert_eq!(
        evidence.compared_on,
        Some(pgperf::model::advice::Quantile::P50)
    );
}

/// An index the planner walks for `ORDER BY … LIMIT`, expecting the rows it filters for to
/// turn up early, while they all sit at the other end: one query gets faster, the other 10×
/// slower than with the index it used before. Verification must catch the second (its first
/// look cannot: showing a slowdown takes the upper bound of a full "before" side), drop the
/// index and give what it set aside a second round. One key column at most, so that
/// `(kind, created_at)`, which would serve both, is not a candidate.
#[test]
fn an_index_that_slows_another_query_is_dropped() {
    let mut client = database(
        "CREATE TABLE events (
           id bigint PRIMARY KEY, kind int NOT NULL, created_at timestamptz NOT NULL,
           pad text NOT NULL);
         INSERT INTO events
         SELECT g, CASE WHEN g > 291000 THEN 1 ELSE 2 + g % 40 END,
                timestamptz '2026-01-01 00:00:00+00' + g * interval '1 second', repeat('x', 100)
         FROM generate_series(1, 300000) g;
         CREATE INDEX events_kind ON events (kind);",
    );
    let toml_text = [
        query(
            "recent",
            "SELECT id, created_at FROM events WHERE created_at >= $1 ORDER BY created_at LIMIT 20",
            "{ value = '2026-01-04 10:00:00+00' }",
        ),
        query(
            "first_of_kind",
            "SELECT id FROM events WHERE kind = $1 ORDER BY created_at LIMIT 10",
            "{ value = 1 }",
        ),
    ]
    .concat();
    let single_columns = AdviseOptions {
        max_columns: 1,
        ..options(true)
    };
    let advice = advise(&mut client, &workload(&toml_text), &single_columns).expect("advise runs");
    let created_at = "ON \"public\".\"events\" USING btree (\"created_at\")";
    let plain = advice
        .rejected
        .iter()
        .find(|r| pgperf::advise::ddl::definition(&r.spec) == created_at)
        .unwrap_or_else(|| panic!("{:#?} {:#?}", advice.recommendations, advice.rejected));
    assert_eq!(
        plain.reason,
        RejectReason::SlowsOtherQuery {
            query: "first_of_kind".into()
        },
        "{}",
        plain.explanation
    );
    // Its covering variant, set aside for it and so retried in a second round, walks the index
    // the same way.
    assert!(
        advice
            .notes
            .iter()
            .any(|n| n.starts_with("second verification round")),
        "{:#?}",
        advice.notes
    );
    assert!(
        decided(&advice)
            .iter()
            .all(|d| !d.starts_with(created_at.trim_end_matches(')'))),
        "{:#?}",
        advice.recommendations
    );
}
