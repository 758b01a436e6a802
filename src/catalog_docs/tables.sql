-- Tables of the documented schemas (partitions are documented by their parent), with RLS
-- flags and whether the audit trigger is attached.
SELECT n.nspname AS schema_name, c.relname AS table_name,
       obj_description(c.oid, 'pg_class') AS comment,
       c.relkind = 'p' AS partitioned,
       c.relrowsecurity AS rls_enabled, c.relforcerowsecurity AS rls_forced,
       EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = c.oid AND t.tgname = 'audit_row') AS audited
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = ANY ($1) AND c.relkind IN ('r', 'p') AND NOT c.relispartition
ORDER BY n.nspname, c.relname
