-- Planner statistics of one column: share of NULLs, most common values with their shares, and
-- histogram bounds. Partitioned tables only have `inherited` rows, so those come first.
SELECT null_frac,
       most_common_vals::text::text[],
       most_common_freqs,
       histogram_bounds::text::text[]
  FROM pg_catalog.pg_stats
 WHERE schemaname = $1 AND tablename = $2 AND attname = $3
 ORDER BY inherited DESC
 LIMIT 1
