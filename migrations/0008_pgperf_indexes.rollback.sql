-- pgperf:no-transaction
-- Reverts the pgperf advise indexes.
DROP INDEX CONCURRENTLY IF EXISTS "approvals"."approval_grades_graded_at_80fb0c_idx";
