//! Regenerates the committed report fixtures from `report_support`:
//! `cargo test --test report_fixture -- --ignored`. The committed files are what the browser
//! test (`tests/browser/run.sh`) renders. They are not regenerated on every run so that a change
//! in `stats` does not silently change what the browser test looks at.

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
#[ignore = "writes the fixture files; run by hand after changing report_support"]
fn regenerate_fixtures() {
    for (name, text) in fixtures() {
        std::fs::write(fixtures_dir().join(name), text).expect("fixture folder is writable");
    }
}
