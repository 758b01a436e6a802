//! Output formats of `pgperf check`.
