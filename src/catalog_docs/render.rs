//! Renders the catalog model into Markdown pages. Pure: data in, `(file name, text)` out.

use std::fmt::Write as _;

use super::{CatalogDoc, TableDoc};

const GENERATED: &str = "<!-- Generated from the catalog by src/catalog_docs: do not edit. Regenerate with\n     PGPERF_UPDATE_SPECS=1 cargo test --test schema_docs -->\n";

/// Every page of `docs/specs/`: `README.md`, `security.md` and one `<schema>.<table>.md` per
/// table.
pub fn render_pages(doc: &CatalogDoc) -> Vec<(String, String)> {
    let mut pages = vec![
        ("README.md".to_string(), render_index(doc)),
        ("security.md".to_string(), render_security(doc)),
    ];
    pages.extend(
        doc.tables
            .iter()
            .map(|t| (format!("{}.{}.md", t.schema, t.name), render_table(t))),
    );
    pages
}

/// A table cell: one line, pipes escaped, empty when absent.
fn cell(text: Option<&str>) -> String {
    text.unwrap_or("")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace('|', "\\|")
}

/// A cell holding SQL, in backticks.
fn code(text: Option<&str>) -> String {
    match text {
        Some(sql) if !sql.is_empty() => format!("`{}`", cell(Some(sql))),
        _ => String::new(),
    }
}

fn yes_no(flag: bool) -> &'static str {
    if flag { "yes" } else { "no" }
}

fn render_index(doc: &CatalogDoc) -> String {
    let mut out = format!(
        "{GENERATED}\n# Data layer specification\n\nOne page per table; the security model and policy matrix are in [security.md](security.md).\n\n## Tables\n\n| table | audited | description |\n|---|---|---|\n"
    );
    for t in &doc.tables {
        let _ = writeln!(
            out,
            "| [{0}.{1}]({0}.{1}.md) | {2} | {3} |",
            t.schema,
            t.name,
            yes_no(t.audited),
            cell(t.comment.as_deref())
        );
    }
    out.push_str("\n## Functions and views\n\n| schema | kind | name | runs as | description |\n|---|---|---|---|---|\n");
    for r in &doc.routines {
        let _ = writeln!(
            out,
            "| {} | {} | `{}` | {} | {} |",
            r.schema,
            r.kind,
            cell(Some(&r.name)),
            r.security,
            cell(r.comment.as_deref())
        );
    }
    out
}

fn render_security(doc: &CatalogDoc) -> String {
    let mut out = format!("{GENERATED}\n{}", include_str!("security_intro.md"));
    out.push_str("\n## Grants per table\n\n| table | RLS | authenticated | service_role | anon |\n|---|---|---|---|---|\n");
    for t in &doc.tables {
        let grant = |role: &str| {
            t.grants
                .iter()
                .find(|g| g.grantee == role)
                .map_or(String::from("none"), |g| cell(Some(&g.privileges)))
        };
        let rls = match (t.rls_enabled, t.rls_forced) {
            (true, true) => "enabled, forced",
            (true, false) => "enabled",
            _ => "OFF",
        };
        let _ = writeln!(
            out,
            "| {}.{} | {} | {} | {} | {} |",
            t.schema,
            t.name,
            rls,
            grant("authenticated"),
            grant("service_role"),
            grant("anon")
        );
    }
    out.push_str("\n## Policies\n\nEvery policy is permissive; a command without a policy is denied to `authenticated`.\n\n| table | command | policy | roles | using | with check |\n|---|---|---|---|---|---|\n");
    for t in &doc.tables {
        for p in &t.policies {
            let _ = writeln!(
                out,
                "| {}.{} | {} | {} | {} | {} | {} |",
                t.schema,
                t.name,
                p.command,
                p.name,
                p.roles,
                code(p.using_expr.as_deref()),
                code(p.check_expr.as_deref())
            );
        }
    }
    out
}

fn render_table(t: &TableDoc) -> String {
    let mut out = format!(
        "{GENERATED}\n# {}.{}\n\n{}\n\n| | |\n|---|---|\n| kind | {} |\n| row level security | {} |\n| audited | {} |\n",
        t.schema,
        t.name,
        cell(t.comment.as_deref()),
        if t.partitioned {
            "partitioned table"
        } else {
            "table"
        },
        match (t.rls_enabled, t.rls_forced) {
            (true, true) => "enabled and forced",
            (true, false) => "enabled, not forced",
            _ => "OFF",
        },
        if t.audited {
            "yes: every write goes to audit.log"
        } else {
            "no"
        },
    );
    out.push_str("\n## Columns\n\n| column | type | null | default | PII | description |\n|---|---|---|---|---|---|\n");
    for c in &t.columns {
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} | {} | {} |",
            c.name,
            cell(Some(&c.type_name)),
            if c.not_null { "not null" } else { "null" },
            code(c.default_value.as_deref()),
            if c.pii { "PII" } else { "" },
            cell(c.comment.as_deref())
        );
    }
    out.push_str("\n## Constraints\n\n| name | definition |\n|---|---|\n");
    for k in &t.constraints {
        let _ = writeln!(out, "| {} | {} |", k.name, code(Some(&k.definition)));
    }
    out.push_str("\n## Policies\n\n");
    if t.policies.is_empty() {
        out.push_str("None: only roles that bypass RLS (the owner, `service_role`) reach rows.\n");
    } else {
        out.push_str("| policy | command | roles | using | with check |\n|---|---|---|---|---|\n");
        for p in &t.policies {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                p.name,
                p.command,
                p.roles,
                code(p.using_expr.as_deref()),
                code(p.check_expr.as_deref())
            );
        }
    }
    out.push_str("\n## Grants\n\n");
    if t.grants.is_empty() {
        out.push_str("None: the owner only.\n");
    } else {
        out.push_str("| role | privileges |\n|---|---|\n");
        for g in &t.grants {
            let _ = writeln!(out, "| {} | {} |", g.grantee, cell(Some(&g.privileges)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog_docs::{ColumnDoc, ConstraintDoc, GrantDoc, PolicyDoc};

    fn sample() -> TableDoc {
        TableDoc {
            schema: "app".into(),
            name: "users".into(),
            comment: Some("App users | with a pipe\nand a newline.".into()),
            partitioned: false,
            rls_enabled: true,
            rls_forced: true,
            audited: true,
            columns: vec![ColumnDoc {
                name: "email".into(),
                type_name: "text".into(),
                not_null: false,
                default_value: None,
                comment: Some("PII. Address.".into()),
                pii: true,
            }],
            constraints: vec![ConstraintDoc {
                name: "users_pkey".into(),
                definition: "PRIMARY KEY (id)".into(),
            }],
            policies: vec![PolicyDoc {
                name: "users_select".into(),
                command: "SELECT".into(),
                roles: "authenticated".into(),
                permissive: "PERMISSIVE".into(),
                using_expr: Some(
                    "(team_id = ( SELECT app.current_team_id() AS current_team_id))".into(),
                ),
                check_expr: None,
            }],
            grants: vec![GrantDoc {
                grantee: "authenticated".into(),
                privileges: "SELECT (id, team_id)".into(),
            }],
        }
    }

    #[test]
    fn cells_are_one_line_with_pipes_escaped() {
        assert_eq!(cell(Some("a |\n b")), "a \\| b");
        assert_eq!(cell(None), "");
    }

    #[test]
    fn table_page_lists_columns_constraints_policies_and_grants() {
        insta::assert_snapshot!(render_table(&sample()));
    }
}
