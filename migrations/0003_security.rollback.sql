-- Undoes 0003: PII functions, policies, grants, RLS flags and claim helpers, back to the
-- owner-only state 0002 left.
DROP FUNCTION cx.conversation_contact(bigint);
DROP FUNCTION app.user_contact(uuid);

DO $do$
DECLARE
    t record;
    p record;
BEGIN
    FOR t IN SELECT schemaname, tablename FROM pg_catalog.pg_tables
             WHERE schemaname IN ('app', 'approvals', 'inventory', 'cx', 'growth') LOOP
        FOR p IN SELECT policyname FROM pg_catalog.pg_policies
                 WHERE schemaname = t.schemaname AND tablename = t.tablename LOOP
            EXECUTE format('DROP POLICY %I ON %I.%I', p.policyname, t.schemaname, t.tablename);
        END LOOP;
        EXECUTE format('ALTER TABLE %I.%I NO FORCE ROW LEVEL SECURITY', t.schemaname, t.tablename);
        EXECUTE format('ALTER TABLE %I.%I DISABLE ROW LEVEL SECURITY', t.schemaname, t.tablename);
    END LOOP;
END
$do$;

REVOKE ALL ON ALL TABLES IN SCHEMA app, approvals, inventory, cx, growth FROM authenticated, service_role;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA app, approvals, inventory, cx, growth FROM authenticated, service_role;
REVOKE ALL ON SCHEMA app, approvals, inventory, cx, growth FROM authenticated, service_role;

DROP FUNCTION app.visible_team_ids();
DROP FUNCTION app.is_admin();
DROP FUNCTION app.has_app_role(app.app_role);
DROP FUNCTION app.current_team_id();
DROP FUNCTION app.current_app_role();
DROP FUNCTION app.current_user_id();
