-- Table bloat, the usual statistical estimate (after the PostgreSQL Experts / ioguix query):
-- the pages the live rows should need, from pg_stats' average column widths and null
-- fractions plus tuple headers and fill factor, against the pages the table has. An
-- estimate: tables without statistics (never analyzed) are left out.
WITH constants AS (
    SELECT current_setting('block_size')::numeric AS bs, 23 AS hdr, 8 AS ma
),
widths AS (
    SELECT s.schemaname, s.tablename,
           sum((1 - s.null_frac) * s.avg_width) AS data_width,
           max(s.null_frac) AS max_null_frac,
           count(*) AS columns
    FROM pg_stats s
    WHERE s.schemaname NOT IN ('pg_catalog', 'information_schema')
    GROUP BY 1, 2
),
rows AS (
    SELECT w.schemaname, w.tablename, c.oid, c.reltuples, c.relpages,
           coalesce((SELECT (regexp_match(opt, 'fillfactor=([0-9]+)'))[1]::int
                     FROM unnest(c.reloptions) opt WHERE opt LIKE 'fillfactor=%'), 100) AS fillfactor,
           -- tuple header, null bitmap when any column can be null, aligned; then the data
           (k.hdr + CASE WHEN w.max_null_frac > 0 THEN (w.columns + 7) / 8 ELSE 0 END
              + k.ma - 1) / k.ma * k.ma + w.data_width + 4 AS row_bytes,
           k.bs
    FROM widths w
    JOIN pg_namespace n ON n.nspname = w.schemaname
    JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = w.tablename AND c.relkind IN ('r', 'm')
    CROSS JOIN constants k
),
estimate AS (
    SELECT schemaname, tablename, oid, relpages,
           ceil(reltuples * row_bytes / ((bs - 24) * fillfactor / 100)) AS expected_pages,
           bs
    FROM rows
    WHERE reltuples > 0
)
SELECT schemaname::text AS schema,
       tablename::text AS table_name,
       (relpages * bs)::int8 AS size_bytes,
       greatest(relpages - expected_pages, 0)::int8 * bs::int8 AS bloat_bytes,
       CASE WHEN relpages > 0
            THEN greatest(relpages - expected_pages, 0)::float8 / relpages ELSE 0 END AS bloat_ratio
FROM estimate
WHERE relpages > 0
ORDER BY bloat_bytes DESC, 1, 2
LIMIT 20
