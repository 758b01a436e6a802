-- Share of heap and index block reads served from shared buffers, over user tables; NULL
-- when nothing was read yet.
SELECT (SELECT sum(heap_blks_hit)::float8 / nullif(sum(heap_blks_hit + heap_blks_read), 0)
        FROM pg_statio_user_tables) AS table_hit_ratio,
       (SELECT sum(idx_blks_hit)::float8 / nullif(sum(idx_blks_hit + idx_blks_read), 0)
        FROM pg_statio_user_indexes) AS index_hit_ratio
