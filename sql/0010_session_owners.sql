-- Session isolation by a uniqueness the database enforces, at every isolation
-- level. 0004's check read agent_sessions under the writer's snapshot, so a
-- REPEATABLE READ writer whose snapshot predates another user's committed row
-- passed it. Here:
--
-- monitoring.session_owners: one row per session (primary key session_id).
--   The isolation trigger inserts (session_id, user_id) ... ON CONFLICT DO
--   NOTHING before each write. The primary key's check is not snapshot-based:
--   a concurrent owner row in progress makes the insert wait for it; a
--   committed one invisible to a REPEATABLE READ / SERIALIZABLE snapshot
--   makes it fail ("could not serialize access", SQLSTATE 40001); a visible
--   one is read back and compared, and a different user is refused with the
--   message 0004 gave.
-- agent_sessions_session_owner_fkey: a composite foreign key (session_id,
--   user_id) to the owner row, so that even with the trigger disabled no row
--   can name a user other than its session's owner. Added NOT VALID: new and
--   changed rows are checked at once; existing rows are not scanned here
--   (0011 gives them owners and quarantines the contaminated ones). No
--   migration runs VALIDATE: it would fail on exactly the quarantined legacy
--   rows (docs/reliability.md says when an operator may run it).
-- monitoring.quarantined_sessions: sessions that already had more than one
--   user before this file (filled by 0011). No new row may join them.
-- monitoring.unchecked_session_writes: writes applied with
--   session_replication_role = replica (a restore, logical replication), which
--   skips foreign keys. The trigger fires for them too (ENABLE ALWAYS) but
--   records a contaminating write there instead of refusing it, so that
--   replication never stops; monitoring.session_isolation counts those
--   sessions at the next scrape.
--
-- Locks: the trigger and the foreign key take SHARE ROW EXCLUSIVE on
-- agent_sessions for this short transaction (no scan; the runner's
-- lock_timeout bounds the wait). The trigger keeps its name, so an
-- ALTER TABLE ... DISABLE/ENABLE TRIGGER leaves it ENABLE (origin only),
-- which monitoring.session_isolation notices.

-- The tables copy agent_sessions' column types (text here, maybe uuid in an
-- older production table). They are new and empty: plain index builds and
-- NOT NULL block nothing. Unique indexes rather than constraints, so that
-- the file can be run again by hand (IF NOT EXISTS); a foreign key and
-- ON CONFLICT accept a unique index.
CREATE TABLE IF NOT EXISTS monitoring.session_owners AS
  SELECT a.session_id, a.user_id FROM public.agent_sessions AS a WITH NO DATA;

-- squawk-ignore adding-not-nullable-field
ALTER TABLE monitoring.session_owners ALTER COLUMN session_id SET NOT NULL;
-- squawk-ignore adding-not-nullable-field
ALTER TABLE monitoring.session_owners ALTER COLUMN user_id SET NOT NULL;

-- squawk-ignore require-concurrent-index-creation
CREATE UNIQUE INDEX IF NOT EXISTS session_owners_session_id_key
  ON monitoring.session_owners (session_id);

-- squawk-ignore require-concurrent-index-creation
CREATE UNIQUE INDEX IF NOT EXISTS session_owners_session_id_user_id_key
  ON monitoring.session_owners (session_id, user_id);

CREATE TABLE IF NOT EXISTS monitoring.quarantined_sessions AS
  SELECT a.session_id FROM public.agent_sessions AS a WITH NO DATA;

-- squawk-ignore adding-not-nullable-field
ALTER TABLE monitoring.quarantined_sessions
  ADD COLUMN IF NOT EXISTS recorded_at timestamptz NOT NULL DEFAULT now();

-- squawk-ignore require-concurrent-index-creation
CREATE UNIQUE INDEX IF NOT EXISTS quarantined_sessions_session_id_key
  ON monitoring.quarantined_sessions (session_id);

CREATE TABLE IF NOT EXISTS monitoring.unchecked_session_writes AS
  SELECT a.session_id, a.user_id FROM public.agent_sessions AS a WITH NO DATA;

-- squawk-ignore adding-not-nullable-field
ALTER TABLE monitoring.unchecked_session_writes
  ADD COLUMN IF NOT EXISTS recorded_at timestamptz NOT NULL DEFAULT now();

-- squawk-ignore require-concurrent-index-creation
CREATE INDEX IF NOT EXISTS unchecked_session_writes_session_id_idx
  ON monitoring.unchecked_session_writes (session_id);

CREATE OR REPLACE FUNCTION monitoring.enforce_session_isolation()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
  replica constant boolean := current_setting('session_replication_role') = 'replica';
  other_user text;
BEGIN
  -- COUNT(DISTINCT user_id) ignores NULLs, so a NULL can never contaminate.
  IF NEW.session_id IS NULL OR NEW.user_id IS NULL THEN
    RETURN NEW;
  END IF;
  IF TG_OP = 'UPDATE'
     AND NEW.session_id IS NOT DISTINCT FROM OLD.session_id
     AND NEW.user_id IS NOT DISTINCT FROM OLD.user_id THEN
    RETURN NEW;
  END IF;

  IF EXISTS (SELECT 1 FROM monitoring.quarantined_sessions AS q WHERE q.session_id = NEW.session_id) THEN
    IF replica THEN
      INSERT INTO monitoring.unchecked_session_writes (session_id, user_id) VALUES (NEW.session_id, NEW.user_id);
      RETURN NEW;
    END IF;
    RAISE EXCEPTION 'session isolation: session_id % is quarantined (it had more than one user_id before isolation was enforced); refusing to write user_id % to it',
        NEW.session_id, NEW.user_id
      USING ERRCODE = 'check_violation',
            TABLE = 'agent_sessions',
            COLUMN = 'session_id',
            HINT = 'Create a new session for this user.';
  END IF;

  -- Unique on session_id, checked against every committed or in-progress row
  -- whatever this transaction's snapshot.
  INSERT INTO monitoring.session_owners AS o (session_id, user_id)
  VALUES (NEW.session_id, NEW.user_id)
  ON CONFLICT (session_id) DO NOTHING;

  IF FOUND THEN
    -- A session without an owner row yet: rows written before owners existed
    -- (0011 backfills them) or around the trigger may name another user.
    SELECT a.user_id::text INTO other_user
      FROM public.agent_sessions AS a
     WHERE a.session_id = NEW.session_id
       AND a.user_id <> NEW.user_id
     LIMIT 1;
  ELSE
    SELECT o.user_id::text INTO other_user
      FROM monitoring.session_owners AS o
     WHERE o.session_id = NEW.session_id;
    IF other_user IS NOT DISTINCT FROM NEW.user_id::text THEN
      other_user := NULL;
    ELSIF other_user IS NULL THEN
      other_user := '(an owner this transaction cannot see)';
    END IF;
  END IF;

  IF other_user IS NOT NULL THEN
    IF replica THEN
      INSERT INTO monitoring.unchecked_session_writes (session_id, user_id) VALUES (NEW.session_id, NEW.user_id);
      RETURN NEW;
    END IF;
    RAISE EXCEPTION 'session isolation: session_id % already belongs to user_id %; refusing to give it user_id %',
        NEW.session_id, other_user, NEW.user_id
      USING ERRCODE = 'check_violation',
            TABLE = 'agent_sessions',
            COLUMN = 'user_id',
            HINT = 'A session belongs to one user. Create a new session for this user.';
  END IF;
  RETURN NEW;
END
$fn$;

REVOKE ALL ON FUNCTION monitoring.enforce_session_isolation() FROM PUBLIC;

-- Fires under session_replication_role = replica too (it records there, see above).
ALTER TABLE public.agent_sessions ENABLE ALWAYS TRIGGER agent_sessions_session_isolation;

DO $do$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint
                  WHERE conrelid = 'public.agent_sessions'::regclass AND conname = 'agent_sessions_session_owner_fkey') THEN
    ALTER TABLE public.agent_sessions
      ADD CONSTRAINT agent_sessions_session_owner_fkey
      FOREIGN KEY (session_id, user_id) REFERENCES monitoring.session_owners (session_id, user_id)
      NOT VALID;
  END IF;
END
$do$;
