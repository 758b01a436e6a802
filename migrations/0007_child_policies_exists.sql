-- Child tables check visibility through their parent with a correlated EXISTS instead of
-- `parent_id IN (SELECT id FROM parent WHERE team_id = …)`.
--
-- Under `(SELECT app.is_admin()) OR …` the IN form cannot become a semi-join; PostgreSQL
-- plans it as a hashed SubPlan that reads every parent row of the caller's team (40 709
-- approvals or 50 989 conversations at scale 1) on every statement, even when the statement
-- reads two child rows by an indexed key. An EXISTS gives the planner both forms (a
-- primary-key probe per child row, or the same hash when many child rows are read) and it
-- picks the cheaper per statement. Who sees what does not change.

ALTER POLICY approval_grades_select ON approvals.approval_grades
    USING ((SELECT app.is_admin()) OR EXISTS (
        SELECT 1 FROM approvals.approvals a
        WHERE a.id = approval_grades.approval_id AND a.team_id = (SELECT app.current_team_id())));

ALTER POLICY approval_edits_select ON approvals.approval_edits
    USING ((SELECT app.is_admin()) OR EXISTS (
        SELECT 1 FROM approvals.approvals a
        WHERE a.id = approval_edits.approval_id AND a.team_id = (SELECT app.current_team_id())));

ALTER POLICY sla_breaches_select ON cx.sla_breaches
    USING ((SELECT app.is_admin()) OR EXISTS (
        SELECT 1 FROM cx.conversations c
        WHERE c.id = sla_breaches.conversation_id AND c.team_id = (SELECT app.current_team_id())));

ALTER POLICY quality_grades_select ON cx.quality_grades
    USING ((SELECT app.is_admin()) OR EXISTS (
        SELECT 1 FROM cx.conversations c
        WHERE c.id = quality_grades.conversation_id AND c.team_id = (SELECT app.current_team_id())));
