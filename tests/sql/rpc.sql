-- Every RPC and tile view on the hand-checked fixture (see fixture.psql for the numbers),
-- under the caller roles that use them.
\ir fixture.psql
SELECT no_plan();

-- approvals list: filters, keyset paging, team isolation
CREATE FUNCTION tests.ids(p_name text, p_args text) RETURNS text
    LANGUAGE sql AS $$
        SELECT tests.value_as(p_name, format(
            'SELECT coalesce(array_agg(l.id ORDER BY l.ordinality), ''{}'')::text FROM api.approvals_list(%s) WITH ORDINALITY l', p_args))
    $$;
SELECT is(tests.ids('manager', ''), '{4,3,2,1}', 'approvals_list: team 1, newest first');
SELECT is(tests.ids('manager', 'p_limit => 2'), '{4,3}', 'approvals_list: first page of 2');
SELECT is(tests.ids('manager', $$p_after_created_at => '2026-01-03 09:00Z', p_after_id => 3, p_limit => 2$$), '{2,1}', 'approvals_list: keyset page after (2026-01-03 09:00, 3)');
SELECT is(tests.ids('manager', $$p_status => 'pending'$$), '{3,2,1}', 'approvals_list: status filter');
SELECT is(tests.ids('manager', format('p_assignee_id => %L', tests.uid('operator'))), '{4,2}', 'approvals_list: assignee filter');
SELECT is(tests.ids('manager', $$p_kind => 'discount'$$), '{3}', 'approvals_list: kind filter');
SELECT is(tests.ids('manager', $$p_created_from => '2026-01-02', p_created_to => '2026-01-04'$$), '{3,2}', 'approvals_list: created range [from, to)');
SELECT is(tests.ids('manager', 'p_team_id => 2'), '{}', 'approvals_list: another team''s filter shows nothing to a manager');
SELECT is(tests.ids('viewer2', ''), '{6,5}', 'approvals_list: team 2 sees only its own');
SELECT is(tests.ids('admin', ''), '{4,6,3,5,2,1}', 'approvals_list: admin sees every team, ties broken by time then id');
SELECT is(tests.ids('admin', 'p_team_id => 2'), '{6,5}', 'approvals_list: admin team filter');
SELECT is(tests.ids('admin', $$p_after_created_at => '2026-01-03 09:00Z', p_after_id => 3$$), '{5,2,1}', 'approvals_list: keyset is strict on (created_at, id)');
SELECT is(tests.ids('manager', 'p_limit => 0'), 'deny:22023', 'approvals_list: p_limit out of range is rejected');
SELECT is(tests.ids('manager', 'p_after_id => 3'), 'deny:22023', 'approvals_list: half a keyset is rejected');
SELECT is(tests.ids('anon', ''), 'deny:42501', 'approvals_list: anon may not call it');
-- Each access path (0010: one static statement per leading filter) with the other filters.
SELECT is(tests.ids('manager', format('p_assignee_id => %L, p_status => %L', tests.uid('operator'), 'pending')), '{2}', 'approvals_list: assignee and status');
SELECT is(tests.ids('manager', format('p_assignee_id => %L, p_kind => %L', tests.uid('operator'), 'discount')), '{}', 'approvals_list: assignee with kind filter');
SELECT is(tests.ids('manager', $$p_team_id => 1, p_status => 'pending', p_created_from => '2026-01-01'$$), '{3,2}', 'approvals_list: team, status and created_from');
SELECT is(tests.ids('manager', $$p_team_id => 1, p_kind => 'refund', p_limit => 2$$), '{4,2}', 'approvals_list: team and kind, first page');
SELECT is(tests.ids('admin', $$p_kind => 'refund', p_status => 'pending'$$), '{5,2,1}', 'approvals_list: kind and status');
SELECT is(tests.ids('admin', $$p_status => 'pending', p_after_created_at => '2026-01-03 09:00Z', p_after_id => 3$$), '{5,2,1}', 'approvals_list: status with keyset');
SELECT is(tests.ids('admin', $$p_created_to => '2026-01-03 09:00Z', p_after_created_at => '2026-01-04 09:00Z', p_after_id => 4$$), '{5,2,1}', 'approvals_list: created_to below the keyset bounds the page');
SELECT is(tests.ids('admin', $$p_created_to => '2026-01-04 09:00Z', p_after_created_at => '2026-01-03 09:00Z', p_after_id => 6$$), '{3,5,2,1}', 'approvals_list: the keyset below created_to bounds the page');
SELECT is(tests.ids('viewer2', format('p_assignee_id => %L', tests.uid('operator'))), '{}', 'approvals_list: another team''s assignee shows nothing');

-- approvals summary
SELECT is(tests.rows_as('manager', $$SELECT * FROM api.approvals_summary('2025-12-01', '2026-02-01')$$),
    '[{"kind": "refund", "status": "pending", "approvals": 2, "amount_cents": 300, "avg_decision_hours": null},
      {"kind": "refund", "status": "approved", "approvals": 1, "amount_cents": 1000, "avg_decision_hours": 2.00},
      {"kind": "discount", "status": "pending", "approvals": 1, "amount_cents": 0, "avg_decision_hours": null}]'::jsonb,
    'approvals_summary: per kind and status for team 1');
SELECT is(tests.rows_as('manager', $$SELECT kind, status, approvals, amount_cents FROM api.approvals_summary('2026-01-01', '2026-02-01') WHERE status = 'pending' AND kind = 'refund'$$),
    '[{"kind": "refund", "status": "pending", "approvals": 1, "amount_cents": 200}]'::jsonb,
    'approvals_summary: the range excludes approvals created before p_from');

-- customer experience summary
SELECT is(tests.rows_as('manager', $$SELECT * FROM api.cx_summary('2026-01-01', '2026-02-01')$$),
    '[{"channel": "email", "conversations": 1, "responded": 1, "avg_first_response_minutes": 10.0, "p90_first_response_minutes": 10.0, "resolved": 1, "avg_resolution_minutes": 60.0, "breaches": 0},
      {"channel": "chat", "conversations": 2, "responded": 1, "avg_first_response_minutes": 30.0, "p90_first_response_minutes": 30.0, "resolved": 0, "avg_resolution_minutes": null, "breaches": 1}]'::jsonb,
    'cx_summary: team 1 per channel');
SELECT is(tests.rows_as('viewer2', $$SELECT * FROM api.cx_summary('2026-01-01', '2026-02-01')$$),
    '[{"channel": "email", "conversations": 1, "responded": 0, "avg_first_response_minutes": null, "p90_first_response_minutes": null, "resolved": 0, "avg_resolution_minutes": null, "breaches": 1}]'::jsonb,
    'cx_summary: team 2 sees its own conversation and breach');

-- inventory reorder points
SELECT is(tests.rows_as('manager', $$SELECT * FROM api.inventory_reorder('2026-01-31')$$),
    '[{"location_id": 1, "product_id": 1, "sku": "SKU-1", "counted_at": "2026-01-30T12:00:00+00:00", "available_units": 35, "units_per_day": 2.00, "lead_time_days": 10.0, "safety_stock_units": 5, "reorder_point_units": 25, "needs_reorder": false},
      {"location_id": 1, "product_id": 2, "sku": "SKU-2", "counted_at": "2026-01-30T12:00:00+00:00", "available_units": 10, "units_per_day": 2.00, "lead_time_days": 6.0, "safety_stock_units": 0, "reorder_point_units": 12, "needs_reorder": true}]'::jsonb,
    'inventory_reorder: latest count, 28-day velocity, longest current lead time, safety stock');
SELECT is(tests.rows_as('admin', $$SELECT location_id, available_units, units_per_day, reorder_point_units, needs_reorder FROM api.inventory_reorder('2026-01-31', 2)$$),
    '[{"location_id": 2, "available_units": 100, "units_per_day": 0.36, "reorder_point_units": 9, "needs_reorder": false}]'::jsonb,
    'inventory_reorder: location filter, admin sees team 2');
SELECT is(tests.rows_as('manager', $$SELECT * FROM api.inventory_reorder('2026-01-31', 2)$$), '[]'::jsonb,
    'inventory_reorder: another team''s location shows nothing');

-- ads performance
SELECT is(tests.rows_as('manager', $$SELECT * FROM api.ads_by_campaign('2026-01-01', '2026-01-03')$$),
    '[{"campaign_id": 1, "campaign_name": "Spring", "channel": "search", "spend_cents": 3000, "impressions": 3000, "clicks": 200, "conversions": 10, "revenue_cents": 5000, "roas": 1.6667, "cpa_cents": 300.00, "ctr": 0.0667},
      {"campaign_id": 2, "campaign_name": "Promo", "channel": "social", "spend_cents": 500, "impressions": 100, "clicks": 10, "conversions": 5, "revenue_cents": 1000, "roas": 2.0000, "cpa_cents": 100.00, "ctr": 0.1000}]'::jsonb,
    'ads_by_campaign: totals, ROAS, CPA, CTR, biggest spender first');
SELECT is(tests.rows_as('manager', $$SELECT campaign_id, roas, cpa_cents FROM api.ads_by_campaign('2026-01-07', '2026-01-08')$$),
    '[{"campaign_id": 2, "roas": 0.0000, "cpa_cents": null}]'::jsonb,
    'ads_by_campaign: CPA is null without conversions');
SELECT is(tests.rows_as('manager', $$SELECT * FROM api.ads_by_day('2026-01-01', '2026-01-03')$$),
    '[{"day": "2026-01-01", "spend_cents": 1000, "impressions": 1000, "clicks": 100, "conversions": 10, "revenue_cents": 5000, "roas": 5.0000, "cpa_cents": 100.00, "ctr": 0.1000},
      {"day": "2026-01-02", "spend_cents": 2500, "impressions": 2100, "clicks": 110, "conversions": 5, "revenue_cents": 1000, "roas": 0.4000, "cpa_cents": 500.00, "ctr": 0.0524}]'::jsonb,
    'ads_by_day: team 1 campaigns summed per day (team 2 spend excluded)');

-- content engagement
SELECT is(tests.rows_as('manager', $$SELECT * FROM api.content_engagement('2026-01-01', '2026-01-08')$$),
    '[{"content_id": 1, "title": "How to widget", "kind": "article", "views": 400, "unique_visitors": 280, "avg_read_seconds": 30.0, "bounce_rate": 0.200, "shares": 4, "conversions": 10, "conversion_rate": 0.0357},
      {"content_id": 2, "title": "Widget video", "kind": "video", "views": 10, "unique_visitors": 10, "avg_read_seconds": 5.0, "bounce_rate": 1.000, "shares": 0, "conversions": 0, "conversion_rate": 0.0000}]'::jsonb,
    'content_engagement: view-weighted means, most viewed first');
SELECT is(tests.rows_as('manager', $$SELECT content_id FROM api.content_engagement('2026-01-01', '2026-01-08', 'video')$$),
    '[{"content_id": 2}]'::jsonb, 'content_engagement: kind filter');

-- SEO anomalies
SELECT is(tests.rows_as('manager', $$SELECT * FROM api.seo_anomalies('2026-01-31')$$),
    '[{"page_id": 1, "url": "https://north.example/widgets", "keyword": "widgets", "day": "2026-01-31", "day_position": 12.0, "baseline_position": 3.0, "rank_drop": 9.0, "clicks": 5, "baseline_clicks": 20.0, "clicks_drop": 0.750, "reason": "ranking dropped and clicks dropped"}]'::jsonb,
    'seo_anomalies: the dropped keyword only, against its 28-day baseline');
SELECT is(tests.rows_as('manager', $$SELECT keyword, rank_drop, reason FROM api.seo_anomalies('2026-01-31', 28, 1)$$),
    '[{"keyword": "widgets", "rank_drop": 9.0, "reason": "ranking dropped and clicks dropped"}, {"keyword": "gadgets", "rank_drop": 1.0, "reason": "ranking dropped"}]'::jsonb,
    'seo_anomalies: a lower threshold adds the small drop, worst first');
SELECT is(tests.rows_as('admin', $$SELECT page_id, rank_drop, clicks_drop FROM api.seo_anomalies('2026-01-31')$$),
    '[{"page_id": 2, "rank_drop": 12.0, "clicks_drop": 0.900}, {"page_id": 1, "rank_drop": 9.0, "clicks_drop": 0.750}]'::jsonb,
    'seo_anomalies: admin sees both teams');

-- data quality
SELECT is(tests.value_as('admin', $$SELECT string_agg(check_name || ' ' || row_key::text, '; ' ORDER BY check_name, row_key::text) FROM api.data_quality_issues('2026-01-31')$$),
    'engagement_before_publication {"day": "2026-01-05", "content_id": 2}; overdue_pending_approval {"id": 1}; spend_outside_campaign {"day": "2026-01-07", "campaign_id": 2}; stale_inventory_snapshot {"id": 2}; stale_inventory_snapshot {"id": 3}',
    'data_quality_issues: every planted problem, nothing else');
SELECT is(tests.value_as('manager2', $$SELECT string_agg(check_name || ' ' || row_key::text, '; ' ORDER BY check_name, row_key::text) FROM api.data_quality_issues('2026-01-31')$$),
    'stale_inventory_snapshot {"id": 2}', 'data_quality_issues: limited to what the caller may read');

-- PII functions
SELECT is(tests.value_as('manager', format('SELECT email FROM app.user_contact(%L)', tests.uid('viewer'))), 'viewer@example.com', 'user_contact: a manager reads their team''s e-mail');
SELECT is(tests.value_as('viewer', format('SELECT email FROM app.user_contact(%L)', tests.uid('viewer'))), 'viewer@example.com', 'user_contact: a user reads their own');
SELECT is(tests.value_as('viewer', format('SELECT count(*) FROM app.user_contact(%L)', tests.uid('operator'))), '0', 'user_contact: a viewer cannot read a colleague''s');
SELECT is(tests.value_as('manager2', format('SELECT count(*) FROM app.user_contact(%L)', tests.uid('viewer'))), '0', 'user_contact: another team''s manager cannot');
SELECT is(tests.value_as('operator', 'SELECT customer_email FROM cx.conversation_contact(1)'), 'carol@example.org', 'conversation_contact: an operator of the team reads it');
SELECT is(tests.value_as('viewer', 'SELECT count(*) FROM cx.conversation_contact(1)'), '0', 'conversation_contact: a viewer never');
SELECT is(tests.value_as('operator2', 'SELECT count(*) FROM cx.conversation_contact(1)'), '0', 'conversation_contact: another team never');
SELECT is(tests.value_as('viewer', 'SELECT customer_email FROM cx.conversations WHERE id = 1'), 'deny:42501', 'PII columns are not selectable by authenticated');

-- tile views
SELECT is(tests.value_as('manager', 'SELECT string_agg(id::text, '','' ORDER BY id) FROM api.approvals_queue'), '1,2,3', 'approvals_queue: team 1 pending');
SELECT is(tests.value_as('viewer2', 'SELECT string_agg(id::text, '','' ORDER BY id) FROM api.approvals_queue'), '5', 'approvals_queue: team 2 pending');
SELECT isnt(tests.value_as('manager', 'SELECT count(*) FROM api.inventory_reorder_points'), 'deny:42501', 'inventory_reorder_points: readable');
SELECT isnt(tests.value_as('manager', 'SELECT count(*) FROM api.cx_response_times'), 'deny:42501', 'cx_response_times: readable');
SELECT isnt(tests.value_as('manager', 'SELECT count(*) FROM api.seo_anomalies_latest'), 'deny:42501', 'seo_anomalies_latest: readable');
SELECT isnt(tests.value_as('manager', 'SELECT count(*) FROM api.content_engagement_30d'), 'deny:42501', 'content_engagement_30d: readable');
SELECT isnt(tests.value_as('admin', 'SELECT count(*) FROM api.data_quality'), 'deny:42501', 'data_quality: readable');
SELECT is(tests.value_as('anon', 'SELECT count(*) FROM api.approvals_queue'), 'deny:42501', 'tile views: anon denied');

-- rollups: refreshed by the job role, read through the team-filtering views only
SELECT is(tests.value_as('manager', 'SELECT rollup.refresh_daily()::text'), 'deny:42501', 'refresh_daily: not for app users');
SET ROLE service_role;
SELECT rollup.refresh_daily();
RESET ROLE;
SELECT is(tests.value_as('manager', 'SELECT count(*) || '' rows, '' || sum(approvals) || '' approvals'' FROM api.approvals_daily'), '4 rows, 4 approvals', 'approvals_daily: team 1 after refresh');
SELECT is(tests.value_as('viewer2', 'SELECT count(*) || '' rows, '' || sum(approvals) || '' approvals'' FROM api.approvals_daily'), '2 rows, 2 approvals', 'approvals_daily: team 2 after refresh');
SELECT is(tests.value_as('admin', 'SELECT count(*) FROM api.approvals_daily'), '6', 'approvals_daily: admin sees all teams');
SELECT is(tests.value_as('manager', 'SELECT count(*) || '' rows, '' || sum(breaches) || '' breaches, '' || sum(avg_first_response_minutes) FROM api.cx_daily'), '3 rows, 1 breaches, 40.0', 'cx_daily: team 1');
SELECT is(tests.value_as('manager', 'SELECT count(*) || '' rows, '' || sum(spend_cents) FROM api.ads_daily'), '4 rows, 3600', 'ads_daily: team 1');
SELECT is(tests.value_as('manager', 'SELECT count(*) FROM rollup.approvals_daily'), 'deny:42501', 'rollups are not readable directly');
SELECT is(tests.value_as('manager', 'SELECT count(*) FROM api.approvals_daily WHERE team_id = 2'), '0', 'approvals_daily: another team''s rows stay hidden');

SELECT * FROM finish();
