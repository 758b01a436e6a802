//! `pgperf.toml`: project defaults so a team need not repeat flags. Precedence is
//! flags > environment > `pgperf.toml` > built-in defaults: clap applies the first two, this
//! file fills only what they left unset.

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Deserialize;

use super::UsageError;

/// The file pgperf looks for in the current folder when `--config` is not given.
pub const DEFAULT_CONFIG_FILE: &str = "pgperf.toml";

/// Everything `pgperf.toml` may set. Paths are relative to the file's folder.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectConfig {
    /// Database URL (prefer `DATABASE_URL` for anything with a password).
    pub db: Option<String>,
    /// Workload file.
    pub workload: Option<PathBuf>,
    /// Migrations folder.
    pub migrations: Option<PathBuf>,
    /// Seeder scale for the embedded database.
    pub scale: Option<f64>,
    /// Seeder and parameter RNG seed.
    pub rng_seed: Option<u64>,
    /// Folder for run results and reports.
    pub out: Option<PathBuf>,
    #[serde(default)]
    pub bench: BenchConfig,
}

/// `[bench]` table.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BenchConfig {
    pub iterations: Option<u64>,
    pub warmup: Option<u64>,
    pub concurrency: Option<u32>,
}

impl ProjectConfig {
    /// Reads `explicit`, or `./pgperf.toml` when it exists, or returns the empty config.
    pub fn load(explicit: Option<&Path>) -> anyhow::Result<ProjectConfig> {
        let path = match explicit {
            Some(path) => path.to_path_buf(),
            None if Path::new(DEFAULT_CONFIG_FILE).is_file() => PathBuf::from(DEFAULT_CONFIG_FILE),
            None => return Ok(ProjectConfig::default()),
        };
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read the config file {}", path.display()))?;
        let mut config: ProjectConfig = toml::from_str(&text)
            .map_err(|error| UsageError(format!("{}: {error}", path.display())))?;
        let base = path.parent().unwrap_or(Path::new("."));
        for field in [
            &mut config.workload,
            &mut config.migrations,
            &mut config.out,
        ] {
            if let Some(relative) = field.as_mut().filter(|p| p.is_relative()) {
                *relative = base.join(&*relative);
            }
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_relative_to_the_file_and_unknown_keys_refused() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("pgperf.toml");
        std::fs::write(
            &path,
            "workload = \"w.toml\"\nscale = 2\n[bench]\niterations = 50\n",
        )
        .expect("write");
        let config = ProjectConfig::load(Some(&path)).expect("loads");
        assert_eq!(config.workload, Some(dir.path().join("w.toml")));
        assert_eq!(config.scale, Some(2.0));
        assert_eq!(config.bench.iterations, Some(50));

        std::fs::write(&path, "scael = 2\n").expect("write");
        let error = ProjectConfig::load(Some(&path)).expect_err("typo refused");
        assert!(format!("{error:#}").contains("scael"), "{error:#}");
    }
}
