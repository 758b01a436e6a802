//! `pgperf check`.

use super::Outcome;

#[derive(Debug, clap::Args)]
pub struct CheckArgs {}

pub fn run(_args: CheckArgs) -> anyhow::Result<Outcome> {
    anyhow::bail!("pgperf check is not built yet")
}
