-- One line per catalog fact a migration can create, change or drop, for `pgperf migrate
-- verify`. System schemas and pgperf's own tracking schema are left out; OIDs never appear,
-- only names and definitions, so two snapshots compare across drop and re-create. A default
-- ACL is spelled out (acldefault), because a restore writes it as NULL where the source had it
-- explicit: the same privileges either way.
WITH user_ns AS (
    SELECT oid, nspname FROM pg_namespace
    WHERE nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast', 'pgperf')
      AND nspname NOT LIKE 'pg_temp_%' AND nspname NOT LIKE 'pg_toast_temp_%'
)
SELECT line FROM (
    SELECT format('schema %I owner=%s acl=%s comment=%s', n.nspname,
                  pg_get_userbyid(ns.nspowner), coalesce(ns.nspacl, acldefault('n'::"char", ns.nspowner)), obj_description(n.oid, 'pg_namespace')) AS line
    FROM user_ns n JOIN pg_namespace ns ON ns.oid = n.oid
    UNION ALL
    SELECT format('relation %I.%I kind=%s owner=%s rls=%s force=%s partition=%s bound=%s options=%s acl=%s comment=%s',
                  n.nspname, c.relname, c.relkind, pg_get_userbyid(c.relowner), c.relrowsecurity,
                  c.relforcerowsecurity, c.relispartition, pg_get_expr(c.relpartbound, c.oid),
                  c.reloptions, coalesce(c.relacl, acldefault((CASE c.relkind WHEN 'S' THEN 's' ELSE 'r' END)::"char", c.relowner)), obj_description(c.oid, 'pg_class'))
    FROM pg_class c JOIN user_ns n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f', 'c')
    UNION ALL
    SELECT format('partitioning %I.%I %s', n.nspname, c.relname, pg_get_partkeydef(c.oid))
    FROM pg_class c JOIN user_ns n ON n.oid = c.relnamespace WHERE c.relkind = 'p'
    UNION ALL
    SELECT format('column %I.%I.%I #%s type=%s notnull=%s default=%s identity=%s generated=%s collation=%s acl=%s comment=%s',
                  n.nspname, c.relname, a.attname,
                  -- The position among live columns, not attnum: a column dropped by a
                  -- rollback and added again gets a new attnum (and pg_dump renumbers).
                  (SELECT count(*) FROM pg_attribute b
                   WHERE b.attrelid = a.attrelid AND b.attnum > 0 AND NOT b.attisdropped AND b.attnum <= a.attnum),
                  format_type(a.atttypid, a.atttypmod),
                  a.attnotnull, pg_get_expr(d.adbin, d.adrelid), a.attidentity, a.attgenerated,
                  co.collname, a.attacl, col_description(c.oid, a.attnum))
    FROM pg_attribute a
    JOIN pg_class c ON c.oid = a.attrelid
    JOIN user_ns n ON n.oid = c.relnamespace
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    LEFT JOIN pg_collation co ON co.oid = a.attcollation AND a.attcollation <> 100
    WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'c')
    UNION ALL
    SELECT format('constraint %I.%I %I %s deferrable=%s comment=%s', n.nspname, c.relname, k.conname,
                  pg_get_constraintdef(k.oid), k.condeferrable, obj_description(k.oid, 'pg_constraint'))
    FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN user_ns n ON n.oid = c.relnamespace
    UNION ALL
    SELECT format('domain-constraint %I.%I %I %s', n.nspname, t.typname, k.conname, pg_get_constraintdef(k.oid))
    FROM pg_constraint k JOIN pg_type t ON t.oid = k.contypid JOIN user_ns n ON n.oid = t.typnamespace
    UNION ALL
    SELECT format('index %s comment=%s', pg_get_indexdef(i.indexrelid), obj_description(i.indexrelid, 'pg_class'))
    FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN user_ns n ON n.oid = c.relnamespace
    UNION ALL
    SELECT format('trigger %I.%I %s enabled=%s', n.nspname, c.relname, pg_get_triggerdef(t.oid), t.tgenabled)
    FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN user_ns n ON n.oid = c.relnamespace
    WHERE NOT t.tgisinternal
    UNION ALL
    SELECT format('policy %I.%I %I cmd=%s permissive=%s roles=%s using=%s check=%s',
                  n.nspname, c.relname, p.polname, p.polcmd, p.polpermissive,
                  ARRAY(SELECT CASE WHEN r = 0 THEN 'public' ELSE pg_get_userbyid(r) END FROM unnest(p.polroles) r ORDER BY 1),
                  pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid))
    FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid JOIN user_ns n ON n.oid = c.relnamespace
    UNION ALL
    SELECT format('view %I.%I %s', n.nspname, c.relname, pg_get_viewdef(c.oid))
    FROM pg_class c JOIN user_ns n ON n.oid = c.relnamespace WHERE c.relkind IN ('v', 'm')
    UNION ALL
    SELECT format('function %I.%I(%s) kind=%s owner=%s acl=%s comment=%s md5=%s',
                  n.nspname, p.proname, pg_get_function_identity_arguments(p.oid), p.prokind,
                  pg_get_userbyid(p.proowner), coalesce(p.proacl, acldefault('f'::"char", p.proowner)), obj_description(p.oid, 'pg_proc'),
                  md5(CASE WHEN p.prokind = 'a' THEN p.prosrc ELSE pg_get_functiondef(p.oid) END))
    FROM pg_proc p JOIN user_ns n ON n.oid = p.pronamespace
    WHERE NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
    UNION ALL
    SELECT format('type %I.%I kind=%s owner=%s labels=%s comment=%s', n.nspname, t.typname, t.typtype,
                  pg_get_userbyid(t.typowner),
                  ARRAY(SELECT e.enumlabel FROM pg_enum e WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder),
                  obj_description(t.oid, 'pg_type'))
    FROM pg_type t JOIN user_ns n ON n.oid = t.typnamespace
    WHERE t.typtype IN ('e', 'd', 'r', 'c')
      AND NOT (t.typtype = 'c' AND EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = t.typrelid AND c.relkind <> 'c'))
    UNION ALL
    SELECT format('extension %I version=%s schema=%s', e.extname, e.extversion, e.extnamespace::regnamespace)
    FROM pg_extension e
    UNION ALL
    SELECT format('role %I super=%s inherit=%s createrole=%s createdb=%s login=%s bypassrls=%s member_of=%s',
                  r.rolname, r.rolsuper, r.rolinherit, r.rolcreaterole, r.rolcreatedb, r.rolcanlogin, r.rolbypassrls,
                  ARRAY(SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
                        WHERE m.member = r.oid ORDER BY 1))
    FROM pg_roles r WHERE r.rolname NOT LIKE 'pg\_%' AND NOT r.rolsuper
    UNION ALL
    SELECT format('default-acl %s %s %s %s', pg_get_userbyid(d.defaclrole), d.defaclnamespace::regnamespace,
                  d.defaclobjtype, d.defaclacl)
    FROM pg_default_acl d
    UNION ALL
    SELECT format('event-trigger %I %s %s', e.evtname, e.evtevent, e.evtfoid::regproc) FROM pg_event_trigger e
) facts
ORDER BY line COLLATE "C"
