-- Functions, views and materialized views of the documented schemas, for the index page.
SELECT n.nspname AS schema_name, 'function' AS kind,
       format('%s(%s)', p.proname, pg_get_function_identity_arguments(p.oid)) AS name,
       CASE WHEN p.prosecdef THEN 'definer' ELSE 'invoker' END AS security,
       obj_description(p.oid, 'pg_proc') AS comment
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = ANY ($1)
UNION ALL
SELECT n.nspname, CASE c.relkind WHEN 'v' THEN 'view' ELSE 'materialized view' END, c.relname,
       CASE WHEN 'security_invoker=true' = ANY (coalesce(c.reloptions, '{}')) THEN 'invoker' ELSE 'owner' END,
       obj_description(c.oid, 'pg_class')
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = ANY ($1) AND c.relkind IN ('v', 'm')
ORDER BY 1, 2, 3
