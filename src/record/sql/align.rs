//! Lining a recorded statement up with the reference workload's query of the same fingerprint.
//! pg_stat_statements replaces every constant by `$n`, so `table_name = 'approvals'` and
//! `jsonb_build_object('id', $1)` come back as `table_name = $3` and `jsonb_build_object($4,
//! $1)`: the view cannot tell a constant the application wrote from a parameter it bound. The
//! reference can. Walking both texts token by token (PostgreSQL's own scanner, so whitespace,
//! comments and case do not matter) says, for each recorded `$n`, what the reference has in
//! its place: one of its own parameters, or a constant.

use std::collections::BTreeMap;

use pg_query::protobuf::{ScanToken, Token};

use super::Literal;
use super::literals::parse_literal;

/// What the reference has where the recorded text has a `$n`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Counterpart {
    /// The reference's own `$k`.
    Param(usize),
    /// A constant the reference wrote.
    Constant(Literal),
}

/// For each `$n` of `recorded`, its counterpart in `reference`; `None` when the two texts are
/// not the same statement token for token (apart from constants where `recorded` has `$n`).
pub fn align(recorded: &str, reference: &str) -> Option<BTreeMap<usize, Counterpart>> {
    let ours = tokens(recorded)?;
    let theirs = tokens(reference)?;
    let mut found = BTreeMap::new();
    let mut j = 0;
    for (kind, text) in &ours {
        let (their_kind, their_text) = theirs.get(j)?;
        if *kind != Token::Param {
            if kind != their_kind || !text.eq_ignore_ascii_case(their_text) {
                return None;
            }
            j += 1;
            continue;
        }
        let number: usize = text.strip_prefix('$')?.parse().ok()?;
        let (counterpart, used) = counterpart(&theirs[j..])?;
        match found.insert(number, counterpart.clone()) {
            // A `$n` used twice must stand for the same thing both times.
            Some(earlier) if earlier != counterpart => return None,
            _ => {}
        }
        j += used;
    }
    (j == theirs.len()).then_some(found)
}

/// The reference's counterpart of a `$n` at the start of `tokens`, and how many tokens it
/// spans: a parameter, a constant, or a signed number (`-1`, which pg_stat_statements
/// replaces whole).
fn counterpart(tokens: &[(Token, String)]) -> Option<(Counterpart, usize)> {
    let (kind, text) = tokens.first()?;
    match kind {
        Token::Param => Some((Counterpart::Param(text.strip_prefix('$')?.parse().ok()?), 1)),
        Token::Ascii45 | Token::Ascii43 => match tokens.get(1) {
            Some((Token::Iconst | Token::Fconst, digits)) => Some((
                Counterpart::Constant(Literal::Number(format!("{text}{digits}"))),
                2,
            )),
            _ => None,
        },
        kind if is_constant(*kind) => Some((Counterpart::Constant(parse_literal(text)), 1)),
        _ => None,
    }
}

fn is_constant(kind: Token) -> bool {
    matches!(
        kind,
        Token::Sconst
            | Token::Usconst
            | Token::Iconst
            | Token::Fconst
            | Token::Bconst
            | Token::Xconst
            | Token::TrueP
            | Token::FalseP
            | Token::NullP
    )
}

/// The statement's tokens with their text, comments left out.
fn tokens(sql: &str) -> Option<Vec<(Token, String)>> {
    let scanned = pg_query::scan(sql).ok()?;
    scanned
        .tokens
        .iter()
        .filter(|token| !is_comment(token))
        .map(|token| {
            let kind = Token::try_from(token.token).ok()?;
            let span = usize::try_from(token.start).ok()?..usize::try_from(token.end).ok()?;
            Some((kind, sql.get(span)?.to_string()))
        })
        .collect()
}

fn is_comment(token: &ScanToken) -> bool {
    token.token == Token::SqlComment as i32 || token.token == Token::CComment as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constants_the_view_replaced_come_back_from_the_reference() {
        let recorded = "SELECT x FROM audit.log WHERE table_name = $2 AND row_key = jsonb_build_object($3, $1::bigint) AND n > $4 LIMIT $5";
        let reference = "select x\n  from audit.log -- the audit tile\n where table_name = 'it''s'\n   and row_key = jsonb_build_object('id', $1::bigint) and n > -2.5 limit 100";
        let found = align(recorded, reference).expect("same statement");
        assert_eq!(found[&1], Counterpart::Param(1));
        assert_eq!(
            found[&2],
            Counterpart::Constant(Literal::Text("it's".into()))
        );
        assert_eq!(found[&3], Counterpart::Constant(Literal::Text("id".into())));
        assert_eq!(
            found[&4],
            Counterpart::Constant(Literal::Number("-2.5".into()))
        );
        assert_eq!(
            found[&5],
            Counterpart::Constant(Literal::Number("100".into()))
        );
    }

    #[test]
    fn different_statements_do_not_line_up() {
        let recorded = "SELECT x FROM t WHERE a = $1";
        assert_eq!(align(recorded, "SELECT x FROM t WHERE b = 1"), None);
        assert_eq!(
            align(recorded, "SELECT x FROM t WHERE a = 1 AND b = 2"),
            None
        );
        assert_eq!(align(recorded, "SELECT x FROM t WHERE a = b"), None);
        // One `$n` standing for two different constants is not the same statement.
        assert_eq!(align("SELECT $1, $1 FROM t", "SELECT 1, 2 FROM t"), None);
        assert_eq!(
            align("SELECT $1, $1 FROM t", "SELECT 1, 1 FROM t").map(|m| m.len()),
            Some(1)
        );
    }
}
