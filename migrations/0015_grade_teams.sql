-- The grades' team on the row (issue 18): approvals.grades_by_rubric (4.9 s, 142 000 buffers
-- per call at scale 10) and cx.quality_by_assignee (3.1 s, 103 000) aggregate a window of
-- grades that grows with the data, and the grades' read policies probe the parent per grade
-- (0007), so every team's grades of the window were read and checked one by one. With the
-- parent's team on each grade, the read policies are a column test, as for cx.sla_breaches
-- (0010) and inventory.picker_payouts (0013), and an index on (team_id, graded_at) with the
-- aggregated columns returns the caller's team's window without touching other teams' rows.
-- The grades-by-rubric tile then needs no join to approvals: a grade is visible exactly when
-- its approval is (both test the same team against app.visible_team_ids()).
--
-- Kept right by triggers, as 0010's: a grade's insert or update of its parent or team takes
-- the parent's team, and a parent moved to another team takes its grades along. Only the read
-- policies change: writes are rare and keep their checks.

-- ─── approvals.approval_grades ──────────────────────────────────────────────────────────
CREATE FUNCTION approvals.set_grade_team() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
    AS $fn$
    BEGIN
        -- As the owner: the writer must not be able to choose the team. An unknown approval
        -- leaves it as given: the foreign key on approval_id then names the real problem.
        NEW.team_id := coalesce((SELECT a.team_id FROM approvals.approvals a WHERE a.id = NEW.approval_id),
                                NEW.team_id);
        RETURN NEW;
    END
    $fn$;
COMMENT ON FUNCTION approvals.set_grade_team() IS 'BEFORE INSERT or UPDATE OF approval_id, team_id trigger of approvals.approval_grades: sets team_id to the approval''s team.';

CREATE FUNCTION approvals.move_grades() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
    AS $fn$
    BEGIN
        -- As the owner: whoever may move an approval moves its grades, which they may not write.
        UPDATE approvals.approval_grades g SET team_id = NEW.team_id WHERE g.approval_id = NEW.id;
        RETURN NULL;
    END
    $fn$;
COMMENT ON FUNCTION approvals.move_grades() IS 'AFTER UPDATE OF team_id trigger of approvals.approvals: moves the approval''s grades to its new team.';
REVOKE ALL ON FUNCTION approvals.set_grade_team(), approvals.move_grades() FROM PUBLIC;

ALTER TABLE approvals.approval_grades ADD COLUMN team_id bigint;
COMMENT ON COLUMN approvals.approval_grades.team_id IS 'Team of the approval (RLS isolation key), kept equal to it by triggers on both tables.';
-- Existing rows: an ordinary audited UPDATE (the audit log records every write).
UPDATE approvals.approval_grades g SET team_id = a.team_id FROM approvals.approvals a WHERE a.id = g.approval_id;
ALTER TABLE approvals.approval_grades ALTER COLUMN team_id SET NOT NULL;
CREATE TRIGGER approval_grades_team BEFORE INSERT OR UPDATE OF approval_id, team_id ON approvals.approval_grades
    FOR EACH ROW EXECUTE FUNCTION approvals.set_grade_team();
CREATE TRIGGER approvals_move_grades AFTER UPDATE OF team_id ON approvals.approvals
    FOR EACH ROW WHEN (OLD.team_id IS DISTINCT FROM NEW.team_id) EXECUTE FUNCTION approvals.move_grades();

ALTER POLICY approval_grades_select ON approvals.approval_grades
    USING (team_id = ANY ((SELECT app.visible_team_ids())::bigint[]));

-- serves: approvals.grades_by_rubric (a team's grades of the last 90 days per rubric), read
-- from the index alone. It replaces 0008's (graded_at), which served that tile only: with it
-- the planner, which assumes ten teams in the policy's array, may read every team's window.
CREATE INDEX approval_grades_team_id_graded_at_idx ON approvals.approval_grades (team_id, graded_at) INCLUDE (rubric, score);
DROP INDEX approvals.approval_grades_graded_at_80fb0c_idx;

-- ─── cx.quality_grades ──────────────────────────────────────────────────────────────────
CREATE FUNCTION cx.set_quality_grade_team() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
    AS $fn$
    BEGIN
        -- As the owner, and an unknown conversation left to its foreign key, as set_breach_team.
        NEW.team_id := coalesce((SELECT c.team_id FROM cx.conversations c WHERE c.id = NEW.conversation_id),
                                NEW.team_id);
        RETURN NEW;
    END
    $fn$;
COMMENT ON FUNCTION cx.set_quality_grade_team() IS 'BEFORE INSERT or UPDATE OF conversation_id, team_id trigger of cx.quality_grades: sets team_id to the conversation''s team.';

CREATE FUNCTION cx.move_quality_grades() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
    AS $fn$
    BEGIN
        -- As the owner: whoever may move a conversation moves its grades.
        UPDATE cx.quality_grades q SET team_id = NEW.team_id WHERE q.conversation_id = NEW.id;
        RETURN NULL;
    END
    $fn$;
COMMENT ON FUNCTION cx.move_quality_grades() IS 'AFTER UPDATE OF team_id trigger of cx.conversations: moves the conversation''s quality grades to its new team.';
REVOKE ALL ON FUNCTION cx.set_quality_grade_team(), cx.move_quality_grades() FROM PUBLIC;

ALTER TABLE cx.quality_grades ADD COLUMN team_id bigint;
COMMENT ON COLUMN cx.quality_grades.team_id IS 'Team of the conversation (RLS isolation key), kept equal to it by triggers on both tables.';
UPDATE cx.quality_grades q SET team_id = c.team_id FROM cx.conversations c WHERE c.id = q.conversation_id;
ALTER TABLE cx.quality_grades ALTER COLUMN team_id SET NOT NULL;
CREATE TRIGGER quality_grades_team BEFORE INSERT OR UPDATE OF conversation_id, team_id ON cx.quality_grades
    FOR EACH ROW EXECUTE FUNCTION cx.set_quality_grade_team();
CREATE TRIGGER conversations_move_quality_grades AFTER UPDATE OF team_id ON cx.conversations
    FOR EACH ROW WHEN (OLD.team_id IS DISTINCT FROM NEW.team_id) EXECUTE FUNCTION cx.move_quality_grades();

ALTER POLICY quality_grades_select ON cx.quality_grades
    USING (team_id = ANY ((SELECT app.visible_team_ids())::bigint[]));

-- serves: cx.quality_by_assignee (a team's grades of a 30-90 day window per assignee): the
-- team's window from the index alone, then each grade's conversation by its primary key for
-- the assignee.
CREATE INDEX quality_grades_team_id_graded_at_idx ON cx.quality_grades (team_id, graded_at) INCLUDE (conversation_id, score);
