-- The rollout records as the `rollout` command reads them, through a
-- read-only SECURITY DEFINER function: the monitoring role (USAGE on schema
-- monitoring, SELECT on the views, nothing else) can read a stack's history
-- without any right on monitoring.rollout_events itself. Roles without USAGE
-- on schema monitoring (the app role) cannot reach it.

CREATE OR REPLACE FUNCTION monitoring.rollout_history(p_stack text, as_of timestamptz DEFAULT now(), max_rows integer DEFAULT 20)
RETURNS TABLE (
  id bigint,
  stack text,
  from_stage bigint,
  to_stage bigint,
  enable_stateless_orchestration boolean,
  enable_safe_json_parser boolean,
  image_digest text,
  git_commit text,
  actor text,
  reason text,
  created_at timestamptz
)
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
  SELECT e.id, e.stack, e.from_stage, e.to_stage, e.enable_stateless_orchestration, e.enable_safe_json_parser,
         e.image_digest, e.git_commit, e.actor, e.reason, e.created_at
    FROM monitoring.rollout_events AS e
   WHERE e.stack = p_stack
     AND e.created_at <= as_of
   ORDER BY e.created_at DESC, e.id DESC
   LIMIT max_rows
$fn$;
