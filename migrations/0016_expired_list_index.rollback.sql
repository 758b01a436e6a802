-- pgperf:no-transaction
-- Reverts 0016.
DROP INDEX CONCURRENTLY IF EXISTS "approvals"."approvals_expired_team_id_created_at_id_idx";
