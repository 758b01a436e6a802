//! Citus: the distributed PostgreSQL that teams move to when one machine is not enough.
//! This module owns what is Citus-specific: a throwaway coordinator and workers built from the
//! embedded cluster ([`cluster`]), and reading distributed plans ([`plan`]).
//!
//! Why it looks the way it does: Citus nodes reach each other over TCP, so each node also
//! listens on 127.0.0.1 at a free port; everything else (directory on /dev/shm, removal on
//! exit, Ctrl-C and SIGKILL) is the single-node embedded cluster's, once per node.

pub mod cluster;
pub mod plan;

pub use cluster::{CitusCluster, CitusError};

/// Whether the database the client is connected to has the Citus extension.
pub fn is_installed(client: &mut postgres::Client) -> Result<bool, postgres::Error> {
    Ok(client
        .query_opt("SELECT 1 FROM pg_extension WHERE extname = 'citus'", &[])?
        .is_some())
}

/// Rows of a distributed or reference table summed over its shards (the coordinator's own
/// copy of a distributed table is empty, so its `reltuples` says 0); `None` when the table is
/// not a Citus table or the database has no Citus.
pub fn shard_rows(
    client: &mut postgres::Client,
    table: u32,
) -> Result<Option<f64>, postgres::Error> {
    if !is_installed(client)? {
        return Ok(None);
    }
    let row = client.query_one(
        "SELECT (SELECT sum(result::float8) FROM run_command_on_shards($1::oid::regclass, \
                 $$SELECT greatest(reltuples, 0) FROM pg_class WHERE oid = '%s'::regclass$$) \
                 WHERE success) \
         WHERE EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = $1::oid::regclass)",
        &[&table],
    )?;
    Ok(row.get(0))
}
