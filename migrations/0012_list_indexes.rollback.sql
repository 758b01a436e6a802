-- pgperf:no-transaction
-- Reverts 0012.
DROP INDEX CONCURRENTLY IF EXISTS "cx"."conversations_open_assignee_id_opened_at_idx";
DROP INDEX CONCURRENTLY IF EXISTS "approvals"."approvals_assignee_id_created_at_id_idx";
