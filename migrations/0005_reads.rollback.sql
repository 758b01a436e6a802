-- Undoes 0005: the pg_cron jobs (when pg_cron is installed), then the api and rollup schemas.
DO $do$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'pg_cron') THEN
        PERFORM cron.unschedule(jobname) FROM cron.job
        WHERE jobname IN ('pgperf-rollup-refresh', 'pgperf-audit-retention');
    END IF;
END
$do$;
DROP SCHEMA api CASCADE;
DROP SCHEMA rollup CASCADE;
