//! `pgperf advise --query 'SQL'`: the advisor on one statement, as handy as one SQL call. The
//! statement becomes a one-query workload (its `--param` values, its `--role`/`--claims`
//! persona), `--setting K=V` pairs are set on the session, and the recommended DDL (or the
//! whole advice as JSON) goes to stdout; no files are written. A statement the server rejects
//! fails with the server's message.

use anyhow::Context;

use super::{Outcome, UsageError};
use crate::advise::{self, AdviseOptions};
use crate::workload::Workload;

/// The single-query flags, kept in one block.
#[derive(Debug, Default, clap::Args)]
pub struct SingleQueryArgs {
    /// Advise this one statement instead of a workload; prints the recommended DDL to stdout
    /// (no migration or report files are written).
    #[arg(long, value_name = "SQL", conflicts_with = "workload")]
    pub query: Option<String>,
    /// The value of the next `$n` of --query, as text (repeat in order: --param 42 --param x).
    #[arg(long = "param", value_name = "V", requires = "query")]
    pub params: Vec<String>,
    /// Role to run --query as (`SET ROLE`, so RLS policies apply as for that caller).
    #[arg(long, value_name = "ROLE", requires = "query")]
    pub role: Option<String>,
    /// JWT claims of --role as a JSON object (`request.jwt.claims`).
    #[arg(long, value_name = "JSON", requires = "role")]
    pub claims: Option<String>,
    /// A session setting for --query, `K=V` (repeatable), e.g. app.tenant_id=42.
    #[arg(long = "setting", value_name = "K=V", requires = "query")]
    pub settings: Vec<String>,
    /// Output of --query: the DDL to run (with its evidence as comments), or the advice as JSON.
    #[arg(long, value_enum, default_value_t = QueryFormat::Ddl)]
    pub format: QueryFormat,
}

/// `--format` values of the single-query mode: the statements to run with their evidence as
/// comments, or the advice (recommendations, rejected candidates, notes) as JSON. (No doc
/// lines on the variants: they would switch `--help` to its long form.)
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum QueryFormat {
    #[default]
    Ddl,
    Json,
}

/// The one-query workload: query `query` with fixed parameter values and, with `--role`, a
/// persona `cli` carrying the claims.
pub fn workload(sql: &str, args: &SingleQueryArgs) -> anyhow::Result<Workload> {
    let mut query = toml::Table::new();
    query.insert("name".into(), "query".into());
    query.insert("sql".into(), sql.into());
    let params: Vec<toml::Value> = args
        .params
        .iter()
        .map(|value| {
            let mut param = toml::Table::new();
            param.insert("value".into(), value.as_str().into());
            toml::Value::Table(param)
        })
        .collect();
    query.insert("params".into(), toml::Value::Array(params));
    let mut root = toml::Table::new();
    root.insert("name".into(), "single query".into());
    if let Some(role) = &args.role {
        let mut persona = toml::Table::new();
        persona.insert("role".into(), role.as_str().into());
        if let Some(claims) = &args.claims {
            persona.insert("claims".into(), claims_table(claims)?);
        }
        let mut personas = toml::Table::new();
        personas.insert("cli".into(), toml::Value::Table(persona));
        root.insert("personas".into(), toml::Value::Table(personas));
        query.insert("persona".into(), "cli".into());
    }
    root.insert(
        "query".into(),
        toml::Value::Array(vec![toml::Value::Table(query)]),
    );
    let text = toml::to_string(&root).context("cannot build the one-query workload")?;
    crate::workload::load_str(&text, "--query")
        .map_err(|e| UsageError(format!("--query: {e}")).into())
}

fn claims_table(claims: &str) -> anyhow::Result<toml::Value> {
    let json: serde_json::Value = serde_json::from_str(claims)
        .map_err(|e| UsageError(format!("--claims is not valid JSON: {e}")))?;
    if !json.is_object() {
        return Err(
            UsageError("--claims must be a JSON object, e.g. '{\"sub\": \"u1\"}'".into()).into(),
        );
    }
    toml::Value::try_from(json).map_err(|e| {
        UsageError(format!(
            "--claims cannot hold this value ({e}); null is not supported"
        ))
        .into()
    })
}

/// Applies the settings, advises the one query and prints the result.
pub fn run(
    client: &mut postgres::Client,
    workload: &Workload,
    options: &AdviseOptions,
    args: &SingleQueryArgs,
) -> anyhow::Result<Outcome> {
    for setting in &args.settings {
        let (key, value) = setting.split_once('=').ok_or_else(|| {
            UsageError(format!(
                "--setting {setting:?} is not K=V, e.g. app.tenant_id=42"
            ))
        })?;
        client
            .execute("SELECT set_config($1, $2, false)", &[&key.trim(), &value])
            .map_err(|e| anyhow::anyhow!(crate::pg::describe(&e)))
            .with_context(|| format!("cannot apply --setting {key}"))?;
    }
    let advice = advise::advise(client, workload, options).context("advise failed")?;
    if let Some(query) = advice.queries.first()
        && query.cost_before.is_none()
    {
        let why = query.note.clone().unwrap_or_default();
        anyhow::bail!("--query cannot be advised: {why}");
    }
    match args.format {
        QueryFormat::Ddl => {
            let (up, _) = advise::ddl::migration_pair(&advice.recommendations, &advice.statistics);
            if advice.recommendations.is_empty() && advice.statistics.is_empty() {
                eprintln!("pgperf: no index recommended for --query, and no extended statistics");
            } else {
                print!("{up}");
            }
            for line in why_not(&advice) {
                eprintln!("pgperf: {line}");
            }
        }
        QueryFormat::Json => {
            let json = serde_json::json!({
                "recommendations": advice.recommendations,
                "rejected": advice.rejected,
                "statistics": advice.statistics,
                "rejected_statistics": advice.rejected_statistics,
                "queries": advice.queries,
                "notes": advice.notes,
            });
            println!("{}", serde_json::to_string_pretty(&json)?);
        }
    }
    Ok(Outcome::Success)
}

/// The query's own note, the candidates and extended statistics not recommended with their
/// reasons, and the notes, for stderr.
fn why_not(advice: &advise::Advice) -> Vec<String> {
    let rejected = advice.rejected.iter().map(|r| {
        format!(
            "not recommended: {}: {}",
            advise::ddl::definition(&r.spec),
            r.explanation
        )
    });
    let statistics = advice.rejected_statistics.iter().map(|r| {
        format!(
            "not recommended: extended statistics {}: {}",
            r.name, r.explanation
        )
    });
    advice
        .queries
        .iter()
        .filter_map(|q| q.note.clone())
        .chain(rejected)
        .chain(statistics)
        .chain(advice.notes.iter().cloned())
        .collect()
}
