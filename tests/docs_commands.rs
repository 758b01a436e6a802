//! `docs/commands.md` holds every command's `--help` text; this test fails when it is stale.
//! Regenerate with `PGPERF_UPDATE_DOCS=1 cargo test --test docs_commands`.

use std::process::Command;

const COMMANDS: [&str; 9] = [
    "bench", "advise", "check", "record", "migrate", "seed", "report", "inspect", "config",
];

/// `pgperf history` and its subcommands, each with its own help.
const HISTORY_COMMANDS: [&[&str]; 4] = [
    &["history"],
    &["history", "add"],
    &["history", "report"],
    &["history", "check"],
];

fn help(args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_pgperf"))
        .args(args)
        .arg("--help")
        .env("COLUMNS", "100")
        .env_remove("DATABASE_URL")
        .env_remove("PGPERF_HISTORY")
        .output()
        .expect("pgperf runs");
    assert!(output.status.success(), "{args:?} --help exits 0");
    String::from_utf8(output.stdout).expect("utf-8 help")
}

fn render() -> String {
    let mut text = String::from(
        "# Commands\n\n\
         Generated from `pgperf <command> --help` by `tests/docs_commands.rs`; the test fails when\n\
         this page is stale. Regenerate with `PGPERF_UPDATE_DOCS=1 cargo test --test docs_commands`.\n\n\
         Configuration precedence: flags > environment (`DATABASE_URL`) > `pgperf.toml` > defaults.\n\
         `pgperf.toml` (in the current folder, or `--config FILE`) may set every option of every\n\
         command by its flag name with `_` for `-`: at the top level for each command whose flag\n\
         takes that kind of value (`db`, `scale`, `out` as the results `DIR`, not `record --out`),\n\
         or under `[command]` for one command (`[check]` `markdown = \"summary.md\"`), which wins;\n\
         a key that is no command's option is refused. Relative paths (`FILE`, `DIR`) are\n\
         relative to the file. `pgperf config [COMMAND [ARGS]]` prints the effective settings and\n\
         where each came from. Data goes to stdout; progress and diagnostics to stderr. Passwords\n\
         never appear in any output.\n\n## pgperf\n\n```text\n",
    );
    text.push_str(&help(&[]));
    text.push_str("```\n");
    for command in COMMANDS {
        text.push_str(&format!(
            "\n## pgperf {command}\n\n```text\n{}```\n",
            help(&[command])
        ));
    }
    for command in HISTORY_COMMANDS {
        text.push_str(&format!(
            "\n## pgperf {}\n\n```text\n{}```\n",
            command.join(" "),
            help(command)
        ));
    }
    text
}

#[test]
fn commands_page_matches_the_help_text() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/commands.md");
    let expected = render();
    if std::env::var_os("PGPERF_UPDATE_DOCS").is_some() {
        std::fs::write(path, &expected).expect("write docs/commands.md");
        return;
    }
    let actual = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        actual == expected,
        "docs/commands.md is stale: run PGPERF_UPDATE_DOCS=1 cargo test --test docs_commands"
    );
}
