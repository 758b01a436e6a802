-- The audit log: one row per write with the right old and new rows (PII masked), undo SQL that
-- restores, immutability for every role, team-scoped reading, and 90-day retention.
\ir fixture.psql
SELECT no_plan();

CREATE TABLE tests.audited (tbl regclass PRIMARY KEY, spare_key text NOT NULL);
INSERT INTO tests.audited VALUES
    ('app.teams', 'id = 3'),
    ('app.users', $$id = '00000000-0000-0000-0000-000000000021'$$),
    ('approvals.approvals', 'id = 1'),
    ('approvals.approval_grades', 'id = 1'),
    ('approvals.approval_edits', 'id = 1'),
    ('inventory.locations', 'id = 3'),
    ('inventory.products', 'id = 3'),
    ('inventory.supplier_lead_times', 'id = 1'),
    ('inventory.picker_payouts', 'id = 1'),
    ('cx.conversations', 'id = 3'),
    ('cx.sla_targets', 'id = 1'),
    ('cx.sla_breaches', 'id = 1'),
    ('cx.quality_grades', 'id = 1'),
    ('growth.seo_pages', 'id = 3'),
    ('growth.ad_campaigns', 'id = 4'),
    ('growth.content_items', 'id = 4');

SELECT set_eq('SELECT tbl::text FROM tests.audited',
              $$SELECT tgrelid::regclass::text FROM pg_trigger WHERE tgname = 'audit_row'$$,
              'the audited tables are exactly those with the audit trigger');
SELECT is(count(*), 5::bigint, 'the five job-loaded time series are the only unaudited tables')
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname IN ('app', 'approvals', 'inventory', 'cx', 'growth') AND c.relkind = 'r'
  AND NOT EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = c.oid AND t.tgname = 'audit_row');

CREATE FUNCTION tests.pii(p_tbl regclass) RETURNS text[] LANGUAGE sql AS $$
    SELECT coalesce(array_agg(p.column_name), '{}') FROM audit.pii_columns p
    WHERE format('%I.%I', p.table_schema, p.table_name)::regclass = p_tbl $$;

-- Every fixture insert was audited once, with the row as written (PII masked).
CREATE FUNCTION tests.insert_audit_mismatches(p_tbl regclass) RETURNS bigint LANGUAGE plpgsql AS $$
    DECLARE
        mismatches bigint;
    BEGIN
        EXECUTE format($q$
            SELECT count(*) FROM (
                (SELECT audit.mask(to_jsonb(t), %L) FROM %s t
                 EXCEPT ALL
                 SELECT l.new_row FROM audit.log l WHERE l.action = 'INSERT' AND format('%%I.%%I', l.table_schema, l.table_name)::regclass = %L::regclass)
                UNION ALL
                (SELECT l.new_row FROM audit.log l WHERE l.action = 'INSERT' AND format('%%I.%%I', l.table_schema, l.table_name)::regclass = %L::regclass
                 EXCEPT ALL
                 SELECT audit.mask(to_jsonb(t), %L) FROM %s t)) d $q$,
            tests.pii(p_tbl), p_tbl, p_tbl, p_tbl, tests.pii(p_tbl), p_tbl) INTO mismatches;
        RETURN mismatches;
    END $$;
SELECT is(tests.insert_audit_mismatches(tbl), 0::bigint, format('%s: one INSERT audit row per row, new_row = the row', tbl))
FROM tests.audited ORDER BY tbl::text;

-- DELETE as admin: exactly one audit row with the old row and the actor; its undo SQL
-- restores the row (PII columns excepted: they are never kept, and undo says so).
CREATE FUNCTION tests.delete_and_undo(p_tbl regclass, p_where text)
    RETURNS TABLE (audit_rows bigint, old_row_ok boolean, actor_ok boolean, restored boolean, complete boolean)
    LANGUAGE plpgsql AS $$
    DECLARE
        pii text[] := tests.pii(p_tbl);
        before jsonb;
        after jsonb;
        last_id bigint := (SELECT coalesce(max(id), 0) FROM audit.log);
        entry audit.log;
    BEGIN
        EXECUTE format('SELECT to_jsonb(t) FROM %s t WHERE %s', p_tbl, p_where) INTO before;
        PERFORM tests.become('admin');
        EXECUTE format('DELETE FROM %s WHERE %s', p_tbl, p_where);
        RESET ROLE;
        SELECT count(*) INTO audit_rows FROM audit.log WHERE id > last_id;
        SELECT * INTO entry FROM audit.log WHERE id > last_id ORDER BY id LIMIT 1;
        old_row_ok := entry.action = 'DELETE' AND entry.new_row IS NULL AND entry.old_row = audit.mask(before, pii);
        actor_ok := entry.actor_id = tests.uid('admin') AND entry.actor_app_role = 'admin' AND entry.db_role = 'authenticated'
                    AND entry.team_id IS NOT DISTINCT FROM (before ->> 'team_id')::bigint;
        EXECUTE entry.undo_sql;
        EXECUTE format('SELECT to_jsonb(t) FROM %s t WHERE %s', p_tbl, p_where) INTO after;
        restored := after - pii = before - pii;
        complete := entry.undo_complete;
        RETURN NEXT;
    END $$;
SELECT is(to_jsonb(r), jsonb_build_object('audit_rows', 1, 'old_row_ok', true, 'actor_ok', true, 'restored', true,
                                          'complete', tbl <> 'app.users'::regclass),
          format('%s: DELETE is audited once and its undo SQL restores the row', tbl))
FROM tests.audited CROSS JOIN LATERAL tests.delete_and_undo(tbl, spare_key) r
ORDER BY tbl::text;

-- UPDATE as an operator, with values that need quoting: one row, old and new, undo restores.
CREATE TABLE tests.before AS SELECT to_jsonb(a) AS row_data FROM approvals.approvals a WHERE id = 2;
CREATE TABLE tests.mark AS SELECT max(id) AS last_id FROM audit.log;
SELECT tests.become('operator');
UPDATE approvals.approvals SET subject = 'it''s "quoted" \ %s', payload = '{"order": 3, "note": "a''b"}', amount_cents = NULL WHERE id = 2;
RESET ROLE;
SELECT is((SELECT count(*) FROM audit.log WHERE id > (SELECT last_id FROM tests.mark)), 1::bigint, 'update: one audit row');
SELECT is((SELECT jsonb_build_object('action', action, 'actor', actor_id, 'role', actor_app_role, 'db_role', db_role, 'table', table_schema || '.' || table_name, 'key', row_key, 'team', team_id)
           FROM audit.log WHERE id > (SELECT last_id FROM tests.mark)),
          jsonb_build_object('action', 'UPDATE', 'actor', tests.uid('operator'), 'role', 'operator', 'db_role', 'authenticated', 'table', 'approvals.approvals', 'key', '{"id": 2}'::jsonb, 'team', 1),
          'update: action, actor, roles, table, key and team');
SELECT is((SELECT old_row FROM audit.log WHERE id > (SELECT last_id FROM tests.mark)), (SELECT row_data FROM tests.before), 'update: old_row is the row before');
SELECT is((SELECT new_row FROM audit.log WHERE id > (SELECT last_id FROM tests.mark)), (SELECT to_jsonb(a) FROM approvals.approvals a WHERE id = 2), 'update: new_row is the row after');
SELECT is((SELECT undo_sql FROM audit.log WHERE id > (SELECT last_id FROM tests.mark)),
          $$UPDATE approvals.approvals SET subject = 'refund order 2'::text, payload = '{"order": 2}'::jsonb, amount_cents = '200'::bigint WHERE id = '2'::bigint$$,
          'update: undo SQL sets the changed columns back, literals quoted and typed');
DO $$ BEGIN EXECUTE (SELECT undo_sql FROM audit.log WHERE id = (SELECT max(id) FROM audit.log WHERE table_name = 'approvals' AND action = 'UPDATE')); END $$;
SELECT is((SELECT to_jsonb(a) FROM approvals.approvals a WHERE id = 2), (SELECT row_data FROM tests.before), 'update: running the undo SQL restores the row');

-- A statement writing several rows writes one audit row per row.
DELETE FROM tests.mark; INSERT INTO tests.mark SELECT max(id) FROM audit.log;
SELECT tests.become('manager');
UPDATE approvals.approvals SET decision_note = 'bulk' WHERE team_id = 1;
RESET ROLE;
SELECT is((SELECT count(*) FROM audit.log WHERE id > (SELECT last_id FROM tests.mark)), 4::bigint, 'a 4-row update writes 4 audit rows');

-- INSERT as an operator: audited with its undo (a DELETE by key) that removes it again.
DELETE FROM tests.mark; INSERT INTO tests.mark SELECT max(id) FROM audit.log;
SELECT tests.become('operator');
INSERT INTO approvals.approvals (id, kind, subject, requester_id, team_id) VALUES (100, 'discount', 'new one', tests.uid('operator'), 1);
RESET ROLE;
SELECT is((SELECT action::text || ' ' || undo_sql FROM audit.log WHERE id > (SELECT last_id FROM tests.mark)),
          $$INSERT DELETE FROM approvals.approvals WHERE id = '100'::bigint$$, 'insert: one audit row whose undo deletes by key');
DO $$ BEGIN EXECUTE (SELECT undo_sql FROM audit.log WHERE action = 'INSERT' AND row_key = '{"id": 100}' AND table_name = 'approvals'); END $$;
SELECT is((SELECT count(*) FROM approvals.approvals WHERE id = 100), 0::bigint, 'insert: running the undo SQL removes the row');

-- PII: masked in old and new rows, never in undo SQL; an undo that cannot restore it says so.
SELECT tests.become('admin');
UPDATE app.users SET email = 'changed@example.com', app_role = 'operator' WHERE id = tests.uid('viewer');
RESET ROLE;
SELECT is((SELECT jsonb_build_array(old_row ->> 'email', new_row ->> 'email', old_row ->> 'display_name', undo_complete, undo_sql)
           FROM audit.log WHERE table_name = 'users' AND action = 'UPDATE' ORDER BY id DESC LIMIT 1),
          jsonb_build_array('***', '***', '***', false, format($$UPDATE app.users SET app_role = 'viewer'::app.app_role WHERE id = %L::uuid$$, tests.uid('viewer'))),
          'PII: masked in old and new rows, left out of the undo SQL, undo marked incomplete');
SELECT is((SELECT count(*) FROM audit.log
           WHERE coalesce(old_row::text, '') || coalesce(new_row::text, '') || undo_sql ~ '@example\.(com|org)|Carol|Dan|Eve'), 0::bigint,
          'PII: no audit row anywhere holds an e-mail address or customer name');

-- Immutability: UPDATE, DELETE and TRUNCATE fail for every role, the superuser included;
-- app roles cannot forge rows either.
SELECT is(split_part(tests.try_as(caller, stmt), ':', 1), 'deny', format('%s as %s fails', stmt, caller))
FROM (VALUES ('viewer'), ('operator'), ('manager'), ('admin'), ('anon'), ('service_role')) AS c(caller)
CROSS JOIN (VALUES ('UPDATE audit.log SET undo_sql = $$SELECT 1$$'),
                   ('DELETE FROM audit.log'),
                   ('TRUNCATE audit.log'),
                   (format('DELETE FROM audit.%I', 'log_' || to_char(now() AT TIME ZONE 'UTC', 'YYYY_MM'))),
                   ($$INSERT INTO audit.log (db_role, action, table_schema, table_name, row_key, new_row, undo_sql, undo_complete) VALUES ('x', 'INSERT', 'app', 'teams', '{}', '{}', '', true)$$)) AS s(stmt)
ORDER BY caller, stmt;
SELECT throws_ok('UPDATE audit.log SET undo_sql = undo_sql', '42501', 'audit log is append-only: UPDATE on audit.' || 'log_' || to_char(now() AT TIME ZONE 'UTC', 'YYYY_MM') || ' is not allowed', 'UPDATE fails for the superuser too');
SELECT throws_ok('DELETE FROM audit.log', '42501', NULL, 'DELETE fails for the superuser too');
SELECT throws_ok('TRUNCATE audit.log', '42501', 'audit log is append-only: TRUNCATE on audit.log is not allowed', 'TRUNCATE fails for the superuser too');
SELECT throws_ok(format('TRUNCATE audit.%I', 'log_' || to_char(now() AT TIME ZONE 'UTC', 'YYYY_MM')), '42501', NULL, 'TRUNCATE of one partition fails for the superuser too');

-- Reading: managers their team's rows, admins all, viewers and operators none.
SELECT is(tests.value_as('manager', 'SELECT count(*) FROM audit.log'), (SELECT count(*)::text FROM audit.log WHERE team_id = 1), 'a manager reads their team''s audit rows');
SELECT is(tests.value_as('manager2', 'SELECT count(*) FROM audit.log'), (SELECT count(*)::text FROM audit.log WHERE team_id = 2), 'another team''s manager reads theirs');
SELECT is(tests.value_as('admin', 'SELECT count(*) FROM audit.log'), (SELECT count(*)::text FROM audit.log), 'an admin reads every audit row');
SELECT is(tests.value_as('viewer', 'SELECT count(*) FROM audit.log'), '0', 'a viewer reads no audit row');
SELECT is(tests.value_as('operator', 'SELECT count(*) FROM audit.log'), '0', 'an operator reads no audit row');
SELECT is(tests.value_as('manager', format('SELECT count(*) FROM audit.%I', 'log_' || to_char(now() AT TIME ZONE 'UTC', 'YYYY_MM'))), 'deny:42501', 'partitions are not readable directly');

-- The typed row key (0010): the id of an integer-keyed row, null for the uuid-keyed users; reading
-- a row's history by it still shows only what the policy allows.
SELECT is((SELECT count(*) FROM audit.log WHERE row_id IS DISTINCT FROM
              CASE WHEN table_name = 'users' THEN NULL ELSE (row_key ->> 'id')::bigint END), 0::bigint,
          'row_id is row_key''s id for integer keys, null for uuid keys');
SELECT is(tests.value_as('manager', $$SELECT count(*) FROM audit.log WHERE table_name = 'approvals' AND row_id = 2$$),
          (SELECT count(*)::text FROM audit.log WHERE table_name = 'approvals' AND row_id = 2), 'a manager reads their team''s row history by row_id');
SELECT ok((SELECT count(*) FROM audit.log WHERE table_name = 'approvals' AND row_id = 2) > 0, 'that history is not empty');
SELECT is(tests.value_as('manager2', $$SELECT count(*) FROM audit.log WHERE table_name = 'approvals' AND row_id = 2$$), '0',
          'another team''s manager cannot read it by row_id');
SELECT is(tests.value_as('operator', $$SELECT count(*) FROM audit.log WHERE table_name = 'approvals' AND row_id = 2$$), '0',
          'an operator cannot read it by row_id');
SELECT throws_ok('INSERT INTO audit.log (db_role, action, table_schema, table_name, row_key, row_id, new_row, undo_sql, undo_complete) VALUES (''x'', ''INSERT'', ''app'', ''teams'', ''{"id": 1}'', 2, ''{}'', '''', true)',
                 '428C9', NULL, 'row_id cannot be written, only derived from row_key');

-- Retention: a partition whose rows are all older than 90 days is dropped, nothing younger.
SELECT is(audit.ensure_partition((now() - interval '5 months')::date), 'log_' || to_char(now() AT TIME ZONE 'UTC' - interval '5 months', 'YYYY_MM'), 'an old partition can be created');
INSERT INTO audit.log (logged_at, db_role, action, table_schema, table_name, row_key, new_row, undo_sql, undo_complete)
VALUES (now() - interval '5 months', 'postgres', 'INSERT', 'app', 'teams', '{"id": 9}', '{"id": 9}', 'SELECT 1', true);
SELECT is(tests.value_as('admin', 'SELECT count(*) FROM audit.apply_retention()'), 'deny:42501', 'app roles cannot run retention');
CREATE TEMP TABLE recent AS SELECT count(*) AS n FROM audit.log WHERE logged_at >= now() - interval '90 days';
SET ROLE service_role;
CREATE TEMP TABLE retention AS SELECT * FROM audit.apply_retention();
RESET ROLE;
SELECT ok(EXISTS (SELECT 1 FROM retention WHERE action = 'dropped' AND partition_name = 'log_' || to_char(now() AT TIME ZONE 'UTC' - interval '5 months', 'YYYY_MM')),
          'retention drops the partition five months back');
SELECT is((SELECT count(*) FROM audit.log WHERE logged_at < now() - interval '4 months'), 0::bigint, 'its rows are gone');
SELECT is((SELECT count(*) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
           WHERE i.inhparent = 'audit.log'::regclass
             AND (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'TO \(''([^'']+)''\)'))[1]::timestamptz <= now() - interval '90 days'), 0::bigint,
          'no partition wholly older than 90 days remains');
SELECT ok(to_regclass(format('audit.%I', 'log_' || to_char(now() AT TIME ZONE 'UTC' - interval '90 days', 'YYYY_MM'))) IS NOT NULL,
          'the partition holding rows from exactly 90 days ago is kept');
SELECT ok(to_regclass(format('audit.%I', 'log_' || to_char(now() AT TIME ZONE 'UTC' + interval '3 months', 'YYYY_MM'))) IS NOT NULL,
          'the partitions of the next three months exist');
SELECT is((SELECT count(*) FROM audit.log WHERE logged_at >= now() - interval '90 days'), (SELECT n FROM recent), 'every audit row of the last 90 days survives retention');

SELECT * FROM finish();
