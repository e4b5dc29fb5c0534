-- A stage over time in one statement (issue 24): the rollout report's
-- display points within a stage (docs/report.md, "Each stage over time").
--
-- monitoring.stage_interval_metrics(bounds): for consecutive times
-- bounds[1] < bounds[2] < ... < bounds[n], one row per interval
-- (bounds[k], bounds[k+1]], k = 1 .. n-1, in order:
--   interval_index  k (1 for the first interval, whatever the array's lower bound);
--   since, until    the interval's ends;
--   paths           monitoring.stage_metrics(since, until) as a json array,
--                   one object per version with traffic (its columns);
--   contamination   monitoring.stage_contamination(since, until): sessions
--                   with more than one user among the interval's rows, the
--                   guide's "Session Isolation Failure" query over that
--                   interval (the guide reads it over the last hour).
-- Each interval is exactly what the two functions return for it: they are
-- called per interval, not restated, so the definitions keep one home (0008,
-- 0012), and the report's grouped read equals its per-interval reads
-- (test/db/stageIntervals.test.ts). One statement: every interval is read
-- from the same snapshot, and the report makes one round trip per stage
-- instead of one per interval. An array with fewer than two elements has
-- no interval; a NULL end gives an interval with no rows, as the functions
-- do.
--
-- Not a gate input: what the gate judges is read over its own window
-- (db/rolloutStore.ts readGateMetrics). Like the other monitoring functions:
-- read-only, STABLE, SECURITY DEFINER (owned by the migrating role, so the
-- monitoring role needs no right on agent_sessions), EXECUTE left to PUBLIC
-- (schema USAGE limits the callers), its own search_path and lock_timeout
-- (sql/0013).

CREATE OR REPLACE FUNCTION monitoring.stage_interval_metrics(bounds timestamptz[])
RETURNS TABLE (
  interval_index integer,
  since timestamptz,
  until timestamptz,
  paths json,
  contamination bigint
)
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
-- A lock wait the monitoring role cannot lift (sql/0013).
SET lock_timeout = '5s'
AS $fn$
  SELECT (k.i - array_lower(bounds, 1) + 1)::integer AS interval_index,
         bounds[k.i] AS since,
         bounds[k.i + 1] AS until,
         (SELECT coalesce(json_agg(m), '[]'::json) FROM monitoring.stage_metrics(bounds[k.i], bounds[k.i + 1]) AS m) AS paths,
         monitoring.stage_contamination(bounds[k.i], bounds[k.i + 1]) AS contamination
    FROM generate_subscripts(bounds, 1) AS k(i)
   WHERE k.i < array_upper(bounds, 1)
   ORDER BY k.i
$fn$;
