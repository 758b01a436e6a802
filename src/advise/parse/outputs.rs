//! What a SELECT list passes on (the outputs a subquery, CTE or ORDER BY alias maps to base
//! columns) and how a column reference resolves to its base relation.

use pg_query::protobuf::{self, node::Node as N};

use super::expr::{collect_function_names, node_of, output_name, string_of};
use super::{Outputs, Scope, Side, Source, Walker, find_column};
use crate::advise::access::{KeyExpr, RelName, extend_unique};

impl Walker<'_> {
    pub(super) fn outputs(&mut self, targets: &[protobuf::Node], scope: &Scope) -> Outputs {
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
    pub(super) fn star(&mut self, scope: &Scope, outputs: &mut Outputs) {
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

    pub(super) fn collect_functions(&mut self, node: &N) {
        let mut names = Vec::new();
        collect_function_names(node, &mut names);
        extend_unique(&mut self.functions, names);
    }

    /// Resolves a column reference to the base relation and key it reads.
    pub(super) fn resolve(
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
