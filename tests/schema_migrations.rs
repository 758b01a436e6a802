//! The bundled control-center migrations are reversible (up, down, up leaves an identical
//! catalog) and their Supabase stand-ins touch only what they created: roles are cluster-wide,
//! so a stand-in role is dropped by the last database that uses it, and roles or an `auth`
//! schema that already existed (as on Supabase) are never dropped.

use std::path::PathBuf;

use pgperf::embedded::{Cluster, ClusterOptions};
use pgperf::migrate::{self, Migration};

fn bundled() -> Vec<Migration> {
    migrate::load_dir(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("migrations"))
        .expect("bundled migrations load")
        .migrations
}

fn start() -> Cluster {
    Cluster::start(&ClusterOptions::default()).expect("embedded cluster starts")
}

fn fresh(cluster: &Cluster, name: &str) -> postgres::Client {
    cluster.create_database(name).expect("create database");
    cluster.connect(name).expect("connect")
}

/// The stand-in roles that exist, each with whether it carries the stand-in marker.
fn stand_in_roles(client: &mut postgres::Client) -> Vec<String> {
    client
        .query(
            "SELECT rolname || CASE WHEN shobj_description(oid, 'pg_authid') LIKE 'pgperf stand-in%' THEN ' (stand-in)' ELSE '' END
             FROM pg_roles WHERE rolname IN ('anon', 'authenticated', 'service_role') ORDER BY rolname",
            &[],
        )
        .expect("roles")
        .iter()
        .map(|row| row.get(0))
        .collect()
}

fn has_auth_uid(client: &mut postgres::Client) -> bool {
    client
        .query_one("SELECT to_regprocedure('auth.uid()') IS NOT NULL", &[])
        .expect("auth.uid lookup")
        .get(0)
}

#[test]
fn bundled_migrations_verify_up_down_up() {
    let cluster = start();
    let mut client = fresh(&cluster, "verify");
    let report = migrate::verify(&mut client, &bundled()).expect("every migration is reversible");
    assert_eq!(report.migrations.len(), bundled().len());
}

#[test]
fn stand_in_roles_are_dropped_by_the_last_database_using_them() {
    let cluster = start();
    let set = bundled();
    let mut first = fresh(&cluster, "first");
    let mut second = fresh(&cluster, "second");
    assert!(
        stand_in_roles(&mut first).is_empty(),
        "a fresh cluster has no Supabase roles"
    );

    migrate::up(&mut first, &set, None).expect("first database migrates");
    migrate::up(&mut second, &set, None).expect("second database migrates");
    let all = vec![
        "anon (stand-in)".to_string(),
        "authenticated (stand-in)".to_string(),
        "service_role (stand-in)".to_string(),
    ];
    assert_eq!(stand_in_roles(&mut first), all);

    migrate::down(&mut first, &set, set.len()).expect("first database reverts");
    assert!(!has_auth_uid(&mut first), "the auth stand-in is gone");
    assert_eq!(
        stand_in_roles(&mut first),
        all,
        "the second database still uses the roles"
    );

    migrate::down(&mut second, &set, set.len()).expect("second database reverts");
    assert!(
        stand_in_roles(&mut second).is_empty(),
        "the last user drops them"
    );
}

#[test]
fn existing_supabase_objects_are_left_alone() {
    let cluster = start();
    let set = bundled();
    let mut client = fresh(&cluster, "supabase_like");
    client
        .batch_execute(
            "CREATE ROLE anon NOLOGIN; CREATE ROLE authenticated NOLOGIN;
             CREATE ROLE service_role NOLOGIN BYPASSRLS;
             CREATE SCHEMA auth;
             CREATE FUNCTION auth.uid() RETURNS uuid LANGUAGE sql STABLE AS $$ SELECT NULL::uuid $$;
             CREATE FUNCTION auth.jwt() RETURNS jsonb LANGUAGE sql STABLE AS $$ SELECT '{}'::jsonb $$;
             GRANT USAGE ON SCHEMA auth TO authenticated;",
        )
        .expect("Supabase-like roles and auth schema");

    migrate::up(&mut client, &set, None).expect("migrates over existing roles and auth");
    migrate::down(&mut client, &set, set.len()).expect("reverts");

    assert_eq!(
        stand_in_roles(&mut client),
        vec!["anon", "authenticated", "service_role"],
        "pre-existing roles stay"
    );
    assert!(
        has_auth_uid(&mut client),
        "the pre-existing auth schema stays"
    );
}
