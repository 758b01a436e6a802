-- pgperf:no-transaction
-- Indexes proposed by `pgperf advise`. Each statement runs on its own
-- (CREATE INDEX CONCURRENTLY cannot run in a transaction).
--
-- Emitted by `pgperf advise --scale 1 --migrations migrations --max-columns 4` (release build,
-- 2026-12-05, 55 s wall) on 0001-0010; one hand edit after review (the partitioned log, below).

-- serves: audit.row_history
-- audit.row_history: P95 86.81 ms [≥ 78.86] -> 0.62 ms [0.48, 0.82] (planner cost 9286 -> 45)
-- size: 2.2 MB (built and measured)
-- audit.log is partitioned by month: advise emitted the index ON ONLY the parent, one built
-- concurrently per partition and ATTACH PARTITION, naming the partitions of the day it ran
-- (log_2026_09 … log_2027_03). Those depend on the month the migrations run in, so this is a
-- plain CREATE INDEX on the parent, as in 0006: it takes a SHARE lock on the log while it
-- builds (audited writes wait, well under a second at scale 1), and partitions created later
-- by audit.apply_retention() get the index automatically.
CREATE INDEX IF NOT EXISTS "log_row_id_317102_idx" ON "audit"."log" USING btree ("row_id");

-- serves: cx.daily_rollup
-- cx.daily_rollup: P95 5.79 ms [≥ 3.08] -> 5.76 ms [3.22, 7.05] (planner cost 471 -> 421)
-- size: 144 kB (built and measured)
CREATE INDEX CONCURRENTLY IF NOT EXISTS "cx_daily_team_id_day_438242_idx" ON "rollup"."cx_daily" USING btree ("team_id", "day");
