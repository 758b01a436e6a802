//! `pgperf bench`.

use super::Outcome;

#[derive(Debug, clap::Args)]
pub struct BenchArgs {}

pub fn run(_args: BenchArgs) -> anyhow::Result<Outcome> {
    anyhow::bail!("pgperf bench is not built yet")
}
