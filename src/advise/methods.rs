//! Index shapes beyond the B-tree: GIN for what only GIN answers (jsonb containment and key
//! existence, arrays, full text, pg_trgm for `LIKE`/`ILIKE '%x%'`), BRIN for a range on a
//! column whose values follow the table's physical order (an append-only time column). Pure:
//! column types and statistics come in as [`TableFacts`].

use super::access::{KeyExpr, PredicateKind, TableAccess};
use super::shapes::TableFacts;
use crate::model::advice::{IndexKey, IndexMethod, IndexSpec};

/// BRIN pays off only when the column's order follows the physical order this closely...
const BRIN_MIN_CORRELATION: f64 = 0.95;
/// ...and the table is large enough that skipping block ranges matters.
const BRIN_MIN_ROWS: f64 = 100_000.0;

/// One GIN candidate per key that a GIN-only operator compares, with the operator class that
/// fits: `jsonb_path_ops` (smaller, faster) when a jsonb key is only searched with `@>`,
/// `gin_trgm_ops` for patterns, the type's default otherwise.
pub fn gin(access: &TableAccess, facts: &TableFacts) -> Vec<IndexSpec> {
    let predicates: Vec<_> = access
        .predicates
        .iter()
        .chain(access.or_branches.iter().flatten())
        .filter(|p| p.kind.needs_gin())
        .collect();
    let mut keys: Vec<&KeyExpr> = Vec::new();
    for predicate in &predicates {
        if !keys.contains(&&predicate.key) {
            keys.push(&predicate.key);
        }
    }
    keys.into_iter()
        .filter_map(|key| {
            let kinds: Vec<PredicateKind> = predicates
                .iter()
                .filter(|p| p.key == *key)
                .map(|p| p.kind)
                .collect();
            let sql = gin_key(key, &kinds, facts)?;
            Some(spec(facts, IndexMethod::Gin, sql))
        })
        .collect()
}

fn gin_key(key: &KeyExpr, kinds: &[PredicateKind], facts: &TableFacts) -> Option<String> {
    let key_sql = key.index_sql();
    if kinds.contains(&PredicateKind::Pattern) {
        // A pattern and a containment on one key cannot share an operator class.
        return kinds
            .iter()
            .all(|k| *k == PredicateKind::Pattern)
            .then(|| format!("{key_sql} gin_trgm_ops"));
    }
    let jsonb = key
        .column()
        .and_then(|c| facts.types.get(c))
        .is_some_and(|t| t == "jsonb");
    if jsonb && kinds.iter().all(|k| *k == PredicateKind::Contains) {
        return Some(format!("{key_sql} jsonb_path_ops"));
    }
    Some(key_sql)
}

/// A BRIN candidate for each range-filtered column that is physically ordered.
pub fn brin(access: &TableAccess, facts: &TableFacts) -> Vec<IndexSpec> {
    if facts.rows < BRIN_MIN_ROWS {
        return Vec::new();
    }
    let mut out: Vec<IndexSpec> = Vec::new();
    for predicate in access
        .predicates
        .iter()
        .filter(|p| p.kind == PredicateKind::Range)
    {
        let Some(column) = predicate.key.column() else {
            continue;
        };
        let ordered = facts
            .stats
            .get(column)
            .and_then(|s| s.correlation)
            .is_some_and(|c| c.abs() >= BRIN_MIN_CORRELATION);
        let spec = spec(facts, IndexMethod::Brin, predicate.key.index_sql());
        if ordered && !out.contains(&spec) {
            out.push(spec);
        }
    }
    out
}

fn spec(facts: &TableFacts, method: IndexMethod, sql: String) -> IndexSpec {
    IndexSpec {
        schema: facts.schema.clone(),
        table: facts.table.clone(),
        keys: vec![IndexKey {
            sql,
            descending: false,
        }],
        include: Vec::new(),
        predicate: None,
        method,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::advise::parse::extract;
    use crate::advise::shapes::ColumnStats;

    fn facts() -> TableFacts {
        let mut stats = BTreeMap::new();
        stats.insert(
            "created_at".to_string(),
            ColumnStats {
                n_distinct: -1.0,
                correlation: Some(0.99),
                ..ColumnStats::default()
            },
        );
        let types = [
            ("doc", "jsonb"),
            ("tags", "text[]"),
            ("body", "text"),
            ("email", "text"),
        ]
        .map(|(c, t)| (c.to_string(), t.to_string()))
        .into_iter()
        .collect();
        TableFacts {
            schema: "public".into(),
            table: "docs".into(),
            rows: 1_000_000.0,
            stats,
            types,
        }
    }

    fn candidates(sql: &str) -> Vec<String> {
        let mut tables = BTreeMap::new();
        let columns = ["id", "doc", "tags", "body", "email", "created_at"];
        tables.insert("docs".to_string(), columns.map(String::from).to_vec());
        let extraction = extract(sql, &tables).expect("valid SQL");
        extraction
            .accesses
            .iter()
            .flat_map(|a| gin(a, &facts()).into_iter().chain(brin(a, &facts())))
            .map(|s| crate::advise::ddl::definition(&s))
            .collect()
    }

    #[test]
    fn gin_and_brin_shapes() {
        let cases = [
            r#"SELECT id FROM docs WHERE doc @> '{"a": 1}'"#,
            "SELECT id FROM docs WHERE doc ? 'a'",
            r#"SELECT id FROM docs WHERE doc @> '{"a": 1}' AND doc ?| array['b']"#,
            "SELECT id FROM docs WHERE tags && ARRAY['x']",
            "SELECT id FROM docs WHERE to_tsvector('english', body) @@ plainto_tsquery('english', $1)",
            "SELECT id FROM docs WHERE email ILIKE '%smith%'",
            "SELECT id FROM docs WHERE email NOT LIKE '%smith%'",
            "SELECT id FROM docs WHERE created_at >= now() - interval '1 day'",
            r#"SELECT id FROM docs WHERE '{"a": 1}' @> doc"#,
        ];
        let text: Vec<String> = cases
            .iter()
            .map(|sql| format!("{sql}\n  {}", candidates(sql).join("\n  ")))
            .collect();
        insta::assert_snapshot!(text.join("\n"));
    }
}
