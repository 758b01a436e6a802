-- Columns of one table that a COPY may write: (name, type name, is an enum).
-- Generated columns are left out: the server computes them.
SELECT a.attname::text, t.typname::text, t.typtype = 'e'
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_type t ON t.oid = a.atttypid
WHERE n.nspname = $1 AND c.relname = $2
  AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
ORDER BY a.attnum
