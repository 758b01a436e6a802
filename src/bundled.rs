//! The control-center schema and dashboard workload compiled into the binary, so that
//! `pgperf bench` with no arguments works from any folder on a fresh machine.

use include_dir::{Dir, include_dir};

static MIGRATIONS: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/migrations");
static WORKLOADS: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/workloads");

/// File name of the default workload inside `workloads/`.
pub const DEFAULT_WORKLOAD: &str = "dashboard.toml";

/// `(file name, contents)` of every bundled migration file.
pub fn migration_files() -> Vec<(String, String)> {
    MIGRATIONS
        .files()
        .filter(|file| file.path().extension().is_some_and(|ext| ext == "sql"))
        .filter_map(|file| {
            let name = file.path().file_name()?.to_string_lossy().into_owned();
            Some((name, file.contents_utf8()?.to_string()))
        })
        .collect()
}

/// The bundled default workload's text, if the binary was built with one.
pub fn default_workload() -> Option<&'static str> {
    WORKLOADS.get_file(DEFAULT_WORKLOAD)?.contents_utf8()
}
