-- The server's clock and each of $1 (texts of timestamps, timestamptz or dates) in seconds
-- since 1970, so that candidate windows and statistics values share one time base.
SELECT extract(epoch FROM pg_catalog.now())::float8,
       ARRAY(SELECT extract(epoch FROM v::timestamptz)::float8
               FROM pg_catalog.unnest($1::text[]) AS v)
