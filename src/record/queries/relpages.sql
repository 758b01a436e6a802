-- Size in pages (at least 1) of table $2 in schema $1, by name from the catalog: to_regclass
-- would need USAGE on the schema, which the role a plan is estimated as may not have.
SELECT greatest(c.relpages, 1)::float8
  FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = $1 AND c.relname = $2
