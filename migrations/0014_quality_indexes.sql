-- pgperf:no-transaction
-- Two indexes for the data-quality tiles (quality.issues, quality.view: 5.8 s and 154 000
-- buffers per call at scale 10, issue 18), written by hand: `api.data_quality_issues` is a SQL
-- function with its own search_path, so it is never inlined and advise costs its body only
-- generically. Each serves one check of the function, which reads the same rows as before.

-- serves: the resolved_without_response check (conversations resolved with no first
-- response). Without it the check read every conversation the caller sees (53 700 buffers,
-- 0.7 s at scale 10) to find the few that break the rule; the partial index holds only those.
CREATE INDEX CONCURRENTLY IF NOT EXISTS "conversations_resolved_unanswered_id_idx" ON "cx"."conversations" USING btree ("id") WHERE "resolved_at" IS NOT NULL AND "first_response_at" IS NULL;

-- serves: the stale_inventory_snapshot check (a location's latest stock count). The primary
-- key (location_id, product_id, taken_at) cannot give a location's max(taken_at) without
-- reading every snapshot of it (10 700 buffers, 0.35 s at scale 10); this gives it in one
-- backward step per location.
CREATE INDEX CONCURRENTLY IF NOT EXISTS "inventory_snapshots_location_id_taken_at_idx" ON "inventory"."inventory_snapshots" USING btree ("location_id", "taken_at");
