//! SQL text for extended statistics (pure): the deterministic name, the statements of the
//! rolled-back trial and of the migration, and the migration's comment lines.

use crate::model::advice::{StatisticsRecommendation, StatisticsSpec};
use crate::pg::{quote_ident, quote_qualified};

/// PostgreSQL truncates identifiers to 63 bytes.
const MAX_IDENTIFIER_BYTES: usize = 63;

/// `<table>_<columns>_stats`, the readable part cut so the whole fits in 63 bytes.
pub fn statistics_name(spec: &StatisticsSpec) -> String {
    let suffix = "_stats";
    let mut readable = format!("{}_{}", spec.table, spec.columns.join("_"));
    while readable.len() + suffix.len() > MAX_IDENTIFIER_BYTES {
        readable.pop();
    }
    format!("{readable}{suffix}")
}

/// `CREATE STATISTICS "schema"."name" (dependencies, ndistinct, mcv) ON "a", "b" FROM
/// "schema"."table"`; `if_not_exists` for the migration, which may run on a database that
/// has them already.
pub fn create_statistics(spec: &StatisticsSpec, name: &str, if_not_exists: bool) -> String {
    let columns: Vec<String> = spec.columns.iter().map(|c| quote_ident(c)).collect();
    format!(
        "CREATE STATISTICS {}{} (dependencies, ndistinct, mcv) ON {} FROM {}",
        if if_not_exists { "IF NOT EXISTS " } else { "" },
        quote_qualified(&spec.schema, name),
        columns.join(", "),
        quote_qualified(&spec.schema, &spec.table)
    )
}

/// `ANALYZE "schema"."table"`: statistics are empty until the table is analyzed.
pub fn analyze_table(spec: &StatisticsSpec) -> String {
    format!("ANALYZE {}", quote_qualified(&spec.schema, &spec.table))
}

/// The migration's statements: create, then analyze (`;`-separated).
pub fn migration_ddl(spec: &StatisticsSpec, name: &str) -> String {
    format!(
        "{};\n{}",
        create_statistics(spec, name, true),
        analyze_table(spec)
    )
}

/// The rollback statement.
pub fn drop_statistics(recommendation: &StatisticsRecommendation) -> String {
    format!(
        "DROP STATISTICS IF EXISTS {}",
        quote_qualified(&recommendation.spec.schema, &recommendation.name)
    )
}

/// Comment lines: the queries served, each one's estimate before → after against its actual
/// rows, and what was measured.
pub fn evidence(recommendation: &StatisticsRecommendation) -> Vec<String> {
    let mut lines = vec![format!(
        "extended statistics: the planner misestimated rows on correlated columns; serves: {}",
        recommendation.serves.join(", ")
    )];
    lines.extend(recommendation.effects.iter().map(|e| e.summary()));
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(table: &str, columns: &[&str]) -> StatisticsSpec {
        StatisticsSpec {
            schema: "app".into(),
            table: table.into(),
            columns: columns.iter().map(|c| c.to_string()).collect(),
        }
    }

    #[test]
    fn statements_quote_every_identifier() {
        let spec = spec("addresses", &["city", "zip code"]);
        let name = statistics_name(&spec);
        assert_eq!(name, "addresses_city_zip code_stats");
        insta::assert_snapshot!(migration_ddl(&spec, &name), @r#"
        CREATE STATISTICS IF NOT EXISTS "app"."addresses_city_zip code_stats" (dependencies, ndistinct, mcv) ON "city", "zip code" FROM "app"."addresses";
        ANALYZE "app"."addresses"
        "#);
    }

    #[test]
    fn long_names_fit_in_63_bytes() {
        let long = "c".repeat(40);
        let name = statistics_name(&spec(&"t".repeat(30), &[&long, &long]));
        assert_eq!(name.len(), 63);
        assert!(name.ends_with("_stats"));
    }
}
