//! Workload files (DESIGN §6): the format, its validation, and parameter generation.

pub mod format;

pub use format::{Defaults, ParamSpec, Persona, QueryKind, QuerySpec, WorkloadFile};
