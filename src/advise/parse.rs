//! Candidate sources from a statement's parse tree (PostgreSQL's own parser, `pg_query`):
//! which base relation each column belongs to (through aliases, CTEs and subqueries), and what
//! the statement does with it (see [`TableAccess`]). Views, functions and RLS policies are not
//! visible here; the plan ([`super::plan`]) and function bodies ([`super::functions`]) add them.
//! Pure: the only outside knowledge is a [`ColumnLookup`] that says which columns a relation has.

use std::collections::BTreeMap;

use pg_query::protobuf::{self, node::Node as N};

use super::access::{
    KeyExpr, Operand, Predicate, PredicateKind, RelName, SortKey, TableAccess, extend_unique,
};

/// Which columns a relation has; `None` when the relation is unknown.
pub trait ColumnLookup {
    fn columns(&self, relation: &RelName) -> Option<Vec<String>>;
}

impl ColumnLookup for BTreeMap<String, Vec<String>> {
    fn columns(&self, relation: &RelName) -> Option<Vec<String>> {
        self.get(&relation.name).cloned()
    }
}

/// What the parse tree of one statement says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Extraction {
    /// One entry per base relation the statement reads, in first-seen order.
    pub accesses: Vec<TableAccess>,
    /// Functions the statement calls, as written (`schema.name` or `name`).
    pub functions: Vec<String>,
    /// Relations the statement deletes from or updates (their referencing foreign keys matter).
    pub written: Vec<RelName>,
}

/// Parses `sql` (one or more statements) and extracts its table accesses.
pub fn extract(sql: &str, lookup: &dyn ColumnLookup) -> Result<Extraction, pg_query::Error> {
    let parsed = pg_query::parse(sql, 0)?;
    let mut walker = Walker {
        lookup,
        accesses: Vec::new(),
        functions: Vec::new(),
        written: Vec::new(),
        ctes: BTreeMap::new(),
    };
    for raw in &parsed.protobuf.stmts {
        if let Some(node) = raw.stmt.as_deref().and_then(|n| n.node.as_ref()) {
            walker.statement(node, None);
        }
    }
    Ok(Extraction {
        accesses: walker
            .accesses
            .into_iter()
            .filter(|a| !a.is_empty())
            .collect(),
        functions: walker.functions,
        written: walker.written,
    })
}

/// Output columns of a subquery or CTE, mapped to the base column (or expression) they carry.
type Outputs = BTreeMap<String, Option<(RelName, KeyExpr)>>;

enum Source {
    Base { alias: String, relation: RelName },
    Derived { alias: String, outputs: Outputs },
    Opaque { alias: String },
}

impl Source {
    fn alias(&self) -> &str {
        match self {
            Source::Base { alias, .. }
            | Source::Derived { alias, .. }
            | Source::Opaque { alias } => alias,
        }
    }
}

struct Scope<'s> {
    sources: Vec<Source>,
    parent: Option<&'s Scope<'s>>,
}

/// One side of a comparison.
enum Side {
    Key(RelName, KeyExpr),
    Value(Operand),
    Mixed,
}

struct Walker<'l> {
    lookup: &'l dyn ColumnLookup,
    accesses: Vec<TableAccess>,
    functions: Vec<String>,
    written: Vec<RelName>,
    ctes: BTreeMap<String, Outputs>,
}

impl Walker<'_> {
    fn statement(&mut self, node: &N, parent: Option<&Scope>) -> Outputs {
        match node {
            N::SelectStmt(select) => self.select(select, parent),
            N::DeleteStmt(delete) => {
                let relation = delete.relation.as_ref();
                self.modify(
                    relation,
                    &delete.using_clause,
                    delete.where_clause.as_deref(),
                );
                Outputs::new()
            }
            N::UpdateStmt(update) => {
                let relation = update.relation.as_ref();
                self.modify(
                    relation,
                    &update.from_clause,
                    update.where_clause.as_deref(),
                );
                Outputs::new()
            }
            N::ExplainStmt(explain) => match explain.query.as_deref().and_then(node_of) {
                Some(inner) => self.statement(inner, parent),
                None => Outputs::new(),
            },
            _ => Outputs::new(),
        }
    }

    fn modify(
        &mut self,
        relation: Option<&protobuf::RangeVar>,
        from: &[protobuf::Node],
        where_clause: Option<&protobuf::Node>,
    ) {
        let mut sources = Vec::new();
        let mut quals = Vec::new();
        if let Some(range_var) = relation {
            let rel = RelName::new(Some(&range_var.schemaname), &range_var.relname);
            self.written.push(rel);
            self.range_var(range_var, &mut sources);
        }
        for item in from.iter().filter_map(node_of) {
            self.add_source(item, &mut sources, &mut quals, None);
        }
        let scope = Scope {
            sources,
            parent: None,
        };
        for qual in quals.iter().chain(where_clause.and_then(node_of)) {
            self.condition(qual, &scope);
        }
    }

    fn select(&mut self, select: &protobuf::SelectStmt, parent: Option<&Scope>) -> Outputs {
        if let (Some(left), Some(right)) = (select.larg.as_deref(), select.rarg.as_deref()) {
            self.select(right, parent);
            return self.select(left, parent);
        }
        if let Some(with) = &select.with_clause {
            self.with_clause(with, parent);
        }
        let mut sources = Vec::new();
        let mut quals = Vec::new();
        for item in select.from_clause.iter().filter_map(node_of) {
            self.add_source(item, &mut sources, &mut quals, parent);
        }
        let scope = Scope { sources, parent };
        for qual in quals
            .iter()
            .chain(select.where_clause.as_deref().and_then(node_of))
        {
            self.condition(qual, &scope);
        }
        if let Some(having) = select.having_clause.as_deref().and_then(node_of) {
            self.visit_sublinks(having, &scope);
        }
        self.order_and_group(select, &scope);
        self.outputs(&select.target_list, &scope)
    }

    fn with_clause(&mut self, with: &protobuf::WithClause, parent: Option<&Scope>) {
        for cte in with.ctes.iter().filter_map(node_of) {
            if let N::CommonTableExpr(cte) = cte {
                let outputs = match cte.ctequery.as_deref().and_then(node_of) {
                    Some(query) => self.statement(query, parent),
                    None => Outputs::new(),
                };
                self.ctes.insert(cte.ctename.clone(), outputs);
            }
        }
    }

    fn add_source(
        &mut self,
        item: &N,
        sources: &mut Vec<Source>,
        quals: &mut Vec<N>,
        parent: Option<&Scope>,
    ) {
        match item {
            N::RangeVar(range_var) => self.range_var(range_var, sources),
            N::JoinExpr(join) => {
                for side in [join.larg.as_deref(), join.rarg.as_deref()] {
                    if let Some(side) = side.and_then(node_of) {
                        self.add_source(side, sources, quals, parent);
                    }
                }
                if let Some(on) = join.quals.as_deref().and_then(node_of) {
                    quals.push(on.clone());
                }
            }
            N::RangeSubselect(sub) => {
                let outputs = match sub.subquery.as_deref().and_then(node_of) {
                    Some(query) => self.statement(query, parent),
                    None => Outputs::new(),
                };
                let alias = sub.alias.as_ref().map(|a| a.aliasname.clone());
                sources.push(Source::Derived {
                    alias: alias.unwrap_or_default(),
                    outputs,
                });
            }
            N::RangeFunction(function) => {
                for call in function.functions.iter().filter_map(node_of) {
                    self.collect_functions(call);
                }
                let alias = function.alias.as_ref().map(|a| a.aliasname.clone());
                sources.push(Source::Opaque {
                    alias: alias.unwrap_or_default(),
                });
            }
            _ => {}
        }
    }

    fn range_var(&mut self, range_var: &protobuf::RangeVar, sources: &mut Vec<Source>) {
        let alias = range_var
            .alias
            .as_ref()
            .map(|a| a.aliasname.clone())
            .unwrap_or_else(|| range_var.relname.clone());
        if range_var.schemaname.is_empty()
            && let Some(outputs) = self.ctes.get(&range_var.relname)
        {
            sources.push(Source::Derived {
                alias,
                outputs: outputs.clone(),
            });
            return;
        }
        let relation = RelName::new(Some(&range_var.schemaname), &range_var.relname);
        self.access(&relation);
        sources.push(Source::Base { alias, relation });
    }

    fn access(&mut self, relation: &RelName) -> &mut TableAccess {
        let position = self
            .accesses
            .iter()
            .position(|a| a.relation.as_ref() == Some(relation));
        let index = position.unwrap_or_else(|| {
            self.accesses.push(TableAccess {
                relation: Some(relation.clone()),
                ..TableAccess::default()
            });
            self.accesses.len() - 1
        });
        &mut self.accesses[index]
    }

    /// An ANDed condition: predicates, joins, OR branches, subqueries.
    fn condition(&mut self, node: &N, scope: &Scope) {
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
    fn or_condition(&mut self, args: &[protobuf::Node], scope: &Scope) {
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
    fn atom(&mut self, node: &N, scope: &Scope) -> Option<(RelName, Predicate)> {
        match node {
            N::AExpr(expr) => self.comparison(expr, scope),
            N::NullTest(test) if test.nulltesttype == protobuf::NullTestType::IsNull as i32 => {
                match self.side(test.arg.as_deref().and_then(node_of)?, scope) {
                    Side::Key(relation, key) => Some((
                        relation,
                        Predicate {
                            key,
                            kind: PredicateKind::Equality,
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

    fn comparison(
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
            _ => return None,
        };
        let right_node = expr.rexpr.as_deref().and_then(node_of)?;
        let right = match right_node {
            N::List(list) if kind == PredicateKind::In => self.in_list(list, scope),
            N::List(_) => Side::Value(Operand::Other),
            other => self.side(other, scope),
        };
        match (left, right) {
            (Side::Key(relation, key), Side::Value(operand))
            | (Side::Value(operand), Side::Key(relation, key)) => {
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
    fn in_list(&mut self, list: &protobuf::List, scope: &Scope) -> Side {
        let items: Vec<&N> = list.items.iter().filter_map(node_of).collect();
        if items.len() == 1 {
            return self.side(items[0], scope);
        }
        Side::Value(Operand::Other)
    }

    fn side(&mut self, node: &N, scope: &Scope) -> Side {
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
    fn expression_side(&mut self, node: &N, scope: &Scope) -> Side {
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
    fn row_side(&mut self, row: &protobuf::RowExpr, scope: &Scope) -> Side {
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

    fn sublink(&mut self, link: &protobuf::SubLink, scope: &Scope) {
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
    fn visit_sublinks(&mut self, node: &N, scope: &Scope) {
        let mut links = Vec::new();
        collect_sublinks(node, &mut links);
        for link in links {
            self.sublink(&link, scope);
        }
    }

    fn order_and_group(&mut self, select: &protobuf::SelectStmt, scope: &Scope) {
        let limit = select.limit_count.is_some();
        let mut order = Vec::new();
        for sort in select.sort_clause.iter().filter_map(node_of) {
            let N::SortBy(sort) = sort else { continue };
            let Some(node) = sort.node.as_deref().and_then(node_of) else {
                continue;
            };
            let descending = sort.sortby_dir == protobuf::SortByDir::SortbyDesc as i32;
            let Side::Key(relation, key) = self.side(node, scope) else {
                return;
            };
            order.push((relation, SortKey { key, descending }));
        }
        if let Some((relation, keys)) = single_relation(order) {
            let access = self.access(&relation);
            access.order_by = keys;
            access.limit = limit;
        }
        let mut group = Vec::new();
        for node in select.group_clause.iter().filter_map(node_of) {
            let Side::Key(relation, key) = self.side(node, scope) else {
                return;
            };
            group.push((relation, key));
        }
        if let Some((relation, keys)) = single_relation(group) {
            self.access(&relation).group_by = keys;
        }
    }

    fn outputs(&mut self, targets: &[protobuf::Node], scope: &Scope) -> Outputs {
        let mut outputs = Outputs::new();
        for target in targets.iter().filter_map(node_of) {
            let N::ResTarget(target) = target else {
                continue;
            };
            let Some(value) = target.val.as_deref().and_then(node_of) else {
                continue;
            };
            if let N::ColumnRef(column) = value
                && column
                    .fields
                    .iter()
                    .any(|f| matches!(node_of(f), Some(N::AStar(_))))
            {
                self.star(scope, &mut outputs);
                continue;
            }
            self.collect_functions(value);
            let side = self.side(value, scope);
            let name = if target.name.is_empty() {
                output_name(value)
            } else {
                Some(target.name.clone())
            };
            let mapped = match side {
                Side::Key(relation, key) => Some((relation, key)),
                _ => None,
            };
            if let Some(name) = name {
                outputs.insert(name, mapped);
            }
        }
        outputs
    }

    /// `SELECT *`: every column of every source passes through.
    fn star(&mut self, scope: &Scope, outputs: &mut Outputs) {
        for source in &scope.sources {
            match source {
                Source::Base { relation, .. } => {
                    let all = self.lookup.columns(relation).unwrap_or_default();
                    extend_unique(&mut self.access(relation).columns, all.clone());
                    for column in all {
                        let key = KeyExpr::Column(column.clone());
                        outputs.insert(column, Some((relation.clone(), key)));
                    }
                }
                Source::Derived { outputs: inner, .. } => {
                    outputs.extend(inner.iter().map(|(k, v)| (k.clone(), v.clone())));
                }
                Source::Opaque { .. } => {}
            }
        }
    }

    fn collect_functions(&mut self, node: &N) {
        let mut names = Vec::new();
        collect_function_names(node, &mut names);
        extend_unique(&mut self.functions, names);
    }

    /// Resolves a column reference to the base relation and key it reads.
    fn resolve(
        &mut self,
        column: &protobuf::ColumnRef,
        scope: &Scope,
    ) -> Option<(RelName, KeyExpr)> {
        let names: Vec<String> = column
            .fields
            .iter()
            .filter_map(node_of)
            .filter_map(string_of)
            .collect();
        let (qualifier, name) = match names.as_slice() {
            [name] => (None, name.as_str()),
            [.., qualifier, name] => (Some(qualifier.as_str()), name.as_str()),
            [] => return None,
        };
        let found = find_column(self.lookup, scope, qualifier, name)?;
        if let (relation, KeyExpr::Column(column)) = &found {
            extend_unique(&mut self.access(relation).columns, vec![column.clone()]);
        }
        Some(found)
    }
}

fn find_column(
    lookup: &dyn ColumnLookup,
    scope: &Scope,
    qualifier: Option<&str>,
    name: &str,
) -> Option<(RelName, KeyExpr)> {
    let mut current = Some(scope);
    while let Some(scope) = current {
        let matching: Vec<&Source> = scope
            .sources
            .iter()
            .filter(|s| qualifier.is_none_or(|q| s.alias() == q))
            .collect();
        let single = matching.len() == 1;
        for source in matching {
            match source {
                Source::Base { relation, .. } => {
                    let known = lookup.columns(relation);
                    let has = known.as_ref().map(|c| c.iter().any(|c| c == name));
                    if has == Some(true) || (has.is_none() && (single || qualifier.is_some())) {
                        return Some((relation.clone(), KeyExpr::Column(name.to_string())));
                    }
                }
                Source::Derived { outputs, .. } => {
                    if let Some(mapped) = outputs.get(name) {
                        return mapped.clone();
                    }
                }
                Source::Opaque { .. } => {}
            }
        }
        if qualifier.is_some() && scope.sources.iter().any(|s| Some(s.alias()) == qualifier) {
            return None;
        }
        current = scope.parent;
    }
    None
}

/// The keys when they all belong to one relation.
fn single_relation<T>(items: Vec<(RelName, T)>) -> Option<(RelName, Vec<T>)> {
    let relation = items.first()?.0.clone();
    if items.iter().any(|(r, _)| *r != relation) {
        return None;
    }
    Some((relation, items.into_iter().map(|(_, k)| k).collect()))
}

pub(crate) fn node_of(node: &protobuf::Node) -> Option<&N> {
    node.node.as_ref()
}

fn string_of(node: &N) -> Option<String> {
    match node {
        N::String(s) => Some(s.sval.clone()),
        _ => None,
    }
}

fn literal(constant: &protobuf::AConst) -> Operand {
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
fn is_text_cast(cast: &protobuf::TypeCast) -> bool {
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

fn output_name(node: &N) -> Option<String> {
    match node {
        N::ColumnRef(column) => column.fields.last().and_then(node_of).and_then(string_of),
        N::FuncCall(call) => call.funcname.last().and_then(node_of).and_then(string_of),
        N::TypeCast(cast) => cast.arg.as_deref().and_then(node_of).and_then(output_name),
        _ => None,
    }
}

/// Visits every node below `node` (not into subqueries), calling `visit` on each.
fn walk_expression(node: &N, visit: &mut dyn FnMut(&N) -> bool) {
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
fn distinct_qualifiers(columns: &[protobuf::ColumnRef]) -> usize {
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
fn has_aggregate(node: &N) -> bool {
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

fn collect_column_refs(node: &N, out: &mut Vec<protobuf::ColumnRef>) {
    walk_expression(node, &mut |n| {
        if let N::ColumnRef(c) = n {
            out.push(c.clone());
        }
        !matches!(n, N::SubLink(_))
    });
}

fn collect_sublinks(node: &N, out: &mut Vec<protobuf::SubLink>) {
    walk_expression(node, &mut |n| {
        if let N::SubLink(link) = n {
            out.push((**link).clone());
            return false;
        }
        true
    });
}

fn collect_function_names(node: &N, out: &mut Vec<String>) {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> BTreeMap<String, Vec<String>> {
        let mut tables = BTreeMap::new();
        let orders = [
            "id",
            "customer_id",
            "status",
            "created_at",
            "total",
            "payload",
        ];
        tables.insert("orders".into(), orders.map(String::from).to_vec());
        let customers = ["id", "email", "region"];
        tables.insert("customers".into(), customers.map(String::from).to_vec());
        let mixed = ["Id", "Select", "Created At"];
        tables.insert("Mixed Case".into(), mixed.map(String::from).to_vec());
        tables
    }

    fn summary(sql: &str) -> String {
        let extraction = extract(sql, &schema()).expect("valid SQL");
        extraction
            .accesses
            .iter()
            .map(|a| format!("{a:?}"))
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn catalog_and_candidate_spellings_of_a_predicate_compare_equal() {
        let catalog = normalize_predicate("(status = 'pending'::app.approval_status)");
        let candidate = normalize_predicate("\"status\" = 'pending'");
        assert_eq!(catalog, candidate);
        assert!(catalog.is_some());
        assert_ne!(catalog, normalize_predicate("status = 'done'"));
    }

    #[test]
    fn a_keyset_row_comparison_bounds_its_first_column_and_is_no_expression_key() {
        let found = summary(
            "SELECT o.id FROM orders o WHERE (o.created_at, o.id) < ($1, $2) ORDER BY o.created_at DESC, o.id DESC LIMIT 50",
        );
        assert!(!found.contains("Expression"), "{found}");
        assert!(found.contains("created_at"), "{found}");
    }

    #[test]
    fn candidates_from_parse_trees() {
        let cases = [
            "SELECT * FROM orders WHERE status = 'pending'",
            "SELECT o.id FROM orders o WHERE o.customer_id = $1 AND o.created_at >= now() - interval '7 days'",
            "SELECT * FROM orders WHERE customer_id = $1 ORDER BY created_at DESC LIMIT 10",
            "SELECT c.email, sum(o.total) FROM orders o JOIN customers c ON c.id = o.customer_id WHERE c.region = 'eu' GROUP BY c.email",
            "SELECT status, count(*) FROM orders GROUP BY status",
            "SELECT * FROM orders WHERE status IN ('a', 'b') OR customer_id = ANY($1)",
            "SELECT * FROM orders WHERE total BETWEEN 1 AND 5 AND status IS NULL",
            "SELECT * FROM customers WHERE lower(email) = lower($1)",
            "SELECT * FROM orders WHERE payload->>'kind' = 'refund'",
            "WITH recent AS (SELECT * FROM orders WHERE created_at > $1) SELECT * FROM recent r WHERE r.status = 'x'",
            "SELECT * FROM (SELECT customer_id AS cid, total FROM orders) s WHERE s.cid = 7",
            "SELECT * FROM customers c WHERE EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.id AND o.status = 'open')",
            "SELECT \"Id\" FROM \"Mixed Case\" WHERE \"Select\" = 'a;b -- c' /* ; */ ORDER BY \"Created At\" LIMIT 5",
            "DELETE FROM customers WHERE id = $1",
        ];
        let text = cases
            .iter()
            .map(|sql| format!("{sql}\n{}\n", summary(sql)))
            .collect::<Vec<_>>()
            .join("\n");
        insta::assert_snapshot!(text);
    }
}
