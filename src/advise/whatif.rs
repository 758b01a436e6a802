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
use crate::model::advice::{IndexSpec, WhatIfMethod};

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
    lock_timeout_ms: u64,
    cache: HashMap<(Vec<IndexSpec>, String), Result<Costing, String>>,
    sizes: HashMap<IndexSpec, u64>,
}

impl WhatIf {
    /// Uses HypoPG when the extension is installed in the database, real builds otherwise.
    pub fn new(client: &mut Client, lock_timeout_ms: u64) -> Result<WhatIf, AdviseError> {
        let hypopg = client
            .query_opt("SELECT 1 FROM pg_extension WHERE extname = 'hypopg'", &[])?
            .is_some();
        Ok(WhatIf {
            method: if hypopg {
                WhatIfMethod::Hypopg
            } else {
                WhatIfMethod::RealBuild
            },
            lock_timeout_ms,
            cache: HashMap::new(),
            sizes: HashMap::new(),
        })
    }

    pub fn method(&self) -> WhatIfMethod {
        self.method
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
        if !missing.is_empty() || !all_sized {
            match self.method {
                WhatIfMethod::Hypopg => self.hypothetical(client, specs, &missing)?,
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

    fn hypothetical(
        &mut self,
        client: &mut Client,
        specs: &[IndexSpec],
        statements: &[&Statement],
    ) -> Result<(), AdviseError> {
        client.execute("SELECT hypopg_reset()", &[])?;
        let mut names = Vec::new();
        for spec in specs {
            let ddl = format!("CREATE INDEX {}", definition(spec));
            let row = client.query_one(
                "SELECT indexrelid, indexname::text, hypopg_relation_size(indexrelid)::int8 \
                 FROM hypopg_create_index($1)",
                &[&ddl],
            );
            let row = match row {
                Ok(row) => row,
                Err(error) => {
                    client.execute("SELECT hypopg_reset()", &[])?;
                    return Err(error.into());
                }
            };
            names.push(row.get::<_, String>(1));
            self.sizes
                .insert(spec.clone(), row.get::<_, i64>(2).max(0) as u64);
        }
        let result = self.cost_all(client, specs, &names, statements);
        client.execute("SELECT hypopg_reset()", &[])?;
        result
    }

    fn real(
        &mut self,
        client: &mut Client,
        specs: &[IndexSpec],
        statements: &[&Statement],
    ) -> Result<(), AdviseError> {
        client.batch_execute(&format!(
            "BEGIN; SET LOCAL lock_timeout = '{}ms'",
            self.lock_timeout_ms
        ))?;
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
        let names: Vec<String> = specs.iter().map(index_name).collect();
        for (spec, name) in specs.iter().zip(&names) {
            client.batch_execute(&create_in_transaction(spec, name))?;
            let size: i64 = client
                .query_one(
                    "SELECT coalesce((SELECT sum(pg_relation_size(relid)) FROM pg_partition_tree(to_regclass($1))), \
                            pg_relation_size(to_regclass($1)))::int8",
                    &[&crate::pg::quote_qualified(&spec.schema, name)],
                )?
                .get(0);
            self.sizes.insert(spec.clone(), size.max(0) as u64);
        }
        self.cost_all(client, specs, &names, statements)
    }

    fn cost_all(
        &mut self,
        client: &mut Client,
        specs: &[IndexSpec],
        names: &[String],
        statements: &[&Statement],
    ) -> Result<(), AdviseError> {
        let in_transaction = self.method == WhatIfMethod::RealBuild;
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
