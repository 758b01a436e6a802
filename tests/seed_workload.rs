//! `workloads/dashboard.toml` against a seeded database: every query runs without error under
//! its persona (SET ROLE + request.jwt.claims, as PostgREST does) with drawn parameters, and
//! returns rows; every RPC and tile view of the schema is in the workload.

use pgperf::embedded::{Cluster, ClusterOptions};
use pgperf::pg::{TextParam, quote_ident};
use pgperf::seed::{PERSONAS, SeedOptions, seed};
use pgperf::workload::{ParamSpec, QuerySpec, WorkloadFile};
use postgres::types::ToSql;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const WORKLOAD: &str = include_str!("../workloads/dashboard.toml");
/// Parameter draws per query: each must run; at least one must return rows.
const DRAWS: usize = 3;
/// Queries that may legitimately return nothing on a small seeded database, with why.
const MAY_BE_EMPTY: &[(&str, &str)] = &[];

fn workload() -> WorkloadFile {
    toml::from_str(WORKLOAD).expect("workloads/dashboard.toml parses")
}

fn seeded_client(cluster: &Cluster) -> postgres::Client {
    cluster.create_database("dash").expect("create database");
    let mut client = cluster.connect("dash").expect("connect");
    let set = pgperf::migrate::pair_files(pgperf::bundled::migration_files())
        .expect("bundled migrations pair up");
    pgperf::migrate::up(&mut client, &set, None).expect("migrations apply");
    let options = SeedOptions {
        scale: 0.05,
        ..SeedOptions::default()
    };
    seed(&mut client, &options).expect("seeding succeeds");
    client
}

fn value_text(value: &toml::Value) -> String {
    match value {
        toml::Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// A minimal stand-in for the bench's parameter generator: same meaning, simpler draws.
fn draw(client: &mut postgres::Client, rng: &mut ChaCha8Rng, spec: &ParamSpec) -> Option<String> {
    match spec {
        ParamSpec::Value { value } => Some(value_text(value)),
        ParamSpec::OneOf { one_of, .. } => {
            Some(value_text(&one_of[rng.gen_range(0..one_of.len())]))
        }
        ParamSpec::IntBetween {
            int_between: [min, max],
        } => Some(rng.gen_range(*min..=*max).to_string()),
        ParamSpec::FloatBetween {
            float_between: [min, max],
        } => Some(rng.gen_range(*min..*max).to_string()),
        ParamSpec::Ago { ago, jitter } => {
            let row = client
                .query_one(
                    "SELECT to_char((now() - $1::text::interval - $2::float8 * $3::text::interval) \
                     AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')",
                    &[
                        ago,
                        &rng.r#gen::<f64>(),
                        &jitter.clone().unwrap_or_else(|| "0 s".into()),
                    ],
                )
                .expect("ago is an interval");
            Some(row.get(0))
        }
        ParamSpec::Sample { sample, limit } => {
            let sql = format!(
                "SELECT v::text FROM ({sample}) s(v) LIMIT {}",
                limit.unwrap_or(1000)
            );
            let rows = client
                .query(&sql, &[])
                .unwrap_or_else(|e| panic!("sample {sample}: {e}"));
            assert!(!rows.is_empty(), "sample returned nothing: {sample}");
            rows[rng.gen_range(0..rows.len())].get(0)
        }
        ParamSpec::Recorded { recorded, .. } => {
            Some(value_text(&recorded[rng.gen_range(0..recorded.len())]))
        }
    }
}

/// Runs `query` once as its persona in a rolled-back transaction; returns the row count.
fn run_as_persona(
    client: &mut postgres::Client,
    file: &WorkloadFile,
    query: &QuerySpec,
    params: &[TextParam],
) -> Result<usize, String> {
    let persona_name = query
        .persona
        .as_ref()
        .or(file.defaults.persona.as_ref())
        .expect("every query has a persona");
    let persona = &file.personas[persona_name];
    let claims = serde_json::to_string(&persona.claims).expect("claims serialise");
    let mut tx = client.transaction().expect("begin");
    tx.batch_execute(&format!("SET LOCAL ROLE {}", quote_ident(&persona.role)))
        .expect("set role");
    tx.execute(
        "SELECT set_config('request.jwt.claims', $1, true)",
        &[&claims],
    )
    .expect("set claims");
    let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
    let result = tx
        .query(query.sql.as_str(), &refs)
        .map(|rows| rows.len())
        .map_err(|e| pgperf::pg::describe(&e));
    tx.rollback().expect("rollback");
    result
}

#[test]
fn every_dashboard_query_runs_under_its_persona_and_returns_rows() {
    let file = workload();
    let cluster = Cluster::start(&ClusterOptions::default()).expect("cluster");
    let mut client = seeded_client(&cluster);
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let mut failures = Vec::new();
    for query in &file.queries {
        let mut most_rows = 0;
        for _ in 0..DRAWS {
            let params: Vec<TextParam> = query
                .params
                .iter()
                .map(|spec| TextParam(draw(&mut client, &mut rng, spec)))
                .collect();
            match run_as_persona(&mut client, &file, query, &params) {
                Ok(rows) => most_rows = most_rows.max(rows),
                Err(error) => failures.push(format!("{} with {params:?}: {error}", query.name)),
            }
        }
        if most_rows == 0 && !MAY_BE_EMPTY.iter().any(|(name, _)| *name == query.name) {
            failures.push(format!("{} returned no rows in {DRAWS} draws", query.name));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn workload_covers_every_rpc_and_tile_view_and_uses_the_seeded_personas() {
    let file = workload();
    let cluster = Cluster::start(&ClusterOptions::default()).expect("cluster");
    cluster.create_database("catalog").expect("create database");
    let mut client = cluster.connect("catalog").expect("connect");
    let set = pgperf::migrate::pair_files(pgperf::bundled::migration_files())
        .expect("bundled migrations pair up");
    pgperf::migrate::up(&mut client, &set, None).expect("migrations apply");
    // RPCs callers may execute, and the tile views of `api`.
    let names: Vec<String> = client
        .query(
            "SELECT n.nspname || '.' || p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
             WHERE has_function_privilege('authenticated', p.oid, 'EXECUTE') \
               AND n.nspname IN ('api', 'app', 'cx', 'approvals', 'inventory', 'growth', 'audit') \
               AND p.prorettype <> 'trigger'::regtype AND p.proname NOT IN \
                   ('current_user_id', 'current_app_role', 'current_team_id', 'has_app_role', 'is_admin') \
             UNION \
             SELECT schemaname || '.' || viewname FROM pg_views WHERE schemaname = 'api'",
            &[],
        )
        .expect("catalog")
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert!(names.len() >= 10, "found only {names:?}");
    let missing: Vec<&String> = names
        .iter()
        .filter(|name| {
            !file
                .queries
                .iter()
                .any(|query| query.sql.contains(name.as_str()))
        })
        .collect();
    assert!(missing.is_empty(), "not in the workload: {missing:?}");
    for (name, persona) in &file.personas {
        let claims = persona.claims.as_ref().expect("claims");
        let seeded = PERSONAS
            .iter()
            .find(|p| p.name == name)
            .unwrap_or_else(|| panic!("{name} is not a seeded persona"));
        assert_eq!(claims["sub"].as_str(), Some(seeded.user_id), "{name}");
        assert_eq!(claims["app_role"].as_str(), Some(seeded.app_role), "{name}");
        assert_eq!(
            claims["team_id"].as_integer(),
            Some(seeded.team_id),
            "{name}"
        );
        assert_eq!(claims["role"].as_str(), Some("authenticated"), "{name}");
    }
}
