//! Which column each `$n` stands for, read from the parse tree: `col <op> $n` (either side,
//! through casts), `col IN ($n, …)`, `col BETWEEN $n AND $m`, `col = ANY($n)`, `INSERT (cols)
//! VALUES ($n, …)`, `UPDATE … SET col = $n`, and `LIMIT`/`OFFSET`.

use std::collections::BTreeMap;

use pg_query::protobuf::{AExprKind, Node};
use pg_query::{NodeEnum, NodeRef};

/// What a `$n` is used for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParamTarget {
    /// Compared to (or stored in) a column; `qualifier` is the alias or table written before it.
    Column {
        qualifier: Option<String>,
        column: String,
        /// `col = ANY($n)`: the parameter is an array of the column's values.
        array: bool,
    },
    Limit,
    Offset,
}

pub(super) fn targets(parsed: &pg_query::ParseResult) -> BTreeMap<usize, ParamTarget> {
    let mut found = BTreeMap::new();
    for (node, ..) in parsed.protobuf.nodes() {
        match node {
            NodeRef::AExpr(expr) => comparison(expr, &mut found),
            NodeRef::InsertStmt(insert) => inserted(insert, &mut found),
            NodeRef::UpdateStmt(update) => assigned(&update.target_list, &mut found),
            NodeRef::SelectStmt(select) => {
                if let Some(n) = select.limit_count.as_deref().and_then(param_number) {
                    found.entry(n).or_insert(ParamTarget::Limit);
                }
                if let Some(n) = select.limit_offset.as_deref().and_then(param_number) {
                    found.entry(n).or_insert(ParamTarget::Offset);
                }
            }
            _ => {}
        }
    }
    found
}

fn comparison(expr: &pg_query::protobuf::AExpr, found: &mut BTreeMap<usize, ParamTarget>) {
    let (Some(left), Some(right)) = (expr.lexpr.as_deref(), expr.rexpr.as_deref()) else {
        return;
    };
    let array =
        expr.kind == AExprKind::AexprOpAny as i32 || expr.kind == AExprKind::AexprOpAll as i32;
    for (column_side, param_side) in [(left, right), (right, left)] {
        let Some((qualifier, column)) = column_ref(column_side) else {
            continue;
        };
        let params: Vec<usize> = match &param_side.node {
            Some(NodeEnum::List(list)) => list.items.iter().filter_map(param_number).collect(),
            _ => param_number(param_side).into_iter().collect(),
        };
        for n in params {
            found.entry(n).or_insert_with(|| ParamTarget::Column {
                qualifier: qualifier.clone(),
                column: column.clone(),
                array,
            });
        }
    }
}

fn inserted(insert: &pg_query::protobuf::InsertStmt, found: &mut BTreeMap<usize, ParamTarget>) {
    let columns: Vec<String> = insert
        .cols
        .iter()
        .filter_map(|c| match &c.node {
            Some(NodeEnum::ResTarget(target)) => Some(target.name.clone()),
            _ => None,
        })
        .collect();
    let Some(NodeEnum::SelectStmt(select)) =
        insert.select_stmt.as_deref().and_then(|s| s.node.as_ref())
    else {
        return;
    };
    for row in &select.values_lists {
        let Some(NodeEnum::List(values)) = &row.node else {
            continue;
        };
        for (column, value) in columns.iter().zip(&values.items) {
            if let Some(n) = param_number(value) {
                found.entry(n).or_insert_with(|| ParamTarget::Column {
                    qualifier: None,
                    column: column.clone(),
                    array: false,
                });
            }
        }
    }
}

fn assigned(target_list: &[Node], found: &mut BTreeMap<usize, ParamTarget>) {
    for target in target_list {
        if let Some(NodeEnum::ResTarget(target)) = &target.node
            && let Some(n) = target.val.as_deref().and_then(param_number)
        {
            found.entry(n).or_insert_with(|| ParamTarget::Column {
                qualifier: None,
                column: target.name.clone(),
                array: false,
            });
        }
    }
}

/// `$n`, also through casts (`$1::int`).
fn param_number(node: &Node) -> Option<usize> {
    match node.node.as_ref()? {
        NodeEnum::ParamRef(p) => usize::try_from(p.number).ok(),
        NodeEnum::TypeCast(cast) => cast.arg.as_deref().and_then(param_number),
        _ => None,
    }
}

/// `col` or `alias.col` (also through casts): (qualifier, column).
fn column_ref(node: &Node) -> Option<(Option<String>, String)> {
    match node.node.as_ref()? {
        NodeEnum::ColumnRef(column) => {
            let names: Vec<&str> = column
                .fields
                .iter()
                .filter_map(|f| match &f.node {
                    Some(NodeEnum::String(s)) => Some(s.sval.as_str()),
                    _ => None,
                })
                .collect();
            let (last, before) = names.split_last()?;
            Some((before.last().map(|q| q.to_string()), last.to_string()))
        }
        NodeEnum::TypeCast(cast) => cast.arg.as_deref().and_then(column_ref),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(qualifier: Option<&str>, column: &str, array: bool) -> ParamTarget {
        ParamTarget::Column {
            qualifier: qualifier.map(str::to_string),
            column: column.to_string(),
            array,
        }
    }

    #[test]
    fn comparisons_lists_arrays_and_limits_are_resolved() {
        let parsed = pg_query::parse(
            "SELECT * FROM orders o WHERE o.customer_id = $1 AND $2::text = status \
             AND created_at BETWEEN $3 AND $4 AND id = ANY($5) AND region IN ($6, $7) \
             AND now() - $8::interval < created_at LIMIT $9 OFFSET $10",
            0,
        )
        .expect("parses");
        let found = targets(&parsed);
        assert_eq!(found[&1], column(Some("o"), "customer_id", false));
        assert_eq!(found[&2], column(None, "status", false));
        assert_eq!(found[&3], column(None, "created_at", false));
        assert_eq!(found[&4], column(None, "created_at", false));
        assert_eq!(found[&5], column(None, "id", true));
        assert_eq!(found[&7], column(None, "region", false));
        assert!(!found.contains_key(&8));
        assert_eq!(found[&9], ParamTarget::Limit);
        assert_eq!(found[&10], ParamTarget::Offset);
    }

    #[test]
    fn inserts_and_updates_map_values_to_columns() {
        let parsed = pg_query::parse("INSERT INTO t (a, b) VALUES ($1, $2)", 0).expect("parses");
        assert_eq!(targets(&parsed)[&2], column(None, "b", false));
        let parsed = pg_query::parse("UPDATE t SET a = $1 WHERE id = $2", 0).expect("parses");
        let found = targets(&parsed);
        assert_eq!(found[&1], column(None, "a", false));
        assert_eq!(found[&2], column(None, "id", false));
    }
}
