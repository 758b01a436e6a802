//! `workloads/dashboard.toml` against a seeded database: every query runs without error under
//! its persona (SET ROLE + request.jwt.claims, as PostgREST does) with drawn parameters, and
//! returns rows; every RPC and tile view of the schema is in the workload.

use pgperf::embedded::{Cluster, ClusterOptions};
use pgperf::pg::{TextParam, quote_ident};
use pgperf::seed::{PERSONAS, SeedOptions, seed};
use pgperf::workload::{Generator, ParamPlan, Query, Workload, WorkloadFile};
use postgres::types::ToSql;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

const WORKLOAD: &str = include_str!("../workloads/dashboard.toml");
/// Parameter draws per query: each must run; at least one must return rows.
const DRAWS: usize = 3;

/// The workload through pgperf's own validation (placeholders, personas, generators).
fn workload() -> Workload {
    pgperf::workload::load_str(WORKLOAD, "workloads/dashboard.toml")
        .unwrap_or_else(|e| panic!("{e}"))
}

fn migrated(cluster: &Cluster, name: &str) -> postgres::Client {
    cluster.create_database(name).expect("create database");
    let mut client = cluster.connect(name).expect("connect");
    let set = pgperf::migrate::pair_files(pgperf::bundled::migration_files())
        .expect("bundled migrations pair up");
    pgperf::migrate::up(&mut client, &set, None).expect("migrations apply");
    client
}

/// Ready generators of one query; `sample` ones resolved against the seeded data as the
/// connecting user, as the bench does.
fn generators(client: &mut postgres::Client, query: &Query) -> Vec<Generator> {
    query
        .params
        .iter()
        .map(|plan| match plan {
            ParamPlan::Ready(generator) => generator.clone(),
            ParamPlan::Sample { sql, limit } => {
                let wrapped = format!("SELECT v::text FROM ({sql}) s(v) LIMIT {limit}");
                let rows = client
                    .query(&wrapped, &[])
                    .unwrap_or_else(|e| panic!("{}: sample {sql}: {e}", query.name));
                assert!(
                    !rows.is_empty(),
                    "{}: sample returned nothing: {sql}",
                    query.name
                );
                Generator::from_rows(rows.iter().map(|row| row.get(0)).collect())
            }
        })
        .collect()
}

/// Runs `query` once as its persona in a rolled-back transaction; returns the row count.
fn run_as_persona(
    client: &mut postgres::Client,
    query: &Query,
    params: &[TextParam],
) -> Result<usize, String> {
    let persona = query
        .persona
        .as_ref()
        .expect("every dashboard query has a persona");
    let claims = persona.claims.as_ref().map(|claims| claims.to_string());
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
    let workload = workload();
    let cluster = Cluster::start(&ClusterOptions::default()).expect("cluster");
    let mut client = migrated(&cluster, "dash");
    let options = SeedOptions {
        scale: 0.05,
        ..SeedOptions::default()
    };
    seed(&mut client, &options).expect("seeding succeeds");
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let now = chrono::Utc::now();
    let mut failures = Vec::new();
    for query in &workload.queries {
        let generators = generators(&mut client, query);
        let mut most_rows = 0;
        for _ in 0..DRAWS {
            let params: Vec<TextParam> = generators
                .iter()
                .map(|generator| TextParam(generator.draw(&mut rng, now)))
                .collect();
            match run_as_persona(&mut client, query, &params) {
                Ok(rows) => most_rows = most_rows.max(rows),
                Err(error) => failures.push(format!("{} with {params:?}: {error}", query.name)),
            }
        }
        if most_rows == 0 {
            failures.push(format!("{} returned no rows in {DRAWS} draws", query.name));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn workload_covers_every_rpc_and_tile_view_and_uses_the_seeded_personas() {
    let file: WorkloadFile = toml::from_str(WORKLOAD).expect("workloads/dashboard.toml parses");
    let cluster = Cluster::start(&ClusterOptions::default()).expect("cluster");
    let mut client = migrated(&cluster, "catalog");
    // RPCs (set-returning functions callers may execute; scalar ones are the policies'
    // claim helpers), and the tile views of `api`.
    let names: Vec<String> = client
        .query(
            "SELECT n.nspname || '.' || p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
             WHERE has_function_privilege('authenticated', p.oid, 'EXECUTE') \
               AND n.nspname IN ('api', 'app', 'cx', 'approvals', 'inventory', 'growth', 'audit') \
               AND p.proretset \
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

/// The rows of `sql` run as `persona` with `params`, each as text, in a rolled-back transaction.
fn rows_as(
    client: &mut postgres::Client,
    persona: &pgperf::workload::SessionPersona,
    sql: &str,
    params: &[TextParam],
) -> Vec<String> {
    let claims = persona.claims.as_ref().map(|claims| claims.to_string());
    let mut tx = client.transaction().expect("begin");
    tx.batch_execute(&format!("SET LOCAL ROLE {}", quote_ident(&persona.role)))
        .expect("set role");
    tx.execute(
        "SELECT set_config('request.jwt.claims', $1, true)",
        &[&claims],
    )
    .expect("set claims");
    let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
    let rows = tx
        .query(&format!("SELECT t::text FROM ({sql}) t"), &refs)
        .unwrap_or_else(|e| panic!("{sql}: {}", pgperf::pg::describe(&e)))
        .iter()
        .map(|row| row.get(0))
        .collect();
    tx.rollback().expect("rollback");
    rows
}

/// Tiles whose SQL was reshaped (issue 18) answer as their old SQL did, for every persona, on
/// seeded data: approvals.grades_by_rubric lost its join to approvals in 0015.
#[test]
fn reshaped_tiles_answer_as_their_old_queries_for_every_persona() {
    const OLD_GRADES_BY_RUBRIC: &str = "SELECT g.rubric, count(*) AS grades, round(avg(g.score), 2) AS avg_score FROM approvals.approval_grades g JOIN approvals.approvals a ON a.id = g.approval_id WHERE g.graded_at >= $1 GROUP BY g.rubric ORDER BY g.rubric";
    let workload = workload();
    let new = workload
        .queries
        .iter()
        .find(|query| query.name == "approvals.grades_by_rubric")
        .expect("the workload has approvals.grades_by_rubric");
    let cluster = Cluster::start(&ClusterOptions::default()).expect("cluster");
    let mut client = migrated(&cluster, "tiles");
    let options = SeedOptions {
        scale: 0.05,
        ..SeedOptions::default()
    };
    seed(&mut client, &options).expect("seeding succeeds");
    let since = TextParam(Some(
        (chrono::Utc::now() - chrono::Duration::days(90)).to_rfc3339(),
    ));
    let mut personas: Vec<&pgperf::workload::SessionPersona> = Vec::new();
    for persona in workload
        .queries
        .iter()
        .filter_map(|query| query.persona.as_ref())
    {
        if !personas.iter().any(|seen| seen.name == persona.name) {
            personas.push(persona);
        }
    }
    let mut teams_seen = 0;
    for persona in personas {
        let params = std::slice::from_ref(&since);
        let old = rows_as(&mut client, persona, OLD_GRADES_BY_RUBRIC, params);
        let reshaped = rows_as(&mut client, persona, &new.sql, params);
        assert_eq!(
            reshaped, old,
            "approvals.grades_by_rubric as {}",
            persona.name
        );
        teams_seen += usize::from(!old.is_empty());
    }
    assert!(
        teams_seen >= 2,
        "the comparison saw grades for fewer than two personas"
    );
}
