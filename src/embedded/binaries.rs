//! Finding the PostgreSQL server binaries: `$PGPERF_PG_BIN`, `pg_config --bindir`, `PATH`,
//! then `/usr/lib/postgresql/*/bin`, newest major version first.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::EmbeddedError;

/// The first folder that holds both `initdb` and `postgres`.
pub fn find_bin_dir() -> Result<PathBuf, EmbeddedError> {
    first_with_server(candidates(std::env::var_os("PGPERF_PG_BIN")))
}

fn first_with_server(candidates: Vec<PathBuf>) -> Result<PathBuf, EmbeddedError> {
    candidates
        .iter()
        .find(|dir| has_server(dir))
        .cloned()
        .ok_or_else(|| EmbeddedError::BinariesNotFound {
            searched: candidates
                .iter()
                .map(|d| d.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
        })
}

fn has_server(dir: &Path) -> bool {
    dir.join("initdb").is_file() && dir.join("postgres").is_file()
}

fn candidates(explicit: Option<std::ffi::OsString>) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(dir) = explicit {
        // An explicit choice is the only candidate: silently using another would mislead.
        return vec![PathBuf::from(dir)];
    }
    if let Ok(output) = Command::new("pg_config").arg("--bindir").output()
        && output.status.success()
    {
        dirs.push(PathBuf::from(
            String::from_utf8_lossy(&output.stdout).trim(),
        ));
    }
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    dirs.extend(debian_bin_dirs(Path::new("/usr/lib/postgresql")));
    dirs
}

/// `/usr/lib/postgresql/<major>/bin`, newest major first.
fn debian_bin_dirs(root: &Path) -> Vec<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir(root)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let major = entry.file_name().to_str()?.parse::<u32>().ok()?;
            Some((major, entry.path().join("bin")))
        })
        .collect();
    versions.sort_by_key(|(major, _)| std::cmp::Reverse(*major));
    versions.into_iter().map(|(_, dir)| dir).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debian_dirs_are_newest_first() {
        let root = tempfile::tempdir().expect("temp dir");
        for v in ["13", "15", "9", "notaversion"] {
            std::fs::create_dir_all(root.path().join(v).join("bin")).expect("mkdir");
        }
        let dirs = debian_bin_dirs(root.path());
        let majors: Vec<String> = dirs
            .iter()
            .map(|d| {
                d.parent()
                    .and_then(|p| p.file_name())
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default()
            })
            .collect();
        assert_eq!(majors, ["15", "13", "9"]);
    }

    #[test]
    fn an_explicit_folder_without_binaries_names_the_package_to_install() {
        let empty = tempfile::tempdir().expect("temp dir");
        let error = first_with_server(candidates(Some(empty.path().into())))
            .expect_err("no binaries there");
        let message = error.to_string();
        assert!(
            message.contains("apt-get install -y postgresql-15"),
            "{message}"
        );
        assert!(
            message.contains(&empty.path().display().to_string()),
            "{message}"
        );
    }
}
