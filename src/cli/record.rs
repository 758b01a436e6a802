//! `pgperf record`.

use super::Outcome;

#[derive(Debug, clap::Args)]
pub struct RecordArgs {}

pub fn run(_args: RecordArgs) -> anyhow::Result<Outcome> {
    anyhow::bail!("pgperf record is not built yet")
}
