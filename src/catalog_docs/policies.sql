-- Row-level security policies of one table, by command then name.
SELECT p.policyname AS policy_name, p.cmd AS command, array_to_string(p.roles, ', ') AS roles,
       p.permissive AS permissive, p.qual AS using_expr, p.with_check AS check_expr
FROM pg_policies p
WHERE format('%I.%I', p.schemaname, p.tablename)::regclass = $1::text::regclass
ORDER BY array_position(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'ALL'], p.cmd), p.policyname
