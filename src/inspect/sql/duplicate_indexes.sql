-- Pairs of indexes on one table where the first is redundant: the same columns, operator
-- classes, expressions and predicate (an exact duplicate), or key columns that are a leading
-- prefix of the second's (a btree serves every lookup the shorter one would). An index that
-- enforces a constraint is never called redundant.
WITH idx AS (
    SELECT i.indexrelid, i.indrelid, i.indkey::text AS keys, i.indclass::text AS classes,
           coalesce(pg_get_expr(i.indexprs, i.indrelid), '') AS exprs,
           coalesce(pg_get_expr(i.indpred, i.indrelid), '') AS pred,
           i.indisunique OR i.indisprimary OR i.indisexclusion
             OR EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) AS enforces,
           am.amname
    FROM pg_index i
    JOIN pg_class ci ON ci.oid = i.indexrelid
    JOIN pg_am am ON am.oid = ci.relam
    JOIN pg_namespace n ON n.oid = ci.relnamespace
    WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_toast'
      AND i.indisvalid
)
SELECT n.nspname::text AS schema,
       t.relname::text AS table_name,
       a_c.relname::text AS redundant_index,
       b_c.relname::text AS covered_by,
       CASE WHEN a.keys = b.keys AND a.classes = b.classes THEN 'duplicate' ELSE 'prefix' END AS kind,
       pg_relation_size(a.indexrelid) AS size_bytes
FROM idx a
JOIN idx b ON a.indrelid = b.indrelid AND a.indexrelid <> b.indexrelid
          AND a.amname = b.amname AND a.exprs = b.exprs AND a.pred = b.pred
JOIN pg_class a_c ON a_c.oid = a.indexrelid
JOIN pg_class b_c ON b_c.oid = b.indexrelid
JOIN pg_class t ON t.oid = a.indrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE NOT a.enforces
  AND ((a.keys = b.keys AND a.classes = b.classes
        -- of two exact duplicates, name the later one (or the one not enforcing anything)
        AND (b.enforces OR a.indexrelid > b.indexrelid))
    OR (a.amname = 'btree' AND a.exprs = '' AND a.keys <> b.keys
        AND (b.keys || ' ') LIKE (a.keys || ' %')
        AND (b.classes || ' ') LIKE (a.classes || ' %')))
ORDER BY 1, 2, 3, 4
