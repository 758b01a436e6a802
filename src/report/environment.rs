//! The run's environment as titled key/value groups, with every value passed through
//! [`redact`]: the model already stores redacted URLs, but a connection string can hide in a
//! server setting (`primary_conninfo`) or an error message, and passwords never reach a report.

use super::format;
use super::view::Group;
use crate::model::RunResult;
use crate::pg::redact_url;

/// Removes passwords from every URL or `password=` pair in a free text.
pub fn redact(text: &str) -> String {
    text.split(' ')
        .map(redact_url)
        .collect::<Vec<_>>()
        .join(" ")
}

fn group(title: &str, rows: Vec<(&str, String)>) -> Group {
    Group {
        title: title.to_string(),
        rows: rows
            .into_iter()
            .map(|(key, value)| (key.to_string(), redact(&value)))
            .collect(),
    }
}

fn optional<T: ToString>(value: Option<T>) -> String {
    value.map_or_else(|| "–".to_string(), |value| value.to_string())
}

/// Run, bench settings, server, server settings, extensions and machine.
pub fn groups(run: &RunResult) -> Vec<Group> {
    let env = &run.environment;
    vec![
        run_group(run),
        bench_settings(run),
        server(run),
        map_group("Server settings", &env.server_settings),
        map_group("Extensions", &env.extensions),
        machine(run),
    ]
}

fn yes_no(value: bool, yes: &str) -> String {
    if value {
        yes.to_string()
    } else {
        "no".to_string()
    }
}

fn run_group(run: &RunResult) -> Group {
    let env = &run.environment;
    group(
        "Run",
        vec![
            ("run id", run.run_id.clone()),
            ("workload", env.workload_name.clone()),
            ("workload SHA-256", env.workload_hash.clone()),
            ("started", run.started_at.to_rfc3339()),
            ("finished", run.finished_at.to_rfc3339()),
            ("complete", yes_no(run.complete, "yes")),
            ("pgperf", env.pgperf_version.clone()),
        ],
    )
}

fn bench_settings(run: &RunResult) -> Group {
    let settings = &run.settings;
    let rate = settings
        .rate_qps
        .map_or("closed loop".into(), |qps| format!("{qps} q/s"));
    group(
        "Bench settings",
        vec![
            ("iterations", settings.iterations.to_string()),
            ("warm-up", settings.warmup.to_string()),
            ("concurrency", settings.concurrency.to_string()),
            ("rate", rate),
            (
                "protocol",
                format!("{:?}", settings.protocol).to_lowercase(),
            ),
            (
                "statement timeout",
                format::latency_ms(settings.statement_timeout_ms as f64),
            ),
            ("RNG seed", settings.rng_seed.to_string()),
            ("seeder scale", optional(run.environment.scale)),
            ("seeder RNG seed", optional(run.environment.rng_seed)),
        ],
    )
}

fn server(run: &RunResult) -> Group {
    let env = &run.environment;
    group(
        "Server",
        vec![
            ("version", env.server_version.clone()),
            ("target", env.target.url_redacted.clone()),
            ("database", env.target.database.clone()),
            (
                "embedded",
                yes_no(env.target.embedded, "yes (throwaway cluster)"),
            ),
        ],
    )
}

fn map_group(title: &str, map: &std::collections::BTreeMap<String, String>) -> Group {
    Group {
        title: title.to_string(),
        rows: map
            .iter()
            .map(|(key, value)| (redact(key), redact(value)))
            .collect(),
    }
}

fn machine(run: &RunResult) -> Group {
    let machine = &run.environment.machine;
    group(
        "Machine",
        vec![
            ("host", machine.hostname.clone()),
            ("OS", format!("{} ({})", machine.os, machine.arch)),
            ("CPU", format!("{} × {}", machine.cpus, machine.cpu_model)),
            ("memory", format::bytes(machine.memory_bytes)),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn passwords_hidden_in_free_text_are_removed() {
        assert_eq!(
            redact("host=db user=app password=hunter2 dbname=x"),
            "host=db user=app password=*** dbname=x"
        );
        assert_eq!(
            redact("could not reach postgresql://app:hunter2@db/x now"),
            "could not reach postgresql://app:***@db/x now"
        );
    }
}
