//! Secrets and personal data in recorded values. A workload file is committed and shared, so a
//! value that looks like an email address, a payment card or phone number, or a token never
//! reaches it unless the user asks (`--keep-literals`).
//!
//! What counts, and why:
//! - emails: `local@domain.tld`;
//! - payment cards: 13-19 digits (spaces or dashes allowed) passing the Luhn check, so that
//!   ordinary bigint ids (which fail it 9 times in 10) are mostly left alone;
//! - phone numbers: `+` then 8-15 digits, separators allowed;
//! - tokens: JWTs (`eyJ….….…`), well-known key prefixes (`sk_`, `pk_`, `ghp_`, `xox`, `AKIA`),
//!   `Bearer …`, and any 32+ character run of letters and digits mixing both (API keys).
//!
//! UUIDs are kept: they are row keys, not personal data, and a replaced key would hit no row.

/// The kind of sensitive value found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Sensitive {
    Email,
    CardNumber,
    Phone,
    Token,
}

impl std::fmt::Display for Sensitive {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Sensitive::Email => "email addresses",
            Sensitive::CardNumber => "payment card numbers",
            Sensitive::Phone => "phone numbers",
            Sensitive::Token => "tokens or keys",
        })
    }
}

/// What `value` looks like, when it looks sensitive.
pub fn classify(value: &str) -> Option<Sensitive> {
    let value = value.trim();
    if is_email(value) {
        Some(Sensitive::Email)
    } else if is_card(value) {
        Some(Sensitive::CardNumber)
    } else if is_phone(value) {
        Some(Sensitive::Phone)
    } else if is_token(value) {
        Some(Sensitive::Token)
    } else {
        None
    }
}

/// A realistic stand-in of the same kind, distinct per `index`.
pub fn synthetic(kind: Sensitive, index: usize) -> String {
    match kind {
        Sensitive::Email => format!("user{}@example.com", index + 1),
        Sensitive::CardNumber => luhn_complete(&format!("400000{:09}", index)),
        Sensitive::Phone => format!("+1555{:07}", index + 100),
        Sensitive::Token => format!("redacted-token-{}", index + 1),
    }
}

fn is_email(value: &str) -> bool {
    let Some((local, domain)) = value.split_once('@') else {
        return false;
    };
    let simple = |c: char| c.is_alphanumeric() || "._%+-".contains(c);
    !local.is_empty()
        && local.chars().all(simple)
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && domain
            .chars()
            .all(|c| c.is_alphanumeric() || c == '.' || c == '-')
}

fn digits_only(value: &str, separators: &str) -> Option<String> {
    value
        .chars()
        .all(|c| c.is_ascii_digit() || separators.contains(c))
        .then(|| value.chars().filter(char::is_ascii_digit).collect())
}

fn is_card(value: &str) -> bool {
    digits_only(value, " -").is_some_and(|digits| {
        (13..=19).contains(&digits.len()) && luhn_sum(&digits).is_multiple_of(10)
    })
}

fn is_phone(value: &str) -> bool {
    value.strip_prefix('+').is_some_and(|rest| {
        digits_only(rest, " -().").is_some_and(|digits| (8..=15).contains(&digits.len()))
    })
}

fn is_token(value: &str) -> bool {
    const PREFIXES: [&str; 7] = ["sk_", "pk_", "rk_", "ghp_", "gho_", "xox", "AKIA"];
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    let jwt = value.starts_with("eyJ")
        && value.split('.').count() == 3
        && value
            .split('.')
            .all(|part| !part.is_empty() && part.chars().all(word));
    let prefixed = PREFIXES.iter().any(|p| value.starts_with(p)) && value.len() >= 16;
    let bearer = value.starts_with("Bearer ") && value.len() > 20;
    let key_like = value.len() >= 32
        && value.chars().all(word)
        && value.chars().any(|c| c.is_ascii_digit())
        && value.chars().any(|c| c.is_ascii_alphabetic());
    let hex_digest = value.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
    jwt || prefixed || bearer || (key_like && !hex_digest)
}

/// Luhn sum of a digit string (valid card numbers give a multiple of 10).
fn luhn_sum(digits: &str) -> u32 {
    digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(position, b)| {
            let d = u32::from(b - b'0');
            if position % 2 == 1 {
                if d * 2 > 9 { d * 2 - 9 } else { d * 2 }
            } else {
                d
            }
        })
        .sum()
}

/// Appends the check digit that makes `digits` pass the Luhn check.
fn luhn_complete(digits: &str) -> String {
    (0..10)
        .map(|check| format!("{digits}{check}"))
        .find(|candidate| luhn_sum(candidate).is_multiple_of(10))
        .expect("one of ten check digits always completes a Luhn sum")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sensitive_values_are_recognised() {
        assert_eq!(
            classify("jane.doe+x@mail.example.org"),
            Some(Sensitive::Email)
        );
        assert_eq!(classify("4111 1111 1111 1111"), Some(Sensitive::CardNumber));
        assert_eq!(classify("+44 20 7946 0958"), Some(Sensitive::Phone));
        assert_eq!(
            classify("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"),
            Some(Sensitive::Token)
        );
        assert_eq!(classify("sk_live_51HxYzAbCdEf"), Some(Sensitive::Token));
        assert_eq!(
            classify("Zx81kQ0pLm29Vb7nT4rW6yU3iO5aS1dF"),
            Some(Sensitive::Token)
        );
    }

    #[test]
    fn ordinary_values_are_kept() {
        for value in [
            "pending",
            "42",
            "4111111111111112",
            "2024-05-01 10:00:00+00",
            "7b0c1f8e-3a1d-4c55-9d2e-0f6b1a2c3d4e",
            "d41d8cd98f00b204e9800998ecf8427e",
            "a@b",
            "north-west",
        ] {
            assert_eq!(classify(value), None, "{value}");
        }
    }

    #[test]
    fn synthetic_values_are_of_the_same_kind() {
        for kind in [
            Sensitive::Email,
            Sensitive::CardNumber,
            Sensitive::Phone,
            Sensitive::Token,
        ] {
            for index in [0, 7, 123] {
                let value = synthetic(kind, index);
                let expected = if kind == Sensitive::Token {
                    None
                } else {
                    Some(kind)
                };
                assert_eq!(classify(&value), expected, "{value}");
            }
        }
    }
}
