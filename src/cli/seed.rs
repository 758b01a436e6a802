//! `pgperf seed`.

use super::Outcome;

#[derive(Debug, clap::Args)]
pub struct SeedArgs {}

pub fn run(_args: SeedArgs) -> anyhow::Result<Outcome> {
    anyhow::bail!("pgperf seed is not built yet")
}
