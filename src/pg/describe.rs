//! Readable text for a `postgres::Error`, whose own `Display` says only "db error": the
//! server's message, detail, hint and SQLSTATE, or the I/O cause of a connection failure.

/// `ERROR: relation "x" does not exist (SQLSTATE 42P01)` with detail and hint when present.
pub fn describe(error: &postgres::Error) -> String {
    if let Some(db) = error.as_db_error() {
        let mut text = format!(
            "{}: {} (SQLSTATE {})",
            db.severity(),
            db.message(),
            db.code().code()
        );
        if let Some(detail) = db.detail() {
            text.push_str(&format!("; detail: {detail}"));
        }
        if let Some(hint) = db.hint() {
            text.push_str(&format!("; hint: {hint}"));
        }
        if let Some(where_) = db.where_() {
            text.push_str(&format!("; context: {where_}"));
        }
        return text;
    }
    match std::error::Error::source(error) {
        Some(cause) => format!("{error}: {cause}"),
        None => error.to_string(),
    }
}

/// The SQLSTATE of a server error, if it is one.
pub fn sqlstate(error: &postgres::Error) -> Option<String> {
    error.code().map(|code| code.code().to_string())
}
