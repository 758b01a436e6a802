//! Session state of one connection: the role (`SET ROLE`), the JWT claims in
//! `request.jwt.claims` (and `request.jwt.claim.<key>` for top-level string claims, as older
//! PostgREST versions set them), the persona's own settings (`app.tenant_id`, read by row-level
//! security policies) and `statement_timeout`. Supabase's PostgREST sets exactly these
//! per request; pgperf does the same per query, and only when they change, so switching costs
//! nothing between two queries of the same persona.

use postgres::Client;

use crate::pg::{TextParam, quote_ident};

/// Who a query runs as: a role, its claims and its session settings. `None` in
/// [`Session::apply`] means the connecting user with no claims and no settings.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Caller {
    pub role: String,
    pub claims: Option<serde_json::Value>,
    /// Settings set with `set_config` (`app.tenant_id` = `42`).
    pub settings: std::collections::BTreeMap<String, String>,
}

/// What one connection currently has set; changes are sent only when they differ.
#[derive(Debug, Default)]
pub struct Session {
    caller: Option<Option<Caller>>,
    /// Per-caller keys set by the last caller (per-key claims and settings), cleared when the
    /// next caller has none of that name.
    caller_keys: Vec<String>,
    statement_timeout_ms: Option<u64>,
}

/// The `set_config` statement: one round trip for any number of settings, every value bound.
const SET_CONFIG_SQL: &str =
    "SELECT count(set_config(k, v, false)) FROM unnest($1::text[], $2::text[]) AS s(k, v)";

impl Session {
    /// A session about which nothing is known yet: the first `apply` sets everything.
    pub fn new() -> Session {
        Session::default()
    }

    /// Makes the connection run as `caller` with `statement_timeout_ms`.
    pub fn apply(
        &mut self,
        client: &mut Client,
        caller: Option<&Caller>,
        statement_timeout_ms: u64,
    ) -> Result<(), postgres::Error> {
        let mut settings: Vec<(String, String)> = Vec::new();
        if self.statement_timeout_ms != Some(statement_timeout_ms) {
            settings.push(("statement_timeout".into(), statement_timeout_ms.to_string()));
        }
        let caller_changed = self.caller.as_ref().map(Option::as_ref) != Some(caller);
        if caller_changed {
            client.batch_execute(&match caller {
                Some(caller) => format!("SET ROLE {}", quote_ident(&caller.role)),
                None => "RESET ROLE".to_string(),
            })?;
            settings.extend(self.claim_settings(caller));
        }
        if !settings.is_empty() {
            let (keys, values): (Vec<String>, Vec<String>) = settings.into_iter().unzip();
            let keys = TextParam(Some(array_text(&keys)));
            let values = TextParam(Some(array_text(&values)));
            client.query_one(SET_CONFIG_SQL, &[&keys, &values])?;
        }
        self.statement_timeout_ms = Some(statement_timeout_ms);
        self.caller = Some(caller.cloned());
        Ok(())
    }

    /// `request.jwt.claims`, the per-key claims and the settings of `caller`; keys the
    /// previous caller set and this one does not are cleared.
    fn claim_settings(&mut self, caller: Option<&Caller>) -> Vec<(String, String)> {
        let claims = caller.and_then(|caller| caller.claims.as_ref());
        let mut settings = vec![(
            "request.jwt.claims".to_string(),
            claims.map(|claims| claims.to_string()).unwrap_or_default(),
        )];
        let mut per_key = per_key_claims(claims);
        if let Some(caller) = caller {
            per_key.extend(caller.settings.clone());
        }
        for stale in &self.caller_keys {
            if !per_key.iter().any(|(key, _)| key == stale) {
                settings.push((stale.clone(), String::new()));
            }
        }
        self.caller_keys = per_key.iter().map(|(key, _)| key.clone()).collect();
        settings.extend(per_key);
        settings
    }
}

/// `request.jwt.claim.<key>` for every top-level string claim.
fn per_key_claims(claims: Option<&serde_json::Value>) -> Vec<(String, String)> {
    claims
        .and_then(serde_json::Value::as_object)
        .map(|object| {
            object
                .iter()
                .filter_map(|(key, value)| {
                    Some((
                        format!("request.jwt.claim.{key}"),
                        value.as_str()?.to_string(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Sets `claims` and the persona's own `settings` as [`Session::apply`] does, but for the
/// current transaction only (`set_config(…, true)`), for a caller that plans or reads as a
/// persona and rolls back.
pub fn set_local_claims(
    client: &mut impl postgres::GenericClient,
    claims: &serde_json::Value,
    own: &std::collections::BTreeMap<String, String>,
) -> Result<(), postgres::Error> {
    let mut settings = vec![("request.jwt.claims".to_string(), claims.to_string())];
    settings.extend(per_key_claims(Some(claims)));
    settings.extend(own.clone());
    let (keys, values): (Vec<String>, Vec<String>) = settings.into_iter().unzip();
    let keys = TextParam(Some(array_text(&keys)));
    let values = TextParam(Some(array_text(&values)));
    client.query_one(
        "SELECT count(set_config(k, v, true)) FROM unnest($1::text[], $2::text[]) AS s(k, v)",
        &[&keys, &values],
    )?;
    Ok(())
}

/// A PostgreSQL text array literal of `items`, every element quoted.
pub fn array_text(items: &[String]) -> String {
    let quoted: Vec<String> = items
        .iter()
        .map(|item| format!("\"{}\"", item.replace('\\', "\\\\").replace('"', "\\\"")))
        .collect();
    format!("{{{}}}", quoted.join(","))
}
