-- Durations bounded, and impossible timestamps reported as data problems.
--
-- A row with updated_at = 'infinity' (or -infinity, or an absurd date) broke
-- every duration: PostgreSQL 15 refuses to subtract infinite timestamps (the
-- rollup trigger then refused the app's write, and stage_metrics failed the
-- rollout gate for as long as the row stayed in its window); 17 returns an
-- infinite interval (an infinite average or p95, and NaN once subtracted
-- from a rollup sum).
--
-- monitoring.session_duration_seconds(created_at, updated_at): the guide's
--   EXTRACT(EPOCH FROM updated_at - created_at) when both are finite and
--   the duration is within 7 days either way, else NULL (the row still counts
--   as a request and, with status 'error', an error; it has no duration). A
--   small negative duration is kept, as the guide's query keeps it (the gate
--   judges a negative p95 impossible); it is reported as a data problem. The one home of
--   that rule: the rollup trigger, its backfill, stage_metrics and
--   slow_sessions call it.
-- monitoring.stage_data_problems(since, until): per kind, the rows of the
--   window whose timestamps fall outside that rule; monitoring.data_problems:
--   the same over the last 24 hours.
--
-- Rows with an infinite created_at are left out of the rollups (no minute
-- holds them). What the rollups already hold from such rows is repaired at
-- the end of this file.

CREATE OR REPLACE FUNCTION monitoring.session_duration_seconds(created_at timestamptz, updated_at timestamptz)
RETURNS numeric
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
  SELECT CASE
           WHEN created_at IS NULL OR updated_at IS NULL OR NOT isfinite(created_at) OR NOT isfinite(updated_at) THEN NULL
           ELSE CASE
                  WHEN updated_at - created_at > interval '7 days' OR created_at - updated_at > interval '7 days' THEN NULL
                  ELSE EXTRACT(EPOCH FROM (updated_at - created_at))
                END
         END
$fn$;

CREATE OR REPLACE FUNCTION monitoring.stage_data_problems(since timestamptz, until timestamptz DEFAULT now())
RETURNS TABLE (problem text, row_count bigint)
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
  SELECT p.problem, count(*) AS row_count
    FROM public.agent_sessions AS a
   CROSS JOIN LATERAL (
     SELECT CASE
              WHEN NOT isfinite(a.created_at) THEN 'created_at is infinite'
              WHEN a.updated_at IS NULL THEN NULL
              WHEN NOT isfinite(a.updated_at) THEN 'updated_at is infinite'
              WHEN a.updated_at < a.created_at THEN 'updated_at is before created_at'
              WHEN a.updated_at - a.created_at > interval '7 days' THEN 'duration over 7 days'
            END AS problem
   ) AS p
   WHERE a.created_at > since
     AND a.created_at <= until
     AND p.problem IS NOT NULL
   GROUP BY p.problem
$fn$;

CREATE OR REPLACE VIEW monitoring.data_problems AS
SELECT d.problem, d.row_count
  FROM monitoring.stage_data_problems(now() - interval '24 hours', 'infinity') AS d;

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
  IF TG_OP <> 'INSERT' AND isfinite(OLD.created_at) AND OLD.created_at > horizon THEN
    old_in := true;
    old_new := coalesce(OLD.metadata ->> 'useStateless' = 'true', false);
    old_err := CASE WHEN OLD.status = 'error' THEN 1 ELSE 0 END;
    old_dur := monitoring.session_duration_seconds(OLD.created_at, OLD.updated_at);
    old_min := date_bin('1 minute', OLD.created_at, bin_origin);
  END IF;
  IF TG_OP <> 'DELETE' AND isfinite(NEW.created_at) AND NEW.created_at > horizon THEN
    new_in := true;
    new_new := coalesce(NEW.metadata ->> 'useStateless' = 'true', false);
    new_err := CASE WHEN NEW.status = 'error' THEN 1 ELSE 0 END;
    new_dur := monitoring.session_duration_seconds(NEW.created_at, NEW.updated_at);
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

-- The gate's metrics with bounded durations (same signature as 0008).
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
         avg(monitoring.session_duration_seconds(a.created_at, a.updated_at))::double precision AS avg_duration_seconds,
         (percentile_cont(0.95) WITHIN GROUP (ORDER BY monitoring.session_duration_seconds(a.created_at, a.updated_at)))::double precision
           AS p95_duration_seconds
    FROM public.agent_sessions AS a
   WHERE a.created_at > since
     AND a.created_at <= until
   GROUP BY 1
$fn$;

-- Slow sessions, last hour, top 10: the bounded duration (NULL for a row
-- with impossible timestamps, listed first as the guide's DESC puts NULLs).
CREATE OR REPLACE VIEW monitoring.slow_sessions AS
SELECT a.session_id,
       a.user_id,
       a.workflow_state ->> 'currentStage' AS stage,
       monitoring.session_duration_seconds(a.created_at, a.updated_at) AS duration_seconds
  FROM public.agent_sessions AS a
 WHERE a.created_at > now() - interval '1 hour'
 ORDER BY duration_seconds DESC, a.session_id, a.user_id, stage
 LIMIT 10;

-- Repair what 0006's trigger stored from such rows, and nothing else: the
-- projection's durations outside the bound become NULL (what the function
-- gives them), and the per-minute rows of their minutes, or whose sum is
-- already infinite or NaN (an infinite duration added, then subtracted), are
-- recomputed from the projection. The lock keeps the trigger from writing
-- meanwhile; both reads go through indexes (the projection's
-- (is_new, duration_seconds) index; NaN sorts above every number), so the
-- app's writes wait milliseconds, not a rebuild.
LOCK TABLE public.agent_sessions IN SHARE ROW EXCLUSIVE MODE;

CREATE TEMPORARY TABLE unbounded_minutes ON COMMIT DROP AS
SELECT date_bin('1 minute', l.created_at, timestamptz '2000-01-01 00:00:00+00') AS minute, l.is_new
  FROM monitoring.session_latency AS l
 WHERE l.is_new IN (false, true)
   AND (l.duration_seconds > 604800 OR l.duration_seconds < -604800)
UNION
SELECT r.minute, r.is_new
  FROM monitoring.request_minute AS r
 WHERE r.duration_sum = 'NaN'::numeric
    OR r.duration_sum > 1e30 OR r.duration_sum < -1e30;

UPDATE monitoring.session_latency AS l
   SET duration_seconds = NULL
 WHERE l.is_new IN (false, true)
   AND (l.duration_seconds > 604800 OR l.duration_seconds < -604800);

DELETE FROM monitoring.request_minute AS r
 USING unbounded_minutes AS b
 WHERE r.minute = b.minute AND r.is_new = b.is_new;

INSERT INTO monitoring.request_minute (minute, is_new, shard, requests, errors, timed, duration_sum)
SELECT b.minute, b.is_new, 0, count(l.*), count(*) FILTER (WHERE l.is_error),
       count(l.duration_seconds), coalesce(sum(l.duration_seconds), 0)
  FROM unbounded_minutes AS b
  JOIN monitoring.session_latency AS l
    ON l.created_at >= b.minute AND l.created_at < b.minute + interval '1 minute' AND l.is_new = b.is_new
 GROUP BY b.minute, b.is_new;
