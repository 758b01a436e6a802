//! A throwaway Citus cluster: one coordinator and N workers, each an embedded [`Cluster`]
//! with Citus preloaded and a TCP port on 127.0.0.1, registered with each other in one
//! database. Dropping it drops every node (stopped and removed as a single node is).

use std::net::TcpListener;

use crate::embedded::{Cluster, ClusterOptions, EmbeddedError};
use crate::pg::describe;

/// Why the distributed cluster could not be provided.
#[derive(Debug, thiserror::Error)]
pub enum CitusError {
    #[error("starting the Citus {node} failed: {source}")]
    Node {
        node: String,
        #[source]
        source: EmbeddedError,
    },
    #[error("no free TCP port on 127.0.0.1 for a Citus node: {0}")]
    Port(std::io::Error),
    #[error(
        "the Citus extension is not installed for this PostgreSQL server ({detail}); install it with `bash ../shared/citus/install.sh` (scripts/setup.sh does), or run without --citus-workers"
    )]
    NotInstalled { detail: String },
    #[error("setting up Citus on the {node} failed: {message}")]
    Setup { node: String, message: String },
}

/// A running coordinator and its workers. Fields are public so a caller can keep the nodes
/// alive separately; dropping them stops every server and removes every directory.
pub struct CitusCluster {
    /// The node applications connect to.
    pub coordinator: Cluster,
    /// The nodes holding the shards.
    pub workers: Vec<Cluster>,
}

/// A free TCP port on 127.0.0.1, as the kernel hands one out. The server binds it a moment
/// later; a collision in between fails the start with the server's log.
fn free_port() -> Result<u16, CitusError> {
    let listener = TcpListener::bind(("127.0.0.1", 0)).map_err(CitusError::Port)?;
    Ok(listener.local_addr().map_err(CitusError::Port)?.port())
}

fn start_node(options: &ClusterOptions, node: &str) -> Result<Cluster, CitusError> {
    let mut options = options.clone();
    options.preload_libraries.insert(0, "citus".to_string());
    options.tcp_port = Some(free_port()?);
    Cluster::start(&options).map_err(|source| match source {
        EmbeddedError::StartFailed { log_tail, .. } if log_tail.contains("citus") => {
            CitusError::NotInstalled { detail: log_tail }
        }
        source => CitusError::Node {
            node: node.to_string(),
            source,
        },
    })
}

impl CitusCluster {
    /// Starts a coordinator and `workers` workers, creates `database` with the Citus
    /// extension on every node, and registers the workers with the coordinator.
    pub fn start(
        options: &ClusterOptions,
        workers: usize,
        database: &str,
    ) -> Result<CitusCluster, CitusError> {
        // The nodes start side by side: initdb and start-up are mostly waiting on the disk
        // and on fork, and N + 1 of them one after the other is what a user would wait for.
        let names: Vec<String> = std::iter::once("coordinator".to_string())
            .chain((1..=workers).map(|index| format!("worker {index}")))
            .collect();
        let started = side_by_side(&names, |name| start_node(options, name));
        // Every started node is dropped (stopped, removed) if another failed.
        let mut nodes = started
            .into_iter()
            .collect::<Result<Vec<_>, _>>()?
            .into_iter();
        let coordinator = nodes.next().expect("the coordinator was started first");
        let workers: Vec<Cluster> = nodes.collect();
        let cluster = CitusCluster {
            coordinator,
            workers,
        };
        cluster.create_database(database)?;
        Ok(cluster)
    }

    /// Creates `database` with the Citus extension on every node and registers the workers
    /// with the coordinator in it (Citus keeps its node list per database).
    pub fn create_database(&self, database: &str) -> Result<(), CitusError> {
        let created = side_by_side(&self.nodes(), |(name, node)| {
            create_citus_database(node, database).map_err(|message| CitusError::Setup {
                node: name.clone(),
                message,
            })
        });
        created.into_iter().collect::<Result<Vec<()>, _>>()?;
        self.register_workers(database)
            .map_err(|error| CitusError::Setup {
                node: "coordinator".to_string(),
                message: describe(&error),
            })
    }

    /// Every node with a name for messages: the coordinator first.
    pub fn nodes(&self) -> Vec<(String, &Cluster)> {
        let mut nodes = vec![("coordinator".to_string(), &self.coordinator)];
        for (index, worker) in self.workers.iter().enumerate() {
            nodes.push((format!("worker {}", index + 1), worker));
        }
        nodes
    }

    fn register_workers(&self, database: &str) -> Result<(), postgres::Error> {
        let mut client = self.coordinator.connect(database)?;
        client.execute(
            "SELECT citus_set_coordinator_host('127.0.0.1', $1)",
            &[&i32::from(self.coordinator.port())],
        )?;
        for worker in &self.workers {
            client.execute(
                "SELECT citus_add_node('127.0.0.1', $1)",
                &[&i32::from(worker.port())],
            )?;
        }
        Ok(())
    }
}

/// `work` on every item at once, one thread each; the results in the items' order.
fn side_by_side<T: Sync, R: Send>(items: &[T], work: impl Fn(&T) -> R + Sync) -> Vec<R> {
    std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .iter()
            .map(|item| scope.spawn(|| work(item)))
            .collect();
        handles
            .into_iter()
            .map(|handle| {
                handle
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    })
}

/// Creates `database` on `node` with Citus (first, as it requires) and what the embedded
/// cluster's template gives every database (pg_stat_statements, HypoPG).
fn create_citus_database(node: &Cluster, database: &str) -> Result<(), String> {
    let text = |error: postgres::Error| describe(&error);
    node.create_database(database).map_err(text)?;
    let mut client = node.connect(database).map_err(text)?;
    client
        .batch_execute("SET client_min_messages = warning; CREATE EXTENSION IF NOT EXISTS citus")
        .map_err(|error| match describe(&error) {
            message if message.contains("citus") && message.contains("not available") => {
                CitusError::NotInstalled { detail: message }.to_string()
            }
            message => message,
        })
}
