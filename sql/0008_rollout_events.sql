-- Rollout records and the rollout gate's metrics (the `rollout` command).
--
-- monitoring.rollout_events: one row per `pulumi up` that changes the stage
--   or the flags, written by the program's RolloutRecord resource. A stage's
--   start time and its history come from these rows. Append-only history.
-- monitoring.stage_metrics(since, until): the guide's error-rate and latency
--   queries, per version, over any window (the gate's soak window, not the
--   views' fixed 24 hours), plus distinct users per version.
-- monitoring.stage_contamination(since, until): the guide's cross-contamination
--   count over the same window, computed from agent_sessions itself, so that
--   a violation that bypassed the isolation trigger (a restore or replication
--   with session_replication_role = replica) is still seen.
--
-- Both functions are SECURITY DEFINER (owned by the migrating role) and
-- read-only, so the monitoring role can call them without any right on
-- agent_sessions; they keep PostgreSQL's default EXECUTE for PUBLIC.

CREATE TABLE IF NOT EXISTS monitoring.rollout_events (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  stack text NOT NULL,
  from_stage bigint,
  to_stage bigint NOT NULL,
  enable_stateless_orchestration boolean NOT NULL,
  enable_safe_json_parser boolean NOT NULL,
  image_digest text,
  git_commit text,
  actor text,
  reason text,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT rollout_events_stage_range CHECK (to_stage BETWEEN 0 AND 100 AND (from_stage IS NULL OR from_stage BETWEEN 0 AND 100))
);

-- The table was created just above, in this same transaction, and is empty:
-- a plain build blocks no writer and takes no time, and CONCURRENTLY would need
-- a file of its own outside the transaction. The runner sets lock_timeout.
-- squawk-ignore require-concurrent-index-creation, require-lock-timeout, require-statement-timeout
CREATE INDEX IF NOT EXISTS rollout_events_stack_created_at_idx
  ON monitoring.rollout_events (stack, created_at DESC, id DESC);

CREATE OR REPLACE FUNCTION monitoring.stage_metrics(since timestamptz, until timestamptz DEFAULT now())
RETURNS TABLE (
  version text,
  total_requests bigint,
  errors bigint,
  users bigint,
  avg_duration_seconds double precision,
  p95_duration_seconds double precision
)
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
  SELECT CASE WHEN a.metadata ->> 'useStateless' = 'true' THEN 'New' ELSE 'Legacy' END AS version,
         count(*) AS total_requests,
         count(*) FILTER (WHERE a.status = 'error') AS errors,
         count(DISTINCT a.user_id) AS users,
         avg(EXTRACT(EPOCH FROM (a.updated_at - a.created_at)))::double precision AS avg_duration_seconds,
         (percentile_cont(0.95) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM (a.updated_at - a.created_at))))::double precision
           AS p95_duration_seconds
    FROM public.agent_sessions AS a
   WHERE a.created_at > since
     AND a.created_at <= until
   GROUP BY 1
$fn$;

CREATE OR REPLACE FUNCTION monitoring.stage_contamination(since timestamptz, until timestamptz DEFAULT now())
RETURNS bigint
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
  SELECT count(*)
    FROM (
      SELECT a.session_id
        FROM public.agent_sessions AS a
       WHERE a.created_at > since
         AND a.created_at <= until
       GROUP BY a.session_id
      HAVING count(DISTINCT a.user_id) > 1
    ) AS contaminated
$fn$;
