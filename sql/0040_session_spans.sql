-- Concurrent sessions maintained on write (issue 23), so that the 24 h peak
-- reads at most 1,440 minutes x 3 versions x writing backends instead of
-- every row of the window (sql/0020 read them all, 17 s at 2 M rows a day).
--
-- monitoring.session_spans: per session and version ('New', 'Legacy', and
--   'All' for every row of the session), its span [first_at, last_at): the
--   earliest created_at and the latest end of its rows. A row's end is its
--   updated_at when the row has a bounded duration
--   (monitoring.session_duration_seconds, sql/0012), else its created_at.
--   Spans only grow: a write merges its row's [created_at, end) into the span
--   (least / greatest), so merging a row twice, or in any order, changes
--   nothing more (the batched backfill of 0041 relies on it). An update that
--   moves a row's created_at later or its updated_at earlier, and a delete,
--   leave the span as it was (docs/database.md).
-- monitoring.active_minute: per minute, version and writing backend, the
--   deltas of: sessions whose span overlaps the minute for a positive time
--   (`active`), the seconds of span inside the minute (`busy_seconds`), and
--   sessions whose span starts in the minute (`started`). A minute's figure
--   is the sum over its backends. `shard` is the writer's backend pid: two
--   transactions never update the same row concurrently, so writers do not
--   queue on a row lock, and REPEATABLE READ / SERIALIZABLE writers meet no
--   serialization failure on it (a backend runs one transaction at a time).
--
-- Rows created in the last 8 days are maintained; older spans and minutes
-- are pruned as new minute rows appear. monitoring.rollup_coverage records
-- from when the maintained state is complete: 0041 backfills the last 25
-- hours in batches, without a lock that blocks writes, and sets it to 24
-- hours before this migration; a window starting earlier is read row by row
-- (monitoring.concurrent_sessions_in).

CREATE TABLE IF NOT EXISTS monitoring.session_spans (
  session_id text NOT NULL,
  version text NOT NULL,
  first_at timestamptz NOT NULL,
  last_at timestamptz NOT NULL,
  CONSTRAINT session_spans_pkey PRIMARY KEY (session_id, version)
);

-- The table was created just above, in this same transaction, and is empty:
-- a plain build blocks no writer and takes no time. The runner sets lock_timeout.
-- squawk-ignore require-concurrent-index-creation
CREATE INDEX IF NOT EXISTS session_spans_last_at_idx ON monitoring.session_spans (last_at);

CREATE TABLE IF NOT EXISTS monitoring.active_minute (
  minute timestamptz NOT NULL,
  version text NOT NULL,
  shard bigint NOT NULL,
  active bigint NOT NULL,
  busy_seconds numeric NOT NULL,
  started bigint NOT NULL,
  CONSTRAINT active_minute_pkey PRIMARY KEY (minute, version, shard)
);

CREATE TABLE IF NOT EXISTS monitoring.rollup_coverage (
  name text PRIMARY KEY,
  covered_from timestamptz NOT NULL
);

-- Until 0041's backfill finishes, the maintained state covers nothing.
INSERT INTO monitoring.rollup_coverage (name, covered_from)
VALUES ('session_spans', 'infinity')
ON CONFLICT (name) DO NOTHING;

CREATE OR REPLACE FUNCTION monitoring.prune_session_spans()
RETURNS void
LANGUAGE sql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
  DELETE FROM monitoring.session_spans WHERE last_at < now() - interval '8 days 1 hour' AND first_at < now() - interval '8 days 1 hour';
  DELETE FROM monitoring.active_minute WHERE minute < now() - interval '8 days 1 hour';
$fn$;

REVOKE ALL ON FUNCTION monitoring.prune_session_spans() FROM PUBLIC;

-- Seconds of [f, l) inside the minute starting at m (0 when none). No SET
-- clause, so that PostgreSQL inlines it (a SET costs a configuration save and
-- restore per call); its body uses built-in operators only.
CREATE OR REPLACE FUNCTION monitoring.span_seconds_in_minute(f timestamptz, l timestamptz, m timestamptz)
RETURNS numeric
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
AS $fn$
  SELECT greatest(0::numeric, EXTRACT(EPOCH FROM (least(l, m + interval '1 minute') - greatest(f, m))))
$fn$;

-- Merge [p_first, p_last) into the session's span of version p_version and
-- add what changed to active_minute. Idempotent: a range already inside the
-- span changes nothing. Two statements in the common case (a session's next
-- request): the span's update, returning its old bounds, and one upsert of
-- the minutes whose figures change.
--
-- Called only by the trigger function below (and EXECUTE revoked from
-- PUBLIC), which runs as the owner with its own search_path: so neither
-- this nor merge_row_span is SECURITY DEFINER or carries a SET clause, each
-- of which costs a configuration save and restore per call, three per write.
CREATE OR REPLACE FUNCTION monitoring.merge_session_span(p_session text, p_version text, p_first timestamptz, p_last timestamptz)
RETURNS void
LANGUAGE plpgsql
AS $fn$
DECLARE
  origin constant timestamptz := timestamptz '2000-01-01 00:00:00+00';
  f0 timestamptz; l0 timestamptz; f1 timestamptz; l1 timestamptz;
  fresh boolean := false;
  created boolean;
BEGIN
  LOOP
    UPDATE monitoring.session_spans AS s
       SET first_at = least(o.first_at, p_first), last_at = greatest(o.last_at, p_last)
      FROM (SELECT x.first_at, x.last_at FROM monitoring.session_spans AS x
             WHERE x.session_id = p_session AND x.version = p_version FOR UPDATE) AS o
     WHERE s.session_id = p_session AND s.version = p_version
       AND (p_first < o.first_at OR p_last > o.last_at)
    RETURNING o.first_at, o.last_at, s.first_at, s.last_at INTO f0, l0, f1, l1;
    EXIT WHEN FOUND;
    INSERT INTO monitoring.session_spans (session_id, version, first_at, last_at)
    VALUES (p_session, p_version, p_first, p_last)
    ON CONFLICT (session_id, version) DO NOTHING;
    IF FOUND THEN
      fresh := true;
      -- An empty span before: [p_first, p_first).
      f1 := p_first; l1 := p_last; f0 := p_first; l0 := p_first;
      EXIT;
    END IF;
    -- The span exists: it already holds the range unless it grew meanwhile.
    PERFORM 1 FROM monitoring.session_spans AS x
      WHERE x.session_id = p_session AND x.version = p_version
        AND x.first_at <= p_first AND x.last_at >= p_last;
    IF FOUND THEN
      RETURN;
    END IF;
  END LOOP;
  -- Only minutes around the moved bounds can change: those between the old
  -- and new first_at, and between the old and new last_at.
  WITH d AS (
    SELECT x.m,
           (monitoring.span_seconds_in_minute(f1, l1, x.m) > 0)::int - (monitoring.span_seconds_in_minute(f0, l0, x.m) > 0)::int AS d_active,
           monitoring.span_seconds_in_minute(f1, l1, x.m) - monitoring.span_seconds_in_minute(f0, l0, x.m) AS d_busy,
           (x.m = date_bin('1 minute', f1, origin))::int - (NOT fresh AND x.m = date_bin('1 minute', f0, origin))::int AS d_started
      FROM (
        SELECT generate_series(date_bin('1 minute', least(f0, f1), origin), date_bin('1 minute', greatest(f0, f1), origin), interval '1 minute') AS m
        UNION
        SELECT generate_series(date_bin('1 minute', least(l0, l1), origin), date_bin('1 minute', greatest(l0, l1), origin), interval '1 minute')
      ) AS x
  ), up AS (
    INSERT INTO monitoring.active_minute AS a (minute, version, shard, active, busy_seconds, started)
    SELECT d.m, p_version, pg_backend_pid(), d.d_active, d.d_busy, d.d_started
      FROM d
     WHERE d.d_active <> 0 OR d.d_busy <> 0 OR d.d_started <> 0
    ON CONFLICT (minute, version, shard)
    DO UPDATE SET active = a.active + EXCLUDED.active,
                  busy_seconds = a.busy_seconds + EXCLUDED.busy_seconds,
                  started = a.started + EXCLUDED.started
    RETURNING (a.xmax = 0) AS created
  )
  SELECT coalesce(bool_or(up.created), false) INTO created FROM up;
  -- Once per new (minute, version, backend) row: drop what no window reads.
  IF created AND pg_try_advisory_xact_lock(hashtextextended('valuecanvas.monitoring.prune_session_spans', 0)) THEN
    PERFORM monitoring.prune_session_spans();
  END IF;
END
$fn$;

REVOKE ALL ON FUNCTION monitoring.merge_session_span(text, text, timestamptz, timestamptz) FROM PUBLIC;

-- A row's contribution: [created_at, end) into its version's and 'All''s span.
CREATE OR REPLACE FUNCTION monitoring.merge_row_span(p_session text, p_metadata jsonb, p_created timestamptz, p_updated timestamptz)
RETURNS void
LANGUAGE plpgsql
AS $fn$
DECLARE
  row_end timestamptz;
BEGIN
  IF p_session IS NULL OR p_created IS NULL OR NOT isfinite(p_created) OR p_created <= now() - interval '8 days' THEN
    RETURN;
  END IF;
  row_end := CASE WHEN monitoring.session_duration_seconds(p_created, p_updated) IS NULL THEN p_created ELSE p_updated END;
  PERFORM monitoring.merge_session_span(p_session,
    CASE WHEN p_metadata ->> 'useStateless' = 'true' THEN 'New' ELSE 'Legacy' END, p_created, row_end);
  PERFORM monitoring.merge_session_span(p_session, 'All', p_created, row_end);
END
$fn$;

REVOKE ALL ON FUNCTION monitoring.merge_row_span(text, jsonb, timestamptz, timestamptz) FROM PUBLIC;

CREATE OR REPLACE FUNCTION monitoring.maintain_session_spans()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    TRUNCATE monitoring.session_spans, monitoring.active_minute;
    RETURN NULL;
  END IF;
  IF TG_OP = 'UPDATE' AND OLD.session_id IS NOT DISTINCT FROM NEW.session_id
     AND OLD.created_at IS NOT DISTINCT FROM NEW.created_at AND OLD.updated_at IS NOT DISTINCT FROM NEW.updated_at
     AND (OLD.metadata ->> 'useStateless' = 'true') IS NOT DISTINCT FROM (NEW.metadata ->> 'useStateless' = 'true') THEN
    RETURN NULL;
  END IF;
  PERFORM monitoring.merge_row_span(NEW.session_id::text, NEW.metadata, NEW.created_at, NEW.updated_at);
  RETURN NULL;
END
$fn$;

REVOKE ALL ON FUNCTION monitoring.maintain_session_spans() FROM PUBLIC;

CREATE OR REPLACE TRIGGER agent_sessions_session_spans
  AFTER INSERT OR UPDATE ON public.agent_sessions
  FOR EACH ROW EXECUTE FUNCTION monitoring.maintain_session_spans();

CREATE OR REPLACE TRIGGER agent_sessions_session_spans_truncate
  AFTER TRUNCATE ON public.agent_sessions
  FOR EACH STATEMENT EXECUTE FUNCTION monitoring.maintain_session_spans();

-- Concurrent sessions over (since, until] from the maintained minutes, at
-- minute resolution: every minute that overlaps the window counts whole.
--   sessions         sessions whose span starts in those minutes;
--   peak_concurrent  the most sessions active in one minute (overlapping it);
--   peak_at          the start of the first minute with that peak (or since);
--   avg_concurrent   the seconds of span in those minutes over the window's length.
CREATE OR REPLACE FUNCTION monitoring.stage_concurrent_minutes(since timestamptz, until timestamptz DEFAULT now())
RETURNS TABLE (
  version text,
  sessions bigint,
  peak_concurrent bigint,
  peak_at timestamptz,
  avg_concurrent double precision
)
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET lock_timeout = '5s'
AS $fn$
  WITH m AS (
    SELECT a.version, a.minute, sum(a.active) AS active, sum(a.busy_seconds) AS busy, sum(a.started) AS started
      FROM monitoring.active_minute AS a
     WHERE a.minute > since - interval '1 minute'
       AND a.minute < until
     GROUP BY a.version, a.minute
  ), peaks AS (
    SELECT DISTINCT ON (m.version) m.version, m.active AS peak, greatest(m.minute, since) AS peak_at
      FROM m
     WHERE m.active > 0
     ORDER BY m.version, m.active DESC, m.minute
  ), totals AS (
    SELECT m.version, sum(m.started) AS sessions, sum(m.busy) AS busy
      FROM m
     GROUP BY m.version
  )
  SELECT t.version,
         t.sessions::bigint,
         coalesce(p.peak, 0)::bigint AS peak_concurrent,
         p.peak_at,
         (t.busy / nullif(EXTRACT(EPOCH FROM (until - since)), 0))::double precision AS avg_concurrent
    FROM totals AS t
    LEFT JOIN peaks AS p ON p.version = t.version
   WHERE t.sessions > 0 OR p.peak IS NOT NULL
   ORDER BY t.version
$fn$;

-- The maintained figures when they cover the window, else the row-by-row
-- ones of sql/0020 (a window starting before the coverage: the 0041
-- backfill unfinished, or older than 8 days).
CREATE OR REPLACE FUNCTION monitoring.concurrent_sessions_in(since timestamptz, until timestamptz DEFAULT now())
RETURNS TABLE (
  version text,
  sessions bigint,
  peak_concurrent bigint,
  peak_at timestamptz,
  avg_concurrent double precision
)
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET lock_timeout = '5s'
AS $fn$
BEGIN
  IF since >= (SELECT greatest(c.covered_from, now() - interval '8 days')
                 FROM monitoring.rollup_coverage AS c WHERE c.name = 'session_spans') THEN
    RETURN QUERY SELECT * FROM monitoring.stage_concurrent_minutes(since, until);
  ELSE
    RETURN QUERY SELECT * FROM monitoring.stage_concurrent_sessions(since, until);
  END IF;
END
$fn$;

CREATE OR REPLACE VIEW monitoring.concurrent_sessions AS
SELECT c.version, c.sessions, c.peak_concurrent, c.peak_at, c.avg_concurrent
  FROM monitoring.concurrent_sessions_in(now() - interval '24 hours', now()) AS c;
