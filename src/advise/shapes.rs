//! Index shapes for one table access: single and multi-column B-trees (equality columns first,
//! most selective first, then one range or sort column with its direction), INCLUDE columns for
//! index-only scans, partial indexes on skewed constants, and expression keys. Pure: column
//! statistics come in as data. Which shapes pay off is for the what-if and selection steps.

use std::collections::BTreeMap;

use super::access::{KeyExpr, Operand, Predicate, PredicateKind, SortKey, TableAccess};
use crate::model::advice::{IndexKey, IndexMethod, IndexSpec};
use crate::pg::{quote_ident, quote_literal};

/// Statistics of one column, from `pg_stats`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ColumnStats {
    /// As in pg_stats: positive = distinct values, negative = fraction of rows.
    pub n_distinct: f64,
    /// Most common values with their frequencies, as text.
    pub most_common: Vec<(String, f64)>,
    /// Share of rows that are NULL.
    pub null_frac: f64,
    /// Correlation of the column's order with the table's physical order (-1..1).
    pub correlation: Option<f64>,
}

/// What shapes need to know about the table.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TableFacts {
    pub schema: String,
    pub table: String,
    pub rows: f64,
    /// Column statistics by column name.
    pub stats: BTreeMap<String, ColumnStats>,
    /// Column types by column name (`format_type`: `jsonb`, `text[]`, ...).
    pub types: BTreeMap<String, String>,
}

/// A value is "rare" for a partial index when it is at most this share of rows...
const RARE_VALUE_MAX_FREQ: f64 = 0.10;
/// ...while the column's most common value is at least this share (the column is skewed).
const SKEWED_TOP_MIN_FREQ: f64 = 0.30;
/// At most this many INCLUDE columns, to keep covering indexes small.
const MAX_INCLUDE_COLUMNS: usize = 3;
/// An equality that keeps at least this share of rows filters nothing worth a key column.
const FILTERS_NOTHING_SHARE: f64 = 0.9;
/// `IS NOT NULL` is worth a key when at least this share of rows is NULL.
const NOT_NULL_SELECTIVE_NULL_FRAC: f64 = 0.5;

/// Candidate index specs for `access` on the table described by `facts`; `params` are the
/// statement's parameter values (`$1` is `params[0]`), used to decide partial indexes.
pub fn shapes(
    access: &TableAccess,
    facts: &TableFacts,
    params: &[Option<String>],
    max_columns: usize,
) -> Vec<IndexSpec> {
    let mut out: Vec<IndexSpec> = Vec::new();
    let mut add = |keys: Vec<(KeyExpr, bool)>, predicate: Option<String>| {
        let spec = spec(facts, dedupe(keys), predicate, max_columns);
        if !spec.keys.is_empty() && !out.contains(&spec) {
            out.push(spec);
        }
    };
    let branches: Vec<&[Predicate]> = std::iter::once(access.predicates.as_slice())
        .chain(access.or_branches.iter().map(Vec::as_slice))
        .collect();
    for predicates in branches {
        let equalities = equality_keys(predicates, facts, params);
        let ranges: Vec<KeyExpr> = predicates
            .iter()
            .filter(|p| p.kind == PredicateKind::Range || selective_not_null(p, facts))
            .map(|p| p.key.clone())
            .collect();
        for key in equalities.iter().chain(&ranges) {
            add(vec![(key.clone(), false)], None);
        }
        let leading: Vec<(KeyExpr, bool)> = equalities.iter().map(|k| (k.clone(), false)).collect();
        add(leading.clone(), None);
        for range in &ranges {
            add(with(&leading, [(range.clone(), false)]), None);
        }
        if !access.order_by.is_empty() {
            add(with(&leading, sort_keys(&access.order_by)), None);
        }
        for join in &access.join_keys {
            let joined = with(&leading, [(join.clone(), false)]);
            add(joined.clone(), None);
            if !leading.is_empty() {
                // The join column is often the selective one (one outer row per probe).
                add(with(&[(join.clone(), false)], leading.clone()), None);
            }
            if !access.order_by.is_empty() {
                // A nested loop (or LATERAL) probing per outer row, each probe ordered.
                add(with(&joined, sort_keys(&access.order_by)), None);
            }
        }
        for (column, value) in rare_constants(predicates, facts, params) {
            let rest: Vec<(KeyExpr, bool)> = leading
                .iter()
                .filter(|(k, _)| k.column() != Some(column.as_str()))
                .cloned()
                .chain(ranges.iter().take(1).map(|r| (r.clone(), false)))
                .chain(sort_keys(&access.order_by))
                .collect();
            let keys = if rest.is_empty() {
                vec![(KeyExpr::Column(column.clone()), false)]
            } else {
                rest
            };
            let predicate = format!("{} = {}", quote_ident(&column), quote_literal(&value));
            add(keys, Some(predicate));
        }
    }
    for join in &access.join_keys {
        add(vec![(join.clone(), false)], None);
    }
    if !access.order_by.is_empty() {
        add(sort_keys(&access.order_by), None);
    }
    if !access.group_by.is_empty() {
        add(
            access.group_by.iter().map(|k| (k.clone(), false)).collect(),
            None,
        );
    }
    let single = out.len() == 1;
    let covering: Vec<IndexSpec> = out
        .iter()
        .filter(|s| single || s.keys.len() >= 2)
        .filter_map(|s| covering(s, access))
        .collect();
    for spec in covering {
        if !out.contains(&spec) {
            out.push(spec);
        }
    }
    for spec in super::methods::gin(access, facts)
        .into_iter()
        .chain(super::methods::brin(access, facts))
    {
        if !out.contains(&spec) {
            out.push(spec);
        }
    }
    out
}

/// `IS NOT NULL` on a column that is mostly NULL keeps few rows: a key like a range.
fn selective_not_null(predicate: &Predicate, facts: &TableFacts) -> bool {
    predicate.kind == PredicateKind::NotNull
        && predicate
            .key
            .column()
            .and_then(|c| facts.stats.get(c))
            .is_some_and(|s| s.null_frac >= NOT_NULL_SELECTIVE_NULL_FRAC)
}

/// One index per OR branch (its equality keys, else its first range key), for a bitmap OR:
/// none of them helps alone, because the other branch still needs a full scan.
pub fn or_bundle(
    access: &TableAccess,
    facts: &TableFacts,
    max_columns: usize,
) -> Option<Vec<IndexSpec>> {
    if access.or_branches.len() < 2 {
        return None;
    }
    let mut bundle: Vec<IndexSpec> = Vec::new();
    for branch in &access.or_branches {
        let mut keys: Vec<(KeyExpr, bool)> = equality_keys(branch, facts, &[])
            .into_iter()
            .map(|k| (k, false))
            .collect();
        if keys.is_empty() {
            keys = branch
                .iter()
                .take(1)
                .map(|p| (p.key.clone(), false))
                .collect();
        }
        let spec = spec(facts, keys, None, max_columns);
        if spec.keys.is_empty() {
            return None;
        }
        if !bundle.contains(&spec) {
            bundle.push(spec);
        }
    }
    (bundle.len() >= 2).then_some(bundle)
}

fn spec(
    facts: &TableFacts,
    keys: Vec<(KeyExpr, bool)>,
    predicate: Option<String>,
    max_columns: usize,
) -> IndexSpec {
    IndexSpec {
        schema: facts.schema.clone(),
        table: facts.table.clone(),
        keys: keys
            .into_iter()
            .take(max_columns.max(1))
            .map(|(key, descending)| IndexKey {
                sql: key.index_sql(),
                descending,
            })
            .collect(),
        include: Vec::new(),
        predicate,
        method: IndexMethod::Btree,
    }
}

fn with(
    leading: &[(KeyExpr, bool)],
    tail: impl IntoIterator<Item = (KeyExpr, bool)>,
) -> Vec<(KeyExpr, bool)> {
    leading.iter().cloned().chain(tail).collect()
}

fn sort_keys(order: &[SortKey]) -> Vec<(KeyExpr, bool)> {
    order
        .iter()
        .map(|s| (s.key.clone(), s.descending))
        .collect()
}

fn dedupe(keys: Vec<(KeyExpr, bool)>) -> Vec<(KeyExpr, bool)> {
    let mut out: Vec<(KeyExpr, bool)> = Vec::new();
    for (key, descending) in keys {
        if !out.iter().any(|(k, _)| *k == key) {
            out.push((key, descending));
        }
    }
    out
}

/// Equality, IN and IS NULL keys, most selective first (estimated share of rows kept, from
/// `pg_stats`: the value's frequency, else 1 / distinct values; `null_frac` for IS NULL; keys
/// without statistics last, ties keep order). A key that keeps nearly every row filters
/// nothing and is dropped while another key remains.
fn equality_keys(
    predicates: &[Predicate],
    facts: &TableFacts,
    params: &[Option<String>],
) -> Vec<KeyExpr> {
    let mut keys: Vec<(KeyExpr, Option<f64>)> = Vec::new();
    for predicate in predicates.iter().filter(|p| p.kind.is_equality()) {
        let share = selectivity(predicate, facts, params);
        match keys.iter_mut().find(|(k, _)| *k == predicate.key) {
            Some((_, known)) => *known = min_share(*known, share),
            None => keys.push((predicate.key.clone(), share)),
        }
    }
    // Shares within a factor of two are the same for ordering (MCV frequencies come from a
    // sample and wobble between ANALYZE runs): more distinct values lead among them.
    let bucket =
        |share: Option<f64>| share.map_or(i64::MAX, |s| s.max(1e-12).log2().floor() as i64);
    keys.sort_by(|(a_key, a), (b_key, b)| {
        bucket(*a)
            .cmp(&bucket(*b))
            .then(distinct(b_key, facts).total_cmp(&distinct(a_key, facts)))
    });
    let filtering = keys
        .iter()
        .filter(|(_, share)| share.is_none_or(|s| s < FILTERS_NOTHING_SHARE))
        .count();
    if filtering > 0 {
        keys.retain(|(_, share)| share.is_none_or(|s| s < FILTERS_NOTHING_SHARE));
    }
    keys.into_iter().map(|(key, _)| key).collect()
}

fn min_share(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// The share of rows a predicate keeps, from `pg_stats`; `None` without statistics.
fn selectivity(
    predicate: &Predicate,
    facts: &TableFacts,
    params: &[Option<String>],
) -> Option<f64> {
    let stats = facts.stats.get(predicate.key.column()?)?;
    if predicate.kind == PredicateKind::IsNull {
        return Some(stats.null_frac);
    }
    let distinct = distinct(&predicate.key, facts);
    if let Some(value) = operand_value(&predicate.operand, params)
        && let Some(freq) = common_frequency(stats, &value)
    {
        return Some(freq);
    }
    let common: f64 = stats.most_common.iter().map(|(_, f)| f).sum();
    let rest = distinct - stats.most_common.len() as f64;
    // A value not found among the common ones may only be spelled differently (`5.0`, a
    // timestamp's format): it counts as an average value, never as matching nothing.
    let per_value = if rest < 1.0 {
        1.0 / distinct.max(1.0)
    } else {
        (1.0 - stats.null_frac - common).max(0.0) / rest
    };
    Some(match predicate.kind {
        PredicateKind::In => (per_value * 3.0).min(1.0),
        _ => per_value,
    })
}

/// The frequency of `value` among the most common values; booleans are listed as `t`/`f`.
fn common_frequency(stats: &ColumnStats, value: &str) -> Option<f64> {
    let spelled = match value {
        "true" => "t",
        "false" => "f",
        other => other,
    };
    stats
        .most_common
        .iter()
        .find(|(v, _)| v == value || v == spelled)
        .map(|(_, f)| *f)
}

fn operand_value(operand: &Operand, params: &[Option<String>]) -> Option<String> {
    match operand {
        Operand::Literal(value) => Some(value.clone()),
        Operand::Param(n) => usize::try_from(*n - 1)
            .ok()
            .and_then(|i| params.get(i).cloned().flatten()),
        Operand::Other => None,
    }
}

fn distinct(key: &KeyExpr, facts: &TableFacts) -> f64 {
    let Some(stats) = key.column().and_then(|c| facts.stats.get(c)) else {
        return 0.0;
    };
    if stats.n_distinct < 0.0 {
        -stats.n_distinct * facts.rows
    } else {
        stats.n_distinct
    }
}

/// Equality constants on skewed columns whose value is rare: `(column, value)`.
fn rare_constants(
    predicates: &[Predicate],
    facts: &TableFacts,
    params: &[Option<String>],
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for predicate in predicates
        .iter()
        .filter(|p| p.kind == PredicateKind::Equality)
    {
        let Some(column) = predicate.key.column() else {
            continue;
        };
        let value = operand_value(&predicate.operand, params);
        let (Some(value), Some(stats)) = (value, facts.stats.get(column)) else {
            continue;
        };
        let top = stats
            .most_common
            .iter()
            .map(|(_, f)| *f)
            .fold(0.0, f64::max);
        let freq = common_frequency(stats, &value).unwrap_or(0.0);
        if top >= SKEWED_TOP_MIN_FREQ && freq <= RARE_VALUE_MAX_FREQ {
            out.push((column.to_string(), value));
        }
    }
    out
}

/// The spec with INCLUDE columns that let the access run as an index-only scan.
fn covering(spec: &IndexSpec, access: &TableAccess) -> Option<IndexSpec> {
    if spec.keys.iter().any(|k| k.sql.starts_with('(')) {
        return None;
    }
    let keyed: Vec<&str> = spec.keys.iter().map(|k| k.sql.as_str()).collect();
    let include: Vec<String> = access
        .columns
        .iter()
        .map(|c| quote_ident(c))
        .filter(|c| !keyed.contains(&c.as_str()))
        .collect();
    if include.is_empty() || include.len() > MAX_INCLUDE_COLUMNS {
        return None;
    }
    Some(IndexSpec {
        include,
        ..spec.clone()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::advise::parse::extract;

    fn facts() -> TableFacts {
        let mut stats = BTreeMap::new();
        stats.insert(
            "status".to_string(),
            ColumnStats {
                n_distinct: 4.0,
                most_common: vec![("done".into(), 0.9), ("pending".into(), 0.02)],
                ..ColumnStats::default()
            },
        );
        stats.insert(
            "customer_id".to_string(),
            ColumnStats {
                n_distinct: -0.1,
                most_common: vec![],
                ..ColumnStats::default()
            },
        );
        TableFacts {
            schema: "public".into(),
            table: "orders".into(),
            rows: 100_000.0,
            stats,
            types: BTreeMap::new(),
        }
    }

    fn render(spec: &IndexSpec) -> String {
        let keys: Vec<String> = spec
            .keys
            .iter()
            .map(|k| format!("{}{}", k.sql, if k.descending { " DESC" } else { "" }))
            .collect();
        let mut text = format!("({})", keys.join(", "));
        if !spec.include.is_empty() {
            text.push_str(&format!(" INCLUDE ({})", spec.include.join(", ")));
        }
        if let Some(predicate) = &spec.predicate {
            text.push_str(&format!(" WHERE {predicate}"));
        }
        text
    }

    #[test]
    fn shapes_per_access() {
        let mut tables = BTreeMap::new();
        let columns = [
            "id",
            "customer_id",
            "status",
            "created_at",
            "total",
            "email",
        ];
        tables.insert("orders".to_string(), columns.map(String::from).to_vec());
        let cases: [(&str, Vec<Option<String>>); 5] = [
            (
                "SELECT id FROM orders WHERE status = $1 AND customer_id = $2 AND created_at > now()",
                vec![Some("pending".into()), Some("7".into())],
            ),
            (
                "SELECT * FROM orders WHERE customer_id = $1 ORDER BY created_at DESC LIMIT 10",
                vec![Some("7".into())],
            ),
            ("SELECT id FROM orders WHERE lower(email) = 'a@b.c'", vec![]),
            (
                "SELECT status, count(*) FROM orders GROUP BY status",
                vec![],
            ),
            (
                "SELECT total FROM orders WHERE status = 'done' OR customer_id = 3",
                vec![],
            ),
        ];
        let mut text = String::new();
        for (sql, params) in cases {
            text.push_str(&format!("{sql}\n"));
            let extraction = extract(sql, &tables).expect("valid SQL");
            for access in &extraction.accesses {
                for spec in shapes(access, &facts(), &params, 3) {
                    text.push_str(&format!("  {}\n", render(&spec)));
                }
            }
        }
        insta::assert_snapshot!(text);
    }
}
