//! Where each style's tool records applied migrations, so pgperf and that tool agree on what
//! is applied: `pgperf.schema_migrations`; Supabase's `supabase_migrations.schema_migrations`
//! (version text, statements text[], name text: no checksum); sqlx's `_sqlx_migrations`
//! (SHA-384 checksum as bytea, execution time in nanoseconds, a `success` flag), created in the
//! current schema as sqlx does.

use postgres::GenericClient;

use super::{MigrateError, Migration, MigrationStyle};

const CREATE_PGPERF: &str = "
CREATE SCHEMA IF NOT EXISTS pgperf;
CREATE TABLE IF NOT EXISTS pgperf.schema_migrations (
    version bigint PRIMARY KEY,
    name text NOT NULL,
    checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now(),
    execution_ms double precision NOT NULL
);
COMMENT ON TABLE pgperf.schema_migrations IS 'Migrations applied by pgperf migrate, with the checksum of each file.';";

/// As the Supabase CLI creates it.
const CREATE_SUPABASE: &str = "
CREATE SCHEMA IF NOT EXISTS supabase_migrations;
CREATE TABLE IF NOT EXISTS supabase_migrations.schema_migrations (version text NOT NULL PRIMARY KEY);
ALTER TABLE supabase_migrations.schema_migrations ADD COLUMN IF NOT EXISTS statements text[];
ALTER TABLE supabase_migrations.schema_migrations ADD COLUMN IF NOT EXISTS name text;";

/// As sqlx creates it (`sqlx-postgres`'s `ensure_migrations_table`).
const CREATE_SQLX: &str = "
CREATE TABLE IF NOT EXISTS _sqlx_migrations (
    version BIGINT PRIMARY KEY,
    description TEXT NOT NULL,
    installed_on TIMESTAMPTZ NOT NULL DEFAULT now(),
    success BOOLEAN NOT NULL,
    checksum BYTEA NOT NULL,
    execution_time BIGINT NOT NULL
);";

/// A migration the database has recorded as applied.
#[derive(Debug, Clone, PartialEq)]
pub struct AppliedMigration {
    pub version: i64,
    pub name: String,
    /// The recorded checksum in the style's form; `None` where the tool records none
    /// (Supabase), so a changed file cannot be told.
    pub checksum: Option<String>,
    /// `None` where the tool records no time (Supabase).
    pub applied_at: Option<chrono::DateTime<chrono::Utc>>,
    pub execution_ms: Option<f64>,
}

/// The tracking table's name, for messages.
pub fn table(style: MigrationStyle) -> &'static str {
    match style {
        MigrationStyle::Pgperf => "pgperf.schema_migrations",
        MigrationStyle::Supabase => "supabase_migrations.schema_migrations",
        MigrationStyle::Sqlx => "_sqlx_migrations",
    }
}

/// Creates the tracking table when missing (only `up` and `down` do: reading never writes).
pub fn ensure(client: &mut impl GenericClient, style: MigrationStyle) -> Result<(), MigrateError> {
    client.batch_execute(match style {
        MigrationStyle::Pgperf => CREATE_PGPERF,
        MigrationStyle::Supabase => CREATE_SUPABASE,
        MigrationStyle::Sqlx => CREATE_SQLX,
    })?;
    Ok(())
}

/// What the database has applied, by version; nothing when the tracking table does not exist.
pub fn applied(
    client: &mut impl GenericClient,
    style: MigrationStyle,
) -> Result<Vec<AppliedMigration>, MigrateError> {
    let exists: bool = client
        .query_one("SELECT to_regclass($1) IS NOT NULL", &[&table(style)])?
        .get(0);
    if !exists {
        return Ok(Vec::new());
    }
    let rows = client.query(
        match style {
            MigrationStyle::Pgperf => {
                "SELECT version, name, checksum, applied_at, execution_ms, true
                 FROM pgperf.schema_migrations ORDER BY version"
            }
            MigrationStyle::Supabase => {
                "SELECT version::bigint, coalesce(name, ''), NULL::text, NULL::timestamptz,
                        NULL::float8, true
                 FROM supabase_migrations.schema_migrations WHERE version ~ '^[0-9]{1,18}$'
                 ORDER BY 1"
            }
            MigrationStyle::Sqlx => {
                "SELECT version, replace(description, ' ', '_'), encode(checksum, 'hex'),
                        installed_on, execution_time / 1e6::float8, success
                 FROM _sqlx_migrations ORDER BY version"
            }
        },
        &[],
    )?;
    rows.iter()
        .map(|row| {
            let version: i64 = row.get(0);
            if !row.get::<_, bool>(5) {
                return Err(MigrateError::PartiallyApplied { version });
            }
            Ok(AppliedMigration {
                version,
                name: row.get(1),
                checksum: row.get(2),
                applied_at: row.get(3),
                execution_ms: row.get(4),
            })
        })
        .collect()
}

/// Adds the tracking row, inside the migration's transaction when it has one.
pub fn record(
    client: &mut impl GenericClient,
    migration: &Migration,
    elapsed: std::time::Duration,
) -> Result<(), MigrateError> {
    match migration.style {
        MigrationStyle::Pgperf => client.execute(
            "INSERT INTO pgperf.schema_migrations (version, name, checksum, execution_ms)
             VALUES ($1, $2, $3, $4)",
            &[
                &migration.version,
                &migration.name,
                &migration.checksum,
                &(elapsed.as_secs_f64() * 1e3),
            ],
        )?,
        MigrationStyle::Supabase => {
            let statements: Vec<String> = pg_query::split_with_parser(&migration.up_sql)
                .map(|s| s.iter().map(|s| s.trim().to_string()).collect())
                .unwrap_or_else(|_| vec![migration.up_sql.clone()]);
            client.execute(
                "INSERT INTO supabase_migrations.schema_migrations (version, name, statements)
                 VALUES ($1, $2, $3)",
                &[&migration.version_text, &migration.name, &statements],
            )?
        }
        MigrationStyle::Sqlx => client.execute(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
             VALUES ($1, $2, true, decode($3, 'hex'), $4)",
            &[
                &migration.version,
                &migration.name.replace('_', " "),
                &migration.checksum,
                &i64::try_from(elapsed.as_nanos()).unwrap_or(i64::MAX),
            ],
        )?,
    };
    Ok(())
}

/// Removes the tracking row of a reverted migration.
pub fn forget(client: &mut impl GenericClient, migration: &Migration) -> Result<(), MigrateError> {
    match migration.style {
        MigrationStyle::Pgperf => client.execute(
            "DELETE FROM pgperf.schema_migrations WHERE version = $1",
            &[&migration.version],
        )?,
        MigrationStyle::Supabase => client.execute(
            "DELETE FROM supabase_migrations.schema_migrations WHERE version = $1",
            &[&migration.version_text],
        )?,
        MigrationStyle::Sqlx => client.execute(
            "DELETE FROM _sqlx_migrations WHERE version = $1",
            &[&migration.version],
        )?,
    };
    Ok(())
}

/// The session advisory lock held while migrating: sqlx's own key (derived from the database
/// name) for sqlx folders, so pgperf and `sqlx migrate run` never interleave; pgperf's
/// ("pgperf" in ASCII) otherwise.
pub fn lock_key(
    client: &mut impl GenericClient,
    style: MigrationStyle,
) -> Result<i64, MigrateError> {
    if style != MigrationStyle::Sqlx {
        return Ok(0x7067_7065_7266);
    }
    let database: String = client
        .query_one("SELECT current_database()::text", &[])?
        .get(0);
    Ok(sqlx_lock_key(&database))
}

/// sqlx-postgres's `generate_lock_id`: `0x3d32ad9e * crc32(database name)`.
fn sqlx_lock_key(database: &str) -> i64 {
    0x3d32_ad9e * i64::from(crc32(database.as_bytes()))
}

/// CRC-32 (IEEE, the `crc` crate's `CRC_32_ISO_HDLC` that sqlx uses).
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = (crc >> 1) ^ (0xEDB8_8320 & 0u32.wrapping_sub(crc & 1));
        }
    }
    !crc
}

#[cfg(test)]
mod tests {
    #[test]
    fn crc32_matches_the_ieee_check_value() {
        assert_eq!(super::crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn sqlx_lock_key_is_sqlx_s_for_the_database_name() {
        // The key sqlx derives for a database named "zone".
        assert_eq!(super::sqlx_lock_key("zone"), 2_771_974_297_191_923_538);
    }
}
