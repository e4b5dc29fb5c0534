-- Looks at the rollout gate, for the reader (issue 12: "show the looks so far").
--
-- A look is one run of `rollout gate`, `rollout status` or `rollout advance`
-- against a recorded stage: each computes and shows the verdict. The gate's
-- always-valid bounds do not depend on the number of looks (that is their
-- point); the count only tells the reader how often this stage has been read.
--
-- monitoring.gate_looks: one row per look, keyed by the rollout record of the
--   stage looked at (monitoring.rollout_events.id, the stage's identity: its
--   stack, stage, flags and start). Append-only; nothing reads it but the
--   function below.
-- monitoring.record_gate_look(event_id): adds one look to that stage and
--   returns its looks so far, this one included. SECURITY DEFINER (owned by
--   the migrating role) like the read functions of 0008, 0009 and 0015, so the
--   monitoring role (USAGE on schema monitoring, no right on any table) can
--   record a look and do nothing else: it cannot insert, change or delete rows
--   of the table, nor record a look for a stage that has no record (the
--   foreign key). EXECUTE stays with PUBLIC, as for those functions; schema
--   USAGE is what limits callers. On a read-only replica the call fails with
--   SQLSTATE 25006, and the command reports the looks as not counted.

CREATE TABLE IF NOT EXISTS monitoring.gate_looks (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  event_id bigint NOT NULL REFERENCES monitoring.rollout_events (id),
  looked_at timestamptz NOT NULL DEFAULT now()
);

-- The table was created just above, in this same transaction, and is empty:
-- a plain build blocks no writer and takes no time, and CONCURRENTLY would need
-- a file of its own outside the transaction. The runner sets lock_timeout.
-- squawk-ignore require-concurrent-index-creation, require-lock-timeout, require-statement-timeout
CREATE INDEX IF NOT EXISTS gate_looks_event_id_idx ON monitoring.gate_looks (event_id);

CREATE OR REPLACE FUNCTION monitoring.record_gate_look(p_event_id bigint)
RETURNS bigint
LANGUAGE sql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
-- A lock wait the monitoring role cannot lift (sql/0013).
SET lock_timeout = '5s'
AS $fn$
  INSERT INTO monitoring.gate_looks (event_id) VALUES (p_event_id);
  SELECT count(*) FROM monitoring.gate_looks AS g WHERE g.event_id = p_event_id;
$fn$;
