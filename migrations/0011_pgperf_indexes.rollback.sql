-- pgperf:no-transaction
-- Reverts the pgperf advise indexes.
DROP INDEX CONCURRENTLY IF EXISTS "rollup"."cx_daily_team_id_day_438242_idx";
DROP INDEX IF EXISTS "audit"."log_row_id_317102_idx";
