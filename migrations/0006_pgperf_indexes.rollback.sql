-- pgperf:no-transaction
-- Reverts the pgperf advise indexes.
DROP INDEX CONCURRENTLY IF EXISTS "approvals"."approval_edits_approval_id_9b7e60_idx";
DROP INDEX CONCURRENTLY IF EXISTS "inventory"."picker_payouts_period_start_427efb_idx";
DROP INDEX CONCURRENTLY IF EXISTS "approvals"."approvals_team_id_created_at_ff8f22_idx";
-- A partitioned index cannot be dropped CONCURRENTLY either.
DROP INDEX IF EXISTS "audit"."log_logged_at_4034e7_idx";
DROP INDEX CONCURRENTLY IF EXISTS "cx"."sla_breaches_breached_at_4a7200_idx";
DROP INDEX CONCURRENTLY IF EXISTS "inventory"."sales_velocity_location_id_0a90a3_idx";
DROP INDEX CONCURRENTLY IF EXISTS "cx"."conversations_team_id_b065cf_idx";
