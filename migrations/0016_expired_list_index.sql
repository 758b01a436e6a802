-- pgperf:no-transaction
-- One index for api.approvals_list by team and status 'expired', written by hand (as 0012:
-- advise costs the function's statements only generically). Expired approvals are old pending
-- ones, so none sit near the top of the team's (team_id, created_at) index: a page of them
-- walked back through every newer approval of the team and filtered it out (status, an enum,
-- is not leakproof, so under RLS it is never an index condition): 21 443 buffers and over
-- 100 ms per call at scale 10 for approvals.team_list's expired draws. The partial index holds
-- only expired approvals, in the list's order: the same page in 33 buffers (planner proof of
-- the predicate from the status filter works under RLS).

-- serves: approvals.team_list with p_status => 'expired'.
CREATE INDEX CONCURRENTLY IF NOT EXISTS "approvals_expired_team_id_created_at_id_idx" ON "approvals"."approvals" USING btree ("team_id", "created_at", "id") WHERE "status" = 'expired';
