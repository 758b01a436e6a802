-- pgperf:no-transaction
-- Indexes proposed by `pgperf advise`. Each statement runs on its own
-- (CREATE INDEX CONCURRENTLY cannot run in a transaction).

-- serves: approvals.grades_by_rubric
-- approvals.grades_by_rubric: planner cost 1082096 -> 337051 (not measured)
-- size: 1.8 MB (built and measured)
CREATE INDEX CONCURRENTLY IF NOT EXISTS "approval_grades_graded_at_80fb0c_idx" ON "approvals"."approval_grades" USING btree ("graded_at");
