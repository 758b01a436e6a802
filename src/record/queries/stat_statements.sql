-- Top-level statements of the current database, most total execution time first, with the
-- role that ran them and what they did per call (rows, shared blocks hit or read: the
-- measurements calibration matches sampled parameters to). {view} is the schema-qualified
-- pg_stat_statements view; {toplevel} is `s.toplevel` (PostgreSQL 14+) or `true`.
SELECT s.query,
       r.rolname,
       s.calls,
       s.total_exec_time,
       s.rows,
       s.shared_blks_hit + s.shared_blks_read
  FROM {view} s
  JOIN pg_catalog.pg_roles r ON r.oid = s.userid
 WHERE s.dbid = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())
   AND {toplevel}
   AND s.calls >= $1
 ORDER BY s.total_exec_time DESC
