//! Index advice (DESIGN §8): candidates from the parse tree and the plan, HypoPG what-if,
//! workload-wide selection, verification by real builds in rolled-back transactions, and the
//! migration pair. Pure parts (`parse`, `shapes`, `select`, `keylist`, `migration`) are unit-tested without
//! a database; the rest talks to PostgreSQL on one held connection.

pub mod access;
pub mod catalog;
pub mod ddl;
pub mod decide;
pub mod distribution;
pub mod keylist;
pub mod methods;
pub mod parse;
pub mod plan;
pub mod select;
pub mod shapes;

/// Failures of the advise engine. Outcomes (a candidate that did not pay off) are data in the
/// result, not errors.
#[derive(Debug, thiserror::Error)]
pub enum AdviseError {
    #[error("{}", crate::pg::describe(.0))]
    Database(#[from] postgres::Error),
    #[error("cannot parse query {query}: {message}; check the SQL in the workload file")]
    Parse { query: String, message: String },
    #[error("the workload references persona {0:?}, which is not defined under [personas]")]
    UnknownPersona(String),
    #[error("timing the workload failed: {0}")]
    Measure(String),
    #[error("interrupted: the verification transaction was rolled back")]
    Interrupted,
}
pub mod dynamic;
pub mod engine;
pub mod extstats;
mod keep;
pub mod leakproof;
pub mod lock;
pub mod render;
pub mod retry;
mod screen;
pub mod session;
pub mod statements;
pub mod verify;
pub mod whatif;
pub mod writecost;

pub use engine::{Advice, AdviseOptions, advise};
pub use verify::VerifyOptions;
