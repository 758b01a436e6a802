//! Candidate sources from a statement's parse tree (PostgreSQL's own parser, `pg_query`):
//! which base relation each column belongs to (through aliases, CTEs and subqueries), and what
//! the statement does with it (see [`TableAccess`]). Views, functions and RLS policies are not
//! visible here; the plan ([`super::plan`]) and function bodies ([`super::functions`]) add them.
//! Pure: the only outside knowledge is a [`ColumnLookup`] that says which columns a relation has.

use std::collections::BTreeMap;

use pg_query::protobuf::{self, node::Node as N};

use super::access::{KeyExpr, Operand, RelName, TableAccess};

mod expr;
mod outputs;
mod predicates;
mod sort;

pub(crate) use expr::deparse_unqualified;
use expr::node_of;
pub use expr::normalize_predicate;

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
    /// Relations the statement inserts into (every index on them is maintained per row).
    pub inserted: Vec<RelName>,
}

/// Parses `sql` (one or more statements) and extracts its table accesses.
pub fn extract(sql: &str, lookup: &dyn ColumnLookup) -> Result<Extraction, pg_query::Error> {
    let parsed = pg_query::parse(sql, 0)?;
    let mut walker = Walker {
        lookup,
        accesses: Vec::new(),
        functions: Vec::new(),
        written: Vec::new(),
        inserted: Vec::new(),
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
        inserted: walker.inserted,
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
    inserted: Vec<RelName>,
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
            N::InsertStmt(insert) => {
                if let Some(range_var) = insert.relation.as_ref() {
                    let rel = RelName::new(Some(&range_var.schemaname), &range_var.relname);
                    self.inserted.push(rel);
                }
                if let Some(source) = insert.select_stmt.as_deref().and_then(node_of) {
                    self.statement(source, parent);
                }
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
                    // LATERAL sees the sources before it: its correlation is a join.
                    Some(query) if sub.lateral => {
                        let scope = Scope {
                            sources: std::mem::take(sources),
                            parent,
                        };
                        let outputs = self.statement(query, Some(&scope));
                        *sources = scope.sources;
                        outputs
                    }
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

    /// An INSERT's target pays index maintenance per row (the write cost); its SELECT is read.
    #[test]
    fn an_insert_writes_its_target_and_reads_its_source() {
        let extraction = extract(
            "INSERT INTO orders (customer_id) SELECT c.id FROM customers c WHERE c.region = 'eu'",
            &schema(),
        )
        .expect("valid SQL");
        assert_eq!(extraction.inserted, [RelName::new(None, "orders")]);
        assert!(extraction.written.is_empty(), "no foreign-key lookups");
        let found = summary(
            "INSERT INTO orders (customer_id) SELECT c.id FROM customers c WHERE c.region = 'eu'",
        );
        assert!(found.contains("region"), "{found}");
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
