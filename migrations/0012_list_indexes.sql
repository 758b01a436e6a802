-- pgperf:no-transaction
-- Two indexes for the operators' queues, written by hand: `pgperf advise` costs a function
-- body only with a generic plan, so on the dashboard workload (0011) it could not tell which
-- static statement of api.approvals_list a call runs, and it proposes no partial index for an
-- IN list. Run on the function's statements as their own workload with the dashboard's values
-- (docs/benchmarks.md, "Dashboard at scale 0.1, 1 and 10 after the schema fixes"), advise
-- took the pending queue from 4 492 buffers per call to 57 with a partial index for pending
-- rows only; the index below serves every status. Each returns rows in the list's order, so
-- a queue page reads about its own rows whatever the table's size.

-- serves: approvals.my_queue (an assignee's approvals newest first). Status only filters: an
-- enum comparison is not leakproof, so under RLS it cannot be an index condition, and an index
-- with status before created_at could not return the rows in order.
CREATE INDEX CONCURRENTLY IF NOT EXISTS "approvals_assignee_id_created_at_id_idx" ON "approvals"."approvals" USING btree ("assignee_id", "created_at", "id");

-- serves: cx.my_open_conversations (an agent's open and pending conversations, oldest first);
-- (assignee_id, team_id, status) of 0009 finds them but then sorts all of them.
CREATE INDEX CONCURRENTLY IF NOT EXISTS "conversations_open_assignee_id_opened_at_idx" ON "cx"."conversations" USING btree ("assignee_id", "opened_at") WHERE "status" IN ('open', 'pending');
