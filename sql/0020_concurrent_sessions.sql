-- The guide's key metric 4, "Concurrent Sessions (target 100+)", which the
-- guide gives no query for. Defined here (docs/report.md):
--
-- A row of agent_sessions is a request, not a session. A session's span is
-- [min(created_at), max(updated_at)) over its rows, per version ('New' when
-- metadata->>'useStateless' = 'true', 'Legacy' for the rest: the views' CASE),
-- and once more over all its rows as version 'All' (a session with rows on
-- both paths counts once there). A session is active at instant t when its
-- span contains t: half-open, so back-to-back sessions (one ends when the
-- other starts) never overlap, and a one-row session with updated_at =
-- created_at is active at no instant.
--
-- Over a window (since, until], like every other monitoring query: only rows
-- created in the window are read (0002's created_at index bounds the scan),
-- and a span is clipped at `until`. A session whose first rows are older than
-- the window therefore starts at its first row inside it.
--
-- monitoring.stage_concurrent_sessions(since, until), one row per version
-- with sessions in the window:
--   sessions         distinct session_ids with a row in the window;
--   peak_concurrent  the most sessions active at one instant in the window
--                    (the metric held against the guide's 100+ target);
--   peak_at          the earliest instant that peak was reached;
--   avg_concurrent   sessions active on average over the window: the sum of
--                    the clipped spans divided by the window's length.
-- "Active now" is not offered: a row is written when its request ends, so a
-- session's known span ends at its last write, never after now().
--
-- monitoring.concurrent_sessions: the same over the last 24 hours, the window
-- of the guide's other key metrics. The guide sets no warning or critical
-- level for this metric, so no alert reads it.
--
-- SECURITY DEFINER and read-only, like 0008's functions, so the monitoring
-- role (SELECT on the view, EXECUTE from PUBLIC's default) needs no right on
-- agent_sessions. `until` must be a finite time.

CREATE OR REPLACE FUNCTION monitoring.stage_concurrent_sessions(since timestamptz, until timestamptz DEFAULT now())
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
-- A lock wait the monitoring role cannot lift (sql/0013).
SET lock_timeout = '5s'
AS $fn$
  WITH rows_in_window AS (
    SELECT CASE WHEN a.metadata ->> 'useStateless' = 'true' THEN 'New' ELSE 'Legacy' END AS version,
           a.session_id,
           a.created_at,
           a.updated_at
      FROM public.agent_sessions AS a
     WHERE a.created_at > since
       AND a.created_at <= until
  ), spans AS (
    SELECT CASE WHEN GROUPING(r.version) = 1 THEN 'All' ELSE r.version END AS version,
           r.session_id,
           min(r.created_at) AS started,
           least(max(r.updated_at), until) AS ended
      FROM rows_in_window AS r
     GROUP BY GROUPING SETS ((r.version, r.session_id), (r.session_id))
  ), edges AS (
    SELECT s.version, s.started AS t, 1 AS delta FROM spans AS s WHERE s.ended > s.started
    UNION ALL
    SELECT s.version, s.ended AS t, -1 AS delta FROM spans AS s WHERE s.ended > s.started
  ), running AS (
    -- The default frame includes every edge at the same instant (peers), so
    -- the count at t is taken after all the spans ending at t have ended.
    SELECT e.version, e.t, sum(e.delta) OVER (PARTITION BY e.version ORDER BY e.t) AS active
      FROM edges AS e
  ), peaks AS (
    SELECT DISTINCT ON (r.version) r.version, r.active AS peak, r.t AS peak_at
      FROM running AS r
     ORDER BY r.version, r.active DESC, r.t
  ), totals AS (
    SELECT s.version,
           count(*) AS sessions,
           coalesce(sum(EXTRACT(EPOCH FROM (s.ended - s.started))) FILTER (WHERE s.ended > s.started), 0) AS busy_seconds
      FROM spans AS s
     GROUP BY s.version
  )
  SELECT t.version,
         t.sessions,
         coalesce(p.peak, 0)::bigint AS peak_concurrent,
         p.peak_at,
         (t.busy_seconds / nullif(EXTRACT(EPOCH FROM (until - since)), 0))::double precision AS avg_concurrent
    FROM totals AS t
    LEFT JOIN peaks AS p ON p.version = t.version
   ORDER BY t.version
$fn$;

CREATE OR REPLACE VIEW monitoring.concurrent_sessions AS
SELECT c.version, c.sessions, c.peak_concurrent, c.peak_at, c.avg_concurrent
  FROM monitoring.stage_concurrent_sessions(now() - interval '24 hours', now()) AS c;
