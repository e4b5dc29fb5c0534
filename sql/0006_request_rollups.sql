-- Tables maintained on write, so that one monitoring scrape reads the last
-- 24 hours in a few index ranges instead of five passes over agent_sessions.
--
-- monitoring.request_minute: per minute and version, the requests, errors,
--   requests with a duration (updated_at - created_at not NULL) and the sum
--   of those durations. All exact and additive; a window that does not start
--   on a minute boundary takes its first, partial minute from session_latency.
--   `shard` (backend pid mod 8) spreads concurrent writers over 8 rows per
--   minute and version so that they do not queue on one row lock.
-- monitoring.session_latency: a narrow projection of agent_sessions (the
--   values the guide's queries compute, already evaluated). Its index on
--   (is_new, duration_seconds) gives the p95 by skipping the top 5 % of the
--   window's durations instead of sorting the whole window.
--
-- Only rows created in the last 25 hours are maintained: every minute a 24 h
-- window can read was inside that horizon at each write that touched it (a
-- one-hour margin for long-running readers). Older rows are pruned.
--
-- Creating the triggers and backfilling the last 25 hours happen in one
-- transaction, so the backfill and the trigger see each row exactly once. The
-- trigger's lock blocks writes for the backfill's duration (about 1 s per
-- 100k rows in the window, reading through 0002's index).

CREATE TABLE IF NOT EXISTS monitoring.request_minute (
  minute timestamptz NOT NULL,
  is_new boolean NOT NULL,
  shard bigint NOT NULL,
  requests bigint NOT NULL,
  errors bigint NOT NULL,
  timed bigint NOT NULL,
  duration_sum numeric NOT NULL,
  CONSTRAINT request_minute_pkey PRIMARY KEY (minute, is_new, shard)
);

CREATE TABLE IF NOT EXISTS monitoring.session_latency (
  created_at timestamptz NOT NULL,
  is_new boolean NOT NULL,
  is_error boolean NOT NULL,
  duration_seconds numeric
);

CREATE INDEX IF NOT EXISTS session_latency_created_at_idx
  ON monitoring.session_latency (created_at);

CREATE INDEX IF NOT EXISTS session_latency_is_new_duration_idx
  ON monitoring.session_latency (is_new, duration_seconds) INCLUDE (created_at);

CREATE OR REPLACE FUNCTION monitoring.prune_rollups()
RETURNS void
LANGUAGE sql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
  DELETE FROM monitoring.session_latency WHERE created_at <= now() - interval '25 hours';
  DELETE FROM monitoring.request_minute WHERE minute <= now() - interval '26 hours';
$fn$;

REVOKE ALL ON FUNCTION monitoring.prune_rollups() FROM PUBLIC;

-- Add deltas to one (minute, version, shard) row; true when the row is new.
CREATE OR REPLACE FUNCTION monitoring.add_request_minute(
  p_minute timestamptz, p_is_new boolean,
  d_requests bigint, d_errors bigint, d_timed bigint, d_duration numeric)
RETURNS boolean
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
  created boolean;
BEGIN
  INSERT INTO monitoring.request_minute AS r (minute, is_new, shard, requests, errors, timed, duration_sum)
  VALUES (p_minute, p_is_new, pg_backend_pid() % 8, d_requests, d_errors, d_timed, d_duration)
  ON CONFLICT (minute, is_new, shard)
  DO UPDATE SET requests = r.requests + d_requests,
                errors = r.errors + d_errors,
                timed = r.timed + d_timed,
                duration_sum = r.duration_sum + d_duration
  RETURNING (r.xmax = 0) INTO created;
  RETURN created;
END
$fn$;

REVOKE ALL ON FUNCTION monitoring.add_request_minute(timestamptz, boolean, bigint, bigint, bigint, numeric) FROM PUBLIC;

CREATE OR REPLACE FUNCTION monitoring.maintain_request_rollups()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
  horizon constant timestamptz := now() - interval '25 hours';
  bin_origin constant timestamptz := timestamptz '2000-01-01 00:00:00+00';
  old_in boolean := false;
  new_in boolean := false;
  old_new boolean; new_new boolean;
  old_err int; new_err int;
  old_dur numeric; new_dur numeric;
  old_min timestamptz; new_min timestamptz;
  created_minute boolean := false;
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    TRUNCATE monitoring.request_minute, monitoring.session_latency;
    RETURN NULL;
  END IF;
  IF TG_OP <> 'INSERT' AND OLD.created_at > horizon THEN
    old_in := true;
    old_new := coalesce(OLD.metadata ->> 'useStateless' = 'true', false);
    old_err := CASE WHEN OLD.status = 'error' THEN 1 ELSE 0 END;
    old_dur := EXTRACT(EPOCH FROM (OLD.updated_at - OLD.created_at));
    old_min := date_bin('1 minute', OLD.created_at, bin_origin);
  END IF;
  IF TG_OP <> 'DELETE' AND NEW.created_at > horizon THEN
    new_in := true;
    new_new := coalesce(NEW.metadata ->> 'useStateless' = 'true', false);
    new_err := CASE WHEN NEW.status = 'error' THEN 1 ELSE 0 END;
    new_dur := EXTRACT(EPOCH FROM (NEW.updated_at - NEW.created_at));
    new_min := date_bin('1 minute', NEW.created_at, bin_origin);
  END IF;

  IF old_in AND new_in AND old_min = new_min AND old_new = new_new THEN
    IF old_err <> new_err OR old_dur IS DISTINCT FROM new_dur THEN
      PERFORM monitoring.add_request_minute(new_min, new_new, 0, new_err - old_err,
        (new_dur IS NOT NULL)::int - (old_dur IS NOT NULL)::int,
        coalesce(new_dur, 0) - coalesce(old_dur, 0));
    END IF;
  ELSE
    IF old_in THEN
      PERFORM monitoring.add_request_minute(old_min, old_new, -1, -old_err,
        -(old_dur IS NOT NULL)::int, -coalesce(old_dur, 0));
    END IF;
    IF new_in THEN
      created_minute := monitoring.add_request_minute(new_min, new_new, 1, new_err,
        (new_dur IS NOT NULL)::int, coalesce(new_dur, 0));
    END IF;
  END IF;
  -- Once per new (minute, version, shard) row: drop what no window reads.
  IF created_minute AND pg_try_advisory_xact_lock(hashtextextended('valuecanvas.monitoring.prune_rollups', 0)) THEN
    PERFORM monitoring.prune_rollups();
  END IF;

  IF old_in AND new_in AND OLD.created_at = NEW.created_at AND old_new = new_new
     AND old_err = new_err AND old_dur IS NOT DISTINCT FROM new_dur THEN
    RETURN NULL;
  END IF;
  IF old_in THEN
    DELETE FROM monitoring.session_latency AS l
     WHERE l.ctid = (
       SELECT s.ctid FROM monitoring.session_latency AS s
        WHERE s.created_at = OLD.created_at AND s.is_new = old_new AND s.is_error = (old_err = 1)
          AND s.duration_seconds IS NOT DISTINCT FROM old_dur
        LIMIT 1);
  END IF;
  IF new_in THEN
    INSERT INTO monitoring.session_latency (created_at, is_new, is_error, duration_seconds)
    VALUES (NEW.created_at, new_new, new_err = 1, new_dur);
  END IF;
  RETURN NULL;
END
$fn$;

REVOKE ALL ON FUNCTION monitoring.maintain_request_rollups() FROM PUBLIC;

CREATE OR REPLACE TRIGGER agent_sessions_request_rollups
  AFTER INSERT OR UPDATE OR DELETE ON public.agent_sessions
  FOR EACH ROW EXECUTE FUNCTION monitoring.maintain_request_rollups();

CREATE OR REPLACE TRIGGER agent_sessions_request_rollups_truncate
  AFTER TRUNCATE ON public.agent_sessions
  FOR EACH STATEMENT EXECUTE FUNCTION monitoring.maintain_request_rollups();

-- Backfill (re-runnable: recomputed from scratch, under the trigger's lock).
DELETE FROM monitoring.request_minute;
DELETE FROM monitoring.session_latency;

INSERT INTO monitoring.session_latency (created_at, is_new, is_error, duration_seconds)
SELECT a.created_at,
       coalesce(a.metadata ->> 'useStateless' = 'true', false),
       coalesce(a.status = 'error', false),
       EXTRACT(EPOCH FROM (a.updated_at - a.created_at))
  FROM public.agent_sessions AS a
 WHERE a.created_at > now() - interval '25 hours';

INSERT INTO monitoring.request_minute (minute, is_new, shard, requests, errors, timed, duration_sum)
SELECT date_bin('1 minute', l.created_at, timestamptz '2000-01-01 00:00:00+00'),
       l.is_new, 0, count(*), count(*) FILTER (WHERE l.is_error),
       count(l.duration_seconds), coalesce(sum(l.duration_seconds), 0)
  FROM monitoring.session_latency AS l
 GROUP BY 1, 2;
