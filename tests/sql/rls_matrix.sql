-- The RLS matrix: for every table x caller x operation, the expected outcome, and the rows each
-- caller sees. Callers: the four app roles of team 1, anon, service_role, and a manager of
-- team 2 for isolation. Writes run in a rolled-back subtransaction each (tests.try_as):
-- "allow" means the statement changed at least one row; "deny" that it failed (privilege or
-- policy) or the policy hid every target row.
\ir fixture.psql
SELECT no_plan();

CREATE TABLE tests.visible (tbl text PRIMARY KEY, viewer int, operator int, manager int, admin int, service_role int, manager2 int);
INSERT INTO tests.visible VALUES
    ('app.teams',                          1,  1,  1,  3,  3,  1),
    ('app.users',                          5,  5,  5,  8,  8,  3),
    ('approvals.approvals',                4,  4,  4,  6,  6,  2),
    ('approvals.approval_grades',          1,  1,  1,  2,  2,  1),
    ('approvals.approval_edits',           1,  1,  1,  2,  2,  1),
    ('inventory.locations',                2,  2,  2,  3,  3,  1),
    ('inventory.products',                 3,  3,  3,  3,  3,  3),
    ('inventory.supplier_lead_times',      4,  4,  4,  4,  4,  4),
    ('inventory.inventory_snapshots',      3,  3,  3,  4,  4,  1),
    ('inventory.sales_velocity',           3,  3,  3,  4,  4,  1),
    ('inventory.picker_payouts',           0,  1,  2,  3,  3,  1),
    ('cx.conversations',                   3,  3,  3,  4,  4,  1),
    ('cx.sla_targets',                     2,  2,  2,  3,  3,  1),
    ('cx.sla_breaches',                    1,  1,  1,  2,  2,  1),
    ('cx.quality_grades',                  1,  1,  1,  2,  2,  1),
    ('growth.seo_pages',                   2,  2,  2,  3,  3,  1),
    ('growth.seo_rankings',               33, 33, 33, 62, 62, 29),
    ('growth.ad_campaigns',                3,  3,  3,  4,  4,  1),
    ('growth.ad_daily_metrics',            4,  4,  4,  5,  5,  1),
    ('growth.content_items',               3,  3,  3,  4,  4,  1),
    ('growth.content_daily_engagement',    3,  3,  3,  4,  4,  1);

-- Every table of the data layer is in the matrix (audit tables: audit.sql).
SELECT set_eq(
    'SELECT tbl FROM tests.visible',
    $$SELECT format('%s.%s', n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname IN ('app', 'approvals', 'inventory', 'cx', 'growth') AND c.relkind IN ('r', 'p')$$,
    'the matrix covers every table');

SELECT is(tests.value_as(caller, format('SELECT count(*) FROM %s', v.tbl)), expected::text,
          format('%s: %s sees %s rows', v.tbl, caller, expected))
FROM tests.visible v
CROSS JOIN LATERAL (VALUES ('viewer', v.viewer), ('operator', v.operator), ('manager', v.manager),
                           ('admin', v.admin), ('service_role', v.service_role), ('manager2', v.manager2)) AS r(caller, expected)
ORDER BY v.tbl, caller;

SELECT is(tests.value_as('anon', format('SELECT count(*) FROM %s', v.tbl)), 'deny:42501', format('%s: anon cannot read', v.tbl))
FROM tests.visible v ORDER BY v.tbl;

-- Writes. A = allow, D = deny, for viewer, operator, manager, admin, anon, service_role.
CREATE TABLE tests.writes (tbl text, op text, stmt text, expect text);
INSERT INTO tests.writes VALUES
    ('app.teams', 'insert', $$INSERT INTO app.teams (name) VALUES ('new team')$$, 'DDDADA'),
    ('app.teams', 'update', $$UPDATE app.teams SET name = name || '!' WHERE id = 1$$, 'DDDADA'),
    ('app.teams', 'delete', $$DELETE FROM app.teams WHERE id = 3$$, 'DDDADA'),
    ('app.users', 'insert', $$INSERT INTO app.users (id, team_id, app_role) VALUES (gen_random_uuid(), 1, 'viewer')$$, 'DDDADA'),
    ('app.users', 'update', $$UPDATE app.users SET active = NOT active WHERE team_id = 1$$, 'DDDADA'),
    ('app.users', 'delete', $$DELETE FROM app.users WHERE id = tests.uid('viewer2')$$, 'DDDADA'),
    ('approvals.approvals', 'insert', $$INSERT INTO approvals.approvals (kind, subject, requester_id, team_id) VALUES ('refund', 'new', coalesce((SELECT app.current_user_id()), tests.uid('operator')), 1)$$, 'DAAADA'),
    ('approvals.approvals', 'insert for another team', $$INSERT INTO approvals.approvals (kind, subject, requester_id, team_id) VALUES ('refund', 'new', coalesce((SELECT app.current_user_id()), tests.uid('operator')), 2)$$, 'DDDADA'),
    ('approvals.approvals', 'insert as someone else', $$INSERT INTO approvals.approvals (kind, subject, requester_id, team_id) VALUES ('refund', 'new', tests.uid('operator_b'), 1)$$, 'DDDADA'),
    ('approvals.approvals', 'take an unassigned one', $$UPDATE approvals.approvals SET assignee_id = (SELECT app.current_user_id()) WHERE id = 1$$, 'DAAADA'),
    ('approvals.approvals', 'edit one assigned to another operator', $$UPDATE approvals.approvals SET subject = subject || '!' WHERE id = 3$$, 'DDAADA'),
    ('approvals.approvals', 'decide', $$UPDATE approvals.approvals SET status = 'approved', decided_at = now(), decided_by = coalesce((SELECT app.current_user_id()), tests.uid('manager')) WHERE id = 2$$, 'DDAADA'),
    ('approvals.approvals', 'update another team''s', $$UPDATE approvals.approvals SET subject = subject || '!' WHERE id = 5$$, 'DDDADA'),
    ('approvals.approvals', 'move to another team', $$UPDATE approvals.approvals SET team_id = 2 WHERE id = 3$$, 'DDDADA'),
    ('approvals.approvals', 'delete', $$DELETE FROM approvals.approvals WHERE id = 1$$, 'DDDADA'),
    ('approvals.approval_grades', 'insert', $$INSERT INTO approvals.approval_grades (approval_id, grader_id, rubric, score) VALUES (4, coalesce((SELECT app.current_user_id()), tests.uid('manager')), 'timeliness', 3)$$, 'DDAADA'),
    ('approvals.approval_grades', 'insert for another team', $$INSERT INTO approvals.approval_grades (approval_id, grader_id, rubric, score) VALUES (6, coalesce((SELECT app.current_user_id()), tests.uid('manager')), 'timeliness', 3)$$, 'DDDADA'),
    ('approvals.approval_grades', 'update own', $$UPDATE approvals.approval_grades SET score = 5 WHERE id = 1$$, 'DDAADA'),
    ('approvals.approval_grades', 'delete', $$DELETE FROM approvals.approval_grades WHERE id = 1$$, 'DDDADA'),
    ('approvals.approval_edits', 'insert', $$INSERT INTO approvals.approval_edits (approval_id, editor_id, before_payload, after_payload, diff) VALUES (2, coalesce((SELECT app.current_user_id()), tests.uid('operator')), '{}', '{"x": 1}', '{"x": {"before": null, "after": 1}}')$$, 'DAAADA'),
    ('approvals.approval_edits', 'insert for another team', $$INSERT INTO approvals.approval_edits (approval_id, editor_id, before_payload, after_payload, diff) VALUES (5, coalesce((SELECT app.current_user_id()), tests.uid('operator')), '{}', '{"x": 1}', '{"x": {"before": null, "after": 1}}')$$, 'DDDADA'),
    ('approvals.approval_edits', 'update', $$UPDATE approvals.approval_edits SET diff = '{"order": {}}' WHERE id = 1$$, 'DDDADA'),
    ('approvals.approval_edits', 'delete', $$DELETE FROM approvals.approval_edits WHERE id = 1$$, 'DDDADA'),
    ('inventory.locations', 'insert', $$INSERT INTO inventory.locations (team_id, code, name, kind) VALUES (1, 'WH-NEW', 'New', 'store')$$, 'DDDADA'),
    ('inventory.locations', 'update', $$UPDATE inventory.locations SET name = name || '!' WHERE id = 1$$, 'DDDADA'),
    ('inventory.locations', 'delete', $$DELETE FROM inventory.locations WHERE id = 3$$, 'DDDADA'),
    ('inventory.products', 'insert', $$INSERT INTO inventory.products (sku, name, category, unit_cost_cents, unit_price_cents) VALUES ('SKU-NEW', 'New', 'misc', 1, 2)$$, 'DDDADA'),
    ('inventory.products', 'update', $$UPDATE inventory.products SET name = name || '!' WHERE id = 1$$, 'DDDADA'),
    ('inventory.products', 'delete', $$DELETE FROM inventory.products WHERE id = 3$$, 'DDDADA'),
    ('inventory.supplier_lead_times', 'insert', $$INSERT INTO inventory.supplier_lead_times (product_id, supplier_name, lead_time_days, valid_from) VALUES (1, 'new', 3, '2026-01-01')$$, 'DDDADA'),
    ('inventory.supplier_lead_times', 'update', $$UPDATE inventory.supplier_lead_times SET lead_time_days = 11 WHERE id = 1$$, 'DDDADA'),
    ('inventory.supplier_lead_times', 'delete', $$DELETE FROM inventory.supplier_lead_times WHERE id = 1$$, 'DDDADA'),
    ('inventory.inventory_snapshots', 'insert', $$INSERT INTO inventory.inventory_snapshots (location_id, product_id, taken_at, on_hand_units) VALUES (1, 1, '2026-01-31 12:00Z', 1)$$, 'DDDADA'),
    ('inventory.inventory_snapshots', 'update', $$UPDATE inventory.inventory_snapshots SET on_hand_units = on_hand_units + 1 WHERE location_id = 1$$, 'DDDADA'),
    ('inventory.inventory_snapshots', 'delete', $$DELETE FROM inventory.inventory_snapshots WHERE location_id = 1$$, 'DDDADA'),
    ('inventory.sales_velocity', 'insert', $$INSERT INTO inventory.sales_velocity (product_id, location_id, day, units_sold, revenue_cents) VALUES (1, 1, '2026-01-31', 1, 1)$$, 'DDDADA'),
    ('inventory.sales_velocity', 'update', $$UPDATE inventory.sales_velocity SET units_sold = units_sold + 1 WHERE location_id = 1$$, 'DDDADA'),
    ('inventory.sales_velocity', 'delete', $$DELETE FROM inventory.sales_velocity WHERE location_id = 1$$, 'DDDADA'),
    ('inventory.picker_payouts', 'insert', $$INSERT INTO inventory.picker_payouts (picker_id, location_id, period_start, period_end, picks, amount_cents) VALUES (tests.uid('operator'), 1, '2026-02-01', '2026-02-07', 10, 100)$$, 'DDAADA'),
    ('inventory.picker_payouts', 'insert for another team', $$INSERT INTO inventory.picker_payouts (picker_id, location_id, period_start, period_end, picks, amount_cents) VALUES (tests.uid('operator2'), 2, '2026-02-01', '2026-02-07', 10, 100)$$, 'DDDADA'),
    ('inventory.picker_payouts', 'update', $$UPDATE inventory.picker_payouts SET status = 'approved' WHERE id = 1$$, 'DDAADA'),
    ('inventory.picker_payouts', 'delete', $$DELETE FROM inventory.picker_payouts WHERE id = 1$$, 'DDDADA'),
    ('cx.conversations', 'insert', $$INSERT INTO cx.conversations (team_id, channel, subject) VALUES (1, 'chat', 'new')$$, 'DAAADA'),
    ('cx.conversations', 'insert for another team', $$INSERT INTO cx.conversations (team_id, channel, subject) VALUES (2, 'chat', 'new')$$, 'DDDADA'),
    ('cx.conversations', 'take an unassigned one', $$UPDATE cx.conversations SET assignee_id = (SELECT app.current_user_id()) WHERE id = 3$$, 'DAAADA'),
    ('cx.conversations', 'hand over to another operator', $$UPDATE cx.conversations SET assignee_id = tests.uid('operator_b') WHERE id = 2$$, 'DDAADA'),
    ('cx.conversations', 'update another team''s', $$UPDATE cx.conversations SET subject = subject || '!' WHERE id = 4$$, 'DDDADA'),
    ('cx.conversations', 'delete', $$DELETE FROM cx.conversations WHERE id = 3$$, 'DDDADA'),
    ('cx.sla_targets', 'insert', $$INSERT INTO cx.sla_targets (team_id, channel, priority, first_response_minutes, resolution_minutes) VALUES (1, 'phone', 'urgent', 5, 60)$$, 'DDAADA'),
    ('cx.sla_targets', 'update', $$UPDATE cx.sla_targets SET first_response_minutes = 16 WHERE id = 1$$, 'DDAADA'),
    ('cx.sla_targets', 'update another team''s', $$UPDATE cx.sla_targets SET first_response_minutes = 16 WHERE id = 3$$, 'DDDADA'),
    ('cx.sla_targets', 'delete', $$DELETE FROM cx.sla_targets WHERE id = 1$$, 'DDDADA'),
    ('cx.sla_breaches', 'insert', $$INSERT INTO cx.sla_breaches (conversation_id, sla_target_id, kind, breached_at, overdue_minutes) VALUES (1, 1, 'resolution', '2026-01-10 12:00Z', 5)$$, 'DDDADA'),
    ('cx.sla_breaches', 'update', $$UPDATE cx.sla_breaches SET overdue_minutes = 11 WHERE id = 1$$, 'DDDADA'),
    ('cx.sla_breaches', 'delete', $$DELETE FROM cx.sla_breaches WHERE id = 1$$, 'DDDADA'),
    ('cx.quality_grades', 'insert', $$INSERT INTO cx.quality_grades (conversation_id, grader_id, score) VALUES (2, coalesce((SELECT app.current_user_id()), tests.uid('manager')), 50)$$, 'DDAADA'),
    ('cx.quality_grades', 'update own', $$UPDATE cx.quality_grades SET score = 95 WHERE id = 1$$, 'DDAADA'),
    ('cx.quality_grades', 'delete', $$DELETE FROM cx.quality_grades WHERE id = 1$$, 'DDDADA'),
    ('growth.seo_pages', 'insert', $$INSERT INTO growth.seo_pages (team_id, url, title) VALUES (1, 'https://north.example/new', 'New')$$, 'DDAADA'),
    ('growth.seo_pages', 'update', $$UPDATE growth.seo_pages SET title = title || '!' WHERE id = 1$$, 'DDAADA'),
    ('growth.seo_pages', 'delete', $$DELETE FROM growth.seo_pages WHERE id = 3$$, 'DDDADA'),
    ('growth.seo_rankings', 'insert', $$INSERT INTO growth.seo_rankings (page_id, keyword, day, position, clicks, impressions) VALUES (1, 'new', '2026-01-31', 1, 0, 0)$$, 'DDDADA'),
    ('growth.seo_rankings', 'update', $$UPDATE growth.seo_rankings SET clicks = clicks + 1 WHERE page_id = 1$$, 'DDDADA'),
    ('growth.seo_rankings', 'delete', $$DELETE FROM growth.seo_rankings WHERE page_id = 1$$, 'DDDADA'),
    ('growth.ad_campaigns', 'insert', $$INSERT INTO growth.ad_campaigns (team_id, name, channel, daily_budget_cents, starts_on) VALUES (1, 'New', 'search', 100, '2026-02-01')$$, 'DDAADA'),
    ('growth.ad_campaigns', 'update', $$UPDATE growth.ad_campaigns SET daily_budget_cents = 6000 WHERE id = 1$$, 'DDAADA'),
    ('growth.ad_campaigns', 'update another team''s', $$UPDATE growth.ad_campaigns SET daily_budget_cents = 6000 WHERE id = 3$$, 'DDDADA'),
    ('growth.ad_campaigns', 'delete', $$DELETE FROM growth.ad_campaigns WHERE id = 4$$, 'DDDADA'),
    ('growth.ad_daily_metrics', 'insert', $$INSERT INTO growth.ad_daily_metrics (campaign_id, day, spend_cents, impressions, clicks, conversions, revenue_cents) VALUES (1, '2026-01-31', 1, 1, 0, 0, 0)$$, 'DDDADA'),
    ('growth.ad_daily_metrics', 'update', $$UPDATE growth.ad_daily_metrics SET spend_cents = spend_cents + 1 WHERE campaign_id = 1$$, 'DDDADA'),
    ('growth.ad_daily_metrics', 'delete', $$DELETE FROM growth.ad_daily_metrics WHERE campaign_id = 1$$, 'DDDADA'),
    ('growth.content_items', 'insert', $$INSERT INTO growth.content_items (team_id, kind, title) VALUES (1, 'article', 'New')$$, 'DDAADA'),
    ('growth.content_items', 'update', $$UPDATE growth.content_items SET title = title || '!' WHERE id = 1$$, 'DDAADA'),
    ('growth.content_items', 'delete', $$DELETE FROM growth.content_items WHERE id = 4$$, 'DDDADA'),
    ('growth.content_daily_engagement', 'insert', $$INSERT INTO growth.content_daily_engagement (content_id, day, views, unique_visitors, avg_read_seconds, bounce_rate, shares, conversions) VALUES (1, '2026-01-31', 1, 1, 1, 0, 0, 0)$$, 'DDDADA'),
    ('growth.content_daily_engagement', 'update', $$UPDATE growth.content_daily_engagement SET views = views + 1 WHERE content_id = 1$$, 'DDDADA'),
    ('growth.content_daily_engagement', 'delete', $$DELETE FROM growth.content_daily_engagement WHERE content_id = 1$$, 'DDDADA');

-- Every table has its insert, update and delete in the matrix.
SELECT is((SELECT count(*) FROM tests.visible v WHERE NOT EXISTS (SELECT 1 FROM tests.writes w WHERE w.tbl = v.tbl AND w.op LIKE c.op || '%')), 0::bigint,
          format('every table has a %s row in the write matrix', c.op))
FROM (VALUES ('insert'), ('update'), ('delete')) AS c(op);

SELECT is(split_part(outcome, ':', 1), CASE substr(w.expect, r.position, 1) WHEN 'A' THEN 'allow' ELSE 'deny' END,
          format('%s %s as %s (%s)', w.tbl, w.op, r.caller, outcome))
FROM tests.writes w
CROSS JOIN (VALUES (1, 'viewer'), (2, 'operator'), (3, 'manager'), (4, 'admin'), (5, 'anon'), (6, 'service_role')) AS r(position, caller)
CROSS JOIN LATERAL tests.try_as(r.caller, w.stmt) AS outcome
ORDER BY w.tbl, w.op, r.position;

-- Claims that do not match the contract see nothing.
SELECT is(tests.value_as('viewer', $$SELECT set_config('request.jwt.claims', '{"sub": "00000000-0000-0000-0000-000000000011", "role": "authenticated", "app_role": "superhero", "team_id": 1}', false) IS NOT NULL AND (SELECT count(*) FROM inventory.products) = 0$$), 'true',
          'an unknown app_role is denied everything');
SELECT is(tests.value_as('viewer', $$SELECT set_config('request.jwt.claims', '{"sub": "00000000-0000-0000-0000-000000000011", "role": "authenticated", "app_role": "viewer", "team_id": "1 OR true"}', false) IS NOT NULL AND (SELECT count(*) FROM approvals.approvals) = 0$$), 'true',
          'a malformed team_id sees no team rows');
SELECT is(tests.value_as('viewer', $$SELECT set_config('request.jwt.claims', '', false) IS NOT NULL AND (SELECT count(*) FROM app.users) = 0$$), 'true',
          'authenticated without claims sees nothing');

-- cx.sla_breaches.team_id (0010), the key of its read policy, always is the conversation's
-- team: set on insert whatever the writer sends, and carried along when a conversation moves.
SELECT is(tests.value_as('admin', $$WITH b AS (INSERT INTO cx.sla_breaches (conversation_id, sla_target_id, kind, breached_at, overdue_minutes, team_id) VALUES (4, 3, 'resolution', '2026-01-10 12:00Z', 5, 1) RETURNING team_id) SELECT team_id FROM b$$),
          '2', 'a breach gets its conversation''s team, not the one the writer sent');
UPDATE cx.conversations SET team_id = 2 WHERE id = 2;
SELECT is((SELECT team_id FROM cx.sla_breaches WHERE id = 1), 2::bigint, 'moving a conversation to another team moves its breaches');
SELECT is(tests.value_as('manager2', $$SELECT count(*) FROM cx.sla_breaches WHERE id = 1$$), '1', 'which the new team then sees');
UPDATE cx.conversations SET team_id = 1 WHERE id = 2;
UPDATE cx.sla_breaches SET team_id = 2 WHERE id = 1;
SELECT is((SELECT team_id FROM cx.sla_breaches WHERE id = 1), 1::bigint, 'a breach cannot be given another team than its conversation''s');
SELECT is(tests.value_as('manager2', $$SELECT count(*) FROM cx.sla_breaches WHERE id = 1$$), '0', 'another team''s manager does not see the breach');

-- inventory.picker_payouts.team_id (0013), the key of its policies, always is the location's
-- team: set on insert whatever the writer sends, and carried along when a location moves.
SELECT is(tests.value_as('admin', $$WITH p AS (INSERT INTO inventory.picker_payouts (picker_id, location_id, period_start, period_end, picks, amount_cents, team_id) VALUES (tests.uid('operator2'), 2, '2026-01-08', '2026-01-14', 10, 100, 1) RETURNING team_id) SELECT team_id FROM p$$),
          '2', 'a payout gets its location''s team, not the one the writer sent');
UPDATE inventory.locations SET team_id = 2 WHERE id = 1;
SELECT is((SELECT array_agg(team_id ORDER BY id) FROM inventory.picker_payouts WHERE location_id = 1), '{2,2}'::bigint[], 'moving a location to another team moves its payouts');
SELECT is(tests.value_as('manager2', $$SELECT count(*) FROM inventory.picker_payouts WHERE location_id = 1$$), '2', 'which the new team''s manager then sees');
SELECT is(tests.value_as('manager', $$SELECT count(*) FROM inventory.picker_payouts WHERE location_id = 1$$), '0', 'and the old team''s manager no longer does');
SELECT is(tests.value_as('operator', $$SELECT count(*) FROM inventory.picker_payouts WHERE location_id = 1$$), '1', 'while the picker still sees their own');
UPDATE inventory.locations SET team_id = 1 WHERE id = 1;
UPDATE inventory.picker_payouts SET team_id = 2 WHERE id = 1;
SELECT is((SELECT team_id FROM inventory.picker_payouts WHERE id = 1), 1::bigint, 'a payout cannot be given another team than its location''s');
SELECT is(tests.value_as('manager2', $$SELECT count(*) FROM inventory.picker_payouts WHERE id = 1$$), '0', 'another team''s manager does not see the payout');

-- approval_grades.team_id and quality_grades.team_id (0015), the keys of their read policies,
-- always are the parent's team: set on insert whatever the writer sends, carried along when
-- the parent moves.
SELECT is(tests.value_as('admin', $$WITH g AS (INSERT INTO approvals.approval_grades (approval_id, grader_id, rubric, score, team_id) VALUES (6, tests.uid('manager2'), 'timeliness', 3, 1) RETURNING team_id) SELECT team_id FROM g$$),
          '2', 'an approval grade gets its approval''s team, not the one the writer sent');
SELECT is(tests.value_as('admin', $$WITH g AS (INSERT INTO cx.quality_grades (conversation_id, grader_id, score, team_id) VALUES (4, tests.uid('manager'), 70, 1) RETURNING team_id) SELECT team_id FROM g$$),
          '2', 'a quality grade gets its conversation''s team, not the one the writer sent');
UPDATE approvals.approvals SET team_id = 2 WHERE id = 4;
UPDATE cx.conversations SET team_id = 2 WHERE id = 1;
SELECT is((SELECT team_id FROM approvals.approval_grades WHERE id = 1), 2::bigint, 'moving an approval to another team moves its grades');
SELECT is((SELECT team_id FROM cx.quality_grades WHERE id = 1), 2::bigint, 'moving a conversation to another team moves its quality grades');
SELECT is(tests.value_as('manager2', $$SELECT count(*) FROM approvals.approval_grades WHERE id = 1$$) || ' ' || tests.value_as('manager2', $$SELECT count(*) FROM cx.quality_grades WHERE id = 1$$),
          '1 1', 'which the new team then sees');
SELECT is(tests.value_as('manager', $$SELECT count(*) FROM approvals.approval_grades WHERE id = 1$$) || ' ' || tests.value_as('manager', $$SELECT count(*) FROM cx.quality_grades WHERE id = 1$$),
          '0 0', 'and the old team no longer does');
UPDATE approvals.approvals SET team_id = 1 WHERE id = 4;
UPDATE cx.conversations SET team_id = 1 WHERE id = 1;
UPDATE approvals.approval_grades SET team_id = 2 WHERE id = 1;
UPDATE cx.quality_grades SET team_id = 2 WHERE id = 1;
SELECT is((SELECT team_id FROM approvals.approval_grades WHERE id = 1) || ' ' || (SELECT team_id FROM cx.quality_grades WHERE id = 1), '1 1',
          'a grade cannot be given another team than its parent''s');
SELECT is(tests.value_as('manager2', $$SELECT count(*) FROM approvals.approval_grades WHERE id = 1$$) || ' ' || tests.value_as('manager2', $$SELECT count(*) FROM cx.quality_grades WHERE id = 1$$),
          '0 0', 'another team''s manager does not see the grades');

-- RLS is enabled and forced on every table and every audit partition.
SELECT is(count(*), 0::bigint, 'RLS is enabled and forced on every table')
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname IN ('app', 'approvals', 'inventory', 'cx', 'growth', 'audit') AND c.relkind IN ('r', 'p')
  AND NOT (c.relrowsecurity AND c.relforcerowsecurity);

SELECT * FROM finish();
