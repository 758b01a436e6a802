//! `pgperf advise`.

use super::Outcome;

#[derive(Debug, clap::Args)]
pub struct AdviseArgs {}

pub fn run(_args: AdviseArgs) -> anyhow::Result<Outcome> {
    anyhow::bail!("pgperf advise is not built yet")
}
