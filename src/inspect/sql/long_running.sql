-- Statements running (or transactions open) for at least $1 milliseconds, other than this
-- session's.
SELECT pid,
       coalesce(usename::text, '') AS user_name,
       coalesce(state, '') AS state,
       (extract(epoch FROM clock_timestamp() - coalesce(query_start, xact_start)) * 1000)::float8 AS running_ms,
       coalesce(wait_event_type || ':' || wait_event, '') AS waiting_on,
       left(regexp_replace(query, '\s+', ' ', 'g'), 200) AS query
FROM pg_stat_activity
WHERE pid <> pg_backend_pid()
  AND backend_type = 'client backend'
  AND state IS DISTINCT FROM 'idle'
  AND clock_timestamp() - coalesce(query_start, xact_start) >= make_interval(secs => $1::float8 / 1000)
ORDER BY running_ms DESC
