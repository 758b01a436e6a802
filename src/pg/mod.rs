//! Connections, session settings, EXPLAIN, pg_stat_statements and catalog queries.

mod describe;
pub mod environment;
pub mod explain;
mod ident;
pub mod policies;
pub mod session;
pub mod stat_statements;
mod text_param;

pub use describe::{describe, sqlstate};
pub use ident::{quote_ident, quote_literal, quote_qualified};
pub use text_param::TextParam;

/// Removes the password from a connection string (URL or `key=value` form) so it can be shown,
/// logged or stored. Connection passwords never appear in any output (DESIGN §2).
pub fn redact_url(url: &str) -> String {
    if let Some(rest) = url
        .strip_prefix("postgresql://")
        .or_else(|| url.strip_prefix("postgres://"))
    {
        let scheme = &url[..url.len() - rest.len()];
        let (authority, tail) = rest.split_at(rest.find(['/', '?']).unwrap_or(rest.len()));
        let authority = match authority.rsplit_once('@') {
            Some((userinfo, host)) => {
                let user = userinfo.split(':').next().unwrap_or("");
                if userinfo.contains(':') {
                    format!("{user}:***@{host}")
                } else {
                    format!("{user}@{host}")
                }
            }
            None => authority.to_string(),
        };
        let tail = match tail.split_once('?') {
            Some((path, query)) => format!("{path}?{}", redact_key_values(query, '&')),
            None => tail.to_string(),
        };
        return format!("{scheme}{authority}{tail}");
    }
    redact_key_values(url, ' ')
}

fn redact_key_values(text: &str, separator: char) -> String {
    text.split(separator)
        .map(|part| {
            let (key, _) = part.split_once('=').unwrap_or((part, ""));
            if key.trim().eq_ignore_ascii_case("password") {
                format!("{key}=***")
            } else {
                part.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(&separator.to_string())
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn passwords_are_removed_from_every_form() {
        assert_eq!(
            redact_url("postgresql://bob:s3cret@db.example:5432/app?sslmode=require"),
            "postgresql://bob:***@db.example:5432/app?sslmode=require"
        );
        assert_eq!(
            redact_url("postgres://bob@host/app?password=s3cret&sslmode=require"),
            "postgres://bob@host/app?password=***&sslmode=require"
        );
        assert_eq!(
            redact_url("host=/tmp user=bob password=s3cret dbname=app"),
            "host=/tmp user=bob password=*** dbname=app"
        );
        assert_eq!(
            redact_url("postgresql://%2Ftmp%2Fx:5432/db"),
            "postgresql://%2Ftmp%2Fx:5432/db"
        );
    }
}
