//! Choosing the candidate values whose planner estimate best explains what pg_stat_statements
//! measured. Pure: estimates and observations in, a decision out.
//!
//! Distances are taken between logarithms (of count + 1): being 10× off matters the same at 5
//! rows as at 50 000, and a count of 0 stays comparable. Rows per call decide first; shared
//! blocks per call break ties among candidates that return the same rows (a `LIMIT` reached,
//! an aggregate whose group count does not move) and decide alone when rows never move.

/// The planner's estimate for one assignment of parameter values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    /// Rows the statement returns (or, for a write, the rows it touches).
    pub rows: f64,
    /// Shared buffers the plan would access (see `plan::pages`).
    pub pages: f64,
}

/// What pg_stat_statements measured per call.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Observed {
    pub rows_per_call: f64,
    /// Shared blocks hit + read per call; `None` when the view does not say.
    pub blocks_per_call: Option<f64>,
}

/// Which measurement decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    Rows,
    /// Rows decided, blocks broke a tie.
    RowsThenBlocks,
    Blocks,
}

/// The decision for one parameter.
#[derive(Debug, Clone, PartialEq)]
pub enum Choice {
    /// Candidate indices that match best, the best first (the others match within
    /// [`TIE_RATIO`] on the deciding measurements).
    Calibrated { chosen: Vec<usize>, signal: Signal },
    /// The statistical draw as a whole (its mean estimate) explains the measurements as well
    /// as the best single value: nothing to correct. Carries the draw's mean estimate.
    DrawExplains(Estimate),
    /// No estimate moved with the parameter by [`INFORMATIVE_RATIO`] or more: the measurements
    /// say nothing about its value.
    Uninformative,
}

/// Estimates must differ by this factor across candidates to tell values apart.
pub const INFORMATIVE_RATIO: f64 = 2.0;
/// Candidates within this factor of the best distance are equally good.
pub const TIE_RATIO: f64 = 1.25;
/// Row counts within this factor are the same rows, for blocks to tell apart.
pub const SAME_ROWS_RATIO: f64 = 1.05;

/// The candidates that best explain `observed`, unless `draw` (the mean estimate over the
/// statistical draw, when the parameter has one) explains it as well: a mean over calls is
/// matched by a mixture of values too, and then there is no evidence against the draw.
pub fn choose(estimates: &[Estimate], draw: Option<Estimate>, observed: &Observed) -> Choice {
    let choice = best(estimates, observed);
    let (Choice::Calibrated { chosen, signal }, Some(draw)) = (&choice, draw) else {
        return choice;
    };
    let best = estimates[chosen[0]];
    let as_well = |figure: fn(&Estimate) -> f64, target: f64| {
        distance(figure(&draw), target) <= distance(figure(&best), target) + TIE_RATIO.ln()
    };
    let rows = as_well(|e| e.rows, observed.rows_per_call);
    let blocks = observed
        .blocks_per_call
        .is_none_or(|blocks| as_well(|e| e.pages, blocks));
    // Blocks broke a tie of rows: the draw must explain both, as the chosen value does.
    let explains = match signal {
        Signal::Rows => rows,
        Signal::RowsThenBlocks => rows && blocks,
        Signal::Blocks => blocks,
    };
    if explains {
        Choice::DrawExplains(draw)
    } else {
        choice
    }
}

/// The weighted mean of estimates (`(weight, estimate)`); `None` without positive weight.
pub fn mean(weighted: &[(f64, Estimate)]) -> Option<Estimate> {
    let total: f64 = weighted.iter().map(|(w, _)| w.max(0.0)).sum();
    if total <= 0.0 {
        return None;
    }
    let sum = |f: fn(&Estimate) -> f64| {
        weighted.iter().map(|(w, e)| w.max(0.0) * f(e)).sum::<f64>() / total
    };
    Some(Estimate {
        rows: sum(|e| e.rows),
        pages: sum(|e| e.pages),
    })
}

/// The candidates that best explain `observed`, the draw aside.
fn best(estimates: &[Estimate], observed: &Observed) -> Choice {
    let rows: Vec<f64> = estimates.iter().map(|e| e.rows).collect();
    let pages: Vec<f64> = estimates.iter().map(|e| e.pages).collect();
    let blocks = observed
        .blocks_per_call
        .filter(|_| spread(&pages) >= INFORMATIVE_RATIO.ln());
    let all: Vec<usize> = (0..estimates.len()).collect();
    if spread(&rows) >= INFORMATIVE_RATIO.ln() {
        let tied = closest(&all, &rows, observed.rows_per_call);
        // Blocks break ties among candidates that return the same rows (a reached LIMIT, an
        // aggregate's groups), not among ones that merely come near: the block figure is too
        // rough to overrule a closer row count.
        let same: Vec<usize> = tied
            .iter()
            .copied()
            .filter(|&i| distance(rows[i], rows[tied[0]]) <= SAME_ROWS_RATIO.ln())
            .collect();
        return match blocks {
            Some(blocks) if same.len() > 1 && spread_of(&same, &pages) >= TIE_RATIO.ln() => {
                Choice::Calibrated {
                    chosen: closest(&same, &pages, blocks),
                    signal: Signal::RowsThenBlocks,
                }
            }
            _ => Choice::Calibrated {
                chosen: tied,
                signal: Signal::Rows,
            },
        };
    }
    match blocks {
        Some(blocks) => Choice::Calibrated {
            chosen: closest(&all, &pages, blocks),
            signal: Signal::Blocks,
        },
        None => Choice::Uninformative,
    }
}

/// `|ln(a + 1) - ln(b + 1)|`: how many e-folds apart two counts are.
pub fn distance(a: f64, b: f64) -> f64 {
    ((a.max(0.0) + 1.0).ln() - (b.max(0.0) + 1.0).ln()).abs()
}

/// Of `among`, the indices whose `values` are within [`TIE_RATIO`] of the closest to
/// `target`, closest first (ties keep candidate order, so the result is deterministic).
fn closest(among: &[usize], values: &[f64], target: f64) -> Vec<usize> {
    let mut scored: Vec<(f64, usize)> = among
        .iter()
        .map(|&i| (distance(values[i], target), i))
        .collect();
    scored.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let Some(&(best, _)) = scored.first() else {
        return Vec::new();
    };
    scored
        .into_iter()
        .take_while(|(score, _)| *score <= best + TIE_RATIO.ln())
        .map(|(_, i)| i)
        .collect()
}

/// Range of the values in log space (0 for fewer than two).
fn spread(values: &[f64]) -> f64 {
    let all: Vec<usize> = (0..values.len()).collect();
    spread_of(&all, values)
}

fn spread_of(among: &[usize], values: &[f64]) -> f64 {
    let logs = among.iter().map(|&i| (values[i].max(0.0) + 1.0).ln());
    let (low, high) = logs.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    if high >= low { high - low } else { 0.0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn estimate(rows: f64, pages: f64) -> Estimate {
        Estimate { rows, pages }
    }

    fn rows(values: &[f64]) -> Vec<Estimate> {
        values.iter().map(|&rows| estimate(rows, 10.0)).collect()
    }

    fn observed(rows_per_call: f64, blocks_per_call: Option<f64>) -> Observed {
        Observed {
            rows_per_call,
            blocks_per_call,
        }
    }

    #[test]
    fn the_estimate_nearest_the_recorded_rows_per_call_wins() {
        // Cut-offs from wide to narrow: the application's 48 rows/call is the 4th.
        let estimates = rows(&[52_000.0, 9_000.0, 700.0, 51.0, 4.0]);
        assert_eq!(
            choose(&estimates, None, &observed(48.0, None)),
            Choice::Calibrated {
                chosen: vec![3],
                signal: Signal::Rows
            }
        );
    }

    #[test]
    fn no_rows_at_all_picks_a_cut_off_past_the_data() {
        let estimates = rows(&[52_000.0, 700.0, 1.0]);
        let Choice::Calibrated { chosen, .. } = choose(&estimates, None, &observed(0.0, None))
        else {
            panic!("informative");
        };
        assert_eq!(chosen, vec![2]);
    }

    #[test]
    fn equally_good_values_are_all_kept_best_first() {
        let estimates = rows(&[300.0, 100.0, 110.0, 5.0, 95.0]);
        let Choice::Calibrated { chosen, .. } = choose(&estimates, None, &observed(100.0, None))
        else {
            panic!("informative");
        };
        assert_eq!(chosen, vec![1, 4, 2]);
    }

    #[test]
    fn a_reached_limit_is_resolved_by_blocks_per_call() {
        // LIMIT 100: every window wide enough returns 100 rows; blocks tell them apart.
        let estimates = vec![
            estimate(100.0, 9_000.0),
            estimate(100.0, 120.0),
            estimate(3.0, 4.0),
        ];
        assert_eq!(
            choose(&estimates, None, &observed(100.0, Some(130.0))),
            Choice::Calibrated {
                chosen: vec![1],
                signal: Signal::RowsThenBlocks
            }
        );
    }

    #[test]
    fn blocks_do_not_overrule_a_closer_row_count() {
        // 2 400 rows per call: 2 400 and 1 930 are both within the tie, but only the first
        // returns those rows; a block figure nearer the second must not pull the choice.
        let estimates = vec![
            estimate(2_400.0, 2_401.0),
            estimate(1_930.0, 1_931.0),
            estimate(40.0, 41.0),
        ];
        assert_eq!(
            choose(&estimates, None, &observed(2_399.0, Some(57.0))),
            Choice::Calibrated {
                chosen: vec![0, 1],
                signal: Signal::Rows
            }
        );
    }

    #[test]
    fn an_aggregate_with_constant_rows_falls_back_to_blocks_or_to_nothing() {
        let estimates = vec![estimate(1.0, 5_000.0), estimate(1.0, 40.0)];
        assert_eq!(
            choose(&estimates, None, &observed(1.0, Some(45.0))),
            Choice::Calibrated {
                chosen: vec![1],
                signal: Signal::Blocks
            }
        );
        assert_eq!(
            choose(&estimates, None, &observed(1.0, None)),
            Choice::Uninformative
        );
        assert_eq!(
            choose(&rows(&[1.0, 1.0, 1.4]), None, &observed(1.0, Some(3.0))),
            Choice::Uninformative
        );
        assert_eq!(
            choose(&[], None, &observed(1.0, Some(3.0))),
            Choice::Uninformative
        );
    }

    #[test]
    fn a_draw_whose_mean_explains_the_rows_is_kept() {
        // 'done' 88% (35 rows), 'open' 10% (4), 'pending' 2% (1): calls mixing 'done' and
        // 'pending' average 24 rows, which the draw's mean (31) explains as well as 'done'.
        let estimates = rows(&[35.0, 4.0, 1.0]);
        let weighted: Vec<(f64, Estimate)> = [0.88, 0.10, 0.02]
            .into_iter()
            .zip(estimates.iter().copied())
            .collect();
        let draw = mean(&weighted).expect("weights");
        assert!((draw.rows - 31.22).abs() < 0.01, "{draw:?}");
        assert_eq!(
            choose(&estimates, Some(draw), &observed(24.0, None)),
            Choice::DrawExplains(draw)
        );
        // A histogram-wide cut-off draw averaging half the table explains 48 rows/call badly.
        let cut_offs = rows(&[52_000.0, 26_000.0, 51.0, 4.0]);
        let draw = mean(&[(1.0, cut_offs[0]), (1.0, cut_offs[1])]);
        assert!(matches!(
            choose(&cut_offs, draw, &observed(48.0, None)),
            Choice::Calibrated { .. }
        ));
        assert_eq!(mean(&[(0.0, cut_offs[0])]), None);
    }

    #[test]
    fn when_blocks_broke_a_tie_of_rows_the_draw_must_explain_the_blocks_too() {
        // An aggregate of 3 groups (1 for the narrowest window): rows decide nothing among
        // the windows that return 3, the blocks per call do; a draw over a year returns 3
        // rows too, but touches far more.
        let estimates = vec![
            estimate(1.0, 2.0),
            estimate(3.0, 60.0),
            estimate(3.0, 20_000.0),
        ];
        let draw = estimate(3.0, 19_000.0);
        assert_eq!(
            choose(&estimates, Some(draw), &observed(3.0, Some(57.0))),
            Choice::Calibrated {
                chosen: vec![1],
                signal: Signal::RowsThenBlocks
            }
        );
        assert_eq!(
            choose(&estimates, Some(draw), &observed(3.0, Some(18_000.0))),
            Choice::DrawExplains(draw)
        );
    }

    #[test]
    fn distance_is_symmetric_and_log_scaled() {
        assert_eq!(distance(9.0, 99.0), distance(99.0, 9.0));
        assert!((distance(9.0, 99.0) - 10f64.ln()).abs() < 1e-12);
        assert_eq!(distance(-3.0, 0.0), 0.0);
    }
}
