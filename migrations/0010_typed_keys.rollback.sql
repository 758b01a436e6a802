-- Undoes 0010: api.approvals_list builds its statement at run time again (as in 0005), the
-- SLA breaches' read policy checks the conversation (as in 0007), and the typed keys go.

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
    AS $fn$
    DECLARE
        predicates text[] := ARRAY['true'];
    BEGIN
        IF p_limit IS NULL OR p_limit NOT BETWEEN 1 AND 500 THEN
            RAISE EXCEPTION 'p_limit must be between 1 and 500, got %', p_limit USING ERRCODE = 'invalid_parameter_value';
        END IF;
        IF (p_after_created_at IS NULL) <> (p_after_id IS NULL) THEN
            RAISE EXCEPTION 'p_after_created_at and p_after_id page together: give both or neither'
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        -- Only the filters given become predicates, each a plain comparison an index can
        -- serve; the statement is planned with the actual values (skewed statuses).
        IF p_status IS NOT NULL THEN predicates := predicates || 'a.status = $1'::text; END IF;
        IF p_assignee_id IS NOT NULL THEN predicates := predicates || 'a.assignee_id = $2'::text; END IF;
        IF p_team_id IS NOT NULL THEN predicates := predicates || 'a.team_id = $3'::text; END IF;
        IF p_kind IS NOT NULL THEN predicates := predicates || 'a.kind = $4'::text; END IF;
        IF p_created_from IS NOT NULL THEN predicates := predicates || 'a.created_at >= $5'::text; END IF;
        IF p_created_to IS NOT NULL THEN predicates := predicates || 'a.created_at < $6'::text; END IF;
        IF p_after_id IS NOT NULL THEN predicates := predicates || '(a.created_at, a.id) < ($7, $8)'::text; END IF;
        RETURN QUERY EXECUTE format(
            'SELECT a.id, a.kind, a.subject, a.status, a.requester_id, a.assignee_id, a.team_id,
                    a.amount_cents, a.created_at, a.decided_at
             FROM approvals.approvals a
             WHERE %s
             ORDER BY a.created_at DESC, a.id DESC
             LIMIT $9', array_to_string(predicates, ' AND '))
            USING p_status, p_assignee_id, p_team_id, p_kind, p_created_from, p_created_to,
                  p_after_created_at, p_after_id, p_limit;
    END
    $fn$;

ALTER POLICY sla_breaches_select ON cx.sla_breaches
    USING ((SELECT app.is_admin()) OR EXISTS (
        SELECT 1 FROM cx.conversations c
        WHERE c.id = sla_breaches.conversation_id AND c.team_id = (SELECT app.current_team_id())));
DROP TRIGGER conversations_move_breaches ON cx.conversations;
DROP TRIGGER sla_breaches_team ON cx.sla_breaches;
ALTER TABLE cx.sla_breaches DROP COLUMN team_id;
DROP FUNCTION cx.move_breaches();
DROP FUNCTION cx.set_breach_team();

ALTER TABLE audit.log DROP COLUMN row_id;
