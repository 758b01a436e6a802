//! One advise at a time per database. Two runs at once would interleave their trial builds and
//! each would time queries while the other's index builds hold locks and load the machine, so
//! both verdicts would be wrong. A session advisory lock on a connection of its own (so nothing
//! the advise connection does, a `DISCARD` or a lost transaction, can release it) is taken
//! before any work; the second run refuses with the holder's process id. The server releases
//! it when the connection closes, also when pgperf is killed.

use postgres::Client;

/// The advisory lock key: "pgpf" and "advi" as two 32-bit halves, unlikely to meet an
/// application's own keys.
pub const ADVISE_LOCK_KEY: i64 = 0x7067_7066_6164_7669;

/// Why the lock was not taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "another pgperf advise is running on this database (server process {}): wait for it to finish or stop it; two at once would measure each other's index builds",
        holder.map_or("unknown".to_string(), |pid| pid.to_string())
    )]
    Busy { holder: Option<i32> },
    #[error("cannot take the advise lock: {}", crate::pg::describe(.0))]
    Database(#[from] postgres::Error),
}

/// Holds the lock while alive; dropping it closes the connection, which releases it.
pub struct AdviseLock {
    _client: Client,
}

/// Takes the lock on `client` (a connection used for nothing else), or says who holds it.
pub fn acquire(mut client: Client) -> Result<AdviseLock, LockError> {
    let taken: bool = client
        .query_one("SELECT pg_try_advisory_lock($1)", &[&ADVISE_LOCK_KEY])?
        .get(0);
    if taken {
        return Ok(AdviseLock { _client: client });
    }
    // A bigint key is stored as classid (high half) and objid (low half).
    let holder = client
        .query_opt(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted \
               AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) \
               AND classid::bigint = ($1::bigint >> 32) AND objid::bigint = ($1::bigint & 4294967295) \
               AND objsubid = 1",
            &[&ADVISE_LOCK_KEY],
        )?
        .map(|row| row.get(0));
    Err(LockError::Busy { holder })
}
