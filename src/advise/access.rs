//! What a query does to each base relation it reads: the columns it filters by equality or
//! range, joins on, sorts and groups by. This is the common language of the two candidate
//! sources (the query's parse tree and its EXPLAIN plan) and the input of index shapes.

use crate::pg::quote_ident;

/// A relation as named in SQL, before the catalog resolves it (`schema` empty = search_path).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RelName {
    pub schema: Option<String>,
    pub name: String,
}

impl RelName {
    pub fn new(schema: Option<&str>, name: &str) -> RelName {
        RelName {
            schema: schema.filter(|s| !s.is_empty()).map(str::to_string),
            name: name.to_string(),
        }
    }
}

/// An index key: a plain column or an expression over the relation's columns.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum KeyExpr {
    Column(String),
    /// Deparsed expression with unqualified column names (`lower(email)`).
    Expression {
        sql: String,
    },
}

impl KeyExpr {
    /// How the key is written in `CREATE INDEX`: quoted column or parenthesised expression.
    pub fn index_sql(&self) -> String {
        match self {
            KeyExpr::Column(name) => quote_ident(name),
            KeyExpr::Expression { sql } => format!("({sql})"),
        }
    }

    /// The column name, when the key is a plain column.
    pub fn column(&self) -> Option<&str> {
        match self {
            KeyExpr::Column(name) => Some(name),
            KeyExpr::Expression { .. } => None,
        }
    }
}

/// The right-hand side of a comparison, as far as index shapes care.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Operand {
    /// A literal, as text (`'pending'` → `pending`).
    Literal(String),
    /// `$n` of the statement.
    Param(i32),
    /// Anything else without columns of this relation (a function of constants, an outer column).
    Other,
}

/// How a column is compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PredicateKind {
    /// `=`: can lead a multi-column index.
    Equality,
    /// `IN (...)` or `= ANY(...)`: equality-like, several probes.
    In,
    /// `<`, `<=`, `>`, `>=`, `BETWEEN`.
    Range,
    /// `IS NULL`: equality-like, as selective as `pg_stats.null_frac`.
    IsNull,
    /// `IS NOT NULL`: selective only when most rows are null.
    NotNull,
    /// `@>` on jsonb or an array (GIN).
    Contains,
    /// `?`, `?|`, `?&` on jsonb: key existence (GIN with the default `jsonb_ops`).
    KeyExists,
    /// `&&` on arrays (GIN).
    Overlaps,
    /// `@@` full-text match (GIN on the `tsvector` expression).
    TextSearch,
    /// `LIKE` / `ILIKE` (a pg_trgm GIN answers `'%x%'`, which no B-tree can).
    Pattern,
}

impl PredicateKind {
    /// A B-tree key that can lead: one value (or a few) per probe.
    pub fn is_equality(self) -> bool {
        matches!(
            self,
            PredicateKind::Equality | PredicateKind::In | PredicateKind::IsNull
        )
    }

    /// Only a GIN index answers it.
    pub fn needs_gin(self) -> bool {
        matches!(
            self,
            PredicateKind::Contains
                | PredicateKind::KeyExists
                | PredicateKind::Overlaps
                | PredicateKind::TextSearch
                | PredicateKind::Pattern
        )
    }
}

/// One indexable condition on one relation.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Predicate {
    pub key: KeyExpr,
    pub kind: PredicateKind,
    pub operand: Operand,
}

/// A sort key with its direction.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SortKey {
    pub key: KeyExpr,
    pub descending: bool,
}

/// Everything one statement does to one base relation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TableAccess {
    pub relation: Option<RelName>,
    /// ANDed conditions.
    pub predicates: Vec<Predicate>,
    /// Each OR'ed branch, as its own list of ANDed conditions (a bitmap OR uses one index per
    /// branch).
    pub or_branches: Vec<Vec<Predicate>>,
    /// Columns compared with another relation's columns.
    pub join_keys: Vec<KeyExpr>,
    /// ORDER BY keys, when all of them belong to this relation.
    pub order_by: Vec<SortKey>,
    /// The statement has a LIMIT (an ordered index then stops early).
    pub limit: bool,
    /// GROUP BY keys, when all of them belong to this relation.
    pub group_by: Vec<KeyExpr>,
    /// Every plain column the statement reads from this relation (for INCLUDE).
    pub columns: Vec<String>,
}

impl TableAccess {
    /// True when nothing indexable was found.
    pub fn is_empty(&self) -> bool {
        self.predicates.is_empty()
            && self.or_branches.is_empty()
            && self.join_keys.is_empty()
            && self.order_by.is_empty()
            && self.group_by.is_empty()
    }

    /// Adds `other`'s findings to this access, without duplicates.
    pub fn merge(&mut self, other: TableAccess) {
        extend_unique(&mut self.predicates, other.predicates);
        extend_unique(&mut self.or_branches, other.or_branches);
        extend_unique(&mut self.join_keys, other.join_keys);
        if self.order_by.is_empty() {
            self.order_by = other.order_by;
            self.limit |= other.limit;
        }
        if self.group_by.is_empty() {
            self.group_by = other.group_by;
        }
        extend_unique(&mut self.columns, other.columns);
    }
}

pub(crate) fn extend_unique<T: PartialEq>(into: &mut Vec<T>, items: Vec<T>) {
    for item in items {
        if !into.contains(&item) {
            into.push(item);
        }
    }
}
