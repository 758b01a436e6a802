-- Dashboard reads: RPC functions and one view per tile in schema `api`, materialized daily
-- rollups in schema `rollup` with their nightly refresh, and data-quality checks.
--
-- Every function is SECURITY INVOKER with `search_path = ''` (names fully qualified), so the
-- caller's RLS policies apply; the only exceptions are the rollup refresh (it must own the
-- materialized views) and the rollup views (materialized views cannot have RLS: those views
-- apply the same team rule as the base tables' policies, and nobody else may read the
-- materialized views). Predicates compare plain columns to parameters (ranges as
-- `col >= $from AND col < $to`) so that indexes on those columns can serve them.

CREATE SCHEMA api;
COMMENT ON SCHEMA api IS 'What dashboards call: RPC functions and one view per tile. Everything applies the caller''s RLS.';
CREATE SCHEMA rollup;
COMMENT ON SCHEMA rollup IS 'Materialized daily rollups of history, refreshed nightly; read only through the api views.';
REVOKE ALL ON SCHEMA api, rollup FROM PUBLIC;

-- ─── approvals list with filters and keyset paging ──────────────────────────────────────
CREATE FUNCTION api.approvals_list(
    p_status approvals.approval_status DEFAULT NULL,
    p_assignee_id uuid DEFAULT NULL,
    p_team_id bigint DEFAULT NULL,
    p_kind approvals.approval_kind DEFAULT NULL,
    p_created_from timestamptz DEFAULT NULL,
    p_created_to timestamptz DEFAULT NULL,
    p_after_created_at timestamptz DEFAULT NULL,
    p_after_id bigint DEFAULT NULL,
    p_limit integer DEFAULT 50)
    RETURNS TABLE (id bigint, kind approvals.approval_kind, subject text, status approvals.approval_status,
                   requester_id uuid, assignee_id uuid, team_id bigint, amount_cents bigint,
                   created_at timestamptz, decided_at timestamptz)
    LANGUAGE plpgsql STABLE SECURITY INVOKER SET search_path = ''
    AS $fn$
    DECLARE
        predicates text[] := ARRAY['true'];
    BEGIN
        IF p_limit IS NULL OR p_limit NOT BETWEEN 1 AND 500 THEN
            RAISE EXCEPTION 'p_limit must be between 1 and 500, got %', p_limit USING ERRCODE = 'invalid_parameter_value';
        END IF;
        IF (p_after_created_at IS NULL) <> (p_after_id IS NULL) THEN
            RAISE EXCEPTION 'p_after_created_at and p_after_id page together: give both or neither'
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        -- Only the filters given become predicates, each a plain comparison an index can
        -- serve; the statement is planned with the actual values (skewed statuses).
        IF p_status IS NOT NULL THEN predicates := predicates || 'a.status = $1'::text; END IF;
        IF p_assignee_id IS NOT NULL THEN predicates := predicates || 'a.assignee_id = $2'::text; END IF;
        IF p_team_id IS NOT NULL THEN predicates := predicates || 'a.team_id = $3'::text; END IF;
        IF p_kind IS NOT NULL THEN predicates := predicates || 'a.kind = $4'::text; END IF;
        IF p_created_from IS NOT NULL THEN predicates := predicates || 'a.created_at >= $5'::text; END IF;
        IF p_created_to IS NOT NULL THEN predicates := predicates || 'a.created_at < $6'::text; END IF;
        IF p_after_id IS NOT NULL THEN predicates := predicates || '(a.created_at, a.id) < ($7, $8)'::text; END IF;
        RETURN QUERY EXECUTE format(
            'SELECT a.id, a.kind, a.subject, a.status, a.requester_id, a.assignee_id, a.team_id,
                    a.amount_cents, a.created_at, a.decided_at
             FROM approvals.approvals a
             WHERE %s
             ORDER BY a.created_at DESC, a.id DESC
             LIMIT $9', array_to_string(predicates, ' AND '))
            USING p_status, p_assignee_id, p_team_id, p_kind, p_created_from, p_created_to,
                  p_after_created_at, p_after_id, p_limit;
    END
    $fn$;
COMMENT ON FUNCTION api.approvals_list(approvals.approval_status, uuid, bigint, approvals.approval_kind, timestamptz, timestamptz, timestamptz, bigint, integer) IS 'Approvals newest first, filtered by any of status, assignee, team, kind and a created_at range [from, to); next page: pass the last row''s created_at and id as p_after_created_at/p_after_id.';

-- ─── per-tile aggregates for a date range ───────────────────────────────────────────────
CREATE FUNCTION api.approvals_summary(p_from timestamptz, p_to timestamptz)
    RETURNS TABLE (kind approvals.approval_kind, status approvals.approval_status, approvals bigint,
                   amount_cents numeric, avg_decision_hours numeric)
    LANGUAGE sql STABLE SECURITY INVOKER SET search_path = ''
    AS $fn$
        SELECT a.kind, a.status, count(*), coalesce(sum(a.amount_cents), 0),
               round((avg(extract(epoch FROM a.decided_at - a.created_at)) / 3600)::numeric, 2)
        FROM approvals.approvals a
        WHERE a.created_at >= p_from AND a.created_at < p_to
        GROUP BY a.kind, a.status
        ORDER BY a.kind, a.status
    $fn$;
COMMENT ON FUNCTION api.approvals_summary(timestamptz, timestamptz) IS 'Approvals tile: count, amount and mean hours to decision per kind and status, for approvals created in [p_from, p_to).';

CREATE FUNCTION api.cx_summary(p_from timestamptz, p_to timestamptz)
    RETURNS TABLE (channel cx.channel, conversations bigint, responded bigint,
                   avg_first_response_minutes numeric, p90_first_response_minutes numeric,
                   resolved bigint, avg_resolution_minutes numeric, breaches bigint)
    LANGUAGE sql STABLE SECURITY INVOKER SET search_path = ''
    AS $fn$
        SELECT c.channel,
               count(*),
               count(c.first_response_at),
               round((avg(extract(epoch FROM c.first_response_at - c.opened_at)) / 60)::numeric, 1),
               round((percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM c.first_response_at - c.opened_at)) / 60)::numeric, 1),
               count(c.resolved_at),
               round((avg(extract(epoch FROM c.resolved_at - c.opened_at)) / 60)::numeric, 1),
               coalesce(sum(b.breaches), 0)::bigint
        FROM cx.conversations c
        LEFT JOIN LATERAL (SELECT count(*) AS breaches FROM cx.sla_breaches s WHERE s.conversation_id = c.id) b ON true
        WHERE c.opened_at >= p_from AND c.opened_at < p_to
        GROUP BY c.channel
        ORDER BY c.channel
    $fn$;
COMMENT ON FUNCTION api.cx_summary(timestamptz, timestamptz) IS 'Customer-experience tile: volume, first-response (mean, P90) and resolution times in minutes and SLA breaches per channel, for conversations opened in [p_from, p_to).';

CREATE FUNCTION api.inventory_reorder(p_as_of date DEFAULT current_date, p_location_id bigint DEFAULT NULL)
    RETURNS TABLE (location_id bigint, product_id bigint, sku text, counted_at timestamptz,
                   available_units integer, units_per_day numeric, lead_time_days numeric,
                   safety_stock_units integer, reorder_point_units integer, needs_reorder boolean)
    LANGUAGE plpgsql STABLE SECURITY INVOKER SET search_path = ''
    AS $fn$
    DECLARE
        -- The location filter is a predicate only when given, so an index on location_id can
        -- serve it (an "$2 IS NULL OR ..." test would not be sargable in a generic plan).
        at_location text := CASE WHEN p_location_id IS NULL THEN '' ELSE ' AND %1$s.location_id = $2' END;
    BEGIN
        RETURN QUERY EXECUTE format($q$
        WITH latest AS (
            -- The newest count in the week before p_as_of per location and product.
            SELECT DISTINCT ON (s.location_id, s.product_id)
                   s.location_id, s.product_id, s.taken_at, s.on_hand_units - s.reserved_units AS available_units
            FROM inventory.inventory_snapshots s
            WHERE s.taken_at >= ($1 - 7)::timestamp AT TIME ZONE 'UTC'
              AND s.taken_at < ($1 + 1)::timestamp AT TIME ZONE 'UTC' %s
            ORDER BY s.location_id, s.product_id, s.taken_at DESC
        ), velocity AS (
            -- Mean units sold per day over the 28 days before p_as_of.
            SELECT v.location_id, v.product_id, sum(v.units_sold)::numeric / 28 AS units_per_day
            FROM inventory.sales_velocity v
            WHERE v.day >= $1 - 28 AND v.day < $1 %s
            GROUP BY v.location_id, v.product_id
        ), lead_time AS (
            -- The longest lead time quoted on p_as_of (plan for the slowest supplier).
            SELECT t.product_id, max(t.lead_time_days) AS lead_time_days
            FROM inventory.supplier_lead_times t
            WHERE t.valid_from <= $1 AND (t.valid_to IS NULL OR t.valid_to > $1)
            GROUP BY t.product_id
        )
        SELECT l.location_id, l.product_id, p.sku, l.taken_at, l.available_units,
               round(coalesce(v.units_per_day, 0), 2), lt.lead_time_days, p.safety_stock_units,
               rp.units,
               l.available_units <= rp.units
        FROM latest l
        JOIN inventory.products p ON p.id = l.product_id
        LEFT JOIN velocity v ON v.location_id = l.location_id AND v.product_id = l.product_id
        LEFT JOIN lead_time lt ON lt.product_id = l.product_id
        CROSS JOIN LATERAL (
            SELECT ceil(coalesce(v.units_per_day, 0) * coalesce(lt.lead_time_days, 0) + p.safety_stock_units)::integer AS units
        ) rp
        ORDER BY l.location_id, l.product_id $q$, format(at_location, 's'), format(at_location, 'v'))
        USING p_as_of, p_location_id;
    END
    $fn$;
COMMENT ON FUNCTION api.inventory_reorder(date, bigint) IS 'Inventory tile: per location and product, stock available at the latest count of the week before p_as_of and its reorder point = ceil(units sold per day over 28 days x longest current lead time + safety stock).';

CREATE FUNCTION api.ads_by_campaign(p_from date, p_to date)
    RETURNS TABLE (campaign_id bigint, campaign_name text, channel growth.ad_channel, spend_cents bigint,
                   impressions bigint, clicks bigint, conversions bigint, revenue_cents bigint,
                   roas numeric, cpa_cents numeric, ctr numeric)
    LANGUAGE sql STABLE SECURITY INVOKER SET search_path = ''
    AS $fn$
        SELECT c.id, c.name, c.channel, m.spend_cents, m.impressions, m.clicks, m.conversions, m.revenue_cents,
               round(m.revenue_cents::numeric / nullif(m.spend_cents, 0), 4),
               round(m.spend_cents::numeric / nullif(m.conversions, 0), 2),
               round(m.clicks::numeric / nullif(m.impressions, 0), 4)
        FROM (
            SELECT d.campaign_id, sum(d.spend_cents)::bigint AS spend_cents, sum(d.impressions)::bigint AS impressions,
                   sum(d.clicks)::bigint AS clicks, sum(d.conversions)::bigint AS conversions,
                   sum(d.revenue_cents)::bigint AS revenue_cents
            FROM growth.ad_daily_metrics d
            WHERE d.day >= p_from AND d.day < p_to
            GROUP BY d.campaign_id
        ) m
        JOIN growth.ad_campaigns c ON c.id = m.campaign_id
        ORDER BY m.spend_cents DESC, c.id
    $fn$;
COMMENT ON FUNCTION api.ads_by_campaign(date, date) IS 'Ads tile by campaign for days in [p_from, p_to): totals, ROAS = revenue/spend, CPA = spend/conversions (cents), CTR = clicks/impressions; null where the divisor is 0.';

CREATE FUNCTION api.ads_by_day(p_from date, p_to date)
    RETURNS TABLE (day date, spend_cents bigint, impressions bigint, clicks bigint, conversions bigint,
                   revenue_cents bigint, roas numeric, cpa_cents numeric, ctr numeric)
    LANGUAGE sql STABLE SECURITY INVOKER SET search_path = ''
    AS $fn$
        SELECT m.day, m.spend_cents, m.impressions, m.clicks, m.conversions, m.revenue_cents,
               round(m.revenue_cents::numeric / nullif(m.spend_cents, 0), 4),
               round(m.spend_cents::numeric / nullif(m.conversions, 0), 2),
               round(m.clicks::numeric / nullif(m.impressions, 0), 4)
        FROM (
            SELECT d.day, sum(d.spend_cents)::bigint AS spend_cents, sum(d.impressions)::bigint AS impressions,
                   sum(d.clicks)::bigint AS clicks, sum(d.conversions)::bigint AS conversions,
                   sum(d.revenue_cents)::bigint AS revenue_cents
            FROM growth.ad_daily_metrics d
            WHERE d.day >= p_from AND d.day < p_to
            GROUP BY d.day
        ) m
        ORDER BY m.day
    $fn$;
COMMENT ON FUNCTION api.ads_by_day(date, date) IS 'Ads tile by day for days in [p_from, p_to), all visible campaigns together: totals, ROAS, CPA (cents), CTR.';

CREATE FUNCTION api.content_engagement(p_from date, p_to date, p_kind growth.content_kind DEFAULT NULL)
    RETURNS TABLE (content_id bigint, title text, kind growth.content_kind, views bigint, unique_visitors bigint,
                   avg_read_seconds numeric, bounce_rate numeric, shares bigint, conversions bigint,
                   conversion_rate numeric)
    LANGUAGE sql STABLE SECURITY INVOKER SET search_path = ''
    AS $fn$
        SELECT i.id, i.title, i.kind, e.views, e.unique_visitors,
               round(e.read_seconds / nullif(e.views, 0), 1),
               round(e.bounces / nullif(e.views, 0), 3),
               e.shares, e.conversions,
               round(e.conversions::numeric / nullif(e.unique_visitors, 0), 4)
        FROM (
            -- Means are weighted by views: a day with more views counts more.
            SELECT d.content_id, sum(d.views)::bigint AS views, sum(d.unique_visitors)::bigint AS unique_visitors,
                   sum(d.avg_read_seconds * d.views) AS read_seconds, sum(d.bounce_rate * d.views) AS bounces,
                   sum(d.shares)::bigint AS shares, sum(d.conversions)::bigint AS conversions
            FROM growth.content_daily_engagement d
            WHERE d.day >= p_from AND d.day < p_to
            GROUP BY d.content_id
        ) e
        JOIN growth.content_items i ON i.id = e.content_id
        WHERE p_kind IS NULL OR i.kind = p_kind
        ORDER BY e.views DESC, i.id
    $fn$;
COMMENT ON FUNCTION api.content_engagement(date, date, growth.content_kind) IS 'Content tile for days in [p_from, p_to): totals per item, view-weighted read time and bounce rate, conversions per unique visitor.';

CREATE FUNCTION api.seo_anomalies(p_day date, p_window_days integer DEFAULT 28,
                                  p_min_rank_drop numeric DEFAULT 5, p_min_clicks_drop numeric DEFAULT 0.5)
    RETURNS TABLE (page_id bigint, url text, keyword text, day date, day_position numeric, baseline_position numeric,
                   rank_drop numeric, clicks integer, baseline_clicks numeric, clicks_drop numeric, reason text)
    LANGUAGE sql STABLE SECURITY INVOKER SET search_path = ''
    AS $fn$
        WITH window_rows AS (
            SELECT r.page_id, r.keyword, r.day, r.position, r.clicks
            FROM growth.seo_rankings r
            WHERE r.day >= p_day - p_window_days AND r.day <= p_day
        ), baseline AS (
            SELECT w.page_id, w.keyword, avg(w.position) AS position, avg(w.clicks) AS clicks
            FROM window_rows w
            WHERE w.day < p_day
            GROUP BY w.page_id, w.keyword
        ), scored AS (
            SELECT t.page_id, t.keyword, t.day, t.position, b.position AS baseline_position,
                   t.position - b.position AS rank_drop, t.clicks, b.clicks AS baseline_clicks,
                   CASE WHEN b.clicks > 0 THEN 1 - t.clicks / b.clicks END AS clicks_drop
            FROM window_rows t
            JOIN baseline b ON b.page_id = t.page_id AND b.keyword = t.keyword
            WHERE t.day = p_day
        )
        SELECT s.page_id, p.url, s.keyword, s.day, s.position, round(s.baseline_position, 1), round(s.rank_drop, 1),
               s.clicks, round(s.baseline_clicks, 1), round(s.clicks_drop, 3),
               concat_ws(' and ',
                         CASE WHEN s.rank_drop >= p_min_rank_drop THEN 'ranking dropped' END,
                         CASE WHEN s.baseline_clicks >= 10 AND s.clicks_drop >= p_min_clicks_drop THEN 'clicks dropped' END)
        FROM scored s
        JOIN growth.seo_pages p ON p.id = s.page_id
        WHERE s.rank_drop >= p_min_rank_drop
           OR (s.baseline_clicks >= 10 AND s.clicks_drop >= p_min_clicks_drop)
        ORDER BY s.rank_drop DESC, s.page_id, s.keyword
    $fn$;
COMMENT ON FUNCTION api.seo_anomalies(date, integer, numeric, numeric) IS 'SEO anomalies feed: keywords whose position on p_day is p_min_rank_drop places worse than their mean over the p_window_days before, or whose clicks fell by p_min_clicks_drop (share) from a baseline of at least 10 a day.';

-- ─── data quality ───────────────────────────────────────────────────────────────────────
CREATE FUNCTION api.data_quality_issues(p_as_of date DEFAULT current_date)
    RETURNS TABLE (check_name text, table_name text, row_key jsonb, detail text)
    LANGUAGE sql STABLE SECURITY INVOKER SET search_path = ''
    AS $fn$
        -- Expectations constraints cannot express, as of p_as_of.
        SELECT 'stale_inventory_snapshot', 'inventory.locations', jsonb_build_object('id', l.id),
               format('no stock count since %s', coalesce(last.taken_at::text, 'ever'))
        FROM inventory.locations l
        LEFT JOIN LATERAL (SELECT max(s.taken_at) AS taken_at FROM inventory.inventory_snapshots s
                           WHERE s.location_id = l.id) last ON true
        WHERE last.taken_at IS NULL OR last.taken_at < (p_as_of - 2)::timestamp AT TIME ZONE 'UTC'
        UNION ALL
        SELECT 'spend_outside_campaign', 'growth.ad_daily_metrics', jsonb_build_object('campaign_id', d.campaign_id, 'day', d.day),
               format('%s cents spent while the campaign is %s (%s to %s)', d.spend_cents, c.status, c.starts_on, coalesce(c.ends_on::text, 'open'))
        FROM growth.ad_daily_metrics d
        JOIN growth.ad_campaigns c ON c.id = d.campaign_id
        WHERE d.spend_cents > 0 AND (c.status = 'draft' OR d.day < c.starts_on OR d.day > c.ends_on)
        UNION ALL
        SELECT 'overdue_pending_approval', 'approvals.approvals', jsonb_build_object('id', a.id),
               format('pending since %s: should have expired', a.created_at)
        FROM approvals.approvals a
        WHERE a.status = 'pending' AND a.created_at < (p_as_of - 30)::timestamp AT TIME ZONE 'UTC'
        UNION ALL
        SELECT 'resolved_without_response', 'cx.conversations', jsonb_build_object('id', c.id),
               'resolved without a first response'
        FROM cx.conversations c
        WHERE c.resolved_at IS NOT NULL AND c.first_response_at IS NULL
        UNION ALL
        SELECT 'engagement_before_publication', 'growth.content_daily_engagement', jsonb_build_object('content_id', e.content_id, 'day', e.day),
               format('%s views before publication on %s', e.views, coalesce(i.published_at::text, 'never'))
        FROM growth.content_daily_engagement e
        JOIN growth.content_items i ON i.id = e.content_id
        WHERE e.views > 0 AND (i.published_at IS NULL OR e.day < (i.published_at AT TIME ZONE 'UTC')::date)
    $fn$;
COMMENT ON FUNCTION api.data_quality_issues(date) IS 'Rows violating expectations the constraints cannot express: stale stock counts, spend outside a campaign''s life, approvals pending past 30 days, conversations resolved unanswered, engagement before publication.';

-- ─── materialized daily rollups ─────────────────────────────────────────────────────────
CREATE MATERIALIZED VIEW rollup.approvals_daily AS
    SELECT (a.created_at AT TIME ZONE 'UTC')::date AS day, a.team_id, a.kind, a.status,
           count(*) AS approvals, coalesce(sum(a.amount_cents), 0)::bigint AS amount_cents,
           count(a.decided_at) AS decided,
           coalesce(sum(extract(epoch FROM a.decided_at - a.created_at)) / 3600, 0)::numeric AS decision_hours_sum
    FROM approvals.approvals a
    GROUP BY 1, 2, 3, 4;
CREATE MATERIALIZED VIEW rollup.cx_daily AS
    SELECT (c.opened_at AT TIME ZONE 'UTC')::date AS day, c.team_id, c.channel,
           count(*) AS conversations, count(c.first_response_at) AS responded,
           coalesce(sum(extract(epoch FROM c.first_response_at - c.opened_at)) / 60, 0)::numeric AS first_response_minutes_sum,
           count(c.resolved_at) AS resolved,
           coalesce(sum(extract(epoch FROM c.resolved_at - c.opened_at)) / 60, 0)::numeric AS resolution_minutes_sum,
           coalesce(sum(b.breaches), 0)::bigint AS breaches
    FROM cx.conversations c
    LEFT JOIN (SELECT s.conversation_id, count(*) AS breaches FROM cx.sla_breaches s GROUP BY s.conversation_id) b
        ON b.conversation_id = c.id
    GROUP BY 1, 2, 3;
CREATE MATERIALIZED VIEW rollup.ads_daily AS
    SELECT d.day, c.team_id, c.channel,
           sum(d.spend_cents)::bigint AS spend_cents, sum(d.impressions)::bigint AS impressions,
           sum(d.clicks)::bigint AS clicks, sum(d.conversions)::bigint AS conversions,
           sum(d.revenue_cents)::bigint AS revenue_cents
    FROM growth.ad_daily_metrics d
    JOIN growth.ad_campaigns c ON c.id = d.campaign_id
    GROUP BY 1, 2, 3;
-- Unique indexes: REFRESH ... CONCURRENTLY requires one (they state the rollup's grain).
CREATE UNIQUE INDEX approvals_daily_grain ON rollup.approvals_daily (day, team_id, kind, status);
CREATE UNIQUE INDEX cx_daily_grain ON rollup.cx_daily (day, team_id, channel);
CREATE UNIQUE INDEX ads_daily_grain ON rollup.ads_daily (day, team_id, channel);

COMMENT ON MATERIALIZED VIEW rollup.approvals_daily IS 'Approvals per UTC day of creation, team, kind and status. Read through api.approvals_daily.';
COMMENT ON COLUMN rollup.approvals_daily.day IS 'UTC day the approvals were created.';
COMMENT ON COLUMN rollup.approvals_daily.team_id IS 'Owning team.';
COMMENT ON COLUMN rollup.approvals_daily.kind IS 'Approval kind.';
COMMENT ON COLUMN rollup.approvals_daily.status IS 'Status at refresh time.';
COMMENT ON COLUMN rollup.approvals_daily.approvals IS 'Number of approvals.';
COMMENT ON COLUMN rollup.approvals_daily.amount_cents IS 'Sum of amounts in cents.';
COMMENT ON COLUMN rollup.approvals_daily.decided IS 'How many have a decision (or expiry) time.';
COMMENT ON COLUMN rollup.approvals_daily.decision_hours_sum IS 'Sum of hours to decision (divide by decided for the mean).';
COMMENT ON MATERIALIZED VIEW rollup.cx_daily IS 'Conversations per UTC day opened, team and channel. Read through api.cx_daily.';
COMMENT ON COLUMN rollup.cx_daily.day IS 'UTC day the conversations were opened.';
COMMENT ON COLUMN rollup.cx_daily.team_id IS 'Owning team.';
COMMENT ON COLUMN rollup.cx_daily.channel IS 'Channel.';
COMMENT ON COLUMN rollup.cx_daily.conversations IS 'Conversations opened.';
COMMENT ON COLUMN rollup.cx_daily.responded IS 'How many have a first response.';
COMMENT ON COLUMN rollup.cx_daily.first_response_minutes_sum IS 'Sum of minutes to first response (divide by responded).';
COMMENT ON COLUMN rollup.cx_daily.resolved IS 'How many are resolved.';
COMMENT ON COLUMN rollup.cx_daily.resolution_minutes_sum IS 'Sum of minutes to resolution (divide by resolved).';
COMMENT ON COLUMN rollup.cx_daily.breaches IS 'SLA breaches of those conversations.';
COMMENT ON MATERIALIZED VIEW rollup.ads_daily IS 'Ad metrics per day, team and ad channel. Read through api.ads_daily.';
COMMENT ON COLUMN rollup.ads_daily.day IS 'Calendar day.';
COMMENT ON COLUMN rollup.ads_daily.team_id IS 'Team owning the campaigns.';
COMMENT ON COLUMN rollup.ads_daily.channel IS 'Ad channel.';
COMMENT ON COLUMN rollup.ads_daily.spend_cents IS 'Spend in cents.';
COMMENT ON COLUMN rollup.ads_daily.impressions IS 'Impressions.';
COMMENT ON COLUMN rollup.ads_daily.clicks IS 'Clicks.';
COMMENT ON COLUMN rollup.ads_daily.conversions IS 'Conversions.';
COMMENT ON COLUMN rollup.ads_daily.revenue_cents IS 'Attributed revenue in cents.';
REVOKE ALL ON rollup.approvals_daily, rollup.cx_daily, rollup.ads_daily FROM PUBLIC;

CREATE FUNCTION rollup.refresh_daily() RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
    AS $fn$
    BEGIN
        -- CONCURRENTLY: dashboards keep reading the previous contents during the refresh.
        REFRESH MATERIALIZED VIEW CONCURRENTLY rollup.approvals_daily;
        REFRESH MATERIALIZED VIEW CONCURRENTLY rollup.cx_daily;
        REFRESH MATERIALIZED VIEW CONCURRENTLY rollup.ads_daily;
    END
    $fn$;
COMMENT ON FUNCTION rollup.refresh_daily() IS 'Nightly job: refreshes every daily rollup without blocking readers. Runs as the owner (materialized views can only be refreshed by their owner).';

-- ─── one view per tile ──────────────────────────────────────────────────────────────────
-- Over tables: security_invoker, so the base tables' RLS applies to the caller.
CREATE VIEW api.approvals_queue WITH (security_invoker = true) AS
    SELECT a.id, a.kind, a.subject, a.assignee_id, a.team_id, a.amount_cents, a.created_at
    FROM approvals.approvals a
    WHERE a.status = 'pending';
COMMENT ON VIEW api.approvals_queue IS 'Approvals tile: the pending queue (RLS of approvals.approvals applies).';
COMMENT ON COLUMN api.approvals_queue.id IS 'Approval id.';
COMMENT ON COLUMN api.approvals_queue.kind IS 'What is being approved.';
COMMENT ON COLUMN api.approvals_queue.subject IS 'One-line summary.';
COMMENT ON COLUMN api.approvals_queue.assignee_id IS 'Operator working it, null while unassigned.';
COMMENT ON COLUMN api.approvals_queue.team_id IS 'Owning team.';
COMMENT ON COLUMN api.approvals_queue.amount_cents IS 'Amount at stake in cents.';
COMMENT ON COLUMN api.approvals_queue.created_at IS 'When it was requested.';

CREATE VIEW api.inventory_reorder_points WITH (security_invoker = true) AS
    SELECT r.location_id, r.product_id, r.sku, r.counted_at, r.available_units, r.units_per_day,
           r.lead_time_days, r.safety_stock_units, r.reorder_point_units, r.needs_reorder
    FROM api.inventory_reorder(current_date, NULL) r;
COMMENT ON VIEW api.inventory_reorder_points IS 'Inventory tile: reorder points as of today (api.inventory_reorder).';
COMMENT ON COLUMN api.inventory_reorder_points.location_id IS 'Location.';
COMMENT ON COLUMN api.inventory_reorder_points.product_id IS 'Product.';
COMMENT ON COLUMN api.inventory_reorder_points.sku IS 'Product SKU.';
COMMENT ON COLUMN api.inventory_reorder_points.counted_at IS 'Time of the latest count used.';
COMMENT ON COLUMN api.inventory_reorder_points.available_units IS 'On hand minus reserved at that count.';
COMMENT ON COLUMN api.inventory_reorder_points.units_per_day IS 'Mean units sold per day over the last 28 days.';
COMMENT ON COLUMN api.inventory_reorder_points.lead_time_days IS 'Longest current supplier lead time, null if none quoted.';
COMMENT ON COLUMN api.inventory_reorder_points.safety_stock_units IS 'Product safety stock.';
COMMENT ON COLUMN api.inventory_reorder_points.reorder_point_units IS 'ceil(units_per_day x lead_time_days + safety_stock_units).';
COMMENT ON COLUMN api.inventory_reorder_points.needs_reorder IS 'True when available_units <= reorder_point_units.';

CREATE VIEW api.cx_response_times WITH (security_invoker = true) AS
    SELECT c.team_id, c.channel, c.priority, count(*) AS conversations,
           round((avg(extract(epoch FROM c.first_response_at - c.opened_at)) / 60)::numeric, 1) AS avg_first_response_minutes,
           round((percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM c.first_response_at - c.opened_at)) / 60)::numeric, 1) AS p50_first_response_minutes,
           round((percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM c.first_response_at - c.opened_at)) / 60)::numeric, 1) AS p90_first_response_minutes,
           round((avg(extract(epoch FROM c.resolved_at - c.opened_at)) / 60)::numeric, 1) AS avg_resolution_minutes
    FROM cx.conversations c
    WHERE c.opened_at >= now() - interval '30 days'
    GROUP BY c.team_id, c.channel, c.priority;
COMMENT ON VIEW api.cx_response_times IS 'Customer-experience tile: response-time statistics of the last 30 days per team, channel and priority.';
COMMENT ON COLUMN api.cx_response_times.team_id IS 'Team.';
COMMENT ON COLUMN api.cx_response_times.channel IS 'Channel.';
COMMENT ON COLUMN api.cx_response_times.priority IS 'Priority.';
COMMENT ON COLUMN api.cx_response_times.conversations IS 'Conversations opened in the last 30 days.';
COMMENT ON COLUMN api.cx_response_times.avg_first_response_minutes IS 'Mean minutes to first response.';
COMMENT ON COLUMN api.cx_response_times.p50_first_response_minutes IS 'Median minutes to first response.';
COMMENT ON COLUMN api.cx_response_times.p90_first_response_minutes IS '90th percentile minutes to first response.';
COMMENT ON COLUMN api.cx_response_times.avg_resolution_minutes IS 'Mean minutes to resolution.';

CREATE VIEW api.seo_anomalies_latest WITH (security_invoker = true) AS
    SELECT a.page_id, a.url, a.keyword, a.day, a.day_position, a.baseline_position, a.rank_drop,
           a.clicks, a.baseline_clicks, a.clicks_drop, a.reason
    FROM api.seo_anomalies(current_date - 1) a;
COMMENT ON VIEW api.seo_anomalies_latest IS 'SEO tile: yesterday''s anomalies with the default thresholds (api.seo_anomalies).';
COMMENT ON COLUMN api.seo_anomalies_latest.page_id IS 'Page.';
COMMENT ON COLUMN api.seo_anomalies_latest.url IS 'Page URL.';
COMMENT ON COLUMN api.seo_anomalies_latest.keyword IS 'Keyword.';
COMMENT ON COLUMN api.seo_anomalies_latest.day IS 'Day of the anomaly.';
COMMENT ON COLUMN api.seo_anomalies_latest.day_position IS 'Position that day.';
COMMENT ON COLUMN api.seo_anomalies_latest.baseline_position IS 'Mean position over the trailing window.';
COMMENT ON COLUMN api.seo_anomalies_latest.rank_drop IS 'Places lost (positive = worse).';
COMMENT ON COLUMN api.seo_anomalies_latest.clicks IS 'Clicks that day.';
COMMENT ON COLUMN api.seo_anomalies_latest.baseline_clicks IS 'Mean clicks per day over the trailing window.';
COMMENT ON COLUMN api.seo_anomalies_latest.clicks_drop IS 'Share of baseline clicks lost.';
COMMENT ON COLUMN api.seo_anomalies_latest.reason IS 'Which rule flagged it.';

CREATE VIEW api.content_engagement_30d WITH (security_invoker = true) AS
    SELECT e.content_id, e.title, e.kind, e.views, e.unique_visitors, e.avg_read_seconds, e.bounce_rate,
           e.shares, e.conversions, e.conversion_rate
    FROM api.content_engagement(current_date - 30, current_date) e;
COMMENT ON VIEW api.content_engagement_30d IS 'Content tile: engagement of the last 30 days (api.content_engagement).';
COMMENT ON COLUMN api.content_engagement_30d.content_id IS 'Content item.';
COMMENT ON COLUMN api.content_engagement_30d.title IS 'Title.';
COMMENT ON COLUMN api.content_engagement_30d.kind IS 'Kind.';
COMMENT ON COLUMN api.content_engagement_30d.views IS 'Views.';
COMMENT ON COLUMN api.content_engagement_30d.unique_visitors IS 'Unique visitors (sum of daily).';
COMMENT ON COLUMN api.content_engagement_30d.avg_read_seconds IS 'View-weighted mean read time.';
COMMENT ON COLUMN api.content_engagement_30d.bounce_rate IS 'View-weighted bounce rate.';
COMMENT ON COLUMN api.content_engagement_30d.shares IS 'Shares.';
COMMENT ON COLUMN api.content_engagement_30d.conversions IS 'Conversions.';
COMMENT ON COLUMN api.content_engagement_30d.conversion_rate IS 'Conversions per unique visitor.';

CREATE VIEW api.data_quality WITH (security_invoker = true) AS
    SELECT q.check_name, q.table_name, q.row_key, q.detail FROM api.data_quality_issues(current_date) q;
COMMENT ON VIEW api.data_quality IS 'Data-quality tile: today''s issues (api.data_quality_issues), limited to what the caller may read.';
COMMENT ON COLUMN api.data_quality.check_name IS 'Which expectation is violated.';
COMMENT ON COLUMN api.data_quality.table_name IS 'Table of the offending row.';
COMMENT ON COLUMN api.data_quality.row_key IS 'Key of the offending row.';
COMMENT ON COLUMN api.data_quality.detail IS 'What is wrong.';

-- Over rollups: materialized views have no RLS, so these views run with the owner's rights
-- and apply the base tables' team rule themselves (security_barrier keeps callers' functions
-- from seeing rows before the filter). The rollups themselves are granted to nobody.
CREATE VIEW api.approvals_daily WITH (security_barrier = true) AS
    SELECT r.day, r.team_id, r.kind, r.status, r.approvals, r.amount_cents, r.decided,
           round(r.decision_hours_sum / nullif(r.decided, 0), 2) AS avg_decision_hours
    FROM rollup.approvals_daily r
    WHERE r.team_id = ANY ((SELECT app.visible_team_ids())::bigint[]);
COMMENT ON VIEW api.approvals_daily IS 'Approvals history tile from rollup.approvals_daily, limited to the caller''s team (all teams for admins).';
COMMENT ON COLUMN api.approvals_daily.day IS 'UTC day of creation.';
COMMENT ON COLUMN api.approvals_daily.team_id IS 'Team.';
COMMENT ON COLUMN api.approvals_daily.kind IS 'Kind.';
COMMENT ON COLUMN api.approvals_daily.status IS 'Status at the last refresh.';
COMMENT ON COLUMN api.approvals_daily.approvals IS 'Approvals created.';
COMMENT ON COLUMN api.approvals_daily.amount_cents IS 'Sum of amounts in cents.';
COMMENT ON COLUMN api.approvals_daily.decided IS 'Decided or expired.';
COMMENT ON COLUMN api.approvals_daily.avg_decision_hours IS 'Mean hours to decision.';

CREATE VIEW api.cx_daily WITH (security_barrier = true) AS
    SELECT r.day, r.team_id, r.channel, r.conversations, r.responded,
           round(r.first_response_minutes_sum / nullif(r.responded, 0), 1) AS avg_first_response_minutes,
           r.resolved, round(r.resolution_minutes_sum / nullif(r.resolved, 0), 1) AS avg_resolution_minutes,
           r.breaches
    FROM rollup.cx_daily r
    WHERE r.team_id = ANY ((SELECT app.visible_team_ids())::bigint[]);
COMMENT ON VIEW api.cx_daily IS 'Customer-experience history tile from rollup.cx_daily, limited to the caller''s team (all teams for admins).';
COMMENT ON COLUMN api.cx_daily.day IS 'UTC day opened.';
COMMENT ON COLUMN api.cx_daily.team_id IS 'Team.';
COMMENT ON COLUMN api.cx_daily.channel IS 'Channel.';
COMMENT ON COLUMN api.cx_daily.conversations IS 'Conversations opened.';
COMMENT ON COLUMN api.cx_daily.responded IS 'With a first response.';
COMMENT ON COLUMN api.cx_daily.avg_first_response_minutes IS 'Mean minutes to first response.';
COMMENT ON COLUMN api.cx_daily.resolved IS 'Resolved.';
COMMENT ON COLUMN api.cx_daily.avg_resolution_minutes IS 'Mean minutes to resolution.';
COMMENT ON COLUMN api.cx_daily.breaches IS 'SLA breaches.';

CREATE VIEW api.ads_daily WITH (security_barrier = true) AS
    SELECT r.day, r.team_id, r.channel, r.spend_cents, r.impressions, r.clicks, r.conversions, r.revenue_cents,
           round(r.revenue_cents::numeric / nullif(r.spend_cents, 0), 4) AS roas,
           round(r.spend_cents::numeric / nullif(r.conversions, 0), 2) AS cpa_cents
    FROM rollup.ads_daily r
    WHERE r.team_id = ANY ((SELECT app.visible_team_ids())::bigint[]);
COMMENT ON VIEW api.ads_daily IS 'Ads history tile from rollup.ads_daily, limited to the caller''s team (all teams for admins).';
COMMENT ON COLUMN api.ads_daily.day IS 'Day.';
COMMENT ON COLUMN api.ads_daily.team_id IS 'Team.';
COMMENT ON COLUMN api.ads_daily.channel IS 'Ad channel.';
COMMENT ON COLUMN api.ads_daily.spend_cents IS 'Spend in cents.';
COMMENT ON COLUMN api.ads_daily.impressions IS 'Impressions.';
COMMENT ON COLUMN api.ads_daily.clicks IS 'Clicks.';
COMMENT ON COLUMN api.ads_daily.conversions IS 'Conversions.';
COMMENT ON COLUMN api.ads_daily.revenue_cents IS 'Revenue in cents.';
COMMENT ON COLUMN api.ads_daily.roas IS 'Revenue / spend.';
COMMENT ON COLUMN api.ads_daily.cpa_cents IS 'Spend per conversion in cents.';

-- ─── grants ─────────────────────────────────────────────────────────────────────────────
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA api, rollup FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA api FROM PUBLIC;
GRANT USAGE ON SCHEMA api TO authenticated, service_role;
GRANT USAGE ON SCHEMA rollup TO service_role;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA api TO authenticated, service_role;
GRANT SELECT ON ALL TABLES IN SCHEMA api TO authenticated, service_role;
GRANT EXECUTE ON FUNCTION rollup.refresh_daily() TO service_role;

-- ─── nightly jobs, where pg_cron is installed ───────────────────────────────────────────
DO $do$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'pg_cron') THEN
        PERFORM cron.schedule('pgperf-rollup-refresh', '15 2 * * *', 'SELECT rollup.refresh_daily()');
        PERFORM cron.schedule('pgperf-audit-retention', '45 2 * * *', 'SELECT * FROM audit.apply_retention()');
    END IF;
END
$do$;
