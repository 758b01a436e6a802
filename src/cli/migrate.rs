//! `pgperf migrate`.

use super::Outcome;

#[derive(Debug, clap::Args)]
pub struct MigrateArgs {}

pub fn run(_args: MigrateArgs) -> anyhow::Result<Outcome> {
    anyhow::bail!("pgperf migrate is not built yet")
}
