-- Undoes 0007: the child tables' read policies go back to the `IN (SELECT …)` form of 0003.

ALTER POLICY approval_grades_select ON approvals.approval_grades
    USING ((SELECT app.is_admin()) OR approval_id IN (
        SELECT a.id FROM approvals.approvals a WHERE a.team_id = (SELECT app.current_team_id())));

ALTER POLICY approval_edits_select ON approvals.approval_edits
    USING ((SELECT app.is_admin()) OR approval_id IN (
        SELECT a.id FROM approvals.approvals a WHERE a.team_id = (SELECT app.current_team_id())));

ALTER POLICY sla_breaches_select ON cx.sla_breaches
    USING ((SELECT app.is_admin()) OR conversation_id IN (
        SELECT c.id FROM cx.conversations c WHERE c.team_id = (SELECT app.current_team_id())));

ALTER POLICY quality_grades_select ON cx.quality_grades
    USING ((SELECT app.is_admin()) OR conversation_id IN (
        SELECT c.id FROM cx.conversations c WHERE c.team_id = (SELECT app.current_team_id())));
