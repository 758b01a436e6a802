-- The statements with the most total execution time, from pg_stat_statements (in the schema
-- its extension was created in, passed quoted as the relation name).
SELECT left(regexp_replace(query, '\s+', ' ', 'g'), 200) AS query,
       calls,
       total_exec_time AS total_ms,
       mean_exec_time AS mean_ms,
       rows,
       shared_blks_hit + shared_blks_read AS blocks
FROM {pg_stat_statements}
WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
ORDER BY total_exec_time DESC
LIMIT $1
