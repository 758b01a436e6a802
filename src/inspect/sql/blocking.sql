-- Sessions waiting for a lock, and the session holding them up (pg_blocking_pids).
SELECT blocked.pid AS blocked_pid,
       left(regexp_replace(blocked.query, '\s+', ' ', 'g'), 200) AS blocked_query,
       (extract(epoch FROM clock_timestamp() - blocked.query_start) * 1000)::float8 AS waiting_ms,
       blocker.pid AS blocking_pid,
       coalesce(blocker.state, '') AS blocking_state,
       left(regexp_replace(blocker.query, '\s+', ' ', 'g'), 200) AS blocking_query
FROM pg_stat_activity blocked
CROSS JOIN LATERAL unnest(pg_blocking_pids(blocked.pid)) AS b(pid)
JOIN pg_stat_activity blocker ON blocker.pid = b.pid
WHERE blocked.pid <> pg_backend_pid()
ORDER BY waiting_ms DESC, blocked.pid, blocker.pid
