//! The embedded cluster starts, serves, has its extensions, and leaves nothing behind.

use pgperf::embedded::{Cluster, ClusterOptions};

#[test]
fn cluster_starts_serves_and_is_removed_on_drop() {
    let cluster = Cluster::start(&ClusterOptions::default()).expect("embedded cluster starts");
    let dir = cluster.dir().to_path_buf();
    let mut client = cluster
        .connect("postgres")
        .expect("connects over the socket");
    let row = client
        .query_one(
            "SELECT current_setting('server_version_num')::int, \
                    current_setting('track_io_timing'), \
                    current_setting('listen_addresses'), \
                    (SELECT count(*) FROM pg_extension WHERE extname = 'pg_stat_statements')",
            &[],
        )
        .expect("query");
    assert!(row.get::<_, i32>(0) >= 130000);
    assert_eq!(row.get::<_, String>(1), "on");
    assert_eq!(row.get::<_, String>(2), "");
    assert_eq!(row.get::<_, i64>(3), 1);
    cluster
        .create_database("fresh db")
        .expect("create database");
    let mut fresh = cluster
        .connect("fresh db")
        .expect("connect to new database");
    let extensions: i64 = fresh
        .query_one(
            "SELECT count(*) FROM pg_extension WHERE extname IN ('pg_stat_statements','hypopg')",
            &[],
        )
        .expect("query")
        .get(0);
    assert_eq!(extensions, if cluster.has_hypopg() { 2 } else { 1 });
    let mut by_url = postgres::Client::connect(&cluster.url("postgres"), postgres::NoTls)
        .expect("the URL works");
    by_url.simple_query("SELECT 1").expect("query by url");
    eprintln!("startup {:?}", cluster.startup_time());
    drop((client, fresh, by_url));
    drop(cluster);
    assert!(!dir.exists(), "cluster directory {dir:?} removed");
}
