//! The result of `pgperf check` (DESIGN §9): one verdict per query between a baseline and a
//! current [`RunResult`](super::RunResult), the findings behind it, whether the two runs were
//! comparable, and the options used. Serialised as the `--format json` output
//! (`docs/check.md`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Version of the check report format.
pub const CHECK_SCHEMA_VERSION: u32 = 1;

/// Everything `pgperf check` concluded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckReport {
    /// Always [`CHECK_SCHEMA_VERSION`] when written by this pgperf.
    pub schema_version: u32,
    pub baseline: RunRef,
    pub current: RunRef,
    /// The options the verdicts were computed with.
    pub options: CheckOptions,
    /// Whether the two runs measured the same thing on the same kind of server.
    pub comparability: Comparability,
    /// One verdict per query: baseline order, then queries only the current run has.
    pub queries: Vec<QueryVerdict>,
    /// The overall conclusion, which decides the exit code.
    pub outcome: GateOutcome,
    /// Set when the whole workload changed speed between the runs (the machine, not the code).
    #[serde(default)]
    pub drift: Option<MachineDrift>,
}

/// The whole workload got slower or faster together between the runs: the median across
/// queries of the per-query P95 ratio is beyond the threshold. A code or schema regression moves
/// a few queries; a machine that changed speed moves all of them (`docs/check.md`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MachineDrift {
    /// Median across queries of `current P95 / baseline P95`.
    pub shift: f64,
    /// Queries with enough samples on both sides that the median is taken over.
    pub queries: u64,
    /// Robust standard deviation (1.4826 × MAD) of the per-query log ratios: how unevenly the
    /// machine change hit the queries.
    #[serde(default)]
    pub spread: f64,
    /// True when timing verdicts were judged relative to `shift` (no `--no-drift-correction`).
    pub corrected: bool,
}

/// Which run a side of the comparison is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRef {
    pub run_id: String,
    pub started_at: DateTime<Utc>,
    /// False when that run stopped early; its missing queries are reported as such.
    pub complete: bool,
    /// Why that run stopped early, when it did.
    pub abort_reason: Option<String>,
}

/// A deterministic or statistical signal that can fail the gate (`--fail-on`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Signal {
    /// A statistically significant P95 regression beyond the threshold and the floor.
    Timing,
    /// A changed plan shape (node types, relations, index names).
    Plan,
    /// Shared buffers per call up by more than `--buffers-threshold`.
    Buffers,
    /// Rows per call changed.
    Rows,
    /// The current P95 is above the query's budget.
    Budget,
    /// The query failed in the current run.
    Errors,
}

impl Signal {
    /// Every signal, in the order reports list them.
    pub const ALL: [Signal; 6] = [
        Signal::Timing,
        Signal::Plan,
        Signal::Buffers,
        Signal::Rows,
        Signal::Budget,
        Signal::Errors,
    ];

    /// The name used by `--fail-on` and in every output.
    pub fn name(self) -> &'static str {
        match self {
            Signal::Timing => "timing",
            Signal::Plan => "plan",
            Signal::Buffers => "buffers",
            Signal::Rows => "rows",
            Signal::Budget => "budget",
            Signal::Errors => "errors",
        }
    }

    /// Signals that fail the gate unless `--fail-on` says otherwise. Rows are reported but do
    /// not fail by default: a workload with time-relative parameters legitimately returns
    /// different rows as data ages.
    pub const DEFAULT_FAIL_ON: [Signal; 5] = [
        Signal::Timing,
        Signal::Plan,
        Signal::Buffers,
        Signal::Budget,
        Signal::Errors,
    ];
}

impl std::fmt::Display for Signal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Signal {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Signal::ALL
            .into_iter()
            .find(|signal| signal.name() == text.trim())
            .ok_or_else(|| {
                format!(
                    "unknown signal {text:?}: use timing, plan, buffers, rows, budget or errors"
                )
            })
    }
}

/// The options of a check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckOptions {
    /// Relative P95 change that counts (τ): a regression needs the whole interval of the
    /// ratio above `1 + threshold`; an improvement needs it below `1 / (1 + threshold)`.
    pub threshold: f64,
    /// Absolute P95 change that counts, microseconds.
    pub floor_us: f64,
    /// Benjamini-Hochberg false discovery rate across queries.
    pub fdr: f64,
    /// Relative rise of shared buffers per call that counts.
    pub buffers_threshold: f64,
    /// Signals whose findings fail the gate, sorted.
    pub fail_on: Vec<Signal>,
    /// Compare runs that are not comparable anyway (printed in every output).
    pub allow_incomparable: bool,
    /// Bootstrap replicates per query.
    pub resamples: u32,
    /// Seed of the bootstrap, so that a verdict is reproducible.
    pub rng_seed: u64,
    /// Judge timing in absolute terms even when the whole workload drifted (`MachineDrift`).
    #[serde(default)]
    pub no_drift_correction: bool,
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions {
            threshold: 0.10,
            floor_us: 1_000.0,
            fdr: 0.05,
            buffers_threshold: 0.20,
            fail_on: Signal::DEFAULT_FAIL_ON.to_vec(),
            allow_incomparable: false,
            resamples: 2_000,
            rng_seed: 0x5047_5045_5246,
            no_drift_correction: false,
        }
    }
}

impl CheckOptions {
    /// Whether findings of `signal` fail the gate.
    pub fn fails_on(&self, signal: Signal) -> bool {
        self.fail_on.contains(&signal)
    }
}

/// What differs between the two runs' environments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Comparability {
    /// Empty when the runs are comparable.
    pub differences: Vec<Difference>,
    /// True when differences exist and `--allow-incomparable` compared them anyway.
    pub overridden: bool,
}

impl Comparability {
    pub fn comparable(&self) -> bool {
        self.differences.is_empty()
    }
}

/// One property that differs between the runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Difference {
    /// What differs, e.g. `workload hash` or `setting work_mem`.
    pub what: String,
    /// The baseline's value (`(none)` when absent).
    pub baseline: String,
    /// The current run's value (`(none)` when absent).
    pub current: String,
}

/// The headline verdict of one query.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Slower (timing), or a plan/buffers/rows finding fails the gate.
    Regressed,
    /// Faster beyond the threshold and the floor, significant after correction.
    Improved,
    /// No significant change beyond the threshold was shown.
    Unchanged,
    /// Too few samples on a side to judge timing (fewer than 59 for P95).
    Inconclusive,
    /// The current P95 is above the query's budget (and nothing worse).
    BudgetBreached,
    /// The query failed in the current run.
    Error,
    /// Only the current run has this query.
    New,
    /// Only the baseline has this query.
    Missing,
}

/// The verdict of one query with its evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueryVerdict {
    pub name: String,
    pub verdict: Verdict,
    /// The timing comparison; `None` when a side has no latency at all.
    pub timing: Option<TimingComparison>,
    /// Every finding, gating or not.
    pub findings: Vec<Finding>,
    /// True when a finding fails the gate.
    pub fails_gate: bool,
}

/// Harrell-Davis P95 of both sides and the bootstrap interval of their ratio.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimingComparison {
    /// Raw samples the baseline's estimate is computed from.
    pub baseline_n: u64,
    pub current_n: u64,
    /// Harrell-Davis P95 of the raw samples, microseconds.
    pub baseline_p95_us: f64,
    pub current_p95_us: f64,
    /// `current_p95_us / baseline_p95_us`.
    pub ratio: f64,
    /// 95% percentile-bootstrap interval of the ratio; `None` when inconclusive.
    pub ratio_ci_low: Option<f64>,
    pub ratio_ci_high: Option<f64>,
    /// Two-sided bootstrap p-value against the threshold; `None` when inconclusive.
    pub p_value: Option<f64>,
    /// Benjamini-Hochberg adjusted p-value across the queries compared.
    pub q_value: Option<f64>,
    pub outcome: TimingOutcome,
}

/// What the timing comparison concluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimingOutcome {
    Slower,
    Faster,
    Unchanged,
    /// Fewer samples than a P95 interval needs on at least one side.
    TooFewSamples,
}

/// One fact about a query, and whether it fails the gate under the options used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    #[serde(flatten)]
    pub kind: FindingKind,
    pub fails_gate: bool,
}

/// The facts `check` reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FindingKind {
    /// P95 significantly slower beyond the threshold and the floor.
    TimingRegression {
        ratio: f64,
        ratio_ci_low: f64,
        ratio_ci_high: f64,
        difference_us: f64,
    },
    /// The plan shape hash differs; the shape lines of both sides.
    PlanChanged {
        before_hash: String,
        after_hash: String,
        before: Vec<String>,
        after: Vec<String>,
    },
    /// Shared buffers (hit + read) per call rose by more than the threshold.
    BuffersUp {
        baseline_per_call: f64,
        current_per_call: f64,
    },
    /// Rows per call changed.
    RowsChanged {
        baseline_per_call: f64,
        current_per_call: f64,
    },
    /// The current P95 is above the query's budget.
    BudgetBreached { budget_p95_us: f64, p95_us: f64 },
    /// Executions failed in the current run.
    Errors {
        errors: u64,
        executions: u64,
        /// The first error, `SQLSTATE: message`.
        first_error: Option<String>,
    },
}

impl FindingKind {
    /// The `--fail-on` signal this finding belongs to.
    pub fn signal(&self) -> Signal {
        match self {
            FindingKind::TimingRegression { .. } => Signal::Timing,
            FindingKind::PlanChanged { .. } => Signal::Plan,
            FindingKind::BuffersUp { .. } => Signal::Buffers,
            FindingKind::RowsChanged { .. } => Signal::Rows,
            FindingKind::BudgetBreached { .. } => Signal::Budget,
            FindingKind::Errors { .. } => Signal::Errors,
        }
    }
}

impl Verdict {
    /// The word every output uses.
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Regressed => "regressed",
            Verdict::Improved => "improved",
            Verdict::Unchanged => "unchanged",
            Verdict::Inconclusive => "inconclusive",
            Verdict::BudgetBreached => "budget breached",
            Verdict::Error => "error",
            Verdict::New => "new",
            Verdict::Missing => "missing",
        }
    }
}

/// The overall conclusion of a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GateOutcome {
    /// Nothing fails the gate (exit 0).
    Pass,
    /// At least one finding fails the gate (exit 1).
    Fail,
    /// Nothing fails, but the current run stopped early, or timing gates and some query had
    /// too few samples to judge (exit 3).
    Inconclusive,
    /// The runs are not comparable and no override was given (exit 3).
    NotComparable,
}

impl GateOutcome {
    /// The process exit code (`docs/check.md`).
    pub fn exit_code(self) -> i32 {
        match self {
            GateOutcome::Pass => 0,
            GateOutcome::Fail => 1,
            GateOutcome::Inconclusive | GateOutcome::NotComparable => 3,
        }
    }
}
