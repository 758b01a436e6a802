-- pgperf:no-transaction
-- Reverts 0014.
DROP INDEX CONCURRENTLY IF EXISTS "inventory"."inventory_snapshots_location_id_taken_at_idx";
DROP INDEX CONCURRENTLY IF EXISTS "cx"."conversations_resolved_unanswered_id_idx";
