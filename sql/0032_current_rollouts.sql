-- The deployed rollout state of each stack, for the exporter (issue 24: the
-- Grafana dashboard shows the deployed canary percentage and flags).
--
-- monitoring.current_rollouts(as_of): one row per stack, its newest rollout
-- record (monitoring.rollout_events, sql/0008) created at or before as_of,
-- ties broken by id as monitoring.rollout_history (sql/0009) orders them:
-- the stage and the flags the last `pulumi up` that changed them deployed.
-- A stack with no record has no row.
--
-- The exporter connects as the monitoring role, which holds no right on
-- monitoring.rollout_events (USAGE on schema monitoring, SELECT on the views:
-- core/grants.ts). Like 0009's rollout_history this function is read-only,
-- STABLE and SECURITY DEFINER (owned by the migrating role), and keeps
-- PostgreSQL's default EXECUTE for PUBLIC: schema USAGE is what limits its
-- callers to the monitoring role. It returns only the columns the dashboard
-- shows (no image digest, commit, actor or reason).
--
-- Cost: one row per `up` that changed the stage or the flags, so the table
-- stays small; DISTINCT ON walks 0008's (stack, created_at DESC, id DESC)
-- index once per scrape.

CREATE OR REPLACE FUNCTION monitoring.current_rollouts(as_of timestamptz DEFAULT now())
RETURNS TABLE (
  stack text,
  canary_percentage bigint,
  enable_stateless_orchestration boolean,
  enable_safe_json_parser boolean,
  recorded_at timestamptz
)
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
-- A lock wait the monitoring role cannot lift (sql/0013).
SET lock_timeout = '5s'
AS $fn$
  SELECT DISTINCT ON (e.stack)
         e.stack, e.to_stage, e.enable_stateless_orchestration, e.enable_safe_json_parser, e.created_at
    FROM monitoring.rollout_events AS e
   WHERE e.created_at <= as_of
   ORDER BY e.stack, e.created_at DESC, e.id DESC
$fn$;
