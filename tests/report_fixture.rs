//! The committed report fixtures are what the browser test (`tests/browser/run.sh`) renders.
//! They are not regenerated on every run, so that a change in `stats` does not silently change
//! what the browser test looks at; this test fails when they no longer parse as the current
//! model types. Regenerate from `report_support` with
//! `PGPERF_UPDATE_FIXTURES=1 cargo test --test report_fixture`.

mod report_support;

use report_support::{advice_result, check_report, dashboard_run, fixtures_dir};

fn fixtures() -> Vec<(&'static str, String)> {
    let json = |value: serde_json::Result<String>| value.expect("model types serialise");
    vec![
        (
            "bench_dashboard.json",
            json(serde_json::to_string(&dashboard_run())),
        ),
        (
            "advice_dashboard.json",
            json(serde_json::to_string_pretty(&advice_result())),
        ),
        (
            "check_dashboard.json",
            json(serde_json::to_string_pretty(&check_report())),
        ),
    ]
}

#[test]
fn committed_fixtures_parse_as_the_current_model() {
    if std::env::var_os("PGPERF_UPDATE_FIXTURES").is_some() {
        for (name, text) in fixtures() {
            std::fs::write(fixtures_dir().join(name), text).expect("fixture folder is writable");
        }
    }
    for (name, _) in fixtures() {
        let path = fixtures_dir().join(name);
        let text = std::fs::read_to_string(&path).expect("committed fixture exists");
        pgperf::report::input::Document::from_json(&text).unwrap_or_else(|error| {
            panic!(
                "{} no longer parses ({error}); regenerate with PGPERF_UPDATE_FIXTURES=1 cargo test --test report_fixture",
                path.display()
            )
        });
    }
}
