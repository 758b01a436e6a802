-- pgperf:no-transaction
-- Indexes proposed by `pgperf advise`. Each statement runs on its own
-- (CREATE INDEX CONCURRENTLY cannot run in a transaction).
--
-- Emitted by `pgperf advise --scale 1` (release build, 2026-11-25, advise 2 min 18 s wall)
-- for workloads/dashboard.toml on the bundled schema seeded at scale 1; measured in a
-- rolled-back transaction, 100 executions per query before and after. Two hand edits after
-- review (see docs/benchmarks.md, "Dashboard at scale 1: after pgperf advise"):
-- - audit.log is partitioned: PostgreSQL refuses CREATE INDEX CONCURRENTLY on a partitioned
--   table (SQLSTATE 0A000), so its index is a plain CREATE INDEX (below, with the lock it takes);
-- - advise also chose "approvals_team_id_d64216_idx" ON approvals (team_id), a prefix of
--   "approvals_team_id_created_at_ff8f22_idx" (team_id, created_at), which serves the same
--   lookups; the redundant prefix index was removed (its evidence is kept below).

-- serves: cx.summary, cx.recent_breaches, cx.quality_by_assignee
-- cx.summary (fn api.cx_summary): planner cost 8293095 -> 4199029 (not measured)
-- cx.recent_breaches: P95 186.62 ms [160.45, 247.68] -> 56.00 ms [47.08, 79.62] (planner cost 25142 -> 6277)
-- cx.quality_by_assignee: planner cost 24312 -> 18686 (not measured)
-- size: 1.7 MB (built and measured)
CREATE INDEX CONCURRENTLY IF NOT EXISTS "conversations_team_id_b065cf_idx" ON "cx"."conversations" USING btree ("team_id");

-- serves: inventory.top_sellers
-- inventory.top_sellers: planner cost 28197 -> 12805 (not measured)
-- size: 5.6 MB (built and measured)
CREATE INDEX CONCURRENTLY IF NOT EXISTS "sales_velocity_location_id_0a90a3_idx" ON "inventory"."sales_velocity" USING btree ("location_id");

-- serves: cx.recent_breaches
-- cx.recent_breaches: P95 186.62 ms [160.45, 247.68] -> 56.00 ms [47.08, 79.62] (planner cost 25142 -> 6277)
-- size: 2.1 MB (built and measured)
CREATE INDEX CONCURRENTLY IF NOT EXISTS "sla_breaches_breached_at_4a7200_idx" ON "cx"."sla_breaches" USING btree ("breached_at");

-- serves: audit.team_recent, audit.all_teams_by_action
-- audit.team_recent: P95 22.16 ms [18.01, 64.52] -> 3.04 ms [0.87, 4.28] (planner cost 2590 -> 21)
-- audit.all_teams_by_action: P95 110.34 ms [84.90, 164.55] -> 64.66 ms [57.24, 87.67] (planner cost 8186 -> 5468)
-- size: 2.4 MB (built and measured)
-- audit.log is partitioned by month: not CONCURRENTLY (refused on partitioned tables). The
-- build takes a SHARE lock on the log, so audited writes wait for it (about 1 s at scale 1);
-- partitions created later by audit.apply_retention() get the index automatically.
CREATE INDEX IF NOT EXISTS "log_logged_at_4034e7_idx" ON "audit"."log" USING btree ("logged_at");

-- serves: approvals.summary; also (as a prefix on team_id) the RLS policy subplans of
-- approvals.detail, approvals.edit_history and approvals.grades_by_rubric, measured with the
-- removed (team_id) index: approvals.detail P95 149.20 ms [125.58, 202.43] -> 28.31 ms
-- [25.95, 59.33], approvals.edit_history P95 157.30 ms [139.15, 179.58] -> 56.35 ms [38.03, 134.86]
-- approvals.summary (fn api.approvals_summary): planner cost 11872 -> 1805 (not measured)
-- approvals.summary: P95 127.07 ms [105.99, 156.50] -> 21.23 ms [18.86, 70.07] (planner cost 0 -> 0)
-- size: 6.0 MB (built and measured)
CREATE INDEX CONCURRENTLY IF NOT EXISTS "approvals_team_id_created_at_ff8f22_idx" ON "approvals"."approvals" USING btree ("team_id", "created_at");

-- serves: inventory.payouts_to_approve
-- inventory.payouts_to_approve: P95 5.89 ms [4.59, 6.26] -> 2.08 ms [1.51, 3.73] (planner cost 636 -> 318)
-- size: 160 kB (built and measured)
CREATE INDEX CONCURRENTLY IF NOT EXISTS "picker_payouts_period_start_427efb_idx" ON "inventory"."picker_payouts" USING btree ("period_start" DESC);

-- serves: approvals.detail, approvals.edit_history
-- approvals.detail: P95 149.20 ms [125.58, 202.43] -> 28.31 ms [25.95, 59.33] (planner cost 14483 -> 7165)
-- approvals.edit_history: P95 157.30 ms [139.15, 179.58] -> 56.35 ms [38.03, 134.86] (planner cost 14475 -> 7156)
-- size: 1.4 MB (built and measured)
CREATE INDEX CONCURRENTLY IF NOT EXISTS "approval_edits_approval_id_9b7e60_idx" ON "approvals"."approval_edits" USING btree ("approval_id");
