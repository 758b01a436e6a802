//! `pgperf bench --export-*`: each format snapshot-tested on a hand-built run, and the JSON
//! readable by hyperfine's scripts (`results[].command`, `mean`, `times` in seconds).

mod bench_common;

use bench_common::result;
use pgperf::bench::export::{ExportFormat, write};
use pgperf::model::Sample;

fn export(format: ExportFormat) -> String {
    let mut result = result();
    result.queries[0].raw_samples = [800.0, 850.0, 975.0]
        .iter()
        .enumerate()
        .map(|(index, &latency_us)| Sample {
            at_ms: index as f64,
            latency_us,
        })
        .collect();
    result.queries[1].name = "seo, \"anomalies\"".into();
    let mut out = Vec::new();
    write(&result, format, &mut out).expect("writing to a Vec cannot fail");
    String::from_utf8(out).expect("exports are UTF-8")
}

#[test]
fn json_has_hyperfines_keys_in_seconds() {
    let text = export(ExportFormat::Json);
    let value: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    let first = &value["results"][0];
    assert_eq!(first["command"], "approvals_list");
    assert_eq!(first["p95"], 850.0e-6);
    assert_eq!(first["times"][2], 975.0e-6);
    assert!(
        value["results"][3]["mean"].is_null(),
        "a failed query has no mean"
    );
    insta::assert_snapshot!(text);
}

#[test]
fn csv_quotes_names_with_commas_and_quotes() {
    let text = export(ExportFormat::Csv);
    assert!(text.contains("\n\"seo, \"\"anomalies\"\"\","), "{text}");
    insta::assert_snapshot!(text);
}

#[test]
fn markdown_is_a_table_in_milliseconds() {
    insta::assert_snapshot!(export(ExportFormat::Markdown));
}
