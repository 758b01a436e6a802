-- Where pg_stat_statements is installed in this database, and whether the server supports
-- the `toplevel` column (PostgreSQL 14+).
SELECT n.nspname,
       current_setting('server_version_num')::int >= 140000
  FROM pg_catalog.pg_extension e
  JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
 WHERE e.extname = 'pg_stat_statements'
