-- Every CHECK, UNIQUE and FOREIGN KEY constraint rejects a violating write with its own name in
-- the message (so the application can map it), and the list below covers all of them.
\ir fixture.psql
SELECT no_plan();

CREATE TABLE tests.violations (constraint_name text PRIMARY KEY, stmt text NOT NULL);
INSERT INTO tests.violations VALUES
    ('teams_name_check', $$UPDATE app.teams SET name = '' WHERE id = 1$$),
    ('teams_name_key', $$UPDATE app.teams SET name = 'south' WHERE id = 1$$),
    ('users_display_name_check', $$UPDATE app.users SET display_name = '' WHERE team_id = 1$$),
    ('users_email_check', $$UPDATE app.users SET email = 'not an address' WHERE team_id = 1$$),
    ('users_email_key', $$UPDATE app.users SET email = 'viewer@example.com' WHERE team_id = 2$$),
    ('users_team_id_fkey', $$UPDATE app.users SET team_id = 99 WHERE team_id = 1$$),
    ('approvals_amount_cents_check', $$UPDATE approvals.approvals SET amount_cents = -1 WHERE id = 1$$),
    ('approvals_decided_after_created_check', $$UPDATE approvals.approvals SET decided_at = created_at - interval '1 hour' WHERE id = 4$$),
    ('approvals_decided_at_check', $$UPDATE approvals.approvals SET status = 'approved', decided_by = decided_by WHERE id = 1$$),
    ('approvals_decided_by_check', $$UPDATE approvals.approvals SET decided_by = NULL WHERE id = 4$$),
    ('approvals_payload_check', $$UPDATE approvals.approvals SET payload = '[1, 2]' WHERE id = 1$$),
    ('approvals_subject_check', $$UPDATE approvals.approvals SET subject = '' WHERE id = 1$$),
    ('approvals_assignee_id_fkey', $$UPDATE approvals.approvals SET assignee_id = gen_random_uuid() WHERE id = 1$$),
    ('approvals_decided_by_fkey', $$UPDATE approvals.approvals SET decided_by = gen_random_uuid() WHERE id = 4$$),
    ('approvals_requester_id_fkey', $$UPDATE approvals.approvals SET requester_id = gen_random_uuid() WHERE id = 1$$),
    ('approvals_team_id_fkey', $$UPDATE approvals.approvals SET team_id = 99 WHERE id = 1$$),
    ('approval_grades_score_check', $$UPDATE approvals.approval_grades SET score = 6 WHERE id = 1$$),
    ('approval_grades_approval_id_fkey', $$UPDATE approvals.approval_grades SET approval_id = 999 WHERE id = 1$$),
    ('approval_grades_grader_id_fkey', $$UPDATE approvals.approval_grades SET grader_id = gen_random_uuid() WHERE id = 1$$),
    ('approval_grades_once_key', $$INSERT INTO approvals.approval_grades (approval_id, grader_id, rubric, score) SELECT approval_id, grader_id, rubric, 3 FROM approvals.approval_grades WHERE id = 1$$),
    ('approval_edits_changed_check', $$UPDATE approvals.approval_edits SET after_payload = before_payload WHERE id = 1$$),
    ('approval_edits_diff_check', $$UPDATE approvals.approval_edits SET diff = '"x"' WHERE id = 1$$),
    ('approval_edits_approval_id_fkey', $$UPDATE approvals.approval_edits SET approval_id = 999 WHERE id = 1$$),
    ('approval_edits_editor_id_fkey', $$UPDATE approvals.approval_edits SET editor_id = gen_random_uuid() WHERE id = 1$$),
    ('locations_code_check', $$UPDATE inventory.locations SET code = 'lower case' WHERE id = 1$$),
    ('locations_code_key', $$UPDATE inventory.locations SET code = 'WH-S1' WHERE id = 1$$),
    ('locations_team_id_fkey', $$UPDATE inventory.locations SET team_id = 99 WHERE id = 1$$),
    ('products_safety_stock_units_check', $$UPDATE inventory.products SET safety_stock_units = -1 WHERE id = 1$$),
    ('products_unit_cost_cents_check', $$UPDATE inventory.products SET unit_cost_cents = -1 WHERE id = 1$$),
    ('products_unit_price_cents_check', $$UPDATE inventory.products SET unit_price_cents = -1 WHERE id = 1$$),
    ('products_sku_key', $$UPDATE inventory.products SET sku = 'SKU-2' WHERE id = 1$$),
    ('supplier_lead_times_lead_time_days_check', $$UPDATE inventory.supplier_lead_times SET lead_time_days = 0 WHERE id = 1$$),
    ('supplier_lead_times_valid_check', $$UPDATE inventory.supplier_lead_times SET valid_to = valid_from WHERE id = 1$$),
    ('supplier_lead_times_product_id_fkey', $$UPDATE inventory.supplier_lead_times SET product_id = 999 WHERE id = 1$$),
    ('supplier_lead_times_period_key', $$UPDATE inventory.supplier_lead_times SET supplier_name = 'acme' WHERE id = 2$$),
    ('inventory_snapshots_on_hand_units_check', $$UPDATE inventory.inventory_snapshots SET on_hand_units = -1, reserved_units = 0 WHERE location_id = 1$$),
    ('inventory_snapshots_reserved_units_check', $$UPDATE inventory.inventory_snapshots SET reserved_units = on_hand_units + 1 WHERE location_id = 1$$),
    ('inventory_snapshots_location_id_fkey', $$UPDATE inventory.inventory_snapshots SET location_id = 999 WHERE location_id = 2$$),
    ('inventory_snapshots_product_id_fkey', $$UPDATE inventory.inventory_snapshots SET product_id = 999 WHERE location_id = 2$$),
    ('sales_velocity_revenue_cents_check', $$UPDATE inventory.sales_velocity SET revenue_cents = -1 WHERE location_id = 2$$),
    ('sales_velocity_units_sold_check', $$UPDATE inventory.sales_velocity SET units_sold = -1 WHERE location_id = 2$$),
    ('sales_velocity_location_id_fkey', $$UPDATE inventory.sales_velocity SET location_id = 999 WHERE location_id = 2$$),
    ('sales_velocity_product_id_fkey', $$UPDATE inventory.sales_velocity SET product_id = 999 WHERE location_id = 2$$),
    ('picker_payouts_amount_cents_check', $$UPDATE inventory.picker_payouts SET amount_cents = -1 WHERE id = 1$$),
    ('picker_payouts_period_check', $$UPDATE inventory.picker_payouts SET period_end = period_start - 1 WHERE id = 1$$),
    ('picker_payouts_picks_check', $$UPDATE inventory.picker_payouts SET picks = -1 WHERE id = 1$$),
    ('picker_payouts_approval_id_fkey', $$UPDATE inventory.picker_payouts SET approval_id = 999 WHERE id = 1$$),
    ('picker_payouts_location_id_fkey', $$UPDATE inventory.picker_payouts SET location_id = 999 WHERE id = 1$$),
    ('picker_payouts_picker_id_fkey', $$UPDATE inventory.picker_payouts SET picker_id = gen_random_uuid() WHERE id = 1$$),
    ('picker_payouts_period_key', $$INSERT INTO inventory.picker_payouts (picker_id, location_id, period_start, period_end, picks, amount_cents) SELECT picker_id, location_id, period_start, period_end, 1, 1 FROM inventory.picker_payouts WHERE id = 1$$),
    ('conversations_first_response_check', $$UPDATE cx.conversations SET first_response_at = opened_at - interval '1 minute' WHERE id = 1$$),
    ('conversations_resolved_check', $$UPDATE cx.conversations SET resolved_at = opened_at - interval '1 minute' WHERE id = 1$$),
    ('conversations_resolved_status_check', $$UPDATE cx.conversations SET status = 'closed' WHERE id = 3$$),
    ('conversations_subject_check', $$UPDATE cx.conversations SET subject = '' WHERE id = 1$$),
    ('conversations_assignee_id_fkey', $$UPDATE cx.conversations SET assignee_id = gen_random_uuid() WHERE id = 1$$),
    ('conversations_team_id_fkey', $$UPDATE cx.conversations SET team_id = 99 WHERE id = 1$$),
    ('sla_targets_first_response_minutes_check', $$UPDATE cx.sla_targets SET first_response_minutes = 0 WHERE id = 1$$),
    ('sla_targets_resolution_minutes_check', $$UPDATE cx.sla_targets SET resolution_minutes = first_response_minutes - 1 WHERE id = 1$$),
    ('sla_targets_team_id_fkey', $$UPDATE cx.sla_targets SET team_id = 99 WHERE id = 1$$),
    ('sla_targets_scope_key', $$UPDATE cx.sla_targets SET channel = 'chat' WHERE id = 1$$),
    ('sla_breaches_overdue_minutes_check', $$UPDATE cx.sla_breaches SET overdue_minutes = 0 WHERE id = 1$$),
    ('sla_breaches_conversation_id_fkey', $$UPDATE cx.sla_breaches SET conversation_id = 999 WHERE id = 1$$),
    ('sla_breaches_sla_target_id_fkey', $$UPDATE cx.sla_breaches SET sla_target_id = 999 WHERE id = 1$$),
    ('sla_breaches_once_key', $$INSERT INTO cx.sla_breaches (conversation_id, sla_target_id, kind, breached_at, overdue_minutes) SELECT conversation_id, sla_target_id, kind, breached_at, 1 FROM cx.sla_breaches WHERE id = 1$$),
    ('quality_grades_score_check', $$UPDATE cx.quality_grades SET score = 101 WHERE id = 1$$),
    ('quality_grades_conversation_id_fkey', $$UPDATE cx.quality_grades SET conversation_id = 999 WHERE id = 1$$),
    ('quality_grades_grader_id_fkey', $$UPDATE cx.quality_grades SET grader_id = gen_random_uuid() WHERE id = 1$$),
    ('quality_grades_once_key', $$INSERT INTO cx.quality_grades (conversation_id, grader_id, score) SELECT conversation_id, grader_id, 1 FROM cx.quality_grades WHERE id = 1$$),
    ('seo_pages_url_check', $$UPDATE growth.seo_pages SET url = 'ftp://north.example' WHERE id = 1$$),
    ('seo_pages_url_key', $$UPDATE growth.seo_pages SET url = 'https://south.example/widgets' WHERE id = 1$$),
    ('seo_pages_team_id_fkey', $$UPDATE growth.seo_pages SET team_id = 99 WHERE id = 1$$),
    ('seo_rankings_clicks_check', $$UPDATE growth.seo_rankings SET clicks = impressions + 1 WHERE page_id = 2$$),
    ('seo_rankings_position_check', $$UPDATE growth.seo_rankings SET position = 0 WHERE page_id = 2$$),
    ('seo_rankings_page_id_fkey', $$UPDATE growth.seo_rankings SET page_id = 999 WHERE page_id = 2$$),
    ('ad_campaigns_daily_budget_cents_check', $$UPDATE growth.ad_campaigns SET daily_budget_cents = -1 WHERE id = 1$$),
    ('ad_campaigns_dates_check', $$UPDATE growth.ad_campaigns SET ends_on = starts_on - 1 WHERE id = 1$$),
    ('ad_campaigns_team_id_fkey', $$UPDATE growth.ad_campaigns SET team_id = 99 WHERE id = 1$$),
    ('ad_campaigns_name_key', $$UPDATE growth.ad_campaigns SET name = 'Promo' WHERE id = 1$$),
    ('ad_daily_metrics_clicks_check', $$UPDATE growth.ad_daily_metrics SET clicks = impressions + 1, conversions = 0 WHERE campaign_id = 3$$),
    ('ad_daily_metrics_conversions_check', $$UPDATE growth.ad_daily_metrics SET conversions = clicks + 1 WHERE campaign_id = 3$$),
    ('ad_daily_metrics_revenue_cents_check', $$UPDATE growth.ad_daily_metrics SET revenue_cents = -1 WHERE campaign_id = 3$$),
    ('ad_daily_metrics_spend_cents_check', $$UPDATE growth.ad_daily_metrics SET spend_cents = -1 WHERE campaign_id = 3$$),
    ('ad_daily_metrics_campaign_id_fkey', $$UPDATE growth.ad_daily_metrics SET campaign_id = 999 WHERE campaign_id = 3$$),
    ('content_items_title_check', $$UPDATE growth.content_items SET title = '' WHERE id = 1$$),
    ('content_items_author_id_fkey', $$UPDATE growth.content_items SET author_id = gen_random_uuid() WHERE id = 1$$),
    ('content_items_team_id_fkey', $$UPDATE growth.content_items SET team_id = 99 WHERE id = 1$$),
    ('content_daily_engagement_avg_read_seconds_check', $$UPDATE growth.content_daily_engagement SET avg_read_seconds = -1 WHERE content_id = 3$$),
    ('content_daily_engagement_bounce_rate_check', $$UPDATE growth.content_daily_engagement SET bounce_rate = 1.5 WHERE content_id = 3$$),
    ('content_daily_engagement_conversions_check', $$UPDATE growth.content_daily_engagement SET conversions = -1 WHERE content_id = 3$$),
    ('content_daily_engagement_shares_check', $$UPDATE growth.content_daily_engagement SET shares = -1 WHERE content_id = 3$$),
    ('content_daily_engagement_unique_visitors_check', $$UPDATE growth.content_daily_engagement SET unique_visitors = views + 1 WHERE content_id = 3$$),
    ('content_daily_engagement_content_id_fkey', $$UPDATE growth.content_daily_engagement SET content_id = 999 WHERE content_id = 3$$),
    ('approvals_pkey', $$INSERT INTO approvals.approvals (id, kind, subject, requester_id, team_id) VALUES (1, 'refund', 'duplicate', tests.uid('operator'), 1)$$),
    ('ad_daily_metrics_pkey', $$INSERT INTO growth.ad_daily_metrics SELECT * FROM growth.ad_daily_metrics WHERE campaign_id = 3$$);

SELECT set_eq(
    $$SELECT constraint_name FROM tests.violations WHERE constraint_name NOT LIKE '%\_pkey'$$,
    $$SELECT k.conname::text FROM pg_constraint k JOIN pg_namespace n ON n.oid = k.connamespace
      WHERE n.nspname IN ('app', 'approvals', 'inventory', 'cx', 'growth') AND k.contype IN ('c', 'u', 'f')$$,
    'every CHECK, UNIQUE and FOREIGN KEY constraint has a violation case');

SELECT throws_like(stmt, format('%%"%s"%%', constraint_name), format('%s names itself when violated', constraint_name))
FROM tests.violations ORDER BY constraint_name;

-- Closed sets are enums: an unknown value is rejected.
SELECT throws_ok($$UPDATE approvals.approvals SET status = 'maybe' WHERE id = 1$$, '22P02', NULL, 'approval status is a closed set');
SELECT throws_ok($$UPDATE cx.conversations SET channel = 'fax' WHERE id = 1$$, '22P02', NULL, 'conversation channel is a closed set');
-- NOT NULL names the column.
SELECT throws_like($$UPDATE approvals.approvals SET subject = NULL WHERE id = 1$$, '%"subject"%', 'NOT NULL violations name the column');

SELECT * FROM finish();
