-- Privileges of one table per grantee (owner excluded); column privileges listed with their
-- columns.
SELECT g.grantee AS grantee, string_agg(g.privilege, ', ' ORDER BY g.privilege) AS privileges
FROM (
    SELECT grantee, privilege_type AS privilege
    FROM information_schema.role_table_grants
    WHERE format('%I.%I', table_schema, table_name)::regclass = $1::text::regclass
      AND grantee <> (SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = $1::text::regclass)
    UNION ALL
    SELECT c.grantee, c.privilege_type || ' (' || string_agg(c.column_name, ', ' ORDER BY c.column_name) || ')'
    FROM information_schema.column_privileges c
    WHERE format('%I.%I', c.table_schema, c.table_name)::regclass = $1::text::regclass
      AND c.grantee <> (SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = $1::text::regclass)
      AND NOT EXISTS (SELECT 1 FROM information_schema.role_table_grants t
                      WHERE t.table_schema = c.table_schema AND t.table_name = c.table_name
                        AND t.grantee = c.grantee AND t.privilege_type = c.privilege_type)
    GROUP BY c.grantee, c.privilege_type
) g
GROUP BY g.grantee
ORDER BY g.grantee
