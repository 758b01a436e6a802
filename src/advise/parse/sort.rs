//! Sort and grouping forms, each turned into ordered keys of one relation: ORDER BY (a column,
//! an expression, an output position `ORDER BY 1` also under `SELECT *`, an output alias) with
//! its direction and LIMIT; GROUP BY (also by position); DISTINCT ON; a window's PARTITION BY
//! and ORDER BY; and `min`/`max` of a column, which an index answers by reading one end.

use pg_query::protobuf::{self, node::Node as N};

use super::expr::{node_of, string_of};
use super::{Scope, Side, Source, Walker, single_relation};
use crate::advise::access::{KeyExpr, RelName, SortKey};

impl Walker<'_> {
    pub(super) fn order_and_group(&mut self, select: &protobuf::SelectStmt, scope: &Scope) {
        let limit = select.limit_count.is_some();
        let order = self.sort_keys(&select.sort_clause, select, scope);
        let (order, limit) = match order {
            Some(order) if !order.is_empty() => (Some(order), limit),
            _ => match self.min_max(select, scope) {
                Some(keys) => (Some(keys), true),
                None => (self.window_keys(select, scope), limit),
            },
        };
        if let Some((relation, keys)) = order.and_then(single_relation) {
            let access = self.access(&relation);
            access.order_by = keys;
            access.limit = limit;
        }
        let mut group = Vec::new();
        for node in select.group_clause.iter().filter_map(node_of) {
            match self.output_or_input(node, select, scope, false) {
                Side::Key(relation, key) => group.push((relation, key)),
                _ => return,
            }
        }
        if group.is_empty() {
            group = self.distinct_on(select, scope).unwrap_or_default();
        }
        if let Some((relation, keys)) = single_relation(group) {
            self.access(&relation).group_by = keys;
        }
    }

    /// The keys of a list of `SortBy` nodes, `None` when one of them is not a key of a relation.
    fn sort_keys(
        &mut self,
        sorts: &[protobuf::Node],
        select: &protobuf::SelectStmt,
        scope: &Scope,
    ) -> Option<Vec<(RelName, SortKey)>> {
        let mut out = Vec::new();
        for sort in sorts.iter().filter_map(node_of) {
            let N::SortBy(sort) = sort else { continue };
            let node = sort.node.as_deref().and_then(node_of)?;
            let descending = sort.sortby_dir == protobuf::SortByDir::SortbyDesc as i32;
            let Side::Key(relation, key) = self.output_or_input(node, select, scope, true) else {
                return None;
            };
            out.push((relation, SortKey { key, descending }));
        }
        Some(out)
    }

    /// A sort or group item: an output position (`1`), an output alias (ORDER BY looks at
    /// output names first, as PostgreSQL does), else an expression over the inputs.
    fn output_or_input(
        &mut self,
        node: &N,
        select: &protobuf::SelectStmt,
        scope: &Scope,
        alias_first: bool,
    ) -> Side {
        if let N::AConst(constant) = node
            && let Some(protobuf::a_const::Val::Ival(position)) = &constant.val
        {
            return self.output_at(select, scope, position.ival);
        }
        if alias_first
            && let N::ColumnRef(column) = node
            && let [name] = column.fields.as_slice()
            && let Some(name) = node_of(name).and_then(string_of)
            && let Some(value) = aliased(select, &name)
        {
            return self.side(value, scope);
        }
        self.side(node, scope)
    }

    /// The `position`th output column (1-based), expanding `*` into the sources' columns.
    fn output_at(&mut self, select: &protobuf::SelectStmt, scope: &Scope, position: i32) -> Side {
        let mut remaining = position;
        for target in select.target_list.iter().filter_map(node_of) {
            let N::ResTarget(target) = target else {
                continue;
            };
            let Some(value) = target.val.as_deref().and_then(node_of) else {
                continue;
            };
            if is_star(value) {
                let columns = star_columns(self, scope);
                let count = i32::try_from(columns.len()).unwrap_or(i32::MAX);
                if remaining <= count {
                    let (relation, column) = columns[(remaining - 1) as usize].clone();
                    return Side::Key(relation, KeyExpr::Column(column));
                }
                remaining -= count;
                continue;
            }
            if remaining == 1 {
                return self.side(value, scope);
            }
            remaining -= 1;
        }
        Side::Mixed
    }

    /// `SELECT min(a)` / `max(a)` (nothing else, no GROUP BY): an index on `a` (behind the
    /// equality columns) answers it by reading one end, as an ordered scan with a limit.
    fn min_max(
        &mut self,
        select: &protobuf::SelectStmt,
        scope: &Scope,
    ) -> Option<Vec<(RelName, SortKey)>> {
        if !select.group_clause.is_empty() || select.target_list.is_empty() {
            return None;
        }
        let mut keys = Vec::new();
        for target in select.target_list.iter().filter_map(node_of) {
            let N::ResTarget(target) = target else {
                return None;
            };
            let N::FuncCall(call) = target.val.as_deref().and_then(node_of)? else {
                return None;
            };
            let name = call.funcname.last().and_then(node_of).and_then(string_of)?;
            if !matches!(name.as_str(), "min" | "max")
                || call.over.is_some()
                || call.args.len() != 1
            {
                return None;
            }
            let Side::Key(relation, key) = self.side(node_of(&call.args[0])?, scope) else {
                return None;
            };
            let sort = SortKey {
                key,
                descending: false,
            };
            if !keys
                .iter()
                .any(|(_, k): &(RelName, SortKey)| k.key == sort.key)
            {
                keys.push((relation, sort));
            }
        }
        // min and max of the same column read both ends of one index; two columns need two.
        (keys.len() == 1).then_some(keys)
    }

    /// A window's PARTITION BY then ORDER BY keys (the first window of the SELECT list; a
    /// named window is looked up in the WINDOW clause): an index in that order feeds the
    /// WindowAgg without a sort.
    fn window_keys(
        &mut self,
        select: &protobuf::SelectStmt,
        scope: &Scope,
    ) -> Option<Vec<(RelName, SortKey)>> {
        let window =
            select
                .target_list
                .iter()
                .filter_map(node_of)
                .find_map(|target| match target {
                    N::ResTarget(target) => match target.val.as_deref().and_then(node_of) {
                        Some(N::FuncCall(call)) => call.over.as_deref().cloned(),
                        _ => None,
                    },
                    _ => None,
                })?;
        let window = named_window(select, &window).unwrap_or(window);
        let mut keys = Vec::new();
        for node in window.partition_clause.iter().filter_map(node_of) {
            let Side::Key(relation, key) = self.side(node, scope) else {
                return None;
            };
            keys.push((
                relation,
                SortKey {
                    key,
                    descending: false,
                },
            ));
        }
        keys.extend(self.sort_keys(&window.order_clause, select, scope)?);
        Some(keys)
    }

    /// `DISTINCT ON (a, b)`: the rows of each group must arrive together (plain DISTINCT has
    /// one empty item and is left to GROUP BY-like hashing).
    fn distinct_on(
        &mut self,
        select: &protobuf::SelectStmt,
        scope: &Scope,
    ) -> Option<Vec<(RelName, KeyExpr)>> {
        let mut keys = Vec::new();
        for node in select.distinct_clause.iter() {
            let node = node_of(node)?;
            match self.output_or_input(node, select, scope, false) {
                Side::Key(relation, key) => keys.push((relation, key)),
                _ => return None,
            }
        }
        Some(keys)
    }
}

/// The value of the output column named `name` by an explicit alias (`AS name`).
fn aliased<'s>(select: &'s protobuf::SelectStmt, name: &str) -> Option<&'s N> {
    select
        .target_list
        .iter()
        .filter_map(node_of)
        .find_map(|target| match target {
            N::ResTarget(target) if target.name == name => target.val.as_deref().and_then(node_of),
            _ => None,
        })
}

/// A window referring to a named one (`OVER w`, `OVER (w ORDER BY ..)`) takes its clauses.
fn named_window(
    select: &protobuf::SelectStmt,
    window: &protobuf::WindowDef,
) -> Option<protobuf::WindowDef> {
    let name = if window.refname.is_empty() {
        &window.name
    } else {
        &window.refname
    };
    let base = select
        .window_clause
        .iter()
        .filter_map(node_of)
        .find_map(|w| match w {
            N::WindowDef(w) if w.name == *name => Some(w.clone()),
            _ => None,
        })?;
    let mut merged = base;
    if !window.order_clause.is_empty() {
        merged.order_clause = window.order_clause.clone();
    }
    Some(*merged)
}

fn is_star(value: &N) -> bool {
    matches!(value, N::ColumnRef(column)
        if column.fields.iter().any(|f| matches!(node_of(f), Some(N::AStar(_)))))
}

/// The columns `*` expands to, in order: each base source's columns as the catalog lists them.
fn star_columns(walker: &Walker, scope: &Scope) -> Vec<(RelName, String)> {
    let mut out = Vec::new();
    for source in &scope.sources {
        if let Source::Base { relation, .. } = source {
            for column in walker.lookup.columns(relation).unwrap_or_default() {
                out.push((relation.clone(), column));
            }
        }
    }
    out
}
