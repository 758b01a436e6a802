//! Expression helpers over the parse tree: walking, collecting column references, sublinks and
//! function names, literals, and deparsing an index expression without qualifiers.

use pg_query::protobuf::{self, node::Node as N};

use crate::advise::access::Operand;

pub(crate) fn node_of(node: &protobuf::Node) -> Option<&N> {
    node.node.as_ref()
}

pub(super) fn string_of(node: &N) -> Option<String> {
    match node {
        N::String(s) => Some(s.sval.clone()),
        _ => None,
    }
}

pub(super) fn literal(constant: &protobuf::AConst) -> Operand {
    use protobuf::a_const::Val;
    match &constant.val {
        Some(Val::Sval(s)) => Operand::Literal(s.sval.clone()),
        Some(Val::Ival(i)) => Operand::Literal(i.ival.to_string()),
        Some(Val::Fval(f)) => Operand::Literal(f.fval.clone()),
        Some(Val::Boolval(b)) => Operand::Literal(b.boolval.to_string()),
        _ => Operand::Other,
    }
}

/// Casts to a text type keep the column usable by a plain index (`email::text` in plans of
/// varchar columns); other casts make an expression.
pub(super) fn is_text_cast(cast: &protobuf::TypeCast) -> bool {
    let Some(type_name) = &cast.type_name else {
        return false;
    };
    let last = type_name
        .names
        .last()
        .and_then(node_of)
        .and_then(string_of)
        .unwrap_or_default();
    let Some(N::ColumnRef(_)) = cast.arg.as_deref().and_then(node_of) else {
        return true;
    };
    matches!(last.as_str(), "text" | "varchar" | "bpchar" | "name")
}

pub(super) fn output_name(node: &N) -> Option<String> {
    match node {
        N::ColumnRef(column) => column.fields.last().and_then(node_of).and_then(string_of),
        N::FuncCall(call) => call.funcname.last().and_then(node_of).and_then(string_of),
        N::TypeCast(cast) => cast.arg.as_deref().and_then(node_of).and_then(output_name),
        _ => None,
    }
}

/// Visits every node below `node` (not into subqueries), calling `visit` on each.
pub(super) fn walk_expression(node: &N, visit: &mut dyn FnMut(&N) -> bool) {
    if !visit(node) {
        return;
    }
    let children: Vec<&protobuf::Node> = match node {
        N::AExpr(e) => e.lexpr.iter().chain(e.rexpr.iter()).map(|b| &**b).collect(),
        N::BoolExpr(b) => b.args.iter().collect(),
        N::FuncCall(f) => f.args.iter().collect(),
        N::TypeCast(c) => c.arg.iter().map(|b| &**b).collect(),
        N::NullTest(t) => t.arg.iter().map(|b| &**b).collect(),
        N::List(l) => l.items.iter().collect(),
        N::CoalesceExpr(c) => c.args.iter().collect(),
        N::AIndirection(i) => i.arg.iter().map(|b| &**b).collect(),
        N::CollateClause(c) => c.arg.iter().map(|b| &**b).collect(),
        N::CaseExpr(c) => c
            .args
            .iter()
            .chain(c.arg.iter().map(|b| &**b))
            .chain(c.defresult.iter().map(|b| &**b))
            .collect(),
        N::CaseWhen(w) => w.expr.iter().chain(w.result.iter()).map(|b| &**b).collect(),
        N::AArrayExpr(a) => a.elements.iter().collect(),
        N::RowExpr(r) => r.args.iter().collect(),
        _ => Vec::new(),
    };
    for child in children.into_iter().filter_map(node_of) {
        walk_expression(child, visit);
    }
}

/// How many different qualifiers (`t.` in `t.col`) the column references use.
pub(super) fn distinct_qualifiers(columns: &[protobuf::ColumnRef]) -> usize {
    let mut qualifiers: Vec<String> = columns
        .iter()
        .filter_map(|c| {
            let names: Vec<String> = c
                .fields
                .iter()
                .filter_map(node_of)
                .filter_map(string_of)
                .collect();
            (names.len() >= 2).then(|| names[names.len() - 2].clone())
        })
        .collect();
    qualifiers.sort();
    qualifiers.dedup();
    qualifiers.len()
}

/// Aggregate and window calls (and subqueries) can never be index expressions.
pub(super) fn has_aggregate(node: &N) -> bool {
    const AGGREGATES: [&str; 14] = [
        "count",
        "sum",
        "avg",
        "min",
        "max",
        "array_agg",
        "string_agg",
        "bool_and",
        "bool_or",
        "every",
        "json_agg",
        "jsonb_agg",
        "jsonb_object_agg",
        "percentile_cont",
    ];
    let mut found = false;
    walk_expression(node, &mut |n| {
        match n {
            N::FuncCall(call) => {
                let name = call
                    .funcname
                    .last()
                    .and_then(node_of)
                    .and_then(string_of)
                    .unwrap_or_default();
                found |= call.agg_star
                    || call.agg_distinct
                    || call.over.is_some()
                    || AGGREGATES.contains(&name.as_str());
            }
            N::SubLink(_) => found = true,
            _ => {}
        }
        !found
    });
    found
}

pub(super) fn collect_column_refs(node: &N, out: &mut Vec<protobuf::ColumnRef>) {
    walk_expression(node, &mut |n| {
        if let N::ColumnRef(c) = n {
            out.push(c.clone());
        }
        !matches!(n, N::SubLink(_))
    });
}

pub(super) fn collect_sublinks(node: &N, out: &mut Vec<protobuf::SubLink>) {
    walk_expression(node, &mut |n| {
        if let N::SubLink(link) = n {
            out.push((**link).clone());
            return false;
        }
        true
    });
}

pub(super) fn collect_function_names(node: &N, out: &mut Vec<String>) {
    walk_expression(node, &mut |n| {
        if let N::FuncCall(call) = n {
            let parts: Vec<String> = call
                .funcname
                .iter()
                .filter_map(node_of)
                .filter_map(string_of)
                .collect();
            out.push(parts.join("."));
        }
        true
    });
}

/// Deparses an expression with column qualifiers removed, as an index expression needs.
pub(crate) fn deparse_unqualified(node: &N) -> Option<String> {
    let mut expression = protobuf::Node {
        node: Some(node.clone()),
    };
    strip_qualifiers(&mut expression);
    // A parsed template carries valid enum values everywhere; only the expression is replaced.
    let mut template = pg_query::parse("SELECT 1", 0).ok()?.protobuf;
    let statement = template.stmts.first_mut()?.stmt.as_deref_mut()?;
    let Some(N::SelectStmt(select)) = statement.node.as_mut() else {
        return None;
    };
    let Some(N::ResTarget(target)) = select.target_list.first_mut()?.node.as_mut() else {
        return None;
    };
    target.val = Some(Box::new(expression));
    let text = pg_query::deparse(&template, Default::default()).ok()?;
    text.strip_prefix("SELECT ").map(str::to_string)
}

/// A partial index predicate in one spelling, so the catalog's `(status =
/// 'pending'::app.status)` and a candidate's `"status" = 'pending'` compare equal: qualifiers,
/// quotes, parentheses and casts of constants dropped. `None` when it does not parse.
pub fn normalize_predicate(sql: &str) -> Option<String> {
    let parsed = pg_query::parse(&format!("SELECT 1 WHERE {sql}"), 0)
        .ok()?
        .protobuf;
    let statement = parsed.stmts.first()?.stmt.as_deref()?;
    let Some(N::SelectStmt(select)) = statement.node.as_ref() else {
        return None;
    };
    let mut predicate = select.where_clause.as_deref()?.clone();
    strip_constant_casts(&mut predicate);
    deparse_unqualified(predicate.node.as_ref()?)
}

fn strip_constant_casts(node: &mut protobuf::Node) {
    let Some(inner) = node.node.as_mut() else {
        return;
    };
    match inner {
        N::TypeCast(cast) => {
            if let Some(arg) = cast.arg.as_deref()
                && matches!(arg.node, Some(N::AConst(_)))
            {
                *node = arg.clone();
            }
        }
        N::AExpr(e) => {
            e.lexpr.iter_mut().for_each(|b| strip_constant_casts(b));
            e.rexpr.iter_mut().for_each(|b| strip_constant_casts(b));
        }
        N::BoolExpr(b) => b.args.iter_mut().for_each(strip_constant_casts),
        N::List(l) => l.items.iter_mut().for_each(strip_constant_casts),
        N::AArrayExpr(a) => a.elements.iter_mut().for_each(strip_constant_casts),
        _ => {}
    }
}

fn strip_qualifiers(node: &mut protobuf::Node) {
    // Only the node kinds that appear in index expressions.
    let Some(inner) = node.node.as_mut() else {
        return;
    };
    match inner {
        N::ColumnRef(column) => {
            let last = column.fields.pop();
            column.fields = last.into_iter().collect();
        }
        N::AExpr(e) => {
            e.lexpr.iter_mut().for_each(|b| strip_qualifiers(b));
            e.rexpr.iter_mut().for_each(|b| strip_qualifiers(b));
        }
        N::FuncCall(f) => f.args.iter_mut().for_each(strip_qualifiers),
        N::TypeCast(c) => c.arg.iter_mut().for_each(|b| strip_qualifiers(b)),
        N::CoalesceExpr(c) => c.args.iter_mut().for_each(strip_qualifiers),
        N::CollateClause(c) => c.arg.iter_mut().for_each(|b| strip_qualifiers(b)),
        N::CaseExpr(c) => {
            c.arg.iter_mut().for_each(|b| strip_qualifiers(b));
            c.args.iter_mut().for_each(strip_qualifiers);
            c.defresult.iter_mut().for_each(|b| strip_qualifiers(b));
        }
        N::CaseWhen(w) => {
            w.expr.iter_mut().for_each(|b| strip_qualifiers(b));
            w.result.iter_mut().for_each(|b| strip_qualifiers(b));
        }
        N::NullTest(t) => t.arg.iter_mut().for_each(|b| strip_qualifiers(b)),
        N::BoolExpr(b) => b.args.iter_mut().for_each(strip_qualifiers),
        _ => {}
    }
}
