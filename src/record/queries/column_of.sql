-- The schema and table of relation $1 (as written, resolved with the search path) when it has
-- a column named $2.
SELECT n.nspname, c.relname
  FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid
 WHERE c.oid = pg_catalog.to_regclass($1)
   AND a.attname = $2
   AND a.attnum > 0
   AND NOT a.attisdropped
