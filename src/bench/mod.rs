//! The replay engine (DESIGN §7): runs a workload's queries under their roles and claims, and produces a RunResult.
