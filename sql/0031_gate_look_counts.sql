-- Looks at the rollout gate as one counter per recorded stage (issue 21,
-- finding 8).
--
-- 0030 kept one row per look and counted them at each look: the monitoring
-- role, which may call monitoring.record_gate_look, could grow the table
-- without bound, and each look cost O(looks so far) (20,000 looks in one
-- statement took 38 s). What the gate shows is only the count (the bounds do
-- not depend on it, sql/0030), so a counter keeps everything it reads:
--
-- monitoring.gate_look_counts: one row per recorded stage (its rollout record,
--   monitoring.rollout_events.id) that has been looked at, with the looks so
--   far, the first and last look, and the transaction of the last look. At
--   most one row per rollout record.
-- monitoring.record_gate_look(event_id): same signature, grants and results
--   as 0030's (adds one look, returns the looks so far, this one included;
--   23503 for a stage without a record; 25006 on a read-only replica), now one
--   upsert of one row.
--
-- A look is one run of `rollout gate`, `status` or `advance`: one call, in a
-- transaction of its own. A second call in the same transaction counts no
-- further look and returns the same count. That is the same number for every
-- run of the commands, and it keeps a look O(1) even when one statement makes
-- thousands of calls: PostgreSQL keeps every version of a row updated again
-- and again within one transaction, and each update walks them (20,000
-- increments in one statement took 18 s; 20,000 looks in separate
-- transactions stay linear, the old versions pruned between them).
--
-- The rows of 0030's table become counters (same count per stage). Its only
-- writer, record_gate_look, is replaced in this same transaction, after a lock
-- that makes a look in flight wait (bounded by the runner's lock_timeout), so
-- no look is lost between the copy and the switch. The table itself stays,
-- frozen (nothing writes or reads it; the monitoring role has no right on it):
-- migrations drop no data (docs/database.md). Re-runnable: the copy skips
-- stages already counted.

CREATE TABLE IF NOT EXISTS monitoring.gate_look_counts (
  event_id bigint PRIMARY KEY REFERENCES monitoring.rollout_events (id),
  looks bigint NOT NULL CHECK (looks >= 1),
  first_looked_at timestamptz NOT NULL DEFAULT now(),
  last_looked_at timestamptz NOT NULL DEFAULT now(),
  last_xact xid8
);

-- Only the monitoring role's looks write this table, a few per run of the
-- gate: holding them for the copy below is the point (none may be lost).
LOCK TABLE monitoring.gate_looks IN SHARE ROW EXCLUSIVE MODE;

INSERT INTO monitoring.gate_look_counts (event_id, looks, first_looked_at, last_looked_at)
SELECT g.event_id, count(*), min(g.looked_at), max(g.looked_at)
  FROM monitoring.gate_looks AS g
 GROUP BY g.event_id
    ON CONFLICT (event_id) DO NOTHING;

CREATE OR REPLACE FUNCTION monitoring.record_gate_look(p_event_id bigint)
RETURNS bigint
LANGUAGE sql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
-- A lock wait the monitoring role cannot lift (sql/0013).
SET lock_timeout = '5s'
AS $fn$
  INSERT INTO monitoring.gate_look_counts AS c (event_id, looks, last_xact) VALUES (p_event_id, 1, pg_current_xact_id())
  ON CONFLICT (event_id) DO UPDATE SET looks = c.looks + 1, last_looked_at = now(), last_xact = pg_current_xact_id()
    WHERE c.last_xact IS DISTINCT FROM pg_current_xact_id();
  SELECT c.looks FROM monitoring.gate_look_counts AS c WHERE c.event_id = p_event_id;
$fn$;
