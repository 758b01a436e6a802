//! `pgperf seed`: load the control-center schema with deterministic data. Without `--db` it
//! seeds a private throwaway PostgreSQL (useful with `--keep`).

use comfy_table::{CellAlignment, Table};

use super::target::{Setup, TargetArgs};
use super::{Outcome, UsageError};
use crate::seed::{SeedError, SeedOptions, SeedReport};

#[derive(Debug, clap::Args)]
pub struct SeedArgs {
    #[command(flatten)]
    target: TargetArgs,
    /// Empty the control-center tables first (without it, seeding refuses a database whose
    /// tables hold rows).
    #[arg(long)]
    truncate: bool,
    /// Last day of the generated history, YYYY-MM-DD [default: today, UTC]. Pin it to get
    /// byte-identical data on another day.
    #[arg(long, value_name = "DATE")]
    anchor_date: Option<chrono::NaiveDate>,
}

pub fn run(args: SeedArgs) -> anyhow::Result<Outcome> {
    let project = super::config::ProjectConfig::load(args.target.config.as_deref())?;
    let prepared = args.target.prepare_with(project, Setup::Migrate)?;
    let options = SeedOptions {
        scale: args.target.scale(&prepared.project)?,
        rng_seed: prepared.rng_seed,
        truncate: args.truncate,
        anchor_date: args.anchor_date,
    };
    let mut client = prepared.connect()?;
    eprintln!(
        "pgperf: seeding {} at scale {} with rng seed {}",
        prepared.target.url_redacted, options.scale, options.rng_seed
    );
    let report = crate::seed::seed(&mut client, &options).map_err(|error| match error {
        // The user's choice to make (exit 2), not a failure of the database.
        SeedError::NotEmpty { .. } | SeedError::InvalidScale(_) => {
            anyhow::Error::new(UsageError(error.to_string()))
        }
        other => anyhow::Error::new(other)
            .context(format!("cannot seed {}", prepared.target.url_redacted)),
    })?;
    println!("{}", report_table(&report));
    for table in &report.skipped_tables {
        eprintln!("pgperf: warning: no generator for {table}; it was left empty");
    }
    eprintln!(
        "pgperf: {} rows in {:.1} s ({:.0} rows/s loading), history ends {}",
        report.total_rows(),
        report.total.as_secs_f64(),
        report.rows_per_s(),
        report.anchor_date
    );
    Ok(Outcome::Success)
}

/// Rows and load time per table, with a total line.
fn report_table(report: &SeedReport) -> Table {
    let mut table = Table::new();
    table.load_preset(comfy_table::presets::UTF8_BORDERS_ONLY);
    table.set_header(["table", "rows", "seconds"]);
    for loaded in &report.tables {
        table.add_row([
            loaded.table.clone(),
            loaded.rows.to_string(),
            format!("{:.2}", loaded.duration.as_secs_f64()),
        ]);
    }
    table.add_row([
        "total".to_string(),
        report.total_rows().to_string(),
        format!("{:.2}", report.load.as_secs_f64()),
    ]);
    for column in 1..=2 {
        if let Some(column) = table.column_mut(column) {
            column.set_cell_alignment(CellAlignment::Right);
        }
    }
    table
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::seed::TableReport;

    #[test]
    fn report_lists_tables_and_total() {
        let report = SeedReport {
            tables: vec![
                TableReport {
                    table: "public.teams".into(),
                    rows: 20,
                    duration: Duration::from_millis(3),
                },
                TableReport {
                    table: "public.approvals".into(),
                    rows: 200_000,
                    duration: Duration::from_millis(410),
                },
            ],
            anchor_date: chrono::NaiveDate::from_ymd_opt(2026, 1, 31).expect("valid date"),
            skipped_tables: vec![],
            load: Duration::from_millis(413),
            total: Duration::from_millis(900),
        };
        insta::assert_snapshot!(report_table(&report).to_string());
    }
}
