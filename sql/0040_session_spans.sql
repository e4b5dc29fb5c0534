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

-- Merge ranges into spans, set-based: element i of the arrays merges
-- [p_first[i], p_last[i]) into the span (p_session[i], p_version[i]), and
-- what changed is added to active_minute, each touched minute row once per
-- call however many rows the statement wrote (a bulk load or a restore
-- updates each minute row once, not once per row). Idempotent: a range
-- already inside its span changes nothing.
--
-- Concurrency: first an empty placeholder span is inserted for every key that
-- has none (in key order; ON CONFLICT DO NOTHING waits for a concurrent
-- insert of the same key), then every key's span row is locked in key order
-- (FOR UPDATE, which under READ COMMITTED reads the latest committed bounds),
-- and the deltas are computed from the locked bounds. Two writers of
-- different sessions touch different span rows and different active_minute
-- rows (shard: the backend pid); two writers of one session queue on its span
-- rows, in the same order (no deadlock).
--
-- Called by the triggers below and by 0041's backfill only (EXECUTE revoked
-- from PUBLIC); it runs as its caller, the owner, under the caller's
-- search_path (the triggers are SECURITY DEFINER with their own), so it
-- carries no SET clause: each costs a configuration save and restore per call.
CREATE OR REPLACE FUNCTION monitoring.merge_spans(p_session text[], p_version text[], p_first timestamptz[], p_last timestamptz[])
RETURNS void
LANGUAGE plpgsql
AS $fn$
DECLARE
  origin constant timestamptz := timestamptz '2000-01-01 00:00:00+00';
  fresh_s text[];
  fresh_v text[];
  created boolean;
BEGIN
  WITH inp AS (
    SELECT u.s, u.v, min(u.f) AS pf
      FROM unnest(p_session, p_version, p_first, p_last) AS u(s, v, f, l)
     GROUP BY u.s, u.v
  ), ins AS (
    INSERT INTO monitoring.session_spans (session_id, version, first_at, last_at)
    SELECT inp.s, inp.v, inp.pf, inp.pf FROM inp ORDER BY inp.s, inp.v
    ON CONFLICT (session_id, version) DO NOTHING
    RETURNING session_id, version
  )
  SELECT coalesce(array_agg(ins.session_id), '{}'), coalesce(array_agg(ins.version), '{}') INTO fresh_s, fresh_v FROM ins;

  WITH inp AS (
    SELECT u.s, u.v, min(u.f) AS pf, max(u.l) AS pl
      FROM unnest(p_session, p_version, p_first, p_last) AS u(s, v, f, l)
     GROUP BY u.s, u.v
  ), cur AS (
    SELECT x.session_id, x.version, x.first_at, x.last_at
      FROM monitoring.session_spans AS x
      JOIN inp ON x.session_id = inp.s AND x.version = inp.v
     ORDER BY x.session_id, x.version
       FOR UPDATE OF x
  ), fr AS (
    SELECT f.s, f.v FROM unnest(fresh_s, fresh_v) AS f(s, v)
  ), n AS (
    SELECT inp.s, inp.v, fr.s IS NOT NULL AS fresh,
           cur.first_at AS f0, cur.last_at AS l0,
           least(cur.first_at, inp.pf) AS f1,
           CASE WHEN fr.s IS NOT NULL THEN inp.pl ELSE greatest(cur.last_at, inp.pl) END AS l1
      FROM inp
      JOIN cur ON cur.session_id = inp.s AND cur.version = inp.v
      LEFT JOIN fr ON fr.s = inp.s AND fr.v = inp.v
  ), ch AS (
    SELECT * FROM n WHERE n.fresh OR n.f1 <> n.f0 OR n.l1 <> n.l0
  ), sp AS (
    UPDATE monitoring.session_spans AS x SET first_at = ch.f1, last_at = ch.l1
      FROM ch
     WHERE x.session_id = ch.s AND x.version = ch.v
  ), d AS (
    -- Only minutes around the moved bounds can change: those between the
    -- old and new first_at, and between the old and new last_at.
    SELECT ch.v, x.m,
           sum((monitoring.span_seconds_in_minute(ch.f1, ch.l1, x.m) > 0)::int - (monitoring.span_seconds_in_minute(ch.f0, ch.l0, x.m) > 0)::int) AS d_active,
           sum(monitoring.span_seconds_in_minute(ch.f1, ch.l1, x.m) - monitoring.span_seconds_in_minute(ch.f0, ch.l0, x.m)) AS d_busy,
           sum((x.m = date_bin('1 minute', ch.f1, origin))::int - (NOT ch.fresh AND x.m = date_bin('1 minute', ch.f0, origin))::int) AS d_started
      FROM ch
     CROSS JOIN LATERAL (
       SELECT generate_series(date_bin('1 minute', least(ch.f0, ch.f1), origin), date_bin('1 minute', greatest(ch.f0, ch.f1), origin), interval '1 minute') AS m
       UNION
       SELECT generate_series(date_bin('1 minute', least(ch.l0, ch.l1), origin), date_bin('1 minute', greatest(ch.l0, ch.l1), origin), interval '1 minute')
     ) AS x
     GROUP BY ch.v, x.m
  ), up AS (
    INSERT INTO monitoring.active_minute AS a (minute, version, shard, active, busy_seconds, started)
    SELECT d.m, d.v, pg_backend_pid(), d.d_active, d.d_busy, d.d_started
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

REVOKE ALL ON FUNCTION monitoring.merge_spans(text[], text[], timestamptz[], timestamptz[]) FROM PUBLIC;

-- Statement-level triggers with transition tables: one merge per statement.
-- A row contributes [created_at, end) to its session's 'All' span and its
-- version's span; rows without a session_id or with an infinite created_at,
-- and rows created 8 days ago or earlier, contribute nothing.
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
  PERFORM monitoring.merge_spans(array_agg(k.s), array_agg(k.v), array_agg(k.f), array_agg(k.l))
     FROM (
       SELECT r.session_id::text AS s, v.v, r.created_at AS f,
              CASE WHEN monitoring.session_duration_seconds(r.created_at, r.updated_at) IS NULL THEN r.created_at ELSE r.updated_at END AS l
         FROM new_rows AS r
        CROSS JOIN LATERAL (VALUES ('All'), (CASE WHEN r.metadata ->> 'useStateless' = 'true' THEN 'New' ELSE 'Legacy' END)) AS v(v)
        WHERE r.session_id IS NOT NULL AND isfinite(r.created_at) AND r.created_at > now() - interval '8 days'
     ) AS k
   HAVING count(*) > 0;
  RETURN NULL;
END
$fn$;

REVOKE ALL ON FUNCTION monitoring.maintain_session_spans() FROM PUBLIC;

CREATE OR REPLACE TRIGGER agent_sessions_session_spans
  AFTER INSERT ON public.agent_sessions
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION monitoring.maintain_session_spans();

CREATE OR REPLACE TRIGGER agent_sessions_session_spans_update
  AFTER UPDATE ON public.agent_sessions
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION monitoring.maintain_session_spans();

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
