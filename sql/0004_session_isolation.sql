-- Session isolation, enforced: the database refuses a write that would give
-- an existing session_id a second user_id. Existing rows are not touched (old
-- violations stay visible to monitoring.session_isolation).
--
-- Same-session writers are serialised by a transaction-scoped advisory lock,
-- so two concurrent first writes of one session by two users cannot both pass
-- the check. The check reads committed rows, which is what the default
-- READ COMMITTED isolation gives each statement.
--
-- Creating the trigger takes a short SHARE ROW EXCLUSIVE lock on the table
-- (no scan); the runner sets lock_timeout so it never queues behind a long
-- transaction while holding up the app's writes.

CREATE OR REPLACE FUNCTION monitoring.enforce_session_isolation()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
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
  PERFORM pg_catalog.pg_advisory_xact_lock(
    pg_catalog.hashtextextended('valuecanvas.agent_sessions.session_id:' || NEW.session_id::text, 0));
  SELECT a.user_id::text INTO other_user
    FROM public.agent_sessions AS a
   WHERE a.session_id = NEW.session_id
     AND a.user_id <> NEW.user_id
   LIMIT 1;
  IF FOUND THEN
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

CREATE OR REPLACE TRIGGER agent_sessions_session_isolation
  BEFORE INSERT OR UPDATE OF session_id, user_id ON public.agent_sessions
  FOR EACH ROW EXECUTE FUNCTION monitoring.enforce_session_isolation();
