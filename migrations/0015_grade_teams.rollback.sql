-- Undoes 0015: the grades' read policies probe the parent again (as in 0007), 0008's index on
-- the grading time comes back, and the team columns, their indexes and triggers go.

DROP INDEX cx.quality_grades_team_id_graded_at_idx;
ALTER POLICY quality_grades_select ON cx.quality_grades
    USING ((SELECT app.is_admin()) OR EXISTS (
        SELECT 1 FROM cx.conversations c
        WHERE c.id = quality_grades.conversation_id AND c.team_id = (SELECT app.current_team_id())));
DROP TRIGGER conversations_move_quality_grades ON cx.conversations;
DROP TRIGGER quality_grades_team ON cx.quality_grades;
ALTER TABLE cx.quality_grades DROP COLUMN team_id;
DROP FUNCTION cx.move_quality_grades();
DROP FUNCTION cx.set_quality_grade_team();

CREATE INDEX approval_grades_graded_at_80fb0c_idx ON approvals.approval_grades USING btree (graded_at);
DROP INDEX approvals.approval_grades_team_id_graded_at_idx;
ALTER POLICY approval_grades_select ON approvals.approval_grades
    USING ((SELECT app.is_admin()) OR EXISTS (
        SELECT 1 FROM approvals.approvals a
        WHERE a.id = approval_grades.approval_id AND a.team_id = (SELECT app.current_team_id())));
DROP TRIGGER approvals_move_grades ON approvals.approvals;
DROP TRIGGER approval_grades_team ON approvals.approval_grades;
ALTER TABLE approvals.approval_grades DROP COLUMN team_id;
DROP FUNCTION approvals.move_grades();
DROP FUNCTION approvals.set_grade_team();
