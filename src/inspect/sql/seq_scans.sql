-- Tables of at least $1 live rows whose sequential scans read rows (a scan of the table while
-- it was still empty, as an index build right after CREATE TABLE, is no finding), most rows
-- read first.
SELECT schemaname::text AS schema,
       relname::text AS table_name,
       n_live_tup AS live_rows,
       seq_scan AS seq_scans,
       seq_tup_read AS seq_rows_read,
       coalesce(idx_scan, 0) AS index_scans,
       pg_table_size(relid) AS size_bytes
FROM pg_stat_user_tables
WHERE seq_tup_read > 0 AND n_live_tup >= $1
ORDER BY seq_tup_read DESC, 1, 2
LIMIT 20
