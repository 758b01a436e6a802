-- Supabase compatibility: the roles `anon`, `authenticated`, `service_role` and a minimal
-- `auth` schema (`auth.uid()`, `auth.jwt()`, `auth.role()`), created ONLY where they do not
-- exist (plain PostgreSQL). On Supabase every object below already exists and nothing is
-- touched. What this migration creates is marked with a comment so that its rollback drops
-- exactly that and never Supabase's own objects.

DO $do$
DECLARE
    role_name text;
BEGIN
    FOREACH role_name IN ARRAY ARRAY['anon', 'authenticated', 'service_role'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = role_name) THEN
            EXECUTE format('CREATE ROLE %I NOLOGIN NOINHERIT%s', role_name,
                           CASE WHEN role_name = 'service_role' THEN ' BYPASSRLS' ELSE '' END);
            EXECUTE format('COMMENT ON ROLE %I IS %L', role_name,
                           'pgperf stand-in for the Supabase role of the same name');
        END IF;
    END LOOP;
END
$do$;

DO $do$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = 'auth') THEN
        RETURN;
    END IF;
    CREATE SCHEMA auth;
    COMMENT ON SCHEMA auth IS 'pgperf stand-in for the Supabase auth schema';
    -- The three functions are Supabase's own definitions: the legacy per-claim settings
    -- first, then the `request.jwt.claims` JSON that PostgREST sets per request.
    CREATE FUNCTION auth.jwt() RETURNS jsonb
        LANGUAGE sql STABLE
        AS $fn$
            SELECT coalesce(
                nullif(current_setting('request.jwt.claim', true), ''),
                nullif(current_setting('request.jwt.claims', true), '')
            )::jsonb
        $fn$;
    COMMENT ON FUNCTION auth.jwt() IS 'The JWT claims of the current request (request.jwt.claims), as Supabase defines it.';
    CREATE FUNCTION auth.uid() RETURNS uuid
        LANGUAGE sql STABLE
        AS $fn$
            SELECT coalesce(
                nullif(current_setting('request.jwt.claim.sub', true), ''),
                (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
            )::uuid
        $fn$;
    COMMENT ON FUNCTION auth.uid() IS 'The `sub` claim of the current request: the calling user''s id, as Supabase defines it.';
    CREATE FUNCTION auth.role() RETURNS text
        LANGUAGE sql STABLE
        AS $fn$
            SELECT coalesce(
                nullif(current_setting('request.jwt.claim.role', true), ''),
                (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role')
            )::text
        $fn$;
    COMMENT ON FUNCTION auth.role() IS 'The `role` claim of the current request, as Supabase defines it.';
    GRANT USAGE ON SCHEMA auth TO anon, authenticated, service_role;
END
$do$;
