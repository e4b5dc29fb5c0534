-- Bound the monitoring role's queries where that role cannot lift the bound.
-- A role may change its own settings (ALTER ROLE ... SET, or SET per
-- session), so ROLE_SETTINGS' statement_timeout is no limit. A function's own
-- SET clause is: it applies inside the function whatever the caller set.
-- lock_timeout there bounds every lock wait of the function's queries (the
-- scrape's contamination count, the gate's functions, the rollout history),
-- so a monitoring query queued behind a lock (a migration, a long DDL) gives
-- up after 5 s instead of waiting, and queueing others, behind it.
-- statement_timeout cannot be bounded this way: PostgreSQL arms it once per
-- client statement, so a function's SET of it does not apply to the running
-- statement (checked on 15 and 17); the exporter's connection carries it
-- instead (docs/reliability.md).

ALTER FUNCTION monitoring.session_isolation_count() SET lock_timeout = '5s';
ALTER FUNCTION monitoring.session_isolation_enforced() SET lock_timeout = '5s';
ALTER FUNCTION monitoring.stage_metrics(timestamptz, timestamptz) SET lock_timeout = '5s';
ALTER FUNCTION monitoring.stage_contamination(timestamptz, timestamptz) SET lock_timeout = '5s';
ALTER FUNCTION monitoring.stage_data_problems(timestamptz, timestamptz) SET lock_timeout = '5s';
ALTER FUNCTION monitoring.rollout_history(text, timestamptz, integer) SET lock_timeout = '5s';
