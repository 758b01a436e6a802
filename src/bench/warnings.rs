//! Typed warnings from measurements: pure functions of a query's result (and of the run's
//! counters), so every rule is unit-tested without a database.

use crate::model::{PlanCapture, QueryResult, Warning};

/// Samples below which no distribution-free 95% interval of P95 exists (0.95^59 < 0.05).
pub const MIN_SAMPLES_FOR_P95: u64 = 59;
/// Share of executions beyond Tukey's far-out fence that makes outliers worth a warning:
/// at 1% they move P99.
pub const OUTLIER_SHARE: f64 = 0.01;
/// Fewest outliers worth a warning: a single slow execution is not a pattern.
pub const MIN_OUTLIERS: u64 = 2;
/// Share of buffer accesses that were reads above which the cache counts as cold.
pub const COLD_READ_RATIO: f64 = 0.2;
/// Client latency this many times the server's execution time means client overhead dominates.
pub const CLIENT_OVERHEAD_FACTOR: f64 = 3.0;
/// Achieved rate below this share of the requested one means the schedule fell behind.
pub const RATE_SHORTFALL: f64 = 0.9;

/// Confidence of the one-sided P95 bound of a query with too few samples for an interval.
pub const ONE_SIDED_CONFIDENCE: f64 = 0.975;

/// A one-sided lower bound of the query's P95 from its kept samples (all of them below the
/// reservoir size, which is where it matters).
pub fn p95_lower_bound_us(query: &QueryResult) -> Option<f64> {
    let mut sorted: Vec<f64> = query.raw_samples.iter().map(|s| s.latency_us).collect();
    sorted.sort_by(f64::total_cmp);
    crate::stats::quantile_lower_bound(&sorted, 0.95, ONE_SIDED_CONFIDENCE)
}

/// Warnings about one query; `end_plan` is the plan captured after the measured phase.
pub fn query_warnings(query: &QueryResult, end_plan: Option<&PlanCapture>) -> Vec<Warning> {
    let mut warnings = Vec::new();
    if query.samples < MIN_SAMPLES_FOR_P95 {
        warnings.push(Warning::TooFewSamples {
            samples: query.samples,
            needed: MIN_SAMPLES_FOR_P95,
            p95_at_least_us: p95_lower_bound_us(query),
        });
    }
    if query.errors > 0 {
        warnings.push(Warning::Errors {
            count: query.errors,
        });
    }
    warnings.extend(outliers(&query.histogram));
    match &query.server {
        // A query that never completed has no row to find: its errors say what happened.
        None if query.samples == 0 => {}
        None => warnings.push(Warning::NoServerStats),
        Some(server) => {
            let accesses = server.shared_blks_hit + server.shared_blks_read;
            let read_ratio = server.shared_blks_read as f64 / accesses.max(1) as f64;
            if read_ratio > COLD_READ_RATIO {
                warnings.push(Warning::ColdCache { read_ratio });
            }
            if let Some(latency) = &query.latency {
                let server_us = server.mean_exec_time_ms * 1000.0;
                if server.calls > 0 && latency.p50.value_us > CLIENT_OVERHEAD_FACTOR * server_us {
                    warnings.push(Warning::ClientOverhead {
                        client_us: latency.p50.value_us,
                        server_us,
                    });
                }
            }
        }
    }
    if let (Some(before), Some(after)) = (&query.plan, end_plan)
        && before.shape_hash != after.shape_hash
    {
        warnings.push(Warning::PlanChanged {
            before: short(&before.shape_hash),
            after: short(&after.shape_hash),
        });
    }
    warnings
}

/// When pg_stat_statements was read during the run, a missing row is not a missing extension:
/// [`Warning::NoServerStats`] (whose remedy is to preload it) becomes
/// [`Warning::ServerStatsMissing`].
pub fn stats_were_readable(warnings: &mut [Warning]) {
    for warning in warnings {
        if *warning == Warning::NoServerStats {
            *warning = Warning::ServerStatsMissing;
        }
    }
}

/// Warnings about the run as a whole: evicted statements and a missed open-loop rate.
pub fn run_warnings(dealloc_delta: Option<i64>, rate_qps: Option<(f64, f64)>) -> Vec<Warning> {
    let mut warnings = Vec::new();
    if let Some(delta) = dealloc_delta.filter(|delta| *delta > 0) {
        warnings.push(Warning::StatementsEvicted {
            dealloc_delta: delta,
        });
    }
    if let Some((requested_qps, achieved_qps)) = rate_qps
        && achieved_qps < RATE_SHORTFALL * requested_qps
    {
        warnings.push(Warning::RateNotReached {
            requested_qps,
            achieved_qps,
        });
    }
    warnings
}

/// Executions above Tukey's far-out fence (Q3 + 3·IQR), computed on the full histogram.
fn outliers(histogram: &[(u64, u64)]) -> Option<Warning> {
    let total: u64 = histogram.iter().map(|(_, count)| count).sum();
    if total == 0 {
        return None;
    }
    let quantile = |q: f64| {
        let rank = (q * total as f64).ceil().max(1.0) as u64;
        let mut seen = 0;
        histogram
            .iter()
            .find(|(_, count)| {
                seen += count;
                seen >= rank
            })
            .map_or(0.0, |(value, _)| *value as f64)
    };
    let (q1, q3) = (quantile(0.25), quantile(0.75));
    let threshold_us = q3 + 3.0 * (q3 - q1);
    let count: u64 = histogram
        .iter()
        .filter(|(value, _)| *value as f64 > threshold_us)
        .map(|(_, count)| count)
        .sum();
    (count >= MIN_OUTLIERS && count as f64 >= OUTLIER_SHARE * total as f64).then_some(
        Warning::Outliers {
            count,
            threshold_us,
        },
    )
}

fn short(hash: &str) -> String {
    hash.chars().take(12).collect()
}

#[cfg(test)]
mod tests;
