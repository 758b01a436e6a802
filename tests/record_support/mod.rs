//! What the `record_*` integration tests share: a database "shop" set up with the test's SQL
//! and a clean pg_stat_statements, and the application's connection (role `app`, named "web",
//! as a dashboard's backend would connect).

// Each test binary compiles this module and uses part of it.
#![allow(dead_code)]

use pgperf::embedded::Cluster;

/// Creates database `shop` on `cluster`, runs `setup` in it and resets pg_stat_statements, so
/// only what the test's application runs afterwards is recorded. Returns the admin connection.
pub fn shop(cluster: &Cluster, setup: &str) -> postgres::Client {
    cluster.create_database("shop").expect("database");
    let mut admin = cluster.connect("shop").expect("connects");
    admin.batch_execute(setup).expect("setup");
    admin
        .batch_execute("SELECT pg_stat_statements_reset()")
        .expect("reset");
    admin
}

/// The application's connection to `shop`, as role `app`.
pub fn app(cluster: &Cluster) -> postgres::Client {
    cluster
        .config("shop")
        .user("app")
        .application_name("web")
        .connect(postgres::NoTls)
        .expect("app connects")
}
