//! Typed measurement warnings. `Display` tells the user what is wrong and which flag or setting
//! to change; the variants are data so that `check` and `report` can act on them.

use serde::{Deserialize, Serialize};

/// Something that makes a measurement less trustworthy, with its remedy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Warning {
    /// Fewer samples than a distribution-free 95% interval of P95 needs (59).
    TooFewSamples {
        samples: u64,
        needed: u64,
        /// A one-sided 97.5% lower bound of P95 from the samples there are, microseconds.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        p95_at_least_us: Option<f64>,
    },
    /// Samples far above the bulk (more than `threshold_us`), which dominate the tail.
    Outliers { count: u64, threshold_us: f64 },
    /// pg_stat_statements evicted entries during the run (`dealloc` moved), so deltas may be short.
    StatementsEvicted { dealloc_delta: i64 },
    /// The plan shape at the end differs from the one at the start.
    PlanChanged { before: String, after: String },
    /// Most buffer accesses were reads, not hits: the cache was cold.
    ColdCache { read_ratio: f64 },
    /// Client-side latency dominates the server's execution time.
    ClientOverhead { client_us: f64, server_us: f64 },
    /// Some executions failed.
    Errors { count: u64 },
    /// No pg_stat_statements row could be matched to the query.
    NoServerStats,
    /// pg_stat_statements is loaded and was read, but had no row for this query (evicted, or
    /// the server restarted or was lost): the preload advice would be wrong here.
    ServerStatsMissing,
    /// Row-level security policies on the query's tables read claims or settings the persona
    /// does not set: they compare with NULL and hide rows without an error.
    PersonaLacks {
        persona: String,
        /// One line per missing claim or setting, naming the policies that read it.
        missing: Vec<String>,
    },
    /// A read returned no rows on any execution: often a persona or parameter that RLS or the
    /// filter turns into an empty result, which measures nothing real.
    NoRows,
    /// The open-loop schedule fell behind: the client could not send at the requested rate.
    RateNotReached {
        requested_qps: f64,
        achieved_qps: f64,
    },
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Warning::TooFewSamples {
                samples,
                needed,
                p95_at_least_us: Some(bound_us),
            } => write!(
                f,
                "{samples} samples: P95 ≥ {:.1} ms; {needed} are needed for an interval; raise --time-budget or force --iterations",
                bound_us / 1000.0
            ),
            Warning::TooFewSamples {
                samples, needed, ..
            } => write!(
                f,
                "only {samples} samples: a P95 interval needs at least {needed}; raise --time-budget or force --iterations"
            ),
            Warning::Outliers {
                count,
                threshold_us,
            } => write!(
                f,
                "{count} outliers above {} dominate the tail; check for background load or raise --warmup",
                duration_text(*threshold_us)
            ),
            Warning::StatementsEvicted { dealloc_delta } => write!(
                f,
                "pg_stat_statements evicted {dealloc_delta} entries during the run, so server counters may be short; raise pg_stat_statements.max"
            ),
            Warning::PlanChanged { before, after } => write!(
                f,
                "the plan changed during the run ({before} -> {after}); run ANALYZE before benching or pin the data"
            ),
            Warning::ColdCache { read_ratio } => write!(
                f,
                "{:.0}% of buffer accesses were disk reads: the cache was cold; raise --warmup",
                read_ratio * 100.0
            ),
            Warning::ClientOverhead {
                client_us,
                server_us,
            } => write!(
                f,
                "client time {:.0} µs is far above server time {:.0} µs: the query is too fast for client latency to mean much; look at server time and buffers instead",
                client_us, server_us
            ),
            Warning::Errors { count } => write!(
                f,
                "{count} executions failed; see the error and fix the query or its parameters"
            ),
            Warning::PersonaLacks { persona, missing } => write!(
                f,
                "persona \"{persona}\" lacks {}: those policies compare with NULL and hide rows; add it to [personas.{persona}] claims or settings",
                missing.join("; ")
            ),
            Warning::NoRows => write!(
                f,
                "returned 0 rows on every execution, so it measured an empty result; check the parameters and the persona's claims and settings (row-level security hides rows without an error)"
            ),
            Warning::ServerStatsMissing => write!(
                f,
                "pg_stat_statements is loaded but had no row for this query at the end of the run (evicted, or the server restarted); raise pg_stat_statements.max or rerun"
            ),
            Warning::NoServerStats => write!(
                f,
                "no pg_stat_statements row matched this query; add pg_stat_statements to shared_preload_libraries and CREATE EXTENSION pg_stat_statements"
            ),
            Warning::RateNotReached {
                requested_qps,
                achieved_qps,
            } => write!(
                f,
                "the client sent {achieved_qps:.0} q/s of the {requested_qps:.0} requested, so latencies include client queueing; lower --rate or raise --concurrency"
            ),
        }
    }
}

/// A duration for a message: microseconds below 1 ms (a fence of 40 µs is not "0.0 ms").
fn duration_text(us: f64) -> String {
    if us < 1000.0 {
        format!("{us:.0} µs")
    } else {
        format!("{:.1} ms", us / 1000.0)
    }
}
