//! Progress of a bench run on stderr. On a terminal, a bar with the status beside it; without
//! one (CI logs, pipes), one status line every `--progress-interval`, like `pgbench -P`:
//! elapsed, queries done, executions, the query running now, time left. A run that prints
//! nothing for minutes looks hung, and a log line per interval is what a CI log can hold.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

use super::engine::{Phase, PhaseStatus};

/// How often the watcher looks at the phase (and redraws the bar).
const TICK: Duration = Duration::from_millis(200);

/// Default of `--progress-interval`.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(10);

/// Where progress goes.
pub struct Progress {
    bar: Option<ProgressBar>,
    /// Every how often a status line is printed without a terminal; `None` prints nothing.
    interval: Option<Duration>,
    names: Vec<String>,
}

impl Progress {
    /// A bar when `enabled` and stderr is a terminal, else status lines every `interval`
    /// (when `enabled`), else nothing.
    pub fn new(enabled: bool, interval: Duration, names: Vec<String>) -> Progress {
        let terminal = enabled && std::io::stderr().is_terminal();
        let bar = terminal.then(|| {
            let bar = ProgressBar::new(1_000);
            bar.set_style(
                ProgressStyle::with_template("{spinner} {bar:30} {msg}")
                    .expect("the template is valid"),
            );
            bar.enable_steady_tick(TICK);
            bar
        });
        let interval = (enabled && !terminal && !interval.is_zero()).then_some(interval);
        Progress {
            bar,
            interval,
            names,
        }
    }

    /// Reports on `phase` until `done` is set. `label` names the phase ("warming up").
    pub fn watch(&self, label: &str, phase: &Phase<'_>, done: &AtomicBool) {
        if self.bar.is_none() && self.interval.is_none() {
            return;
        }
        let mut printed = Instant::now();
        while !done.load(Ordering::Relaxed) {
            std::thread::sleep(TICK);
            let status = phase.status();
            let line = status_line(label, &status, &self.names, phase.budget());
            if let Some(bar) = &self.bar {
                bar.set_position((status.fraction_done * 1_000.0) as u64);
                bar.set_message(line);
            } else if let Some(interval) = self.interval
                && printed.elapsed() >= interval
            {
                eprintln!("pgperf: {line}");
                printed = Instant::now();
            }
        }
    }

    /// Removes the bar.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// One status line: `measuring 20 s: 12/42 queries done, 3456 executions, running
/// grades_by_rubric, ~40 s left`.
pub fn status_line(
    label: &str,
    status: &PhaseStatus,
    names: &[String],
    budget: Option<Duration>,
) -> String {
    let elapsed_s = status.elapsed.as_secs_f64();
    let mut parts = vec![match status.queries_done {
        Some(done) => format!("{done}/{} queries done", status.queries),
        None => format!("{:.0}% of executions", status.fraction_done * 100.0),
    }];
    parts.push(format!("{} executions", status.executions));
    if let Some(name) = status.running.and_then(|index| names.get(index)) {
        parts.push(format!("running {name}"));
    }
    let left_s = match budget {
        Some(budget) => Some((budget.as_secs_f64() - elapsed_s).max(0.0)),
        None if status.fraction_done > 0.0 => {
            Some(elapsed_s * (1.0 - status.fraction_done) / status.fraction_done)
        }
        None => None,
    };
    if let Some(left_s) = left_s {
        parts.push(format!("~{left_s:.0} s left"));
    }
    format!("{label} {elapsed_s:.0} s: {}", parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Vec<String> {
        vec!["approvals_list".to_string(), "grades_by_rubric".to_string()]
    }

    #[test]
    fn a_budgeted_phase_says_queries_done_and_the_time_left_of_its_budget() {
        let status = PhaseStatus {
            elapsed: Duration::from_secs(20),
            executions: 3_456,
            queries_done: Some(1),
            queries: 2,
            running: Some(1),
            fraction_done: 0.33,
        };
        insta::assert_snapshot!(
            status_line("measuring", &status, &names(), Some(Duration::from_secs(60))),
            @"measuring 20 s: 1/2 queries done, 3456 executions, running grades_by_rubric, ~40 s left"
        );
    }

    #[test]
    fn a_fixed_count_phase_projects_the_time_left_from_its_pace() {
        let status = PhaseStatus {
            elapsed: Duration::from_secs(10),
            executions: 100,
            queries_done: None,
            queries: 2,
            running: Some(0),
            fraction_done: 0.25,
        };
        insta::assert_snapshot!(
            status_line("warming up", &status, &names(), None),
            @"warming up 10 s: 25% of executions, 100 executions, running approvals_list, ~30 s left"
        );
    }
}
