-- Row Level Security and least-privilege grants for the control-center tables.
--
-- Callers arrive as the `authenticated` role with JWT claims (request.jwt.claims):
--   sub (uuid of the app user), role = "authenticated", app_role (viewer|operator|manager|admin),
--   team_id (bigint). `anon` gets nothing; `service_role` (jobs) bypasses RLS.
-- Policies wrap every claim lookup in a scalar subquery, `(SELECT app.current_team_id())`, so it
-- is evaluated once per statement (an InitPlan), per Supabase's RLS performance guidance, and
-- compare plain columns to it so that indexes on team_id / foreign keys can serve them.
-- The policy matrix is in docs/specs/security.md.

-- ─── claim helpers ──────────────────────────────────────────────────────────────────────
CREATE FUNCTION app.current_user_id() RETURNS uuid
    LANGUAGE sql STABLE SECURITY INVOKER SET search_path = ''
    AS $$ SELECT auth.uid() $$;
COMMENT ON FUNCTION app.current_user_id() IS 'The caller''s user id (JWT sub claim), or null without claims.';

CREATE FUNCTION app.current_app_role() RETURNS app.app_role
    LANGUAGE sql STABLE SECURITY INVOKER SET search_path = ''
    AS $$
        SELECT CASE WHEN auth.jwt() ->> 'app_role' IN ('viewer', 'operator', 'manager', 'admin')
                    THEN (auth.jwt() ->> 'app_role')::app.app_role END
    $$;
COMMENT ON FUNCTION app.current_app_role() IS 'The caller''s app_role claim; null when missing or not one of viewer, operator, manager, admin (so every policy denies).';

CREATE FUNCTION app.current_team_id() RETURNS bigint
    LANGUAGE sql STABLE SECURITY INVOKER SET search_path = ''
    AS $$
        SELECT CASE WHEN auth.jwt() ->> 'team_id' ~ '^[0-9]{1,18}$'
                    THEN (auth.jwt() ->> 'team_id')::bigint END
    $$;
COMMENT ON FUNCTION app.current_team_id() IS 'The caller''s team_id claim; null when missing or not an integer (so every team policy denies).';

CREATE FUNCTION app.has_app_role(minimum app.app_role) RETURNS boolean
    LANGUAGE sql STABLE SECURITY INVOKER SET search_path = ''
    AS $$ SELECT coalesce(app.current_app_role() >= minimum, false) $$;
COMMENT ON FUNCTION app.has_app_role(app.app_role) IS 'True when the caller''s app_role is at least `minimum` (viewer < operator < manager < admin).';

CREATE FUNCTION app.is_admin() RETURNS boolean
    LANGUAGE sql STABLE SECURITY INVOKER SET search_path = ''
    AS $$ SELECT coalesce(app.current_app_role() = 'admin', false) $$;
COMMENT ON FUNCTION app.is_admin() IS 'True when the caller''s app_role is admin.';

CREATE FUNCTION app.visible_team_ids() RETURNS bigint[]
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ''
    AS $$
        SELECT CASE
            WHEN app.is_admin() THEN (SELECT coalesce(array_agg(t.id ORDER BY t.id), '{}') FROM app.teams t)
            WHEN app.current_app_role() IS NOT NULL AND app.current_team_id() IS NOT NULL THEN ARRAY[app.current_team_id()]
            ELSE '{}'::bigint[]
        END
    $$;
COMMENT ON FUNCTION app.visible_team_ids() IS 'Teams whose rows the caller may read: every team for admins, the team_id claim otherwise, none without valid claims. Policies compare `team_id = ANY ((SELECT app.visible_team_ids())::bigint[])`, an index condition, where `is_admin() OR team_id = ...` would only be a filter. SECURITY DEFINER so reading app.teams does not recurse into its own policy.';

-- ─── RLS on 100% of tables ──────────────────────────────────────────────────────────────
DO $do$
DECLARE
    t record;
BEGIN
    FOR t IN SELECT schemaname, tablename FROM pg_catalog.pg_tables
             WHERE schemaname IN ('app', 'approvals', 'inventory', 'cx', 'growth') LOOP
        EXECUTE format('ALTER TABLE %I.%I ENABLE ROW LEVEL SECURITY', t.schemaname, t.tablename);
        EXECUTE format('ALTER TABLE %I.%I FORCE ROW LEVEL SECURITY', t.schemaname, t.tablename);
    END LOOP;
END
$do$;

-- ─── grants ─────────────────────────────────────────────────────────────────────────────
GRANT USAGE ON SCHEMA app, approvals, inventory, cx, growth TO authenticated, service_role;
REVOKE ALL ON FUNCTION app.current_user_id(), app.current_app_role(), app.current_team_id(),
    app.has_app_role(app.app_role), app.is_admin(), app.visible_team_ids() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.current_user_id(), app.current_app_role(), app.current_team_id(),
    app.has_app_role(app.app_role), app.is_admin(), app.visible_team_ids() TO authenticated, service_role;

-- Jobs: full DML, RLS bypassed by the role attribute; never TRUNCATE.
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA app, approvals, inventory, cx, growth TO service_role;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA app, approvals, inventory, cx, growth TO service_role;

-- Dashboard users: DML privileges where some app_role may write; the policies below decide
-- which rows. PII columns (app.users.display_name/email, cx.conversations.customer_*) are not
-- readable at all: they are served by app.user_contact() / cx.conversation_contact(), which
-- check the caller's app_role.
GRANT SELECT (id, team_id, app_role, active, created_at), INSERT, UPDATE, DELETE ON app.users TO authenticated;
GRANT SELECT (id, team_id, channel, priority, status, assignee_id, subject, opened_at,
              first_response_at, resolved_at), INSERT, UPDATE, DELETE ON cx.conversations TO authenticated;
GRANT SELECT, INSERT, UPDATE, DELETE ON
    app.teams,
    approvals.approvals, approvals.approval_grades, approvals.approval_edits,
    inventory.locations, inventory.products, inventory.supplier_lead_times,
    inventory.inventory_snapshots, inventory.sales_velocity, inventory.picker_payouts,
    cx.sla_targets, cx.sla_breaches, cx.quality_grades,
    growth.seo_pages, growth.seo_rankings, growth.ad_campaigns, growth.ad_daily_metrics,
    growth.content_items, growth.content_daily_engagement
    TO authenticated;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA app, approvals, inventory, cx, growth TO authenticated;

-- ─── policies ───────────────────────────────────────────────────────────────────────────
-- Reads of team rows compare `team_id = ANY ((SELECT app.visible_team_ids())::bigint[])`, and reads of
-- a location's, page's, campaign's or content item's daily rows compare the parent id with
-- the array of visible parents: both are index conditions. Children of approvals and
-- conversations (too many parents for an array) use a hashed subquery on the parent.
-- Naming: <table>_<command>. One permissive policy per command and table (several permissive
-- policies are OR-ed and each evaluated; one is cheaper). Admin may do everything everywhere.

-- app.teams: members see their team; admins manage teams.
CREATE POLICY teams_select ON app.teams FOR SELECT TO authenticated
    USING (id = ANY ((SELECT app.visible_team_ids())::bigint[]));
CREATE POLICY teams_insert ON app.teams FOR INSERT TO authenticated WITH CHECK ((SELECT app.is_admin()));
CREATE POLICY teams_update ON app.teams FOR UPDATE TO authenticated
    USING ((SELECT app.is_admin())) WITH CHECK ((SELECT app.is_admin()));
CREATE POLICY teams_delete ON app.teams FOR DELETE TO authenticated USING ((SELECT app.is_admin()));

-- app.users: members see their team's users (non-PII columns); admins manage users.
CREATE POLICY users_select ON app.users FOR SELECT TO authenticated
    USING (team_id = ANY ((SELECT app.visible_team_ids())::bigint[]));
CREATE POLICY users_insert ON app.users FOR INSERT TO authenticated WITH CHECK ((SELECT app.is_admin()));
CREATE POLICY users_update ON app.users FOR UPDATE TO authenticated
    USING ((SELECT app.is_admin())) WITH CHECK ((SELECT app.is_admin()));
CREATE POLICY users_delete ON app.users FOR DELETE TO authenticated USING ((SELECT app.is_admin()));

-- approvals.approvals: the team reads; operators file and work pending ones (unassigned or
-- assigned to them) without deciding; managers decide their team's; admins everything.
CREATE POLICY approvals_select ON approvals.approvals FOR SELECT TO authenticated
    USING (team_id = ANY ((SELECT app.visible_team_ids())::bigint[]));
CREATE POLICY approvals_insert ON approvals.approvals FOR INSERT TO authenticated
    WITH CHECK ((SELECT app.is_admin())
        OR ((SELECT app.has_app_role('operator')) AND team_id = (SELECT app.current_team_id())
            AND requester_id = (SELECT app.current_user_id()) AND status = 'pending'));
CREATE POLICY approvals_update ON approvals.approvals FOR UPDATE TO authenticated
    USING ((SELECT app.is_admin())
        OR ((SELECT app.has_app_role('manager')) AND team_id = (SELECT app.current_team_id()))
        OR ((SELECT app.has_app_role('operator')) AND team_id = (SELECT app.current_team_id())
            AND status = 'pending'
            AND (assignee_id IS NULL OR assignee_id = (SELECT app.current_user_id()))))
    WITH CHECK ((SELECT app.is_admin())
        OR ((SELECT app.has_app_role('manager')) AND team_id = (SELECT app.current_team_id()))
        OR ((SELECT app.has_app_role('operator')) AND team_id = (SELECT app.current_team_id())
            AND status = 'pending'
            AND (assignee_id IS NULL OR assignee_id = (SELECT app.current_user_id()))));
CREATE POLICY approvals_delete ON approvals.approvals FOR DELETE TO authenticated USING ((SELECT app.is_admin()));

-- approvals.approval_grades: the team reads; managers grade their team's decisions as
-- themselves and may revise their own grades; admins everything.
CREATE POLICY approval_grades_select ON approvals.approval_grades FOR SELECT TO authenticated
    USING ((SELECT app.is_admin()) OR approval_id IN (
        SELECT a.id FROM approvals.approvals a WHERE a.team_id = (SELECT app.current_team_id())));
CREATE POLICY approval_grades_insert ON approvals.approval_grades FOR INSERT TO authenticated
    WITH CHECK ((SELECT app.is_admin())
        OR ((SELECT app.has_app_role('manager')) AND grader_id = (SELECT app.current_user_id())
            AND approval_id IN (SELECT a.id FROM approvals.approvals a
                                WHERE a.team_id = (SELECT app.current_team_id()))));
CREATE POLICY approval_grades_update ON approvals.approval_grades FOR UPDATE TO authenticated
    USING ((SELECT app.is_admin())
        OR ((SELECT app.has_app_role('manager')) AND grader_id = (SELECT app.current_user_id())))
    WITH CHECK ((SELECT app.is_admin())
        OR ((SELECT app.has_app_role('manager')) AND grader_id = (SELECT app.current_user_id())
            AND approval_id IN (SELECT a.id FROM approvals.approvals a
                                WHERE a.team_id = (SELECT app.current_team_id()))));
CREATE POLICY approval_grades_delete ON approvals.approval_grades FOR DELETE TO authenticated
    USING ((SELECT app.is_admin()));

-- approvals.approval_edits: the team reads; operators and managers record edits of their
-- team's approvals as themselves; edits are history: only admins change or remove them.
CREATE POLICY approval_edits_select ON approvals.approval_edits FOR SELECT TO authenticated
    USING ((SELECT app.is_admin()) OR approval_id IN (
        SELECT a.id FROM approvals.approvals a WHERE a.team_id = (SELECT app.current_team_id())));
CREATE POLICY approval_edits_insert ON approvals.approval_edits FOR INSERT TO authenticated
    WITH CHECK ((SELECT app.is_admin())
        OR ((SELECT app.has_app_role('operator')) AND editor_id = (SELECT app.current_user_id())
            AND approval_id IN (SELECT a.id FROM approvals.approvals a
                                WHERE a.team_id = (SELECT app.current_team_id()))));
CREATE POLICY approval_edits_update ON approvals.approval_edits FOR UPDATE TO authenticated
    USING ((SELECT app.is_admin())) WITH CHECK ((SELECT app.is_admin()));
CREATE POLICY approval_edits_delete ON approvals.approval_edits FOR DELETE TO authenticated
    USING ((SELECT app.is_admin()));

-- inventory.locations: the team reads its locations; admins manage them.
CREATE POLICY locations_select ON inventory.locations FOR SELECT TO authenticated
    USING (team_id = ANY ((SELECT app.visible_team_ids())::bigint[]));
CREATE POLICY locations_insert ON inventory.locations FOR INSERT TO authenticated WITH CHECK ((SELECT app.is_admin()));
CREATE POLICY locations_update ON inventory.locations FOR UPDATE TO authenticated
    USING ((SELECT app.is_admin())) WITH CHECK ((SELECT app.is_admin()));
CREATE POLICY locations_delete ON inventory.locations FOR DELETE TO authenticated USING ((SELECT app.is_admin()));

-- inventory.products and supplier_lead_times: a shared catalogue every app role reads;
-- admins manage it.
CREATE POLICY products_select ON inventory.products FOR SELECT TO authenticated
    USING ((SELECT app.current_app_role()) IS NOT NULL);
CREATE POLICY products_insert ON inventory.products FOR INSERT TO authenticated WITH CHECK ((SELECT app.is_admin()));
CREATE POLICY products_update ON inventory.products FOR UPDATE TO authenticated
    USING ((SELECT app.is_admin())) WITH CHECK ((SELECT app.is_admin()));
CREATE POLICY products_delete ON inventory.products FOR DELETE TO authenticated USING ((SELECT app.is_admin()));

CREATE POLICY supplier_lead_times_select ON inventory.supplier_lead_times FOR SELECT TO authenticated
    USING ((SELECT app.current_app_role()) IS NOT NULL);
CREATE POLICY supplier_lead_times_insert ON inventory.supplier_lead_times FOR INSERT TO authenticated
    WITH CHECK ((SELECT app.is_admin()));
CREATE POLICY supplier_lead_times_update ON inventory.supplier_lead_times FOR UPDATE TO authenticated
    USING ((SELECT app.is_admin())) WITH CHECK ((SELECT app.is_admin()));
CREATE POLICY supplier_lead_times_delete ON inventory.supplier_lead_times FOR DELETE TO authenticated
    USING ((SELECT app.is_admin()));

-- inventory.inventory_snapshots and sales_velocity: time series of a location, read by its
-- team; written by jobs (service_role) and admins.
CREATE POLICY inventory_snapshots_select ON inventory.inventory_snapshots FOR SELECT TO authenticated
    USING (location_id = ANY ((SELECT array_agg(l.id) FROM inventory.locations l
                                 WHERE l.team_id = ANY ((SELECT app.visible_team_ids())::bigint[]))::bigint[]));
CREATE POLICY inventory_snapshots_insert ON inventory.inventory_snapshots FOR INSERT TO authenticated
    WITH CHECK ((SELECT app.is_admin()));
CREATE POLICY inventory_snapshots_update ON inventory.inventory_snapshots FOR UPDATE TO authenticated
    USING ((SELECT app.is_admin())) WITH CHECK ((SELECT app.is_admin()));
CREATE POLICY inventory_snapshots_delete ON inventory.inventory_snapshots FOR DELETE TO authenticated
    USING ((SELECT app.is_admin()));

CREATE POLICY sales_velocity_select ON inventory.sales_velocity FOR SELECT TO authenticated
    USING (location_id = ANY ((SELECT array_agg(l.id) FROM inventory.locations l
                                 WHERE l.team_id = ANY ((SELECT app.visible_team_ids())::bigint[]))::bigint[]));
CREATE POLICY sales_velocity_insert ON inventory.sales_velocity FOR INSERT TO authenticated
    WITH CHECK ((SELECT app.is_admin()));
CREATE POLICY sales_velocity_update ON inventory.sales_velocity FOR UPDATE TO authenticated
    USING ((SELECT app.is_admin())) WITH CHECK ((SELECT app.is_admin()));
CREATE POLICY sales_velocity_delete ON inventory.sales_velocity FOR DELETE TO authenticated
    USING ((SELECT app.is_admin()));

-- inventory.picker_payouts: personal pay. A picker reads their own; managers read and
-- manage payouts at their team's locations; viewers see none; admins everything.
CREATE POLICY picker_payouts_select ON inventory.picker_payouts FOR SELECT TO authenticated
    USING ((SELECT app.is_admin())
        OR picker_id = (SELECT app.current_user_id())
        OR ((SELECT app.has_app_role('manager')) AND location_id IN (
            SELECT l.id FROM inventory.locations l WHERE l.team_id = (SELECT app.current_team_id()))));
CREATE POLICY picker_payouts_insert ON inventory.picker_payouts FOR INSERT TO authenticated
    WITH CHECK ((SELECT app.is_admin())
        OR ((SELECT app.has_app_role('manager')) AND location_id IN (
            SELECT l.id FROM inventory.locations l WHERE l.team_id = (SELECT app.current_team_id()))));
CREATE POLICY picker_payouts_update ON inventory.picker_payouts FOR UPDATE TO authenticated
    USING ((SELECT app.is_admin())
        OR ((SELECT app.has_app_role('manager')) AND location_id IN (
            SELECT l.id FROM inventory.locations l WHERE l.team_id = (SELECT app.current_team_id()))))
    WITH CHECK ((SELECT app.is_admin())
        OR ((SELECT app.has_app_role('manager')) AND location_id IN (
            SELECT l.id FROM inventory.locations l WHERE l.team_id = (SELECT app.current_team_id()))));
CREATE POLICY picker_payouts_delete ON inventory.picker_payouts FOR DELETE TO authenticated
    USING ((SELECT app.is_admin()));

-- cx.conversations: the team reads (PII columns excluded by grants); operators open and work
-- their team's conversations that are unassigned or theirs; managers all of their team's.
CREATE POLICY conversations_select ON cx.conversations FOR SELECT TO authenticated
    USING (team_id = ANY ((SELECT app.visible_team_ids())::bigint[]));
CREATE POLICY conversations_insert ON cx.conversations FOR INSERT TO authenticated
    WITH CHECK ((SELECT app.is_admin())
        OR ((SELECT app.has_app_role('operator')) AND team_id = (SELECT app.current_team_id())));
CREATE POLICY conversations_update ON cx.conversations FOR UPDATE TO authenticated
    USING ((SELECT app.is_admin())
        OR ((SELECT app.has_app_role('manager')) AND team_id = (SELECT app.current_team_id()))
        OR ((SELECT app.has_app_role('operator')) AND team_id = (SELECT app.current_team_id())
            AND (assignee_id IS NULL OR assignee_id = (SELECT app.current_user_id()))))
    WITH CHECK ((SELECT app.is_admin())
        OR ((SELECT app.has_app_role('manager')) AND team_id = (SELECT app.current_team_id()))
        OR ((SELECT app.has_app_role('operator')) AND team_id = (SELECT app.current_team_id())
            AND (assignee_id IS NULL OR assignee_id = (SELECT app.current_user_id()))));
CREATE POLICY conversations_delete ON cx.conversations FOR DELETE TO authenticated
    USING ((SELECT app.is_admin()));

-- cx.sla_targets: the team reads; managers set their team's targets.
CREATE POLICY sla_targets_select ON cx.sla_targets FOR SELECT TO authenticated
    USING (team_id = ANY ((SELECT app.visible_team_ids())::bigint[]));
CREATE POLICY sla_targets_insert ON cx.sla_targets FOR INSERT TO authenticated
    WITH CHECK ((SELECT app.is_admin())
        OR ((SELECT app.has_app_role('manager')) AND team_id = (SELECT app.current_team_id())));
CREATE POLICY sla_targets_update ON cx.sla_targets FOR UPDATE TO authenticated
    USING ((SELECT app.is_admin())
        OR ((SELECT app.has_app_role('manager')) AND team_id = (SELECT app.current_team_id())))
    WITH CHECK ((SELECT app.is_admin())
        OR ((SELECT app.has_app_role('manager')) AND team_id = (SELECT app.current_team_id())));
CREATE POLICY sla_targets_delete ON cx.sla_targets FOR DELETE TO authenticated
    USING ((SELECT app.is_admin()));

-- cx.sla_breaches: computed by jobs; the team reads.
CREATE POLICY sla_breaches_select ON cx.sla_breaches FOR SELECT TO authenticated
    USING ((SELECT app.is_admin()) OR conversation_id IN (
        SELECT c.id FROM cx.conversations c WHERE c.team_id = (SELECT app.current_team_id())));
CREATE POLICY sla_breaches_insert ON cx.sla_breaches FOR INSERT TO authenticated WITH CHECK ((SELECT app.is_admin()));
CREATE POLICY sla_breaches_update ON cx.sla_breaches FOR UPDATE TO authenticated
    USING ((SELECT app.is_admin())) WITH CHECK ((SELECT app.is_admin()));
CREATE POLICY sla_breaches_delete ON cx.sla_breaches FOR DELETE TO authenticated USING ((SELECT app.is_admin()));

-- cx.quality_grades: the team reads; managers grade their team's conversations as themselves.
CREATE POLICY quality_grades_select ON cx.quality_grades FOR SELECT TO authenticated
    USING ((SELECT app.is_admin()) OR conversation_id IN (
        SELECT c.id FROM cx.conversations c WHERE c.team_id = (SELECT app.current_team_id())));
CREATE POLICY quality_grades_insert ON cx.quality_grades FOR INSERT TO authenticated
    WITH CHECK ((SELECT app.is_admin())
        OR ((SELECT app.has_app_role('manager')) AND grader_id = (SELECT app.current_user_id())
            AND conversation_id IN (SELECT c.id FROM cx.conversations c
                                    WHERE c.team_id = (SELECT app.current_team_id()))));
CREATE POLICY quality_grades_update ON cx.quality_grades FOR UPDATE TO authenticated
    USING ((SELECT app.is_admin())
        OR ((SELECT app.has_app_role('manager')) AND grader_id = (SELECT app.current_user_id())))
    WITH CHECK ((SELECT app.is_admin())
        OR ((SELECT app.has_app_role('manager')) AND grader_id = (SELECT app.current_user_id())
            AND conversation_id IN (SELECT c.id FROM cx.conversations c
                                    WHERE c.team_id = (SELECT app.current_team_id()))));
CREATE POLICY quality_grades_delete ON cx.quality_grades FOR DELETE TO authenticated
    USING ((SELECT app.is_admin()));

-- growth parents (seo_pages, ad_campaigns, content_items): the team reads; managers manage
-- their team's; daily metrics under them are read by the team, written by jobs and admins.
CREATE POLICY seo_pages_select ON growth.seo_pages FOR SELECT TO authenticated
    USING (team_id = ANY ((SELECT app.visible_team_ids())::bigint[]));
CREATE POLICY seo_pages_insert ON growth.seo_pages FOR INSERT TO authenticated
    WITH CHECK ((SELECT app.is_admin())
        OR ((SELECT app.has_app_role('manager')) AND team_id = (SELECT app.current_team_id())));
CREATE POLICY seo_pages_update ON growth.seo_pages FOR UPDATE TO authenticated
    USING ((SELECT app.is_admin())
        OR ((SELECT app.has_app_role('manager')) AND team_id = (SELECT app.current_team_id())))
    WITH CHECK ((SELECT app.is_admin())
        OR ((SELECT app.has_app_role('manager')) AND team_id = (SELECT app.current_team_id())));
CREATE POLICY seo_pages_delete ON growth.seo_pages FOR DELETE TO authenticated USING ((SELECT app.is_admin()));

CREATE POLICY ad_campaigns_select ON growth.ad_campaigns FOR SELECT TO authenticated
    USING (team_id = ANY ((SELECT app.visible_team_ids())::bigint[]));
CREATE POLICY ad_campaigns_insert ON growth.ad_campaigns FOR INSERT TO authenticated
    WITH CHECK ((SELECT app.is_admin())
        OR ((SELECT app.has_app_role('manager')) AND team_id = (SELECT app.current_team_id())));
CREATE POLICY ad_campaigns_update ON growth.ad_campaigns FOR UPDATE TO authenticated
    USING ((SELECT app.is_admin())
        OR ((SELECT app.has_app_role('manager')) AND team_id = (SELECT app.current_team_id())))
    WITH CHECK ((SELECT app.is_admin())
        OR ((SELECT app.has_app_role('manager')) AND team_id = (SELECT app.current_team_id())));
CREATE POLICY ad_campaigns_delete ON growth.ad_campaigns FOR DELETE TO authenticated USING ((SELECT app.is_admin()));

CREATE POLICY content_items_select ON growth.content_items FOR SELECT TO authenticated
    USING (team_id = ANY ((SELECT app.visible_team_ids())::bigint[]));
CREATE POLICY content_items_insert ON growth.content_items FOR INSERT TO authenticated
    WITH CHECK ((SELECT app.is_admin())
        OR ((SELECT app.has_app_role('manager')) AND team_id = (SELECT app.current_team_id())));
CREATE POLICY content_items_update ON growth.content_items FOR UPDATE TO authenticated
    USING ((SELECT app.is_admin())
        OR ((SELECT app.has_app_role('manager')) AND team_id = (SELECT app.current_team_id())))
    WITH CHECK ((SELECT app.is_admin())
        OR ((SELECT app.has_app_role('manager')) AND team_id = (SELECT app.current_team_id())));
CREATE POLICY content_items_delete ON growth.content_items FOR DELETE TO authenticated USING ((SELECT app.is_admin()));

CREATE POLICY seo_rankings_select ON growth.seo_rankings FOR SELECT TO authenticated
    USING (page_id = ANY ((SELECT array_agg(p.id) FROM growth.seo_pages p
                                 WHERE p.team_id = ANY ((SELECT app.visible_team_ids())::bigint[]))::bigint[]));
CREATE POLICY seo_rankings_insert ON growth.seo_rankings FOR INSERT TO authenticated WITH CHECK ((SELECT app.is_admin()));
CREATE POLICY seo_rankings_update ON growth.seo_rankings FOR UPDATE TO authenticated
    USING ((SELECT app.is_admin())) WITH CHECK ((SELECT app.is_admin()));
CREATE POLICY seo_rankings_delete ON growth.seo_rankings FOR DELETE TO authenticated USING ((SELECT app.is_admin()));

CREATE POLICY ad_daily_metrics_select ON growth.ad_daily_metrics FOR SELECT TO authenticated
    USING (campaign_id = ANY ((SELECT array_agg(c.id) FROM growth.ad_campaigns c
                                 WHERE c.team_id = ANY ((SELECT app.visible_team_ids())::bigint[]))::bigint[]));
CREATE POLICY ad_daily_metrics_insert ON growth.ad_daily_metrics FOR INSERT TO authenticated WITH CHECK ((SELECT app.is_admin()));
CREATE POLICY ad_daily_metrics_update ON growth.ad_daily_metrics FOR UPDATE TO authenticated
    USING ((SELECT app.is_admin())) WITH CHECK ((SELECT app.is_admin()));
CREATE POLICY ad_daily_metrics_delete ON growth.ad_daily_metrics FOR DELETE TO authenticated USING ((SELECT app.is_admin()));

CREATE POLICY content_daily_engagement_select ON growth.content_daily_engagement FOR SELECT TO authenticated
    USING (content_id = ANY ((SELECT array_agg(c.id) FROM growth.content_items c
                                 WHERE c.team_id = ANY ((SELECT app.visible_team_ids())::bigint[]))::bigint[]));
CREATE POLICY content_daily_engagement_insert ON growth.content_daily_engagement FOR INSERT TO authenticated
    WITH CHECK ((SELECT app.is_admin()));
CREATE POLICY content_daily_engagement_update ON growth.content_daily_engagement FOR UPDATE TO authenticated
    USING ((SELECT app.is_admin())) WITH CHECK ((SELECT app.is_admin()));
CREATE POLICY content_daily_engagement_delete ON growth.content_daily_engagement FOR DELETE TO authenticated
    USING ((SELECT app.is_admin()));

-- ─── PII, for the roles allowed to see it ───────────────────────────────────────────────
CREATE FUNCTION app.user_contact(p_user_id uuid)
    RETURNS TABLE (id uuid, display_name text, email text)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ''
    AS $$
        SELECT u.id, u.display_name, u.email
        FROM app.users u
        WHERE u.id = p_user_id
          AND (u.id = app.current_user_id()
               OR app.is_admin()
               OR (app.has_app_role('manager') AND u.team_id = app.current_team_id()))
    $$;
COMMENT ON FUNCTION app.user_contact(uuid) IS 'PII of one user: to the user themselves, managers of their team and admins; no row otherwise.';

CREATE FUNCTION cx.conversation_contact(p_conversation_id bigint)
    RETURNS TABLE (id bigint, customer_name text, customer_email text)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ''
    AS $$
        SELECT c.id, c.customer_name, c.customer_email
        FROM cx.conversations c
        WHERE c.id = p_conversation_id
          AND (app.is_admin()
               OR (app.has_app_role('operator') AND c.team_id = app.current_team_id()))
    $$;
COMMENT ON FUNCTION cx.conversation_contact(bigint) IS 'Customer PII of one conversation: to operators and managers of its team and admins; no row otherwise (viewers never).';

REVOKE ALL ON FUNCTION app.user_contact(uuid), cx.conversation_contact(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.user_contact(uuid), cx.conversation_contact(bigint) TO authenticated, service_role;
