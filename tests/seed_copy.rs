//! The binary COPY encoders produce exactly the values PostgreSQL reads back as text.

use pgperf::embedded::{Cluster, ClusterOptions};
use pgperf::seed::CopyRows;

#[test]
fn every_encoder_round_trips_through_the_server() {
    let cluster = Cluster::start(&ClusterOptions::default()).expect("embedded cluster starts");
    let mut client = cluster.connect("postgres").expect("connects");
    client
        .batch_execute(
            "SET timezone = 'UTC';
             CREATE TYPE mood AS ENUM ('calm', 'busy');
             CREATE TABLE everything (
                 a smallint, b integer, c bigint, d double precision, e numeric(12,2),
                 f numeric, g text, h boolean, i timestamptz, j date, k uuid, l jsonb,
                 m mood, n text)",
        )
        .expect("create table");
    let writer = client
        .copy_in("COPY everything FROM STDIN (FORMAT binary)")
        .expect("copy starts");
    let mut copy = CopyRows::new(writer, 14);
    let row = copy.row().expect("row");
    row.int2(-7);
    row.int4(123_456);
    row.int8(-9_000_000_000);
    row.float8(0.25);
    row.numeric(-1_234_567, 2);
    row.numeric(5, 4);
    row.text("héllo");
    row.bool(true);
    row.timestamptz(1_700_000_000_123_456);
    row.date(19_000);
    row.uuid(&uuid::Uuid::from_u128(
        0x0000_0001_0000_4000_8000_0000_0000_0002,
    ));
    row.jsonb(&serde_json::json!({"k": [1, "two"]}));
    row.text("busy");
    row.null();
    let writer = copy.finish().expect("trailer");
    assert_eq!(writer.finish().expect("copy accepted"), 1);
    let text: Vec<Option<String>> = client
        .query_one(
            "SELECT ARRAY[a::text, b::text, c::text, d::text, e::text, f::text, g, h::text, \
                          i::text, j::text, k::text, l::text, m::text, n] FROM everything",
            &[],
        )
        .expect("read back")
        .get(0);
    let expected = [
        Some("-7"),
        Some("123456"),
        Some("-9000000000"),
        Some("0.25"),
        Some("-12345.67"),
        Some("0.0005"),
        Some("héllo"),
        Some("true"),
        Some("2023-11-14 22:13:20.123456+00"),
        Some("2022-01-08"),
        Some("00000001-0000-4000-8000-000000000002"),
        Some(r#"{"k": [1, "two"]}"#),
        Some("busy"),
        None,
    ];
    let expected: Vec<Option<String>> = expected.iter().map(|v| v.map(String::from)).collect();
    assert_eq!(text, expected);
}
