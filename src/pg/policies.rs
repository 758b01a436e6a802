//! Row-level security policies a query meets, and what they read from the session. A persona
//! that lacks a claim or a setting a policy reads does not fail: the policy compares with NULL
//! and the query returns no rows, which looks like a fast, healthy query. Reading
//! `pg_policies` for the tables a query names lets bench say so before anyone trusts the ✓.
//!
//! The policy text is PostgreSQL's own deparse (`pg_policies.qual`, `with_check`), so the
//! shapes are regular: `current_setting('app.tenant_id'::text)`,
//! `(current_setting('request.jwt.claims'::text, true))::json ->> 'org_id'::text`,
//! `(auth.jwt() ->> 'org_id'::text)`, `auth.uid()`.

use std::collections::BTreeSet;

use postgres::Client;

/// Something a policy reads from the session.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Needs {
    /// A top-level JWT claim (`auth.jwt() ->> 'k'`, `request.jwt.claim.k`, `auth.uid()`).
    Claim(String),
    /// A custom setting (`current_setting('app.tenant_id')`).
    Setting(String),
}

impl std::fmt::Display for Needs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Needs::Claim(key) => write!(f, "claim \"{key}\""),
            Needs::Setting(name) => write!(f, "setting \"{name}\""),
        }
    }
}

/// One policy that applies to a role on a table the query names.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// `schema.table`.
    pub table: String,
    pub name: String,
    /// What its `USING` and `WITH CHECK` expressions read from the session.
    pub needs: BTreeSet<Needs>,
}

/// What the expression text of a policy reads from the session.
pub fn needs_of(expression: &str) -> BTreeSet<Needs> {
    let mut needs = BTreeSet::new();
    for name in quoted_after(expression, "current_setting('") {
        match name.strip_prefix("request.jwt.claim.") {
            Some(key) => needs.insert(Needs::Claim(key.to_string())),
            None if name == "request.jwt.claims" => false,
            None => needs.insert(Needs::Setting(name)),
        };
    }
    for marker in ["jwt()", "'request.jwt.claims'"] {
        for (at, _) in expression.match_indices(marker) {
            if let Some(key) = first_json_key(&expression[at + marker.len()..]) {
                needs.insert(Needs::Claim(key));
            }
        }
    }
    // Supabase's helpers read these claims.
    for (helper, key) in [("auth.uid()", "sub"), ("auth.email()", "email")] {
        if expression.contains(helper) {
            needs.insert(Needs::Claim(key.to_string()));
        }
    }
    needs
}

/// Every single-quoted string that directly follows `prefix`.
fn quoted_after(text: &str, prefix: &str) -> Vec<String> {
    text.match_indices(prefix)
        .filter_map(|(at, _)| {
            let rest = &text[at + prefix.len()..];
            Some(rest[..rest.find('\'')?].to_string())
        })
        .collect()
}

/// The key of the first `->` / `->>` after a JSON value, skipping casts, closing parentheses
/// and the rest of a `current_setting(...)` call: `))::json ->> 'org_id'::text` gives `org_id`.
fn first_json_key(rest: &str) -> Option<String> {
    let arrow = rest.find("->")?;
    let between = &rest[..arrow];
    // Another call or operand in between: the arrow belongs to something else.
    if between.len() > 40 || between.contains('=') || between.contains(" AND ") {
        return None;
    }
    let after = rest[arrow + 2..].trim_start_matches('>').trim_start();
    let key = after.strip_prefix('\'')?;
    Some(key[..key.find('\'')?].to_string())
}

/// The policies on `tables` (`schema.table` or a bare name) that apply to `role`, with what
/// they read. Tables without row-level security enabled have none that matter.
pub fn policies_for(
    client: &mut Client,
    tables: &[String],
    role: &str,
) -> Result<Vec<Policy>, postgres::Error> {
    if tables.is_empty() {
        return Ok(Vec::new());
    }
    let rows = client.query(
        "SELECT p.schemaname || '.' || p.tablename, p.policyname::text, \
                coalesce(p.qual, '') || ' ' || coalesce(p.with_check, '') \
         FROM pg_policies p \
         JOIN pg_class c ON c.relname = p.tablename \
         JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = p.schemaname \
         WHERE c.relrowsecurity \
           AND (p.schemaname || '.' || p.tablename = ANY($1) OR p.tablename = ANY($1)) \
           AND ('public' = ANY(p.roles) OR $2 = ANY(p.roles::text[])) \
         ORDER BY 1, 2",
        &[&tables, &role],
    )?;
    Ok(rows
        .iter()
        .map(|row| Policy {
            table: row.get(0),
            name: row.get(1),
            needs: needs_of(row.get::<_, &str>(2)),
        })
        .collect())
}

/// What `policies` read that the persona does not set: one line per missing item, naming the
/// policies that read it.
pub fn missing(
    policies: &[Policy],
    claims: Option<&serde_json::Value>,
    settings: &std::collections::BTreeMap<String, String>,
) -> Vec<String> {
    let has = |needs: &Needs| match needs {
        Needs::Claim(key) => claims
            .and_then(serde_json::Value::as_object)
            .is_some_and(|object| object.contains_key(key)),
        Needs::Setting(name) => settings.contains_key(name),
    };
    let mut lacking: Vec<(Needs, Vec<String>)> = Vec::new();
    for policy in policies {
        for needs in policy.needs.iter().filter(|needs| !has(needs)) {
            let name = format!("{} on {}", policy.name, policy.table);
            match lacking.iter_mut().find(|(n, _)| n == needs) {
                Some((_, names)) => names.push(name),
                None => lacking.push((needs.clone(), vec![name])),
            }
        }
    }
    lacking
        .into_iter()
        .map(|(needs, names)| format!("{needs} (read by policy {})", names.join(", ")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claim(key: &str) -> Needs {
        Needs::Claim(key.to_string())
    }

    #[test]
    fn claims_and_settings_are_read_from_deparsed_policies() {
        let needs = needs_of(
            "((tenant_id = (current_setting('app.tenant_id'::text))::integer) AND \
             (org_id = ((auth.jwt() ->> 'org_id'::text))::uuid) AND \
             (team = ((current_setting('request.jwt.claims'::text, true))::json ->> 'team'::text)) \
             AND (owner = current_setting('request.jwt.claim.sub'::text, true)) \
             AND (author = auth.uid()))",
        );
        let expected: BTreeSet<Needs> = [
            Needs::Setting("app.tenant_id".into()),
            claim("org_id"),
            claim("team"),
            claim("sub"),
        ]
        .into_iter()
        .collect();
        assert_eq!(needs, expected);
    }

    #[test]
    fn nested_claims_count_by_their_top_level_key() {
        let needs = needs_of("((auth.jwt() -> 'app_metadata'::text) ->> 'org'::text) = 'x'");
        assert_eq!(needs, [claim("app_metadata")].into_iter().collect());
        assert!(needs_of("true").is_empty());
    }

    #[test]
    fn missing_names_what_and_which_policy() {
        let policies = vec![Policy {
            table: "public.orders".into(),
            name: "tenant_rows".into(),
            needs: [claim("org_id"), Needs::Setting("app.tenant_id".into())]
                .into_iter()
                .collect(),
        }];
        let claims = serde_json::json!({ "org_id": "o1" });
        let mut settings = std::collections::BTreeMap::new();
        assert_eq!(
            missing(&policies, Some(&claims), &settings),
            vec!["setting \"app.tenant_id\" (read by policy tenant_rows on public.orders)"]
        );
        settings.insert("app.tenant_id".to_string(), "42".to_string());
        assert!(missing(&policies, Some(&claims), &settings).is_empty());
        assert_eq!(missing(&policies, None, &settings).len(), 1);
    }
}
