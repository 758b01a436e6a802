//! Conditions: ANDed predicates, OR branches, comparisons and their two sides, joins and the
//! subqueries inside a condition.

use pg_query::protobuf::{self, node::Node as N};

use super::expr::{
    collect_column_refs, collect_sublinks, deparse_unqualified, distinct_qualifiers, has_aggregate,
    is_text_cast, literal, node_of, string_of,
};
use super::{Scope, Side, Walker};
use crate::advise::access::{KeyExpr, Operand, Predicate, PredicateKind, RelName, extend_unique};

impl Walker<'_> {
    /// An ANDed condition: predicates, joins, OR branches, subqueries.
    pub(super) fn condition(&mut self, node: &N, scope: &Scope) {
        match node {
            N::BoolExpr(bool_expr)
                if bool_expr.boolop == protobuf::BoolExprType::AndExpr as i32 =>
            {
                for arg in bool_expr.args.iter().filter_map(node_of) {
                    self.condition(arg, scope);
                }
            }
            N::BoolExpr(bool_expr) if bool_expr.boolop == protobuf::BoolExprType::OrExpr as i32 => {
                self.or_condition(&bool_expr.args, scope)
            }
            _ => {
                if let Some((relation, predicate)) = self.atom(node, scope) {
                    extend_unique(&mut self.access(&relation).predicates, vec![predicate]);
                }
            }
        }
    }

    /// OR branches on one relation become `or_branches` (one index per branch, bitmap OR).
    pub(super) fn or_condition(&mut self, args: &[protobuf::Node], scope: &Scope) {
        let mut branches: Vec<(RelName, Vec<Predicate>)> = Vec::new();
        for arg in args.iter().filter_map(node_of) {
            let conjuncts: Vec<&N> = match arg {
                N::BoolExpr(b) if b.boolop == protobuf::BoolExprType::AndExpr as i32 => {
                    b.args.iter().filter_map(node_of).collect()
                }
                other => vec![other],
            };
            let atoms: Vec<(RelName, Predicate)> = conjuncts
                .into_iter()
                .filter_map(|c| self.atom(c, scope))
                .collect();
            let Some(relation) = atoms.first().map(|(r, _)| r.clone()) else {
                return;
            };
            if atoms.iter().any(|(r, _)| *r != relation) {
                return;
            }
            branches.push((relation, atoms.into_iter().map(|(_, p)| p).collect()));
        }
        let Some(relation) = branches.first().map(|(r, _)| r.clone()) else {
            return;
        };
        if branches.iter().all(|(r, _)| *r == relation) {
            let list = branches.into_iter().map(|(_, p)| p).collect();
            extend_unique(&mut self.access(&relation).or_branches, list);
        }
    }

    /// One comparison: a predicate on one relation (returned), or a join (recorded).
    pub(super) fn atom(&mut self, node: &N, scope: &Scope) -> Option<(RelName, Predicate)> {
        match node {
            N::AExpr(expr) => self.comparison(expr, scope),
            N::NullTest(test) => {
                let kind = if test.nulltesttype == protobuf::NullTestType::IsNull as i32 {
                    PredicateKind::IsNull
                } else {
                    PredicateKind::NotNull
                };
                match self.side(test.arg.as_deref().and_then(node_of)?, scope) {
                    Side::Key(relation, key) => Some((
                        relation,
                        Predicate {
                            key,
                            kind,
                            operand: Operand::Other,
                        },
                    )),
                    _ => None,
                }
            }
            N::SubLink(link) => {
                self.sublink(link, scope);
                None
            }
            _ => {
                self.visit_sublinks(node, scope);
                None
            }
        }
    }

    pub(super) fn comparison(
        &mut self,
        expr: &protobuf::AExpr,
        scope: &Scope,
    ) -> Option<(RelName, Predicate)> {
        use protobuf::AExprKind as K;
        let operator = expr
            .name
            .last()
            .and_then(node_of)
            .and_then(string_of)
            .unwrap_or_default();
        let left = self.side(expr.lexpr.as_deref().and_then(node_of)?, scope);
        let kind = match K::try_from(expr.kind).ok()? {
            K::AexprOp if operator == "=" => PredicateKind::Equality,
            K::AexprOp if matches!(operator.as_str(), "<" | "<=" | ">" | ">=") => {
                PredicateKind::Range
            }
            K::AexprOpAny if operator == "=" => PredicateKind::In,
            K::AexprIn if operator == "=" => PredicateKind::In,
            K::AexprBetween | K::AexprBetweenSym => PredicateKind::Range,
            K::AexprLike | K::AexprIlike if !operator.starts_with('!') => PredicateKind::Pattern,
            K::AexprOp => gin_operator(&operator)?,
            _ => return None,
        };
        let right_node = expr.rexpr.as_deref().and_then(node_of)?;
        let right = match right_node {
            N::List(list) if kind == PredicateKind::In => self.in_list(list, scope),
            N::List(_) => Side::Value(Operand::Other),
            other => self.side(other, scope),
        };
        match (left, right) {
            (Side::Key(relation, key), Side::Value(operand)) => {
                Some((relation, Predicate { key, kind, operand }))
            }
            // Reversed, only symmetric operators keep their meaning (`$1 @> col` is `<@`).
            (Side::Value(operand), Side::Key(relation, key))
                if !kind.needs_gin() || kind == PredicateKind::Overlaps =>
            {
                Some((relation, Predicate { key, kind, operand }))
            }
            (Side::Key(left_rel, left_key), Side::Key(right_rel, right_key))
                if left_rel != right_rel && kind == PredicateKind::Equality =>
            {
                extend_unique(&mut self.access(&left_rel).join_keys, vec![left_key]);
                extend_unique(&mut self.access(&right_rel).join_keys, vec![right_key]);
                None
            }
            _ => None,
        }
    }

    /// `IN (a)` with one literal is an equality on that literal; longer lists are `Other`.
    pub(super) fn in_list(&mut self, list: &protobuf::List, scope: &Scope) -> Side {
        let items: Vec<&N> = list.items.iter().filter_map(node_of).collect();
        if items.len() == 1 {
            return self.side(items[0], scope);
        }
        Side::Value(Operand::Other)
    }

    pub(super) fn side(&mut self, node: &N, scope: &Scope) -> Side {
        match node {
            N::ColumnRef(column) => match self.resolve(column, scope) {
                Some((relation, key)) => Side::Key(relation, key),
                None => Side::Value(Operand::Other),
            },
            N::AConst(constant) => Side::Value(literal(constant)),
            N::ParamRef(param) => Side::Value(Operand::Param(param.number)),
            N::TypeCast(cast) if is_text_cast(cast) => {
                match cast.arg.as_deref().and_then(node_of) {
                    Some(inner) => self.side(inner, scope),
                    None => Side::Mixed,
                }
            }
            N::SubLink(link) => {
                self.sublink(link, scope);
                Side::Value(Operand::Other)
            }
            other => self.expression_side(other, scope),
        }
    }

    /// A function or operator over columns of exactly one relation is an expression key.
    pub(super) fn expression_side(&mut self, node: &N, scope: &Scope) -> Side {
        if let N::RowExpr(row) = node {
            return self.row_side(row, scope);
        }
        let mut columns = Vec::new();
        collect_column_refs(node, &mut columns);
        if has_aggregate(node) {
            // Not an index key, but the columns are still read (INCLUDE candidates).
            for column in &columns {
                self.resolve(column, scope);
            }
            return Side::Mixed;
        }
        if distinct_qualifiers(&columns) > 1 {
            // Columns of two range entries (a self-join through a CTE): no index expression.
            return Side::Mixed;
        }
        let mut relation: Option<RelName> = None;
        for column in &columns {
            match self.resolve(column, scope) {
                Some((rel, KeyExpr::Column(_))) if relation.as_ref().is_none_or(|r| *r == rel) => {
                    relation = Some(rel)
                }
                Some(_) => return Side::Mixed,
                None => {}
            }
        }
        self.visit_sublinks(node, scope);
        match (relation, deparse_unqualified(node)) {
            (None, _) => Side::Value(Operand::Other),
            (Some(relation), Some(sql)) => Side::Key(relation, KeyExpr::Expression { sql }),
            (Some(_), None) => Side::Mixed,
        }
    }

    /// A row comparison `(a, b) < ($1, $2)` (keyset paging) is bounded by its first column, and
    /// a B-tree on `(a, b)` serves it whole; no index expression is a row.
    pub(super) fn row_side(&mut self, row: &protobuf::RowExpr, scope: &Scope) -> Side {
        let mut first = None;
        for (position, arg) in row.args.iter().enumerate() {
            let mut columns = Vec::new();
            if let Some(arg) = node_of(arg) {
                collect_column_refs(arg, &mut columns);
            }
            for column in &columns {
                let resolved = self.resolve(column, scope);
                if position == 0 && columns.len() == 1 {
                    first = resolved;
                }
            }
        }
        match first {
            Some((relation, key @ KeyExpr::Column(_))) => Side::Key(relation, key),
            _ => Side::Mixed,
        }
    }

    pub(super) fn sublink(&mut self, link: &protobuf::SubLink, scope: &Scope) {
        let outputs = match link.subselect.as_deref().and_then(node_of) {
            Some(query) => self.statement(query, Some(scope)),
            None => return,
        };
        let test = link.testexpr.as_deref().and_then(node_of);
        if let (Some(test), Some(Some((inner_rel, inner_key)))) = (test, outputs.values().next()) {
            let (inner_rel, inner_key) = (inner_rel.clone(), inner_key.clone());
            if let Side::Key(relation, key) = self.side(test, scope) {
                extend_unique(&mut self.access(&relation).join_keys, vec![key]);
                extend_unique(&mut self.access(&inner_rel).join_keys, vec![inner_key]);
            }
        }
    }

    /// Walks an expression that is not itself a predicate for the subqueries inside it.
    pub(super) fn visit_sublinks(&mut self, node: &N, scope: &Scope) {
        let mut links = Vec::new();
        collect_sublinks(node, &mut links);
        for link in links {
            self.sublink(&link, scope);
        }
    }
}

/// The operators only a GIN index answers: jsonb and array containment, jsonb key existence,
/// array overlap, full-text match, and `LIKE`/`ILIKE` as plans print them (`~~`, `~~*`).
fn gin_operator(operator: &str) -> Option<PredicateKind> {
    Some(match operator {
        "@>" => PredicateKind::Contains,
        "?" | "?|" | "?&" => PredicateKind::KeyExists,
        "&&" => PredicateKind::Overlaps,
        "@@" => PredicateKind::TextSearch,
        "~~" | "~~*" => PredicateKind::Pattern,
        _ => return None,
    })
}
