//! What a result was measured on: the server's version, the settings that change plans or
//! timings, installed extensions, and the client machine. Two results are comparable only when
//! these match, so `check` and `report` show them.

use std::collections::BTreeMap;

use postgres::Client;

use crate::model::Machine;

/// Settings recorded with every run: the ones that move plans or latencies.
pub const RECORDED_SETTINGS: &[&str] = &[
    "shared_buffers",
    "work_mem",
    "effective_cache_size",
    "random_page_cost",
    "seq_page_cost",
    "effective_io_concurrency",
    "jit",
    "max_parallel_workers_per_gather",
    "default_statistics_target",
    "plan_cache_mode",
    "track_io_timing",
    "fsync",
    "synchronous_commit",
    "compute_query_id",
    "pg_stat_statements.track",
    "pg_stat_statements.max",
];

/// The server side of an environment.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerInfo {
    pub version: String,
    pub version_num: u32,
    pub settings: BTreeMap<String, String>,
    pub extensions: BTreeMap<String, String>,
}

/// Reads version, [`RECORDED_SETTINGS`] and installed extensions.
pub fn server_info(client: &mut Client) -> Result<ServerInfo, postgres::Error> {
    let row = client.query_one(
        "SELECT current_setting('server_version'), current_setting('server_version_num')::int",
        &[],
    )?;
    let version_num = u32::try_from(row.get::<_, i32>(1)).unwrap_or_default();
    let names: Vec<String> = RECORDED_SETTINGS.iter().map(|s| s.to_string()).collect();
    let settings = client
        .query(
            "SELECT name, current_setting(name) FROM pg_settings WHERE name = ANY($1)",
            &[&names],
        )?
        .into_iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect();
    let extensions = client
        .query("SELECT extname::text, extversion FROM pg_extension", &[])?
        .into_iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect();
    Ok(ServerInfo {
        version: row.get(0),
        version_num,
        settings,
        extensions,
    })
}

/// The machine pgperf runs on, from `/proc` and `/etc/os-release` where they exist.
pub fn machine() -> Machine {
    let read = |path: &str| std::fs::read_to_string(path).unwrap_or_default();
    let os_release = read("/etc/os-release");
    let cpuinfo = read("/proc/cpuinfo");
    let meminfo = read("/proc/meminfo");
    Machine {
        hostname: read("/proc/sys/kernel/hostname").trim().to_string(),
        os: field(&os_release, "PRETTY_NAME", '=')
            .map(|name| name.trim_matches('"').to_string())
            .unwrap_or_else(|| std::env::consts::OS.to_string()),
        arch: std::env::consts::ARCH.to_string(),
        cpu_model: field(&cpuinfo, "model name", ':').unwrap_or_default(),
        cpus: std::thread::available_parallelism()
            .map(|n| u32::try_from(n.get()).unwrap_or(u32::MAX))
            .unwrap_or(1),
        memory_bytes: field(&meminfo, "MemTotal", ':')
            .and_then(|kb| kb.trim_end_matches("kB").trim().parse::<u64>().ok())
            .map(|kb| kb * 1024)
            .unwrap_or(0),
    }
}

fn field(text: &str, key: &str, separator: char) -> Option<String> {
    text.lines().find_map(|line| {
        let (name, value) = line.split_once(separator)?;
        (name.trim() == key).then(|| value.trim().to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_read_from_proc_style_text() {
        let cpuinfo = "processor\t: 0\nmodel name\t: Example CPU @ 2.0GHz\n";
        assert_eq!(
            field(cpuinfo, "model name", ':').as_deref(),
            Some("Example CPU @ 2.0GHz")
        );
        assert_eq!(
            field("PRETTY_NAME=\"Debian 12\"", "PRETTY_NAME", '='),
            Some("\"Debian 12\"".into())
        );
        assert!(machine().cpus >= 1);
    }
}
