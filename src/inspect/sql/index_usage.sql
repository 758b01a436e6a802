-- Every index of a user table: size, scans since the statistics were reset, and whether it
-- enforces a constraint (such an index is needed even when never scanned).
SELECT s.schemaname::text AS schema,
       s.relname::text AS table_name,
       s.indexrelname::text AS index_name,
       pg_relation_size(s.indexrelid) AS size_bytes,
       s.idx_scan AS scans,
       (i.indisunique OR i.indisprimary OR i.indisexclusion
        OR EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = s.indexrelid)) AS enforces_constraint,
       i.indisvalid AS valid,
       pg_get_indexdef(s.indexrelid) AS definition
FROM pg_stat_user_indexes s
JOIN pg_index i ON i.indexrelid = s.indexrelid
ORDER BY pg_relation_size(s.indexrelid) DESC, 1, 2, 3
