-- Per-threshold latency counts for the rollout gate (issue 12).
--
-- The gate judges "p95 < 3 s" as the equivalent statement "fewer than 5 % of
-- requests take longer than 3 s": a proportion, which an always-valid
-- confidence sequence can bound. monitoring.stage_metrics returns the p95,
-- not these counts, so this new function returns them, per version and per
-- threshold, over the same window (created_at in (since, until]):
--   timed:    requests with a duration (updated_at not NULL: the denominator);
--   over:     requests that took longer than the threshold (updated_at > created_at + threshold);
--   at_least: requests that took the threshold or longer (>=).
-- "p95 < T" holds exactly when fewer than 5 % of requests take T or longer
-- (at_least); "p95 > T" exactly when more than 5 % take longer than T (over).
-- The comparison adds an interval to created_at instead of subtracting the
-- timestamps, so an 'infinity' updated_at counts as slower than any threshold
-- (it is) on PostgreSQL 15 and 17 alike, without "cannot subtract infinite
-- timestamps".
--
-- Like stage_metrics (0008): SECURITY DEFINER, STABLE, read-only, owned by
-- the migrating role, so the monitoring role (USAGE on schema monitoring)
-- calls it without any right on agent_sessions. EXECUTE stays with PUBLIC,
-- as for 0008's and 0009's functions; schema USAGE is what limits callers.

CREATE OR REPLACE FUNCTION monitoring.stage_latency_counts(
  since timestamptz,
  until timestamptz,
  thresholds_seconds double precision[]
)
RETURNS TABLE (
  version text,
  threshold_seconds double precision,
  timed bigint,
  over bigint,
  at_least bigint
)
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
-- A lock wait the monitoring role cannot lift (sql/0013).
SET lock_timeout = '5s'
AS $fn$
  SELECT CASE WHEN a.metadata ->> 'useStateless' = 'true' THEN 'New' ELSE 'Legacy' END AS version,
         t.s AS threshold_seconds,
         count(a.updated_at) AS timed,
         count(*) FILTER (WHERE a.updated_at > a.created_at + make_interval(secs => t.s)) AS over,
         count(*) FILTER (WHERE a.updated_at >= a.created_at + make_interval(secs => t.s)) AS at_least
    FROM public.agent_sessions AS a
   CROSS JOIN (SELECT DISTINCT u.s FROM unnest(thresholds_seconds) AS u(s) WHERE u.s > 0 AND u.s < 'Infinity'::float8) AS t
   WHERE a.created_at > since
     AND a.created_at <= until
   GROUP BY 1, 2
$fn$;
