-- Catalog-wide rules of the data layer: comments everywhere, no hand-written secondary indexes, fixed
-- search_path on every function, policies in Supabase's fast form, anon without privileges.
SET client_min_messages = warning;
SELECT no_plan();

CREATE TEMP VIEW our_relations AS
    SELECT c.oid, n.nspname, c.relname, c.relkind, c.relispartition
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname IN ('app', 'approvals', 'inventory', 'cx', 'growth', 'audit', 'api', 'rollup')
      AND c.relkind IN ('r', 'p', 'v', 'm');

SELECT is(array_agg(format('%I.%I', nspname, relname) ORDER BY format('%I.%I', nspname, relname)), NULL, 'every table and view has a comment')
FROM our_relations WHERE obj_description(oid, 'pg_class') IS NULL;
SELECT is(array_agg(format('%I.%I.%I', r.nspname, r.relname, a.attname) ORDER BY format('%I.%I.%I', r.nspname, r.relname, a.attname)), NULL, 'every column has a comment (partitions inherit theirs from audit.log)')
FROM our_relations r JOIN pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE NOT r.relispartition AND col_description(r.oid, a.attnum) IS NULL;
SELECT is(array_agg(p.oid::regprocedure::text ORDER BY p.oid::regprocedure::text), NULL, 'every function has a comment')
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname IN ('app', 'approvals', 'inventory', 'cx', 'growth', 'audit', 'api', 'rollup')
  AND obj_description(p.oid, 'pg_proc') IS NULL;
SELECT is(array_agg(t.oid::regtype::text ORDER BY t.oid::regtype::text), NULL, 'every enum has a comment')
FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
WHERE n.nspname IN ('app', 'approvals', 'inventory', 'cx', 'growth', 'audit') AND t.typtype = 'e'
  AND obj_description(t.oid, 'pg_type') IS NULL;

SELECT is(array_agg(i.indexrelid::regclass::text ORDER BY i.indexrelid::regclass::text), NULL,
          'tables have primary-key and unique-constraint indexes only, plus the secondary indexes pgperf advise named (<table>_<keys>_<hash>_idx, migrations 0006, 0008, 0009 and 0011), the two of 0012 for queues advise cannot cost, the payouts'' team index of 0013, the two of 0014 for the data-quality checks, the grades'' team indexes of 0015 and the expired list of 0016')
FROM pg_index i JOIN our_relations r ON r.oid = i.indrelid
JOIN pg_class ic ON ic.oid = i.indexrelid
WHERE r.relkind IN ('r', 'p')
  AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid AND k.contype IN ('p', 'u'))
  AND NOT (r.relispartition AND i.indisprimary)
  AND ic.relname !~ '_[0-9a-f]{6}_idx$'
  AND i.indexrelid::regclass::text NOT IN ('approvals.approvals_assignee_id_created_at_id_idx', 'cx.conversations_open_assignee_id_opened_at_idx',
                                                  'inventory.picker_payouts_team_id_period_start_idx', 'cx.conversations_resolved_unanswered_id_idx',
                                                  'inventory.inventory_snapshots_location_id_taken_at_idx', 'approvals.approval_grades_team_id_graded_at_idx',
                                                  'cx.quality_grades_team_id_graded_at_idx', 'approvals.approvals_expired_team_id_created_at_id_idx')
  AND NOT EXISTS (SELECT 1 FROM pg_inherits h WHERE h.inhrelid = i.indexrelid);  -- a partition's share of a parent index
SELECT is(array_agg(i.indexrelid::regclass::text ORDER BY i.indexrelid::regclass::text), ARRAY['rollup.ads_daily_grain', 'rollup.approvals_daily_grain', 'rollup.cx_daily_grain'],
          'materialized views have exactly their unique grain index (REFRESH CONCURRENTLY needs it)')
FROM pg_index i JOIN our_relations r ON r.oid = i.indrelid WHERE r.relkind = 'm' AND i.indisunique;

SELECT is(array_agg(p.oid::regprocedure::text ORDER BY p.oid::regprocedure::text), NULL, 'every function has search_path = ''''')
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname IN ('app', 'approvals', 'inventory', 'cx', 'growth', 'audit', 'api', 'rollup')
  AND NOT coalesce('search_path=""' = ANY (p.proconfig), false);
SELECT is(array_agg(p.oid::regprocedure::text ORDER BY p.oid::regprocedure::text),
          ARRAY['app.user_contact(uuid)', 'app.visible_team_ids()', 'approvals.move_grades()', 'approvals.set_grade_team()',
                'audit.apply_retention()', 'audit.ensure_partition(date)', 'audit.log_change()',
                'cx.conversation_contact(bigint)', 'cx.move_breaches()', 'cx.move_quality_grades()', 'cx.set_breach_team()',
                'cx.set_quality_grade_team()', 'inventory.move_payouts()', 'inventory.set_payout_team()', 'rollup.refresh_daily()'],
          'SECURITY DEFINER only where a caller must not hold the privilege itself (PII, audit, rollups, team list, the team of a breach, payout or grade)')
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname IN ('app', 'approvals', 'inventory', 'cx', 'growth', 'audit', 'api', 'rollup') AND p.prosecdef;
SELECT is(count(*), 0::bigint, 'every api function is SECURITY INVOKER')
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'api' AND p.prosecdef;
SELECT is(array_agg(format('%I.%I', r.nspname, r.relname) ORDER BY format('%I.%I', r.nspname, r.relname)), NULL,
          'api views over tables are security_invoker; the three over rollups are security_barrier with a team filter')
FROM our_relations r
WHERE r.nspname = 'api' AND r.relkind = 'v'
  AND NOT ('security_invoker=true' = ANY (coalesce((SELECT reloptions FROM pg_class WHERE oid = r.oid), '{}'))
           OR ('security_barrier=true' = ANY (coalesce((SELECT reloptions FROM pg_class WHERE oid = r.oid), '{}'))
               AND pg_get_viewdef(r.oid) LIKE '%visible_team_ids()%' AND pg_get_viewdef(r.oid) LIKE '%FROM rollup.%'));

-- Supabase's RLS performance guidance: claim helpers only inside a scalar subquery.
SELECT is(array_agg(format('%s.%s %s', schemaname, tablename, policyname) ORDER BY format('%s.%s %s', schemaname, tablename, policyname)), NULL,
          'policies call claim helpers only as (SELECT helper())')
FROM pg_policies
WHERE (SELECT count(*) FROM regexp_matches(coalesce(qual, '') || ' ' || coalesce(with_check, ''), '(app|auth)\.\w+\(', 'g'))
   <> (SELECT count(*) FROM regexp_matches(coalesce(qual, '') || ' ' || coalesce(with_check, ''), 'SELECT (app|auth)\.\w+\(', 'g'));
SELECT is(array_agg(format('%s.%s %s', schemaname, tablename, policyname) ORDER BY format('%s.%s %s', schemaname, tablename, policyname)), NULL,
          'every policy applies to authenticated only (the trigger''s insert policy excepted)')
FROM pg_policies WHERE roles <> '{authenticated}' AND policyname <> 'log_insert_owner';

-- Least privilege.
SELECT is(array_agg(nspname ORDER BY nspname), NULL, 'anon has no schema of the data layer')
FROM pg_namespace WHERE nspname IN ('app', 'approvals', 'inventory', 'cx', 'growth', 'audit', 'api', 'rollup')
  AND has_schema_privilege('anon', oid, 'USAGE');
SELECT is(array_agg(format('%I.%I', nspname, relname) ORDER BY format('%I.%I', nspname, relname)), NULL, 'anon has no privilege on any relation')
FROM our_relations WHERE has_table_privilege('anon', oid, 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER');
SELECT is(array_agg(p.oid::regprocedure::text ORDER BY p.oid::regprocedure::text), NULL, 'anon may execute no function of the data layer')
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname IN ('app', 'approvals', 'inventory', 'cx', 'growth', 'audit', 'api', 'rollup')
  AND has_function_privilege('anon', p.oid, 'EXECUTE');
SELECT is(array_agg(format('%I.%I', nspname, relname) ORDER BY format('%I.%I', nspname, relname)), NULL, 'nobody but the owner may TRUNCATE anything')
FROM our_relations WHERE has_table_privilege('authenticated', oid, 'TRUNCATE') OR has_table_privilege('service_role', oid, 'TRUNCATE');
SELECT is(array_agg(format('%I.%I', nspname, relname) ORDER BY format('%I.%I', nspname, relname)), NULL, 'materialized views are readable by nobody but the owner')
FROM our_relations WHERE relkind = 'm' AND (has_table_privilege('authenticated', oid, 'SELECT') OR has_table_privilege('service_role', oid, 'SELECT'));
SELECT is((SELECT array_agg(rolname || '=' || rolbypassrls ORDER BY rolname || '=' || rolbypassrls) FROM pg_roles WHERE rolname IN ('anon', 'authenticated', 'service_role')),
          ARRAY['anon=false', 'authenticated=false', 'service_role=true'], 'only service_role bypasses RLS');
SELECT is(array_agg(column_name::text ORDER BY column_name::text), ARRAY['customer_email', 'customer_name', 'display_name', 'email'],
          'PII columns are not readable by authenticated')
FROM audit.pii_columns p
WHERE NOT has_column_privilege('authenticated', format('%I.%I', p.table_schema, p.table_name), p.column_name, 'SELECT');

SELECT * FROM finish();
