//! Recording from a server log: every logged call, grouped by fingerprint, role and number of
//! parameters, with its real parameter values (or inlined literals) and real frequency.

use std::collections::{BTreeMap, HashMap};

use super::columns::{self, Catalog};
use super::draft::{self, Draft};
use super::log::{self, LogFormat, LogReading, LoggedCall};
use super::sql::{self, RoleChange, Skip, Statement};
use super::{RecordError, Recording};

/// Most values kept per parameter; longer logs are sampled evenly.
pub const MAX_VALUES: usize = 500;

/// What to read and keep.
#[derive(Debug, Clone)]
pub struct LogOptions {
    pub format: LogFormat,
    /// Keep only calls to this database (when the log says which).
    pub database: Option<String>,
    pub keep_literals: bool,
    /// Also record pgperf's own traffic (application_name `pgperf`), to check a recording
    /// against the workload pgperf ran.
    pub include_pgperf: bool,
    /// Keep at most this many queries, by total time.
    pub top: usize,
    /// Leave out queries called fewer times.
    pub min_calls: u64,
}

impl Default for LogOptions {
    /// Everything in the log, of every database, with sensitive values replaced.
    fn default() -> Self {
        LogOptions {
            format: LogFormat::Auto,
            database: None,
            keep_literals: false,
            include_pgperf: false,
            top: usize::MAX,
            min_calls: 1,
        }
    }
}

/// One group of calls being collected.
struct Group {
    statement: Statement,
    role: Option<String>,
    calls: u64,
    total_ms: Option<f64>,
    values: Vec<Collector>,
}

/// An evenly spaced sample of at most [`MAX_VALUES`] values: every `stride`-th one, the stride
/// doubling whenever the sample is full.
#[derive(Default)]
struct Collector {
    seen: u64,
    stride: u64,
    kept: Vec<Option<String>>,
    /// Whether some call's value differed from the first call's.
    varied: bool,
}

impl Collector {
    fn push(&mut self, value: Option<String>) {
        self.varied |= self.kept.first().is_some_and(|first| *first != value);
        self.stride = self.stride.max(1);
        if self.seen.is_multiple_of(self.stride) {
            self.kept.push(value);
            if self.kept.len() >= MAX_VALUES * 2 {
                self.kept = self.kept.iter().step_by(2).cloned().collect();
                self.stride *= 2;
            }
        }
        self.seen += 1;
    }

    fn values(&self) -> &[Option<String>] {
        &self.kept[..self.kept.len().min(MAX_VALUES)]
    }

    /// True when every call passed the same value, and there was more than one call to tell
    /// a constant from a value that happened once.
    fn constant(&self) -> bool {
        self.seen > 1 && !self.varied
    }
}

/// Reads `bytes` as a log and records its workload. `catalog`, when connected, resolves
/// unqualified columns (for replacing sensitive values by a sample of their column).
pub fn record(
    bytes: &[u8],
    options: &LogOptions,
    catalog: Option<&mut Catalog>,
) -> Result<Recording, RecordError> {
    let reading = log::read_log(bytes, options.format);
    if reading.calls.is_empty() {
        return Err(nothing_read(&reading));
    }
    let mut skipped: BTreeMap<String, u64> = BTreeMap::new();
    let groups = group_calls(&reading.calls, options, &mut skipped);
    let mut groups: Vec<Group> = groups.into_values().collect();
    let rare = groups
        .iter()
        .filter(|g| g.calls < options.min_calls)
        .count() as u64;
    if rare > 0 {
        *skipped
            .entry(format!(
                "statements called fewer than {} times",
                options.min_calls
            ))
            .or_default() += rare;
    }
    groups.retain(|g| g.calls >= options.min_calls);
    groups.sort_by(|a, b| {
        let total = |g: &Group| g.total_ms.unwrap_or(g.calls as f64);
        total(b)
            .total_cmp(&total(a))
            .then_with(|| a.statement.fingerprint.cmp(&b.statement.fingerprint))
    });
    groups.truncate(options.top);
    let drafts = drafts(groups, options.keep_literals, catalog)?;
    let format = reading.format.unwrap_or(LogFormat::Auto);
    let mut report = vec![format!(
        "read {} log entries ({format}): {} calls, {} recorded as {} queries",
        reading.records,
        reading.calls.len(),
        drafts.iter().map(|d| d.calls).sum::<u64>(),
        drafts.len()
    )];
    report.extend(
        skipped
            .iter()
            .map(|(why, n)| format!("left out {n} calls: {why}")),
    );
    report.extend(reading.problems.iter().map(|(why, n)| match why {
        super::log::INVALID_UTF8 => {
            let lines = if n == 1 { "line" } else { "lines" };
            format!(
                "kept {n} {lines} with invalid UTF-8 (decoded lossily: some characters show as �)"
            )
        }
        _ => format!("skipped {n}: {why}"),
    }));
    Ok(Recording {
        drafts,
        report,
        source: format!("{format} log"),
    })
}

fn nothing_read(reading: &LogReading) -> RecordError {
    let mut why: Vec<String> = reading
        .problems
        .iter()
        .map(|(why, n)| format!("{n} × {why}"))
        .collect();
    if why.is_empty() {
        why.push(format!(
            "{} entries read, none of them a statement (is log_min_duration_statement = 0 or log_statement = 'all' set?)",
            reading.records
        ));
    }
    RecordError::NothingRead(why.join("; "))
}

type GroupKey = (String, usize, Option<String>);

fn group_calls(
    calls: &[LoggedCall],
    options: &LogOptions,
    skipped: &mut BTreeMap<String, u64>,
) -> HashMap<GroupKey, Group> {
    let mut analysed: HashMap<&str, Result<Statement, Skip>> = HashMap::new();
    let mut groups: HashMap<GroupKey, Group> = HashMap::new();
    // Role each backend switched to (`SET ROLE`, `set_config('role', …)`), by pid.
    let mut roles: HashMap<&str, String> = HashMap::new();
    for call in calls {
        if let Some(pid) = call.pid.as_deref()
            && let Some(change) = sql::role_change(&call.sql, &call.params)
        {
            match change {
                RoleChange::Set(role) => roles.insert(pid, role),
                RoleChange::Reset => roles.remove(pid),
            };
        }
        let role = call
            .pid
            .as_deref()
            .and_then(|pid| roles.get(pid))
            .cloned()
            .or_else(|| call.user.clone());
        let admitted = admit(call, options).and_then(|()| {
            let statement = analysed
                .entry(call.sql.as_str())
                .or_insert_with(|| sql::analyse(&call.sql))
                .as_ref()
                .map_err(ToString::to_string)?;
            let values = call_values(statement, call)
                .ok_or_else(|| "parameter values missing from the log".to_string())?;
            Ok((statement, values))
        });
        match admitted {
            Ok((statement, values)) => {
                let key = (
                    statement.fingerprint.clone(),
                    statement.param_count,
                    role.clone(),
                );
                groups
                    .entry(key)
                    .or_insert_with(|| Group::new(statement, role))
                    .add(call.duration_ms, values);
            }
            Err(why) => *skipped.entry(why).or_default() += 1,
        }
    }
    groups
}

/// Why a call is not part of the recorded workload, before looking at its statement.
fn admit(call: &LoggedCall, options: &LogOptions) -> Result<(), String> {
    if call.application.as_deref() == Some("pgperf") && !options.include_pgperf {
        return Err("pgperf's own traffic (application_name pgperf)".into());
    }
    let other_database =
        options.database.is_some() && call.database.is_some() && call.database != options.database;
    if other_database {
        return Err("another database".into());
    }
    Ok(())
}

impl Group {
    fn new(statement: &Statement, role: Option<String>) -> Self {
        Group {
            statement: statement.clone(),
            role,
            calls: 0,
            total_ms: None,
            values: (0..statement.param_count)
                .map(|_| Collector::default())
                .collect(),
        }
    }

    fn add(&mut self, duration_ms: Option<f64>, values: Vec<Option<String>>) {
        self.calls += 1;
        if let Some(duration_ms) = duration_ms {
            self.total_ms = Some(self.total_ms.unwrap_or(0.0) + duration_ms);
        }
        for (collector, value) in self.values.iter_mut().zip(values) {
            collector.push(value);
        }
    }
}

/// `$1..$n` of one call: logged parameters first, then the literals the normaliser replaced.
fn call_values(statement: &Statement, call: &LoggedCall) -> Option<Vec<Option<String>>> {
    let literal_count = statement.param_count + 1 - statement.first_literal;
    if statement.literals.len() != literal_count || call.params.len() + 1 < statement.first_literal
    {
        return None;
    }
    let logged = call
        .params
        .iter()
        .take(statement.first_literal - 1)
        .cloned();
    Some(
        logged
            .chain(statement.literals.iter().map(sql::literal_value))
            .collect(),
    )
}

fn drafts(
    groups: Vec<Group>,
    keep_literals: bool,
    mut catalog: Option<&mut Catalog>,
) -> Result<Vec<Draft>, RecordError> {
    let mut drafts = Vec::new();
    for group in groups {
        let mut params = Vec::new();
        for (index, collector) in group.values.iter().enumerate() {
            let number = index + 1;
            let column = match (group.statement.targets.get(&number), catalog.as_deref_mut()) {
                (Some(target), Some(catalog)) => catalog
                    .resolve(&group.statement, target)
                    .map_err(RecordError::database)?,
                (Some(target), None) => columns::resolve_offline(&group.statement, target),
                (None, _) => None,
            };
            params.push(draft::from_values(
                number,
                collector.values(),
                column.as_ref(),
                keep_literals,
            ));
        }
        let mut statement = group.statement;
        inline_constant_literals(&mut statement, &mut params, &group.values, keep_literals);
        drafts.push(Draft {
            statement,
            role: group.role,
            calls: group.calls,
            total_ms: group.total_ms,
            params,
        });
    }
    Ok(drafts)
}

/// Writes back into the text each literal that every call wrote the same way: the
/// normaliser made it `$n` only to group calls, and as a parameter the bench's prepared
/// statement would plan it generically (the scale-1 round trip's `audit.row_history`, whose
/// `table_name = 'approvals'` became `$3`, ran 1.25× slower). Real parameters of the extended
/// protocol stay parameters, and sensitive-looking constants stay for their replacement.
fn inline_constant_literals(
    statement: &mut Statement,
    params: &mut Vec<draft::DraftParam>,
    values: &[Collector],
    keep_literals: bool,
) {
    for number in (statement.first_literal..=statement.param_count).rev() {
        let Some(literal) = statement.literals.get(number - statement.first_literal) else {
            continue;
        };
        let sensitive = sql::literal_value(literal)
            .is_some_and(|value| super::privacy::classify(&value).is_some());
        let constant = values.get(number - 1).is_some_and(Collector::constant);
        if constant && (keep_literals || !sensitive) {
            let text = sql::literal_sql(literal);
            draft::inline(statement, params, number, &text);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record_lines(lines: &[&str]) -> Recording {
        let text: String = lines
            .iter()
            .map(|sql| {
                format!("2024-05-01 10:00:00.123 UTC [100] user=app,db=shop,app=web LOG:  duration: 0.300 ms  statement: {sql}\n")
            })
            .collect();
        record(text.as_bytes(), &LogOptions::default(), None).expect("records")
    }

    #[test]
    fn a_constant_every_call_wrote_stays_a_constant_and_the_rest_renumber() {
        let recording = record_lines(&[
            "SELECT * FROM audit_log WHERE table_name = 'approvals' AND row_id = 5 AND kind = 'x'",
            "SELECT * FROM audit_log WHERE table_name = 'approvals' AND row_id = 6 AND kind = 'x'",
            "SELECT * FROM audit_log WHERE table_name = 'approvals' AND row_id = 7 AND kind = 'it''s'",
        ]);
        let [draft] = recording.drafts.as_slice() else {
            panic!("one statement: {:?}", recording.drafts.len());
        };
        assert_eq!(
            draft.statement.sql,
            "SELECT * FROM audit_log WHERE table_name = 'approvals' AND row_id = $1 AND kind = $2"
        );
        assert_eq!(draft.statement.param_count, 2);
        assert_eq!(draft.params.len(), 2);
        assert!(
            draft.params[1].note.starts_with("$2"),
            "{}",
            draft.params[1].note
        );
    }

    #[test]
    fn a_single_call_or_a_sensitive_constant_stays_a_parameter() {
        let once = record_lines(&["SELECT * FROM t WHERE day = '2024-04-01'"]);
        assert_eq!(
            once.drafts[0].statement.sql,
            "SELECT * FROM t WHERE day = $1"
        );
        let email = record_lines(&[
            "SELECT * FROM users WHERE email = 'ann@example.com'",
            "SELECT * FROM users WHERE email = 'ann@example.com'",
        ]);
        assert_eq!(
            email.drafts[0].statement.sql, "SELECT * FROM users WHERE email = $1",
            "the email never reaches the file"
        );
    }

    #[test]
    fn the_collector_keeps_an_even_bounded_sample() {
        let mut collector = Collector::default();
        for i in 0..10_000 {
            collector.push(Some(i.to_string()));
        }
        let values = collector.values();
        assert!(
            values.len() <= MAX_VALUES && values.len() >= MAX_VALUES / 2,
            "{}",
            values.len()
        );
        assert_eq!(values[0].as_deref(), Some("0"));
        let last: u32 = values
            .last()
            .and_then(|v| v.as_deref())
            .and_then(|v| v.parse().ok())
            .expect("numbers");
        assert!(
            last > 2_000,
            "the sample spans the log, not its start: {last}"
        );
    }
}
