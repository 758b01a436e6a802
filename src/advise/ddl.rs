//! SQL text for an [`IndexSpec`]: deterministic names, the `CREATE INDEX` forms used for
//! HypoPG, for the rolled-back real build and for the migration, and the migration pair.
//! Pure, snapshot-tested: this is text users review and commit.

use sha2::{Digest, Sha256};

use crate::migrate::NO_TRANSACTION_MARKER;
use crate::model::QuantileEstimate;
use crate::model::advice::{IndexMethod, IndexSpec, Recommendation, StatisticsRecommendation};
use crate::pg::{quote_ident, quote_qualified};

/// PostgreSQL truncates identifiers to 63 bytes.
const MAX_IDENTIFIER_BYTES: usize = 63;

/// A deterministic name: `<table>_<keys>_<hash>_idx`, readable part truncated so the whole
/// fits in 63 bytes; the hash of the full definition keeps distinct specs distinct.
pub fn index_name(spec: &IndexSpec) -> String {
    let hash: String = Sha256::digest(definition(spec).as_bytes())
        .iter()
        .take(3)
        .map(|b| format!("{b:02x}"))
        .collect();
    let keys: Vec<String> = spec.keys.iter().map(|k| slug(&k.sql)).collect();
    let mut readable = format!("{}_{}", slug(&spec.table), keys.join("_"));
    let suffix = format!("_{hash}_idx");
    while readable.len() + suffix.len() > MAX_IDENTIFIER_BYTES {
        readable.pop();
    }
    format!("{}{suffix}", readable.trim_end_matches('_'))
}

/// Lower-case ASCII letters, digits and single underscores.
fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    out.trim_matches('_').to_string()
}

/// `ON "schema"."table" USING method (keys) INCLUDE (cols) WHERE predicate`.
pub fn definition(spec: &IndexSpec) -> String {
    let keys: Vec<String> = spec
        .keys
        .iter()
        .map(|k| format!("{}{}", k.sql, if k.descending { " DESC" } else { "" }))
        .collect();
    let mut text = format!(
        "ON {} USING {} ({})",
        quote_qualified(&spec.schema, &spec.table),
        spec.method.sql(),
        keys.join(", ")
    );
    if !spec.include.is_empty() {
        text.push_str(&format!(" INCLUDE ({})", spec.include.join(", ")));
    }
    if let Some(predicate) = &spec.predicate {
        text.push_str(&format!(" WHERE {predicate}"));
    }
    text
}

/// The extension whose operator class a key names (`gin_trgm_ops` is pg_trgm's), which must
/// exist before the index can be built.
pub fn required_extension(spec: &IndexSpec) -> Option<&'static str> {
    spec.keys
        .iter()
        .any(|k| k.sql.ends_with(" gin_trgm_ops"))
        .then_some("pg_trgm")
}

/// `CREATE INDEX "name" ON ...` for a build inside a transaction, after the extension it needs
/// (created in the same transaction, so the rollback removes it again).
pub fn create_in_transaction(spec: &IndexSpec, name: &str) -> String {
    let create = format!("CREATE INDEX {} {}", quote_ident(name), definition(spec));
    match required_extension(spec) {
        Some(extension) => format!(
            "CREATE EXTENSION IF NOT EXISTS {}; {create}",
            quote_ident(extension)
        ),
        None => create,
    }
}

/// `CREATE INDEX CONCURRENTLY IF NOT EXISTS "name" ON ...` for the migration.
pub fn create_concurrently(spec: &IndexSpec, name: &str) -> String {
    format!(
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS {} {}",
        quote_ident(name),
        definition(spec)
    )
}

/// The partitions a partitioned table had when advise ran, for the migration's comments.
pub struct PartitionLayout<'a> {
    /// Direct partitions, `(schema, name)`.
    pub partitions: &'a [(String, String)],
    /// Some partition is itself partitioned.
    pub nested: bool,
    /// Heap size of every partition together.
    pub heap_bytes: u64,
    /// The day advise read them (`YYYY-MM-DD`).
    pub as_of: &'a str,
}

/// The migration's statement for an index on a partitioned table, with comments. PostgreSQL
/// refuses `CONCURRENTLY` on a partitioned table, and a migration naming today's partitions
/// fails wherever they differ (a fresh database, a month later, after retention dropped one),
/// so the statement builds on the parent: it works on any set of partitions and later ones get
/// the index, but blocks writes while it builds. For a single level of partitions the comments
/// carry the online alternative for the partitions of the day, to run by hand instead.
pub fn create_on_partitioned(spec: &IndexSpec, name: &str, layout: &PartitionLayout) -> String {
    let table = format!("{}.{}", spec.schema, spec.table);
    let mut lines = vec![
        format!(
            "{table} is partitioned ({} partitions, {} of data on {}). PostgreSQL",
            layout.partitions.len(),
            format_bytes(layout.heap_bytes),
            layout.as_of
        ),
        "refuses CONCURRENTLY on a partitioned table, so this builds on the parent in one statement"
            .into(),
        format!("and blocks writes to {table} while it runs; it works whatever partitions exist"),
        "then, and partitions created later get the index.".into(),
    ];
    if layout.nested {
        lines.push(
            "Its partitions are partitioned in turn: an online build would need an ON ONLY index at every level."
                .into(),
        );
    }
    if !layout.nested {
        lines.push(format!(
            "Online alternative for the partitions of {} (run by hand instead; re-list them first):",
            layout.as_of
        ));
        for statement in create_on_partitions(spec, name, layout.partitions) {
            lines.push(format!("  {statement};"));
        }
    }
    let mut out: String = lines.iter().map(|line| format!("-- {line}\n")).collect();
    out.push_str(&format!(
        "CREATE INDEX IF NOT EXISTS {} {}",
        quote_ident(name),
        definition(spec)
    ));
    out
}

/// The online statements for an index on a partitioned table with these direct `partitions`
/// (`(schema, name)`), as PostgreSQL's documentation describes: the parent gets an index
/// `ON ONLY` itself (instant, invalid until every partition is attached), each partition one
/// built concurrently, and each is attached.
fn create_on_partitions(
    spec: &IndexSpec,
    name: &str,
    partitions: &[(String, String)],
) -> Vec<String> {
    let parent = format!(
        "CREATE INDEX IF NOT EXISTS {} {}",
        quote_ident(name),
        definition(spec).replacen("ON ", "ON ONLY ", 1)
    );
    let mut statements = vec![parent];
    for (schema, table) in partitions {
        let partition = IndexSpec {
            schema: schema.clone(),
            table: table.clone(),
            ..spec.clone()
        };
        let partition_name = index_name(&partition);
        statements.push(create_concurrently(&partition, &partition_name));
        statements.push(format!(
            "ALTER INDEX {} ATTACH PARTITION {}",
            quote_qualified(&spec.schema, name),
            quote_qualified(schema, &partition_name)
        ));
    }
    statements
}

/// The rollback statement: `DROP INDEX CONCURRENTLY IF EXISTS "schema"."name"`, or a plain
/// `DROP INDEX` for a partitioned index (which cannot be dropped concurrently; dropping it drops
/// the partitions' indexes with it).
pub fn drop_statement(recommendation: &Recommendation) -> String {
    let concurrently = if recommendation.partitions.is_empty() {
        "CONCURRENTLY "
    } else {
        ""
    };
    format!(
        "DROP INDEX {concurrently}IF EXISTS {}",
        quote_qualified(&recommendation.spec.schema, &recommendation.name)
    )
}

/// The up and rollback files of the migration for `recommendations` and `statistics` (after
/// the indexes, so their `ANALYZE` also sees expression indexes' columns).
pub fn migration_pair(
    recommendations: &[Recommendation],
    statistics: &[StatisticsRecommendation],
) -> (String, String) {
    let what = if statistics.is_empty() {
        "Indexes"
    } else {
        "Indexes and extended statistics"
    };
    let mut up = format!(
        "{NO_TRANSACTION_MARKER}\n-- {what} proposed by `pgperf advise`. Each statement runs on its own\n-- (CREATE INDEX CONCURRENTLY cannot run in a transaction).\n"
    );
    let mut down = format!(
        "{NO_TRANSACTION_MARKER}\n-- Reverts the pgperf advise {}.\n",
        what.to_lowercase()
    );
    let mut extensions: Vec<&str> = recommendations
        .iter()
        .filter_map(|r| required_extension(&r.spec))
        .collect();
    extensions.dedup();
    for extension in extensions {
        up.push_str(&format!(
            "\n-- {extension} provides an operator class the indexes below use; this server has it.\nCREATE EXTENSION IF NOT EXISTS {};\n",
            quote_ident(extension)
        ));
        down.push_str(&format!(
            "-- {extension} is kept: other objects may use it (DROP EXTENSION {extension} by hand if not).\n"
        ));
    }
    for recommendation in recommendations {
        up.push('\n');
        for line in evidence(recommendation) {
            up.push_str(&format!("-- {line}\n"));
        }
        up.push_str(&format!("{};\n", recommendation.ddl));
    }
    for recommendation in statistics {
        up.push('\n');
        for line in super::extstats::sql::evidence(recommendation) {
            up.push_str(&format!("-- {line}\n"));
        }
        up.push_str(&format!("{};\n", recommendation.ddl));
    }
    for recommendation in statistics.iter().rev() {
        down.push_str(&format!(
            "{};\n",
            super::extstats::sql::drop_statistics(recommendation)
        ));
    }
    for recommendation in recommendations.iter().rev() {
        down.push_str(&format!("{};\n", drop_statement(recommendation)));
    }
    (up, down)
}

/// Comment lines naming the queries an index serves, its measured effect and its size.
fn evidence(recommendation: &Recommendation) -> Vec<String> {
    let mut lines = vec![format!("serves: {}", recommendation.serves.join(", "))];
    if recommendation.spec.method == IndexMethod::Gin {
        lines.push(
            "GIN: HypoPG cannot cost it, so it was built for real in a rolled-back transaction and the planner costed the real index".into(),
        );
    }
    for effect in &recommendation.effects {
        let line = match (&effect.p95_before, &effect.p95_after) {
            (Some(before), Some(after)) => format!(
                "{}: P95 {} -> {} (planner cost {:.0} -> {:.0})",
                effect.query,
                format_p95(before),
                format_p95(after),
                effect.cost_before,
                effect.cost_after
            ),
            _ => format!(
                "{}: planner cost {:.0} -> {:.0} (not measured)",
                effect.query, effect.cost_before, effect.cost_after
            ),
        };
        lines.push(line);
    }
    let size = match recommendation.size_bytes {
        Some(bytes) => format!("size: {} (built and measured)", format_bytes(bytes)),
        None => format!(
            "size: about {} (HypoPG estimate, usually 2-5x too large)",
            format_bytes(recommendation.estimated_size_bytes)
        ),
    };
    lines.push(size);
    lines
}

/// `1.23 ms [1.10, 1.40]` with its interval when known.
pub fn format_p95(estimate: &QuantileEstimate) -> String {
    let ms = |us: f64| format!("{:.2}", us / 1000.0);
    match (estimate.ci_low_us, estimate.ci_high_us) {
        (Some(low), Some(high)) => {
            format!("{} ms [{}, {}]", ms(estimate.value_us), ms(low), ms(high))
        }
        (Some(low), None) => format!("{} ms [≥ {}]", ms(estimate.value_us), ms(low)),
        _ => format!("{} ms", ms(estimate.value_us)),
    }
}

/// `512 kB`, `3.4 MB`.
pub fn format_bytes(bytes: u64) -> String {
    let bytes_f = bytes as f64;
    if bytes_f >= 1024.0 * 1024.0 {
        format!("{:.1} MB", bytes_f / (1024.0 * 1024.0))
    } else {
        format!("{:.0} kB", (bytes_f / 1024.0).ceil())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::advice::{IndexKey, QueryEffect};

    fn spec(table: &str, keys: &[(&str, bool)], predicate: Option<&str>) -> IndexSpec {
        IndexSpec {
            schema: "Sales Data".into(),
            table: table.into(),
            keys: keys
                .iter()
                .map(|(sql, descending)| IndexKey {
                    sql: sql.to_string(),
                    descending: *descending,
                })
                .collect(),
            include: vec![],
            predicate: predicate.map(str::to_string),
            method: Default::default(),
        }
    }

    fn recommendation(spec: IndexSpec, measured: bool) -> Recommendation {
        let name = index_name(&spec);
        let estimate = |value_us: f64| QuantileEstimate {
            value_us,
            ci_low_us: Some(value_us * 0.9),
            ci_high_us: Some(value_us * 1.1),
        };
        Recommendation {
            ddl: create_concurrently(&spec, &name),
            partitions: Vec::new(),
            name,
            spec,
            serves: vec!["orders_by_customer".into()],
            estimated_size_bytes: 9_000_000,
            size_bytes: measured.then_some(2_400_000),
            benefit: 1000.0,
            effects: vec![QueryEffect {
                query: "orders_by_customer".into(),
                cost_before: 1834.0,
                cost_after: 12.4,
                p95_before: measured.then(|| estimate(8_200.0)),
                p95_after: measured.then(|| estimate(95.0)),
                samples_before_us: Vec::new(),
                samples_after_us: Vec::new(),
                evidence: None,
            }],
        }
    }

    #[test]
    fn names_are_deterministic_and_short() {
        let a = spec("Orders", &[("\"customer_id\"", false)], None);
        assert_eq!(index_name(&a), index_name(&a.clone()));
        let long = spec(
            "a_really_long_table_name_for_testing_truncation",
            &[
                ("\"another_long_column_name\"", false),
                ("(lower(email))", true),
            ],
            None,
        );
        assert!(index_name(&long).len() <= 63, "{}", index_name(&long));
        let partial = spec(
            "Orders",
            &[("\"customer_id\"", false)],
            Some("\"status\" = 'x'"),
        );
        assert_ne!(index_name(&a), index_name(&partial));
    }

    #[test]
    fn migration_text() {
        let recommendations = vec![
            recommendation(
                spec(
                    "Orders",
                    &[("\"customer_id\"", false), ("\"created at\"", true)],
                    None,
                ),
                true,
            ),
            recommendation(
                spec(
                    "select",
                    &[("(lower(email))", false)],
                    Some("\"status\" = 'pending'"),
                ),
                false,
            ),
        ];
        let (up, down) = migration_pair(&recommendations, &[]);
        insta::assert_snapshot!(format!("{up}\n=== rollback ===\n{down}"));
    }

    #[test]
    fn partitioned_table_builds_on_the_parent_and_comments_the_online_form() {
        let spec = spec("log", &[("\"row_id\"", false)], None);
        let partitions = [
            ("Sales Data".to_string(), "log_2026_11".to_string()),
            ("Sales Data".to_string(), "log_2026_12".to_string()),
        ];
        let layout = PartitionLayout {
            partitions: &partitions,
            nested: false,
            heap_bytes: 150 * 1024 * 1024,
            as_of: "2026-12-05",
        };
        let flat = create_on_partitioned(&spec, &index_name(&spec), &layout);
        let nested = create_on_partitioned(
            &spec,
            &index_name(&spec),
            &PartitionLayout {
                nested: true,
                ..layout
            },
        );
        insta::assert_snapshot!(format!("{flat}\n=== nested ===\n{nested}"));
    }
}
