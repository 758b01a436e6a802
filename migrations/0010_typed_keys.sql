-- Reads that scanned most of a table on every call, fixed in the schema (issue 18; the
-- measurements are in docs/benchmarks.md, "Dashboard at scale 0.1, 1 and 10 after the schema
-- fixes"). The indexes these shapes need come after, from `pgperf advise` (0011).
--
-- 1. audit.log.row_id: the row's bigint `id` as a typed column. Row history compared
--    `row_key = jsonb_build_object('id', …)`: jsonb equality is not leakproof, so under RLS
--    PostgreSQL may not evaluate it before the policy and no index can serve it; every call
--    read every partition. `row_id = $1` is a bigint comparison (leakproof). A stored
--    generated column: the log stays append-only (no UPDATE of old rows; adding it rewrites
--    the partitions instead), every writer fills it without knowing, and so does COPY.
-- 2. cx.sla_breaches.team_id: the team its read policy needs, so the policy is a column
--    test instead of a probe of the conversation per breach (or a hash of every conversation
--    of the team). Triggers keep it right whoever writes: a breach's insert or update of its
--    conversation or team takes the conversation's team, and a conversation moved to another
--    team takes its breaches along. (A foreign key on (conversation_id, team_id) would need a
--    second unique index on conversations that its primary key already implies.)
-- 3. api.approvals_list: static statements, one per access path (assignee, team, neither),
--    instead of SQL built at run time (which neither advise nor the plan cache could see),
--    with keyset paging as one row comparison that an index on (…, created_at, id) serves.

-- ─── 1. audit: typed row key ────────────────────────────────────────────────────────────
-- Only keys that are a single integer `id` (every audited table but app.users, keyed by uuid);
-- the pattern keeps a malformed key from failing the audited write.
ALTER TABLE audit.log ADD COLUMN row_id bigint GENERATED ALWAYS AS (
    CASE WHEN jsonb_typeof(row_key -> 'id') = 'number' AND (row_key ->> 'id') ~ '^-?[0-9]{1,18}$'
         THEN (row_key ->> 'id')::bigint END) STORED;
COMMENT ON COLUMN audit.log.row_id IS 'row_key''s id as a bigint when the key is an integer id (null otherwise): look a row''s history up by this, a leakproof comparison that an index can serve under RLS.';

-- ─── 2. SLA breaches: the team their policy needs ───────────────────────────────────────
CREATE FUNCTION cx.set_breach_team() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
    AS $fn$
    BEGIN
        -- As the owner: the writer may not see the conversation under RLS, and must not be
        -- able to choose the team.
        -- An unknown conversation leaves it as given: the foreign key on conversation_id then
        -- names the real problem.
        NEW.team_id := coalesce((SELECT c.team_id FROM cx.conversations c WHERE c.id = NEW.conversation_id),
                                NEW.team_id);
        RETURN NEW;
    END
    $fn$;
COMMENT ON FUNCTION cx.set_breach_team() IS 'BEFORE INSERT or UPDATE OF conversation_id, team_id trigger of cx.sla_breaches: sets team_id to the conversation''s team.';

CREATE FUNCTION cx.move_breaches() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
    AS $fn$
    BEGIN
        -- As the owner: whoever may move a conversation moves its breaches, which only jobs
        -- and admins may write.
        UPDATE cx.sla_breaches b SET team_id = NEW.team_id WHERE b.conversation_id = NEW.id;
        RETURN NULL;
    END
    $fn$;
COMMENT ON FUNCTION cx.move_breaches() IS 'AFTER UPDATE OF team_id trigger of cx.conversations: moves the conversation''s SLA breaches to its new team.';
REVOKE ALL ON FUNCTION cx.set_breach_team(), cx.move_breaches() FROM PUBLIC;

ALTER TABLE cx.sla_breaches ADD COLUMN team_id bigint;
COMMENT ON COLUMN cx.sla_breaches.team_id IS 'Team of the conversation (RLS isolation key), kept equal to it by triggers on both tables.';
-- Existing rows: an ordinary audited UPDATE (the audit log records every write).
UPDATE cx.sla_breaches b SET team_id = c.team_id FROM cx.conversations c WHERE c.id = b.conversation_id;
ALTER TABLE cx.sla_breaches ALTER COLUMN team_id SET NOT NULL;
CREATE TRIGGER sla_breaches_team BEFORE INSERT OR UPDATE OF conversation_id, team_id ON cx.sla_breaches
    FOR EACH ROW EXECUTE FUNCTION cx.set_breach_team();
CREATE TRIGGER conversations_move_breaches AFTER UPDATE OF team_id ON cx.conversations
    FOR EACH ROW WHEN (OLD.team_id IS DISTINCT FROM NEW.team_id) EXECUTE FUNCTION cx.move_breaches();

ALTER POLICY sla_breaches_select ON cx.sla_breaches
    USING (team_id = ANY ((SELECT app.visible_team_ids())::bigint[]));

-- ─── 3. approvals list: static statements with keyset paging ────────────────────────────
CREATE OR REPLACE FUNCTION api.approvals_list(
    p_status approvals.approval_status DEFAULT NULL,
    p_assignee_id uuid DEFAULT NULL,
    p_team_id bigint DEFAULT NULL,
    p_kind approvals.approval_kind DEFAULT NULL,
    p_created_from timestamptz DEFAULT NULL,
    p_created_to timestamptz DEFAULT NULL,
    p_after_created_at timestamptz DEFAULT NULL,
    p_after_id bigint DEFAULT NULL,
    p_limit integer DEFAULT 50)
    RETURNS TABLE (id bigint, kind approvals.approval_kind, subject text, status approvals.approval_status,
                   requester_id uuid, assignee_id uuid, team_id bigint, amount_cents bigint,
                   created_at timestamptz, decided_at timestamptz)
    LANGUAGE plpgsql STABLE SECURITY INVOKER SET search_path = ''
    -- Planned with the call's values every time, as the EXECUTE form was: a cached generic plan
    -- cannot tell a narrow window or rare kind from a wide one and may read the team's whole
    -- window instead of stopping after one page. Planning costs well under a millisecond.
    SET plan_cache_mode = force_custom_plan
    AS $fn$
    DECLARE
        -- Rows come newest first in (created_at, id) order and stop before (before_at,
        -- before_id): the last row of the previous page, else p_created_to (any id), else past
        -- every row. One row comparison covers both upper bounds, so the index scan starts
        -- at the page and never reads the rows before it.
        before_at timestamptz;
        before_id bigint;
        from_at timestamptz := coalesce(p_created_from, '-infinity');
        -- The team to list: the filter, else the caller's one visible team (everyone but
        -- admins). The same rows as the policy's `team_id = ANY (…)` leaves, but an equality
        -- lets the (team_id, created_at) index return them in order.
        team bigint := p_team_id;
        visible bigint[];
    BEGIN
        IF p_limit IS NULL OR p_limit NOT BETWEEN 1 AND 500 THEN
            RAISE EXCEPTION 'p_limit must be between 1 and 500, got %', p_limit USING ERRCODE = 'invalid_parameter_value';
        END IF;
        IF (p_after_created_at IS NULL) <> (p_after_id IS NULL) THEN
            RAISE EXCEPTION 'p_after_created_at and p_after_id page together: give both or neither'
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        IF p_after_id IS NOT NULL AND (p_created_to IS NULL OR p_after_created_at < p_created_to) THEN
            before_at := p_after_created_at;
            before_id := p_after_id;
        ELSIF p_created_to IS NOT NULL THEN
            before_at := p_created_to;
            before_id := -9223372036854775808;
        ELSE
            -- Excludes only a row created at 'infinity' with the largest bigint id.
            before_at := 'infinity';
            before_id := 9223372036854775807;
        END IF;
        IF team IS NULL THEN
            visible := app.visible_team_ids();
            IF cardinality(visible) = 1 THEN
                team := visible[1];
            END IF;
        END IF;
        -- One static statement per access path: the assignee's or the team's rows, else every
        -- team's (admins); each served by an index on (that key, created_at[, id]) read
        -- backwards. Status and kind only filter: enum equality is not leakproof, so under
        -- RLS PostgreSQL never makes it an index condition.
        IF p_assignee_id IS NOT NULL THEN
            RETURN QUERY
                SELECT a.id, a.kind, a.subject, a.status, a.requester_id, a.assignee_id, a.team_id,
                       a.amount_cents, a.created_at, a.decided_at
                FROM approvals.approvals a
                WHERE a.assignee_id = p_assignee_id
                  AND a.created_at >= from_at AND (a.created_at, a.id) < (before_at, before_id)
                  AND (p_team_id IS NULL OR a.team_id = p_team_id)
                  AND (p_status IS NULL OR a.status = p_status) AND (p_kind IS NULL OR a.kind = p_kind)
                ORDER BY a.created_at DESC, a.id DESC
                LIMIT p_limit;
        ELSIF team IS NOT NULL THEN
            RETURN QUERY
                SELECT a.id, a.kind, a.subject, a.status, a.requester_id, a.assignee_id, a.team_id,
                       a.amount_cents, a.created_at, a.decided_at
                FROM approvals.approvals a
                WHERE a.team_id = team
                  AND a.created_at >= from_at AND (a.created_at, a.id) < (before_at, before_id)
                  AND (p_status IS NULL OR a.status = p_status) AND (p_kind IS NULL OR a.kind = p_kind)
                ORDER BY a.created_at DESC, a.id DESC
                LIMIT p_limit;
        ELSE
            RETURN QUERY
                SELECT a.id, a.kind, a.subject, a.status, a.requester_id, a.assignee_id, a.team_id,
                       a.amount_cents, a.created_at, a.decided_at
                FROM approvals.approvals a
                WHERE a.created_at >= from_at AND (a.created_at, a.id) < (before_at, before_id)
                  AND (p_status IS NULL OR a.status = p_status) AND (p_kind IS NULL OR a.kind = p_kind)
                ORDER BY a.created_at DESC, a.id DESC
                LIMIT p_limit;
        END IF;
    END
    $fn$;
