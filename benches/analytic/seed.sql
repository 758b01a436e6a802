-- Deterministic data for schema.sql at scale factor `analytic.scale` (a custom setting, default
-- 1: 6 M lineitem rows, 1.5 M orders, 150 000 customers, 200 000 parts, 800 000 partsupp,
-- 10 000 suppliers; the test suite uses 0.01). setseed + random() in a fixed scan order: each
-- table is read back in the order it was written (synchronized scans off, no parallel plans),
-- so the same scale gives the same rows.

SET synchronize_seqscans = off;
SET max_parallel_workers_per_gather = 0;
CREATE TEMP TABLE analytic_size AS
SELECT coalesce(nullif(current_setting('analytic.scale', true), ''), '1')::numeric AS sf;
SELECT setseed(0.42);

INSERT INTO region
SELECT i - 1, (ARRAY['AFRICA', 'AMERICA', 'ASIA', 'EUROPE', 'MIDDLE EAST'])[i]
FROM generate_series(1, 5) i;

INSERT INTO nation
SELECT i - 1, 'NATION_' || (i - 1), (i - 1) % 5
FROM generate_series(1, 25) i;

INSERT INTO supplier
SELECT g, 'Supplier#' || g, (random() * 24)::int, round((random() * 11000 - 1000)::numeric, 2)
FROM analytic_size, generate_series(1, greatest(10, (10000 * sf)::int)) g;

INSERT INTO customer
SELECT g, 'Customer#' || g, n, (10 + n) || '-' || lpad(((random() * 999)::int)::text, 3, '0'),
       (ARRAY['AUTOMOBILE', 'BUILDING', 'FURNITURE', 'HOUSEHOLD', 'MACHINERY'])[1 + (random() * 4)::int],
       round((random() * 11000 - 1000)::numeric, 2)
FROM analytic_size, generate_series(1, greatest(100, (150000 * sf)::int)) g,
     LATERAL (SELECT (random() * 24)::int + g * 0 AS n) nation;

INSERT INTO part
SELECT g,
       c1 || ' ' || c2,
       'Brand#' || (1 + (random() * 4)::int) || (1 + (random() * 4)::int),
       (ARRAY['STANDARD', 'SMALL', 'MEDIUM', 'LARGE', 'ECONOMY', 'PROMO'])[1 + (random() * 5)::int]
         || ' ' || (ARRAY['ANODIZED', 'BURNISHED', 'PLATED', 'POLISHED', 'BRUSHED'])[1 + (random() * 4)::int]
         || ' ' || (ARRAY['TIN', 'NICKEL', 'BRASS', 'STEEL', 'COPPER'])[1 + (random() * 4)::int],
       1 + (random() * 49)::int,
       (ARRAY['SM', 'MED', 'LG', 'JUMBO', 'WRAP'])[1 + (random() * 4)::int] || ' '
         || (ARRAY['CASE', 'BOX', 'BAG', 'JAR', 'PKG', 'PACK', 'CAN', 'DRUM'])[1 + (random() * 7)::int],
       round((900 + (g % 1000) + random() * 100)::numeric, 2)
FROM analytic_size, generate_series(1, greatest(200, (200000 * sf)::int)) g,
     LATERAL (SELECT
       (ARRAY['almond', 'antique', 'aquamarine', 'azure', 'beige', 'bisque', 'black', 'blue',
              'blush', 'brown', 'burlywood', 'chartreuse', 'chiffon', 'coral', 'cream', 'cyan',
              'forest', 'green', 'honeydew', 'ivory', 'khaki', 'lace', 'lavender', 'lemon',
              'linen', 'magenta', 'maroon', 'navy', 'orchid', 'peach'])[1 + (random() * 29)::int] AS c1,
       (ARRAY['plum', 'powder', 'puff', 'purple', 'red', 'rose', 'salmon', 'sandy', 'sienna',
              'smoke', 'snow', 'spring', 'steel', 'tan', 'thistle', 'tomato', 'turquoise',
              'violet', 'wheat', 'white', 'yellow', 'green', 'metallic', 'midnight', 'mint'])[1 + (random() * 24)::int + g * 0] AS c2
     ) colours;

-- Four suppliers per part, spread over all suppliers.
INSERT INTO partsupp
SELECT p, 1 + ((p + k * (s / 4 + (p - 1) / s)) % s), 1 + (random() * 9998)::int,
       round((1 + random() * 999)::numeric, 2)
FROM analytic_size,
     LATERAL (SELECT greatest(10, (10000 * sf)::int) AS s, greatest(200, (200000 * sf)::int) AS parts) n,
     generate_series(1, parts) p, generate_series(0, 3) k;

INSERT INTO orders
SELECT g, 1 + (random() * (customers - 1))::int,
       CASE WHEN day + 121 <= date '1995-06-17' THEN 'F' WHEN day > date '1995-06-17' THEN 'O' ELSE 'P' END,
       round((1000 + random() * 400000)::numeric, 2), day,
       (ARRAY['1-URGENT', '2-HIGH', '3-MEDIUM', '4-NOT SPECIFIED', '5-LOW'])[1 + (random() * 4)::int]
FROM analytic_size,
     LATERAL (SELECT greatest(100, (150000 * sf)::int) AS customers) c,
     generate_series(1, greatest(1000, (1500000 * sf)::int)) g,
     LATERAL (SELECT date '1992-01-01' + (random() * 2405)::int + g * 0 AS day) d;

-- 1-7 lines per order (4 on average): 6 M rows at scale 1.
INSERT INTO lineitem
SELECT o_orderkey, ln, part, 1 + ((part + (ln % 4) * (s / 4 + (part - 1) / s)) % s), qty,
       round(qty * (900 + (part % 1000)) / 10, 2), disc, round((random() * 8)::numeric / 100, 2),
       CASE WHEN ship + 30 <= date '1995-06-17' THEN (ARRAY['R', 'A'])[1 + (random())::int] ELSE 'N' END,
       CASE WHEN ship <= date '1995-06-17' THEN 'F' ELSE 'O' END,
       ship, o_orderdate + 30 + (random() * 60)::int, ship + 1 + (random() * 29)::int,
       (ARRAY['REG AIR', 'AIR', 'RAIL', 'SHIP', 'TRUCK', 'MAIL', 'FOB'])[1 + (random() * 6)::int]
FROM analytic_size,
     LATERAL (SELECT greatest(10, (10000 * sf)::int) AS s, greatest(200, (200000 * sf)::int) AS parts) n,
     orders,
     generate_series(1, 1 + o_orderkey % 7) ln,
     LATERAL (SELECT 1 + (random() * (parts - 1))::int + ln * 0 AS part,
                     (1 + (random() * 49)::int)::numeric + ln * 0 AS qty,
                     round((random() * 10)::numeric / 100, 2) + ln * 0 AS disc,
                     o_orderdate + 1 + (random() * 120)::int + ln * 0 AS ship) draw;

DROP TABLE analytic_size;
RESET max_parallel_workers_per_gather;
RESET synchronize_seqscans;
