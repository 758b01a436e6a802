//! Index advice (DESIGN §8): candidates from the parse tree and the plan, HypoPG what-if,
//! workload-wide selection, verification by real builds in rolled-back transactions, and the
//! migration pair. Pure parts (`parse`, `shapes`, `select`, `migration`) are unit-tested without
//! a database; the rest talks to PostgreSQL on one held connection.

pub mod access;
pub mod parse;
pub mod shapes;
pub mod ddl;
pub mod select;
