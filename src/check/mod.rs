//! The CI gate (DESIGN §9): verdicts between a baseline RunResult and a current one.
