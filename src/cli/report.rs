//! `pgperf report`.

use super::Outcome;

#[derive(Debug, clap::Args)]
pub struct ReportArgs {}

pub fn run(_args: ReportArgs) -> anyhow::Result<Outcome> {
    anyhow::bail!("pgperf report is not built yet")
}
