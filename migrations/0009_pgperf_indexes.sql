-- pgperf:no-transaction
-- Indexes proposed by `pgperf advise`. Each statement runs on its own
-- (CREATE INDEX CONCURRENTLY cannot run in a transaction).

-- serves: approvals.queue_view
-- approvals.queue_view: P95 34.12 ms [32.91, 47.94] -> 0.93 ms [0.90, 1.06] (planner cost 12299 -> 46)
-- size: 128 kB (built and measured)
CREATE INDEX CONCURRENTLY IF NOT EXISTS "approvals_created_at_7e7756_idx" ON "approvals"."approvals" USING btree ("created_at") WHERE "status" = 'pending';

-- serves: approvals.daily_rollup
-- approvals.daily_rollup: P95 3.59 ms [3.38, 6.17] -> 1.95 ms [1.23, 2.48] (planner cost 937 -> 841)
-- size: 480 kB (built and measured)
CREATE INDEX CONCURRENTLY IF NOT EXISTS "approvals_daily_team_id_day_34c607_idx" ON "rollup"."approvals_daily" USING btree ("team_id", "day");

-- serves: cx.my_open_conversations
-- cx.my_open_conversations: P95 14.02 ms [12.73, 24.01] -> 3.95 ms [3.86, 8.41] (planner cost 10611 -> 4098)
-- size: 1.8 MB (built and measured)
CREATE INDEX CONCURRENTLY IF NOT EXISTS "conversations_assignee_id_team_id_status_5695de_idx" ON "cx"."conversations" USING btree ("assignee_id", "team_id", "status");

-- serves: cx.summary, cx.response_times_view
-- cx.summary (fn api.cx_summary): planner cost 23400 -> 14865 (not measured)
-- cx.response_times_view: P95 14.02 ms [12.40, 16.35] -> 6.49 ms [5.96, 9.63] (planner cost 14436 -> 10608)
-- cx.summary: P95 42.36 ms [40.82, 46.32] -> 33.17 ms [31.97, 38.30] (planner cost 0 -> 0)
-- size: 7.5 MB (built and measured)
CREATE INDEX CONCURRENTLY IF NOT EXISTS "conversations_team_id_opened_at_09c792_idx" ON "cx"."conversations" USING btree ("team_id", "opened_at");
