//! "What if these indexes existed?" on one held connection. With HypoPG the indexes are
//! hypothetical (visible to this backend's planner only; EXPLAIN without ANALYZE); without it
//! each set is built for real inside a transaction that is always rolled back. Results are
//! cached by (index set, statement).

use std::collections::HashMap;

use postgres::Client;
use serde_json::Value;

use super::AdviseError;
use super::ddl::{create_in_transaction, definition, index_name};
use super::plan;
use super::session::{Statement, explain};
use crate::model::advice::{IndexMethod, IndexSpec, WhatIfMethod};

/// The plan of one statement with a set of indexes.
#[derive(Debug, Clone, PartialEq)]
pub struct Costing {
    pub cost: f64,
    /// Positions (in the index set) of the indexes the plan uses.
    pub uses: Vec<usize>,
    pub plan: Value,
}

/// A what-if result for a set of indexes.
#[derive(Debug, Clone, PartialEq)]
pub struct WhatIfResult {
    /// Size of each index: HypoPG's estimate, or the real size when built.
    pub sizes_bytes: Vec<u64>,
    /// One per statement, in order; `Err` holds the server's message.
    pub costings: Vec<Result<Costing, String>>,
}

pub struct WhatIf {
    method: WhatIfMethod,
    /// Build partial indexes for real even with HypoPG (see [`WhatIf::new`]).
    partial_for_real: bool,
    lock_timeout_ms: u64,
    cache: HashMap<(Vec<IndexSpec>, String), Result<Costing, String>>,
    sizes: HashMap<IndexSpec, u64>,
    /// GIN indexes built for real to cost them (HypoPG cannot create GIN).
    gin_builds: usize,
}

impl WhatIf {
    /// Uses HypoPG when the extension is installed in the database, real builds otherwise.
    /// HypoPG 1.3 ignores a hypothetical partial index when its table is not the query's first
    /// range-table entry (a view, a join, an RLS subquery: its predicate keeps the varno 1 and
    /// is never proved), which hides the partial indexes that matter most; with
    /// `partial_for_real` (the caller may take locks: verification will build anyway) the
    /// partial indexes of a set are built for real in a rolled-back transaction (they are
    /// small: only the matching rows), the others stay hypothetical.
    pub fn new(
        client: &mut Client,
        lock_timeout_ms: u64,
        partial_for_real: bool,
    ) -> Result<WhatIf, AdviseError> {
        let hypopg = client
            .query_opt("SELECT 1 FROM pg_extension WHERE extname = 'hypopg'", &[])?
            .is_some()
            // On Citus the shards' planners on the workers never see the coordinator's
            // hypothetical indexes: build for real, which Citus propagates to every shard.
            && !crate::citus::is_installed(client)?;
        Ok(WhatIf {
            method: if hypopg {
                WhatIfMethod::Hypopg
            } else {
                WhatIfMethod::RealBuild
            },
            partial_for_real,
            lock_timeout_ms,
            cache: HashMap::new(),
            sizes: HashMap::new(),
            gin_builds: 0,
        })
    }

    pub fn method(&self) -> WhatIfMethod {
        self.method
    }

    /// How many GIN indexes were built for real to cost them (each inside a transaction that
    /// was rolled back; the build blocks writes to its table while it runs).
    pub fn gin_builds(&self) -> usize {
        self.gin_builds
    }

    /// Costs `statements` as if `specs` existed (on top of the existing indexes).
    pub fn evaluate(
        &mut self,
        client: &mut Client,
        specs: &[IndexSpec],
        statements: &[&Statement],
    ) -> Result<WhatIfResult, AdviseError> {
        let missing: Vec<&Statement> = statements
            .iter()
            .copied()
            .filter(|s| !self.cache.contains_key(&(specs.to_vec(), s.name.clone())))
            .collect();
        let all_sized = specs.iter().all(|s| self.sizes.contains_key(s));
        let partial = specs.iter().any(|s| self.for_real(s));
        if !missing.is_empty() || !all_sized {
            match self.method {
                WhatIfMethod::Hypopg => self.hypothetical(client, specs, &missing, partial)?,
                WhatIfMethod::RealBuild => self.real(client, specs, &missing)?,
            }
        }
        Ok(WhatIfResult {
            sizes_bytes: specs
                .iter()
                .map(|s| self.sizes.get(s).copied().unwrap_or(0))
                .collect(),
            costings: statements
                .iter()
                .map(|s| self.cache[&(specs.to_vec(), s.name.clone())].clone())
                .collect(),
        })
    }

    /// HypoPG indexes; with `real_partials`, the partial and GIN ones are built for real in a
    /// transaction rolled back afterwards.
    fn hypothetical(
        &mut self,
        client: &mut Client,
        specs: &[IndexSpec],
        statements: &[&Statement],
        real_partials: bool,
    ) -> Result<(), AdviseError> {
        client.execute("SELECT hypopg_reset()", &[])?;
        if real_partials {
            self.begin(client)?;
        }
        let result = self.create_and_cost(client, specs, statements, real_partials);
        if real_partials {
            client.batch_execute("ROLLBACK")?;
        }
        client.execute("SELECT hypopg_reset()", &[])?;
        result
    }

    fn create_and_cost(
        &mut self,
        client: &mut Client,
        specs: &[IndexSpec],
        statements: &[&Statement],
        real_partials: bool,
    ) -> Result<(), AdviseError> {
        let mut names = Vec::new();
        for spec in specs {
            names.push(if real_partials && self.for_real(spec) {
                self.build(client, spec)?
            } else {
                self.hypothetical_index(client, spec)?
            });
        }
        self.cost_all(client, specs, &names, statements, real_partials)
    }

    /// Built for real even with HypoPG: a partial index when verification may take locks (see
    /// [`WhatIf::new`]), and a GIN index, which HypoPG cannot create.
    fn for_real(&self, spec: &IndexSpec) -> bool {
        (self.partial_for_real && spec.predicate.is_some()) || spec.method == IndexMethod::Gin
    }

    fn hypothetical_index(
        &mut self,
        client: &mut Client,
        spec: &IndexSpec,
    ) -> Result<String, AdviseError> {
        let ddl = format!("CREATE INDEX {}", definition(spec));
        let row = client.query_one(
            "SELECT indexrelid, indexname::text, hypopg_relation_size(indexrelid)::int8 \
             FROM hypopg_create_index($1)",
            &[&ddl],
        )?;
        self.sizes
            .insert(spec.clone(), row.get::<_, i64>(2).max(0) as u64);
        Ok(row.get(1))
    }

    fn begin(&self, client: &mut Client) -> Result<(), AdviseError> {
        client.batch_execute(&format!(
            "BEGIN; SET LOCAL lock_timeout = '{}ms'",
            self.lock_timeout_ms
        ))?;
        Ok(())
    }

    fn real(
        &mut self,
        client: &mut Client,
        specs: &[IndexSpec],
        statements: &[&Statement],
    ) -> Result<(), AdviseError> {
        self.begin(client)?;
        let result = self.build_and_cost(client, specs, statements);
        client.batch_execute("ROLLBACK")?;
        result
    }

    fn build_and_cost(
        &mut self,
        client: &mut Client,
        specs: &[IndexSpec],
        statements: &[&Statement],
    ) -> Result<(), AdviseError> {
        let mut names = Vec::new();
        for spec in specs {
            names.push(self.build(client, spec)?);
        }
        self.cost_all(client, specs, &names, statements, true)
    }

    /// Builds `spec` for real inside the open transaction and records its real size.
    fn build(&mut self, client: &mut Client, spec: &IndexSpec) -> Result<String, AdviseError> {
        let name = index_name(spec);
        client.batch_execute(&create_in_transaction(spec, &name))?;
        if spec.method == IndexMethod::Gin {
            self.gin_builds += 1;
        }
        let size: i64 = client
            .query_one(
                "SELECT coalesce((SELECT sum(pg_relation_size(relid)) FROM pg_partition_tree(to_regclass($1))), \
                        pg_relation_size(to_regclass($1)))::int8",
                &[&crate::pg::quote_qualified(&spec.schema, &name)],
            )?
            .get(0);
        self.sizes.insert(spec.clone(), size.max(0) as u64);
        Ok(name)
    }

    fn cost_all(
        &mut self,
        client: &mut Client,
        specs: &[IndexSpec],
        names: &[String],
        statements: &[&Statement],
        in_transaction: bool,
    ) -> Result<(), AdviseError> {
        for statement in statements {
            if in_transaction {
                client.batch_execute("SAVEPOINT pgperf_explain")?;
            }
            let costing = match explain(client, statement) {
                Ok(plan) => Ok(costing(plan, names)),
                Err(AdviseError::Database(error)) if error.as_db_error().is_some() => {
                    Err(crate::pg::describe(&error))
                }
                Err(other) => return Err(other),
            };
            if in_transaction {
                client.batch_execute("ROLLBACK TO SAVEPOINT pgperf_explain")?;
            }
            self.cache
                .insert((specs.to_vec(), statement.name.clone()), costing);
        }
        Ok(())
    }
}

fn costing(plan: Value, names: &[String]) -> Costing {
    let used = plan::index_names(&plan);
    Costing {
        cost: plan::total_cost(&plan),
        uses: names
            .iter()
            .enumerate()
            .filter(|(_, name)| used.iter().any(|u| u == *name))
            .map(|(i, _)| i)
            .collect(),
        plan,
    }
}
