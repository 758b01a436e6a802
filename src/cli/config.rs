//! `pgperf.toml`: project defaults so a team need not repeat flags. Precedence is
//! flags > environment > `pgperf.toml` > built-in defaults.
//!
//! Every option of every command can live in the file, by its flag name with `_` for `-`:
//! at the top level for every command that has that flag for the same kind of value (`db`,
//! `scale`, `out` as the results folder, not record's `--out` workload file), or in a
//! `[command]` table for one command (`[check] markdown = "summary.md"`), which wins. Before clap parses
//! the arguments, [`with_file_defaults`] sets the file's values as the defaults of those flags,
//! so clap itself applies the precedence (a flag, then its environment variable, then the
//! default) and knows where each value came from: `pgperf config` prints that. A key that is
//! no command's option is a usage error, so a typo never goes unnoticed.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Deserialize;

use super::UsageError;
use crate::migrate::MigrationStyle;

/// The file pgperf looks for in the current folder when `--config` is not given.
pub const DEFAULT_CONFIG_FILE: &str = "pgperf.toml";

/// The shared settings of `pgperf.toml` that commands read directly (every other key reaches
/// its command as a flag default, see [`with_file_defaults`]). Paths are relative to the
/// file's folder.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct ProjectConfig {
    /// Database URL (prefer `DATABASE_URL` for anything with a password).
    pub db: Option<String>,
    /// Workload file.
    pub workload: Option<PathBuf>,
    /// Migrations folder.
    pub migrations: Option<PathBuf>,
    /// Whose conventions the migrations folder follows.
    pub migration_style: Option<MigrationStyleArg>,
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
pub struct BenchConfig {
    pub iterations: Option<u64>,
    pub warmup: Option<u64>,
    pub concurrency: Option<u32>,
}

/// `--migration-style` and `migration_style`: a folder style, or `auto` to detect it
/// (`.rollback.sql` is pgperf's, `.up.sql`/`.down.sql` sqlx's, `supabase/migrations`
/// Supabase's). The variants carry no doc comments on purpose: clap would then print a long
/// list under every command that has the flag; docs/migrations.md describes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MigrationStyleArg {
    Auto,
    Pgperf,
    Supabase,
    Sqlx,
}

impl MigrationStyleArg {
    fn style(self) -> Option<MigrationStyle> {
        match self {
            MigrationStyleArg::Auto => None,
            MigrationStyleArg::Pgperf => Some(MigrationStyle::Pgperf),
            MigrationStyleArg::Supabase => Some(MigrationStyle::Supabase),
            MigrationStyleArg::Sqlx => Some(MigrationStyle::Sqlx),
        }
    }
}

impl ProjectConfig {
    /// The migration style asked for by `flag`, else by the file; `None` means detect it.
    pub fn style(&self, flag: Option<MigrationStyleArg>) -> Option<MigrationStyle> {
        flag.or(self.migration_style)
            .and_then(MigrationStyleArg::style)
    }

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

/// A flag whose default came from the file, for `pgperf config`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileDefault {
    /// Subcommand path, e.g. `["migrate"]`.
    pub command: Vec<String>,
    pub arg: String,
    pub file: PathBuf,
}

/// The config file named by `--config FILE` (or `--config=FILE`) anywhere in `argv`, else
/// `./pgperf.toml` when it exists.
pub fn config_path(argv: &[OsString]) -> Option<PathBuf> {
    let mut args = argv.iter().map(|a| a.to_string_lossy());
    while let Some(arg) = args.next() {
        if arg == "--config" {
            return args.next().map(|path| PathBuf::from(&*path));
        }
        if let Some(path) = arg.strip_prefix("--config=") {
            return Some(PathBuf::from(path));
        }
    }
    Some(PathBuf::from(DEFAULT_CONFIG_FILE)).filter(|path| path.is_file())
}

/// Sets the values of the config file found in `argv` as the defaults of the flags they name,
/// in every subcommand of `cli`. Returns the changed command and what came from the file.
pub fn with_file_defaults(
    cli: clap::Command,
    argv: &[OsString],
) -> anyhow::Result<(clap::Command, Vec<FileDefault>)> {
    let Some(path) = config_path(argv) else {
        return Ok((cli, Vec::new()));
    };
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read the config file {}", path.display()))?;
    let table: toml::Table = toml::from_str(&text)
        .map_err(|error| UsageError(format!("{}: {error}", path.display())))?;
    apply_table(pin_order(cli), &table, &path)
        .map_err(|message| UsageError(format!("{}: {message}", path.display())).into())
}

/// The work of [`with_file_defaults`] on a parsed file: every top-level value goes to each
/// subcommand with that flag, every `[command]` table to that command.
fn apply_table(
    mut cli: clap::Command,
    table: &toml::Table,
    path: &Path,
) -> Result<(clap::Command, Vec<FileDefault>), String> {
    let base = path.parent().unwrap_or(Path::new("."));
    let names: Vec<String> = cli
        .get_subcommands()
        .map(|c| c.get_name().to_string())
        .collect();
    let mut applied = Vec::new();
    for (key, value) in table {
        let targets: Vec<(String, &toml::Table)> = match value {
            toml::Value::Table(inner) if names.contains(key) => vec![(key.clone(), inner)],
            toml::Value::Table(_) => {
                return Err(format!(
                    "[{key}] is not a pgperf command; the commands are {}",
                    names.join(", ")
                ));
            }
            _ => {
                let found = names.iter().any(|name| {
                    cli.find_subcommand(name)
                        .is_some_and(|sub| has_flag(sub, key))
                });
                if !found {
                    return Err(format!(
                        "`{key}` is not an option of any command: write options by their flag name with _ for - (`rng_seed` for --rng-seed), shared ones at the top, one command's under [command]"
                    ));
                }
                continue;
            }
        };
        for (name, inner) in targets {
            for (option, value) in inner {
                let sub = cli.find_subcommand(&name).expect("listed above");
                if !has_flag(sub, option) {
                    return Err(format!(
                        "[{name}] has no option `{option}`; its options are {}",
                        flags(sub).join(", ")
                    ));
                }
                cli = set_default(cli, &name, option, value, base, path, &mut applied)?;
            }
        }
    }
    for (key, value) in table.iter().filter(|(_, v)| !v.is_table()) {
        for name in shared_by(&cli, &names, key, value) {
            let overridden = table
                .get(&name)
                .and_then(toml::Value::as_table)
                .is_some_and(|inner| inner.contains_key(key));
            if !overridden {
                cli = set_default(cli, &name, key, value, base, path, &mut applied)?;
            }
        }
    }
    Ok((cli, applied))
}

/// The commands a top-level `key` applies to: those whose flag takes the kind of value most
/// of them take (its value name: `out` is a results `DIR` for bench, advise and check, not
/// record's workload `FILE`) and, where the flag lists its values, accepts this one.
fn shared_by(cli: &clap::Command, names: &[String], key: &str, value: &toml::Value) -> Vec<String> {
    let long = key.replace('_', "-");
    let flags: Vec<(&String, &clap::Arg)> = names
        .iter()
        .filter_map(|name| {
            let sub = cli.find_subcommand(name)?;
            let arg = sub
                .get_arguments()
                .find(|a| a.get_long() == Some(long.as_str()))?;
            Some((name, arg))
        })
        .collect();
    let kind = |arg: &clap::Arg| {
        arg.get_value_names()
            .map(|n| n.join(" "))
            .unwrap_or_default()
    };
    let mut kinds: Vec<String> = flags.iter().map(|(_, arg)| kind(arg)).collect();
    let common = kinds
        .clone()
        .into_iter()
        .max_by_key(|k| kinds.iter().filter(|other| *other == k).count());
    kinds.clear();
    let text = strings(value).unwrap_or_default();
    flags
        .into_iter()
        .filter(|(_, arg)| Some(kind(arg)) == common)
        .filter(|(_, arg)| {
            let possible = arg.get_possible_values();
            possible.is_empty()
                || text
                    .iter()
                    .all(|t| possible.iter().any(|p| p.matches(t, false)))
        })
        .map(|(name, _)| name.clone())
        .collect()
}

/// Fixes every argument's place in `--help` and `pgperf config` to its place in the
/// definition: changing an argument moves it to the end of clap's list.
fn pin_order(command: clap::Command) -> clap::Command {
    let ids: Vec<String> = command
        .get_arguments()
        .map(|arg| arg.get_id().to_string())
        .collect();
    let names: Vec<String> = command
        .get_subcommands()
        .map(|c| c.get_name().to_string())
        .collect();
    let command = ids
        .iter()
        .enumerate()
        .fold(command, |command, (index, id)| {
            command.mut_arg(id, |arg| arg.display_order(index))
        });
    names.iter().fold(command, |command, name| {
        command.mut_subcommand(name, pin_order)
    })
}

/// The flag `--key` (with `_` for `-`) of `command` or of one of its subcommands.
fn has_flag(command: &clap::Command, key: &str) -> bool {
    flags(command).iter().any(|flag| *flag == key)
}

/// The keys `command` accepts: its flags' long names with `_` for `-`, and its subcommands'.
fn flags(command: &clap::Command) -> Vec<String> {
    let mut keys: Vec<String> = command
        .get_arguments()
        .filter_map(clap::Arg::get_long)
        .filter(|long| !matches!(*long, "config" | "help" | "version"))
        .map(|long| long.replace('-', "_"))
        .collect();
    for sub in command.get_subcommands() {
        keys.extend(flags(sub));
    }
    keys.sort();
    keys.dedup();
    keys
}

#[allow(clippy::too_many_arguments)]
fn set_default(
    cli: clap::Command,
    name: &str,
    key: &str,
    value: &toml::Value,
    base: &Path,
    path: &Path,
    applied: &mut Vec<FileDefault>,
) -> Result<clap::Command, String> {
    let long = key.replace('_', "-");
    let mut strings = strings(value)
        .ok_or_else(|| format!("`{key}` must be a string, number, boolean or a list of them"))?;
    let sub = cli.find_subcommand(name).expect("the caller found it");
    let mut changed = Vec::new();
    collect_targets(sub, &long, &mut Vec::new(), &mut changed);
    let mut cli = cli;
    for (subpath, id, is_path) in changed {
        if is_path {
            for text in &mut strings {
                if Path::new(text.as_str()).is_relative() {
                    *text = base.join(&*text).display().to_string();
                }
            }
        }
        let values = strings.clone();
        let mut command_path = vec![name.to_string()];
        command_path.extend(subpath.iter().cloned());
        cli = mut_nested(cli, &command_path, &id, values);
        applied.push(FileDefault {
            command: command_path,
            arg: id,
            file: path.to_path_buf(),
        });
    }
    Ok(cli)
}

/// Every (subcommand path below `command`, arg id, takes a path) whose long flag is `long`.
fn collect_targets(
    command: &clap::Command,
    long: &str,
    path: &mut Vec<String>,
    out: &mut Vec<(Vec<String>, String, bool)>,
) {
    for arg in command.get_arguments() {
        if arg.get_long() == Some(long) {
            let is_path = arg
                .get_value_names()
                .is_some_and(|names| names.iter().any(|n| n == "FILE" || n == "DIR"));
            out.push((path.clone(), arg.get_id().to_string(), is_path));
        }
    }
    for sub in command.get_subcommands() {
        path.push(sub.get_name().to_string());
        collect_targets(sub, long, path, out);
        path.pop();
    }
}

fn mut_nested(cli: clap::Command, path: &[String], id: &str, values: Vec<String>) -> clap::Command {
    match path.split_first() {
        None => cli.mut_arg(id, |arg| {
            // A URL with a password must not show in --help as "[default: ...]".
            let secret = arg.is_hide_env_values_set();
            // The file supplies a required option: clap does not count a default as given.
            arg.default_values(values)
                .hide_default_value(secret)
                .required(false)
        }),
        Some((first, rest)) => cli.mut_subcommand(first, |sub| mut_nested(sub, rest, id, values)),
    }
}

/// A TOML value as the argument strings clap would have been given.
fn strings(value: &toml::Value) -> Option<Vec<String>> {
    match value {
        toml::Value::String(text) => Some(vec![text.clone()]),
        toml::Value::Integer(n) => Some(vec![n.to_string()]),
        toml::Value::Float(x) => Some(vec![x.to_string()]),
        toml::Value::Boolean(b) => Some(vec![b.to_string()]),
        toml::Value::Datetime(d) => Some(vec![d.to_string()]),
        toml::Value::Array(items) => items
            .iter()
            .map(|item| {
                strings(item)
                    .filter(|s| s.len() == 1)
                    .map(|mut s| s.remove(0))
            })
            .collect(),
        toml::Value::Table(_) => None,
    }
}

/// One row of `pgperf config`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    pub option: String,
    pub value: String,
    /// `flag`, `environment (VAR)`, `file (path)`, `default`, or empty when unset.
    pub source: String,
}

/// The effective settings of the command `matches` parsed (`command` is its definition),
/// with where each came from.
pub fn settings(
    command: &clap::Command,
    matches: &clap::ArgMatches,
    from_file: &[FileDefault],
    path: &[String],
) -> Vec<Setting> {
    let mut rows = Vec::new();
    let mut arguments: Vec<&clap::Arg> = command.get_arguments().collect();
    arguments.sort_by_key(|arg| arg.get_display_order());
    for arg in arguments {
        let id = arg.get_id().as_str();
        let Some(long) = arg.get_long().filter(|l| !matches!(*l, "help" | "version")) else {
            continue;
        };
        let raw: Vec<String> = matches
            .get_raw(id)
            .map(|values| values.map(|v| v.to_string_lossy().into_owned()).collect())
            .unwrap_or_default();
        let secret = arg.is_hide_env_values_set();
        let value = match raw.is_empty() {
            true => "(unset: built-in default)".to_string(),
            false if secret => raw
                .iter()
                .map(|v| crate::pg::redact_url(v))
                .collect::<Vec<_>>()
                .join(", "),
            false => raw.join(", "),
        };
        let source = match matches.value_source(id) {
            Some(clap::parser::ValueSource::CommandLine) => "flag".to_string(),
            Some(clap::parser::ValueSource::EnvVariable) => format!(
                "environment ({})",
                arg.get_env()
                    .map(|e| e.to_string_lossy().into_owned())
                    .unwrap_or_default()
            ),
            Some(clap::parser::ValueSource::DefaultValue) => {
                match from_file.iter().find(|f| f.command == path && f.arg == id) {
                    Some(file) => format!("file ({})", file.file.display()),
                    None => "default".to_string(),
                }
            }
            _ => String::new(),
        };
        rows.push(Setting {
            option: format!("--{long}"),
            value,
            source,
        });
    }
    if let Some((name, sub_matches)) = matches.subcommand()
        && let Some(sub) = command.find_subcommand(name)
    {
        let mut sub_path = path.to_vec();
        sub_path.push(name.to_string());
        rows.extend(settings(sub, sub_matches, from_file, &sub_path));
    }
    rows
}

/// `pgperf config [COMMAND [ARGS...]]`.
#[derive(Debug, clap::Args)]
pub struct ConfigArgs {
    /// The command whose settings to show [default: every command].
    #[arg(value_name = "COMMAND")]
    pub command: Option<String>,
    /// That command's flags, as you would pass them, to see what they change.
    #[arg(
        value_name = "ARGS",
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    pub args: Vec<String>,
}

/// Prints each asked command's settings: value and source.
pub fn run(
    args: ConfigArgs,
    cli: clap::Command,
    from_file: &[FileDefault],
) -> anyhow::Result<super::Outcome> {
    let names: Vec<String> = match &args.command {
        Some(name) => vec![name.clone()],
        None => cli
            .get_subcommands()
            .map(|c| c.get_name().to_string())
            .filter(|name| name != "config")
            .collect(),
    };
    let file = from_file.first().map(|f| f.file.display().to_string());
    println!(
        "config file: {}",
        file.as_deref()
            .unwrap_or("none (no ./pgperf.toml, no --config)")
    );
    for name in names {
        let command = cli.find_subcommand(&name).ok_or_else(|| {
            UsageError(format!(
                "`{name}` is not a pgperf command; run pgperf --help"
            ))
        })?;
        let argv = std::iter::once(name.clone()).chain(args.args.iter().cloned());
        let matches = tolerant(command.clone())
            .try_get_matches_from(argv)
            .map_err(|error| UsageError(error.to_string()))?;
        let mut table = comfy_table::Table::new();
        table.load_preset(comfy_table::presets::UTF8_BORDERS_ONLY);
        table.set_header(["option", "value", "from"]);
        for row in settings(command, &matches, from_file, std::slice::from_ref(&name)) {
            table.add_row([row.option, row.value, row.source]);
        }
        println!("\npgperf {name}\n{table}");
    }
    Ok(super::Outcome::Success)
}

/// The command and its subcommands parsing without failing on missing arguments, so the
/// settings of a partial command line can be shown.
fn tolerant(command: clap::Command) -> clap::Command {
    let names: Vec<String> = command
        .get_subcommands()
        .map(|c| c.get_name().to_string())
        .collect();
    names
        .iter()
        .fold(command.ignore_errors(true), |command, name| {
            command.mut_subcommand(name, tolerant)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_relative_to_the_file() {
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
    }

    fn cli() -> clap::Command {
        clap::Command::new("pgperf")
            .subcommand(
                clap::Command::new("bench")
                    .arg(clap::Arg::new("db").long("db").env("PGPERF_TEST_UNSET_URL"))
                    .arg(clap::Arg::new("iterations").long("iterations"))
                    .arg(clap::Arg::new("out").long("out").value_name("DIR")),
            )
            .subcommand(
                clap::Command::new("check")
                    .arg(clap::Arg::new("db").long("db"))
                    .arg(
                        clap::Arg::new("markdown")
                            .long("markdown")
                            .value_name("FILE"),
                    )
                    .arg(clap::Arg::new("baseline").long("baseline").required(true))
                    .arg(clap::Arg::new("out").long("out").value_name("DIR"))
                    .arg(
                        clap::Arg::new("fail_fast")
                            .long("fail-fast")
                            .action(clap::ArgAction::SetTrue),
                    ),
            )
    }

    #[test]
    fn a_shared_key_skips_a_command_whose_flag_means_another_kind_of_thing() {
        let cli = cli().subcommand(
            clap::Command::new("record").arg(clap::Arg::new("out").long("out").value_name("FILE")),
        );
        let table: toml::Table = toml::from_str("out = \"runs\"").expect("toml");
        let (_, applied) = apply_table(cli, &table, Path::new("pgperf.toml")).expect("applies");
        let commands: Vec<&str> = applied.iter().map(|a| a.command[0].as_str()).collect();
        assert_eq!(
            commands,
            ["bench", "check"],
            "record's --out is a workload FILE"
        );
    }

    fn parse(file: &str, args: &[&str]) -> Result<(clap::ArgMatches, Vec<Setting>), String> {
        let table: toml::Table = toml::from_str(file).expect("toml");
        let (cli, from_file) = apply_table(cli(), &table, Path::new("conf/pgperf.toml"))?;
        let matches = cli
            .clone()
            .try_get_matches_from(args)
            .map_err(|e| e.to_string())?;
        let (name, sub) = matches.subcommand().expect("a command");
        let rows = settings(
            cli.find_subcommand(name).expect("command"),
            sub,
            &from_file,
            &[name.to_string()],
        );
        Ok((sub.clone(), rows))
    }

    #[test]
    fn file_values_become_defaults_below_flags_and_say_where_they_came_from() {
        let file = "db = \"postgres://u:secret@h/app\"\n[check]\nmarkdown = \"s.md\"\nbaseline = \"b.json\"\nfail_fast = true\n[bench]\niterations = 50\n";
        let (matches, rows) = parse(file, &["pgperf", "check"]).expect("parses");
        assert_eq!(
            matches.get_one::<String>("markdown").map(String::as_str),
            Some("conf/s.md")
        );
        assert!(matches.get_flag("fail_fast"));
        assert_eq!(
            matches.get_one::<String>("baseline").map(String::as_str),
            Some("b.json"),
            "a required option given by the file"
        );
        let db = rows.iter().find(|r| r.option == "--db").expect("db row");
        assert_eq!(db.source, "file (conf/pgperf.toml)");
        let (matches, rows) =
            parse(file, &["pgperf", "bench", "--iterations", "7"]).expect("parses");
        assert_eq!(
            matches.get_one::<String>("iterations").map(String::as_str),
            Some("7")
        );
        let iterations = rows
            .iter()
            .find(|r| r.option == "--iterations")
            .expect("row");
        assert_eq!(iterations.source, "flag");
    }

    #[test]
    fn unknown_keys_and_commands_are_refused_with_the_valid_ones() {
        let error = parse("scael = 2\n", &["pgperf", "bench"]).expect_err("typo");
        assert!(error.contains("scael"), "{error}");
        let error = parse("[check]\nmarkdwn = \"x\"\n", &["pgperf", "check"]).expect_err("typo");
        assert!(
            error.contains("baseline, db, fail_fast, markdown"),
            "{error}"
        );
        let error = parse("[chek]\nx = 1\n", &["pgperf", "check"]).expect_err("typo");
        assert!(error.contains("bench, check"), "{error}");
    }
}
