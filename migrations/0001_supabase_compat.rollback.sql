-- Undoes 0001: drops the `auth` stand-in and the stand-in roles, only those this migration
-- created (recognised by their marker comment). A stand-in role still used by another
-- database of the same cluster (privileges or objects there, seen in pg_shdepend) is kept:
-- roles are cluster-wide and that database still needs it.

DO $do$
BEGIN
    IF obj_description(
           (SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = 'auth'), 'pg_namespace'
       ) = 'pgperf stand-in for the Supabase auth schema' THEN
        DROP SCHEMA auth CASCADE;
    END IF;
END
$do$;

DO $do$
DECLARE
    stand_in record;
BEGIN
    FOR stand_in IN
        SELECT r.oid, r.rolname
        FROM pg_catalog.pg_roles r
        WHERE r.rolname IN ('anon', 'authenticated', 'service_role')
          AND shobj_description(r.oid, 'pg_authid')
              = 'pgperf stand-in for the Supabase role of the same name'
          AND NOT EXISTS (
              SELECT 1 FROM pg_catalog.pg_shdepend d
              WHERE d.refclassid = 'pg_catalog.pg_authid'::regclass
                AND d.refobjid = r.oid
                AND d.dbid <> (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())
          )
    LOOP
        EXECUTE format('DROP ROLE %I', stand_in.rolname);
    END LOOP;
END
$do$;
