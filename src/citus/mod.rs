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
