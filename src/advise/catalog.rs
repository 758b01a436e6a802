//! What advise reads from the catalog: relations (through search_path, partitions to their
//! root), columns, column statistics, existing indexes, table activity, function bodies and
//! the foreign keys that reference a table. Cached per run: the catalog does not change while
//! advise works (its own indexes are hypothetical or rolled back).

use std::collections::BTreeMap;

use postgres::Client;

use super::AdviseError;
use super::access::{KeyExpr, RelName};
use super::parse::ColumnLookup;
use super::select::Existing;
use super::shapes::{ColumnStats, TableFacts};
use crate::model::advice::{IndexKey, IndexSpec};
use crate::pg::{quote_ident, quote_qualified};

/// A resolved relation.
#[derive(Debug, Clone, PartialEq)]
pub struct Relation {
    pub oid: u32,
    pub schema: String,
    pub name: String,
    /// `r` table, `p` partitioned table, `v` view, `m` materialized view, ...
    pub kind: char,
    pub columns: Vec<String>,
}

/// An existing index with its usage.
#[derive(Debug, Clone, PartialEq)]
pub struct ExistingIndex {
    pub existing: Existing,
    pub unique: bool,
    pub scans: i64,
    pub size_bytes: u64,
}

/// A user function's body.
#[derive(Debug, Clone, PartialEq)]
pub struct FunctionBody {
    pub language: String,
    pub source: String,
    /// Argument names in order (empty strings for unnamed ones).
    pub arg_names: Vec<String>,
}

/// Catalog reads with a per-run cache.
pub struct Catalog {
    relations: BTreeMap<RelName, Option<Relation>>,
}

impl Catalog {
    pub fn new() -> Catalog {
        Catalog {
            relations: BTreeMap::new(),
        }
    }

    /// Resolves a name as the server would (search_path); a partition resolves to its root.
    pub fn relation(
        &mut self,
        client: &mut Client,
        name: &RelName,
    ) -> Result<Option<Relation>, AdviseError> {
        if let Some(found) = self.relations.get(name) {
            return Ok(found.clone());
        }
        let qualified = match &name.schema {
            Some(schema) => quote_qualified(schema, &name.name),
            None => quote_ident(&name.name),
        };
        let row = client.query_opt(
            "SELECT c.oid, n.nspname::text, c.relname::text, c.relkind::text, \
                    array(SELECT a.attname::text FROM pg_attribute a \
                          WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped \
                          ORDER BY a.attnum) \
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.oid = coalesce(pg_partition_root(to_regclass($1)), to_regclass($1))",
            &[&qualified],
        )?;
        let relation = row.map(|row| Relation {
            oid: row.get(0),
            schema: row.get(1),
            name: row.get(2),
            kind: row.get::<_, String>(3).chars().next().unwrap_or('r'),
            columns: row.get(4),
        });
        self.relations.insert(name.clone(), relation.clone());
        Ok(relation)
    }

    /// A column lookup backed by this cache (call [`Catalog::preload`] first).
    pub fn lookup(&self) -> CachedColumns<'_> {
        CachedColumns(self)
    }

    /// Resolves every relation a statement names, so the lookup can answer without I/O.
    pub fn preload(&mut self, client: &mut Client, sql: &str) -> Result<(), AdviseError> {
        let Ok(parsed) = pg_query::parse(sql, 0) else {
            return Ok(());
        };
        for name in parsed.tables() {
            let (schema, table) = match name.rsplit_once('.') {
                Some((schema, table)) => (Some(schema), table),
                None => (None, name.as_str()),
            };
            self.relation(client, &RelName::new(schema, table))?;
        }
        Ok(())
    }
}

impl Default for Catalog {
    fn default() -> Self {
        Catalog::new()
    }
}

pub struct CachedColumns<'c>(&'c Catalog);

impl ColumnLookup for CachedColumns<'_> {
    fn columns(&self, relation: &RelName) -> Option<Vec<String>> {
        self.0
            .relations
            .get(relation)
            .and_then(|r| r.as_ref())
            .map(|r| r.columns.clone())
    }
}

/// Row estimate (summed over partitions) and column statistics of a table.
pub fn table_facts(client: &mut Client, relation: &Relation) -> Result<TableFacts, AdviseError> {
    let (rows, never_analyzed): (f64, bool) = {
        let row = client.query_one(
            "SELECT coalesce(sum(greatest(c.reltuples, 0)), 0)::float8, bool_or(c.reltuples < 0) \
             FROM pg_class c \
             WHERE c.oid = $1 OR c.oid IN (SELECT relid FROM pg_partition_tree($1) WHERE isleaf)",
            &[&relation.oid],
        )?;
        (row.get(0), row.get::<_, Option<bool>>(1).unwrap_or(false))
    };
    let rows = if never_analyzed {
        planner_rows(client, relation)?.max(rows)
    } else {
        rows
    };
    let rows = crate::citus::shard_rows(client, relation.oid)?.unwrap_or(rows);
    let mut stats = BTreeMap::new();
    for row in client.query(
        "SELECT attname::text, n_distinct::float8, \
                coalesce(most_common_vals::text::text[], '{}'), \
                coalesce(most_common_freqs::float8[], '{}'), null_frac::float8, \
                correlation::float8 \
         FROM pg_stats WHERE schemaname = $1 AND tablename = $2",
        &[&relation.schema, &relation.name],
    )? {
        let values: Vec<String> = row.get(2);
        let freqs: Vec<f64> = row.get(3);
        stats.insert(
            row.get::<_, String>(0),
            ColumnStats {
                n_distinct: row.get(1),
                most_common: values.into_iter().zip(freqs).collect(),
                null_frac: row.get(4),
                correlation: row.get(5),
            },
        );
    }
    let types = client
        .query(
            "SELECT attname::text, format_type(atttypid, atttypmod) FROM pg_attribute \
             WHERE attrelid = $1 AND attnum > 0 AND NOT attisdropped",
            &[&relation.oid],
        )?
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect();
    Ok(TableFacts {
        schema: relation.schema.clone(),
        table: relation.name.clone(),
        rows,
        stats,
        types,
    })
}

/// A table never analyzed (`reltuples = -1`) is not empty: the planner estimates its rows from
/// its current size, and that estimate is what a plan on it rests on.
fn planner_rows(client: &mut Client, relation: &Relation) -> Result<f64, AdviseError> {
    let sql = format!(
        "EXPLAIN (FORMAT JSON) SELECT 1 FROM {}",
        quote_qualified(&relation.schema, &relation.name)
    );
    let plan: serde_json::Value = client.query_one(&sql, &[])?.get(0);
    Ok(plan[0]["Plan"]["Plan Rows"].as_f64().unwrap_or(0.0))
}

/// Rows written and scans recorded since statistics were reset (summed over partitions), for
/// the write cost when the workload does not write the table (`writecost.rs`). Writes count
/// the churn beyond the rows the table holds (`n_tup_ins + n_tup_upd + n_tup_del - n_live_tup`),
/// so the load that filled a table does not count as writes.
pub fn recorded_load(client: &mut Client, relation: &Relation) -> Result<(i64, i64), AdviseError> {
    let row = client.query_one(
        "SELECT greatest(coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del - n_live_tup), 0), 0)::int8, \
                coalesce(sum(seq_scan + coalesce(idx_scan, 0)), 0)::int8 \
         FROM pg_stat_user_tables WHERE relid = $1 \
            OR relid IN (SELECT relid FROM pg_partition_tree($1))",
        &[&relation.oid],
    )?;
    Ok((row.get(0), row.get(1)))
}

/// B-tree indexes on the table, as specs comparable with candidates.
pub fn existing_indexes(
    client: &mut Client,
    relation: &Relation,
) -> Result<Vec<ExistingIndex>, AdviseError> {
    let rows = client.query(
        "SELECT ic.relname::text, i.indisunique, i.indnkeyatts::int4, \
                array(SELECT pg_get_indexdef(i.indexrelid, k, true) \
                      FROM generate_series(1, i.indnatts) k ORDER BY k), \
                array(SELECT coalesce(a.attname::text, '') FROM generate_series(1, i.indnatts) k \
                      LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid \
                       AND a.attnum = i.indkey[k - 1] AND i.indkey[k - 1] <> 0 ORDER BY k), \
                i.indoption::int2[], pg_get_expr(i.indpred, i.indrelid, true), \
                coalesce(s.idx_scan, 0)::int8, pg_relation_size(i.indexrelid)::int8 \
         FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid \
         JOIN pg_am am ON am.oid = ic.relam AND am.amname = 'btree' \
         LEFT JOIN pg_stat_user_indexes s ON s.indexrelid = i.indexrelid \
         WHERE i.indrelid = $1 ORDER BY ic.relname",
        &[&relation.oid],
    )?;
    Ok(rows
        .iter()
        .map(|row| {
            let key_count = row.get::<_, i32>(2) as usize;
            let definitions: Vec<String> = row.get(3);
            let columns: Vec<String> = row.get(4);
            let options: Vec<i16> = row.get(5);
            let sql: Vec<String> = definitions
                .iter()
                .zip(&columns)
                .map(|(definition, column)| key_sql(definition, column))
                .collect();
            let spec = IndexSpec {
                schema: relation.schema.clone(),
                table: relation.name.clone(),
                keys: sql
                    .iter()
                    .take(key_count)
                    .zip(&options)
                    .map(|(sql, option)| IndexKey {
                        sql: sql.clone(),
                        descending: option & 1 == 1,
                    })
                    .collect(),
                include: sql.iter().skip(key_count).cloned().collect(),
                predicate: row.get(6),
                method: Default::default(),
            };
            ExistingIndex {
                existing: Existing {
                    name: row.get(0),
                    spec,
                },
                unique: row.get(1),
                scans: row.get(7),
                size_bytes: row.get::<_, i64>(8).max(0) as u64,
            }
        })
        .collect())
}

/// A key as candidates write it: quoted column, or the expression re-deparsed in parentheses.
fn key_sql(definition: &str, column: &str) -> String {
    if !column.is_empty() {
        return quote_ident(column);
    }
    let normalized = pg_query::parse(&format!("SELECT {definition}"), 0)
        .ok()
        .and_then(|parsed| {
            let statement = parsed.protobuf.stmts.first()?.stmt.clone()?;
            let pg_query::protobuf::node::Node::SelectStmt(select) = statement.node? else {
                return None;
            };
            let target = select.target_list.first()?.node.clone()?;
            let pg_query::protobuf::node::Node::ResTarget(target) = target else {
                return None;
            };
            super::parse::deparse_unqualified(target.val?.node.as_ref()?)
        });
    KeyExpr::Expression {
        sql: normalized.unwrap_or_else(|| definition.to_string()),
    }
    .index_sql()
}

/// Bodies of the SQL and PL/pgSQL functions called `name` (`schema.name` or visible `name`).
pub fn function_bodies(client: &mut Client, name: &str) -> Result<Vec<FunctionBody>, AdviseError> {
    let (schema, function) = match name.rsplit_once('.') {
        Some((schema, function)) => (Some(schema.to_string()), function.to_string()),
        None => (None, name.to_string()),
    };
    let rows = client.query(
        "SELECT l.lanname::text, p.prosrc, coalesce(p.proargnames, '{}')::text[] \
         FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang \
         JOIN pg_namespace n ON n.oid = p.pronamespace \
         WHERE p.proname = $1 AND l.lanname IN ('sql', 'plpgsql') \
           AND n.nspname NOT IN ('pg_catalog', 'information_schema') \
           AND (($2::text IS NULL AND pg_function_is_visible(p.oid)) OR n.nspname = $2)",
        &[&function, &schema],
    )?;
    Ok(rows
        .iter()
        .map(|row| FunctionBody {
            language: row.get(0),
            source: row.get(1),
            arg_names: row.get(2),
        })
        .collect())
}

/// Foreign keys referencing `relation`: `(child relation, its key columns)`. A delete on the
/// parent looks each of these up on the child.
pub fn referencing_keys(
    client: &mut Client,
    relation: &Relation,
) -> Result<Vec<(RelName, Vec<String>)>, AdviseError> {
    let rows = client.query(
        "SELECT n.nspname::text, c.relname::text, \
                array(SELECT a.attname::text FROM unnest(k.conkey) WITH ORDINALITY u(attnum, ord) \
                      JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.attnum \
                      ORDER BY u.ord) \
         FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE k.contype = 'f' AND k.confrelid = $1 AND NOT c.relispartition",
        &[&relation.oid],
    )?;
    Ok(rows
        .iter()
        .map(|row| {
            let schema: String = row.get(0);
            let table: String = row.get(1);
            (RelName::new(Some(&schema), &table), row.get(2))
        })
        .collect())
}

/// The direct partitions of a partitioned table, as `(schema, name, is itself partitioned)`;
/// empty for any other relation.
pub fn partitions(
    client: &mut Client,
    schema: &str,
    table: &str,
) -> Result<Vec<(String, String, bool)>, AdviseError> {
    let rows = client.query(
        "SELECT n.nspname::text, c.relname::text, c.relkind = 'p' \
         FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE i.inhparent = to_regclass(format('%I.%I', $1::text, $2::text)) \
         ORDER BY 1, 2",
        &[&schema, &table],
    )?;
    Ok(rows
        .iter()
        .map(|row| (row.get(0), row.get(1), row.get(2)))
        .collect())
}

/// The heap bytes of a partitioned table's partitions together.
pub fn partitioned_heap_bytes(
    client: &mut Client,
    schema: &str,
    table: &str,
) -> Result<u64, AdviseError> {
    let row = client.query_one(
        "SELECT coalesce(sum(pg_relation_size(relid)), 0)::bigint \
         FROM pg_partition_tree(to_regclass(format('%I.%I', $1::text, $2::text)))",
        &[&schema, &table],
    )?;
    Ok(u64::try_from(row.get::<_, i64>(0)).unwrap_or(0))
}
