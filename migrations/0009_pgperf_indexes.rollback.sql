-- pgperf:no-transaction
-- Reverts the pgperf advise indexes.
DROP INDEX CONCURRENTLY IF EXISTS "cx"."conversations_team_id_opened_at_09c792_idx";
DROP INDEX CONCURRENTLY IF EXISTS "cx"."conversations_assignee_id_team_id_status_5695de_idx";
DROP INDEX CONCURRENTLY IF EXISTS "rollup"."approvals_daily_team_id_day_34c607_idx";
DROP INDEX CONCURRENTLY IF EXISTS "approvals"."approvals_created_at_7e7756_idx";
