-- Undoes 0004: removes the audit triggers from the audited tables, then the audit schema with
-- the log, its partitions and functions.
DO $do$
DECLARE
    t record;
BEGIN
    FOR t IN SELECT tgrelid::regclass AS rel FROM pg_catalog.pg_trigger
             WHERE tgname = 'audit_row' AND tgfoid = 'audit.log_change()'::regprocedure LOOP
        EXECUTE format('DROP TRIGGER audit_row ON %s', t.rel);
    END LOOP;
END
$do$;
DROP SCHEMA audit CASCADE;
