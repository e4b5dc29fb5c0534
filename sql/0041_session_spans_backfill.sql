-- migrate:no-transaction
-- Backfill of 0040's session spans from the last 25 hours of agent_sessions,
-- in batches of 2 minutes of created_at, each committed on its own. Runs
-- outside a transaction (the marker above) so that the block can COMMIT
-- between batches.
--
-- Each batch is one set-based statement under an EXCLUSIVE lock on
-- monitoring.session_spans (readers pass; the app's writes, whose trigger
-- merges spans, wait for that one batch: about 15 k rows at 10 M requests a
-- day, a fraction of a second). agent_sessions itself is only read, through
-- 0002's created_at index, and never locked against writes. Under that lock
-- the batch sees every span the trigger has written, and merging is
-- idempotent (0040): rows the trigger has already merged, or a batch run
-- twice after an interruption, change nothing. When every batch is in, the
-- maintained state covers the last 24 hours before the backfill began.
DO $do$
DECLARE
  started constant timestamptz := clock_timestamp();
  origin constant timestamptz := timestamptz '2000-01-01 00:00:00+00';
  batch_from timestamptz := clock_timestamp() - interval '25 hours';
  batch_to timestamptz;
BEGIN
  WHILE batch_from < started LOOP
    batch_to := least(batch_from + interval '2 minutes', started);
    LOCK TABLE monitoring.session_spans IN EXCLUSIVE MODE;
    WITH b AS (
      SELECT a.session_id::text AS session_id,
             coalesce(CASE WHEN GROUPING(CASE WHEN a.metadata ->> 'useStateless' = 'true' THEN 'New' ELSE 'Legacy' END) = 1 THEN 'All' END,
                      CASE WHEN a.metadata ->> 'useStateless' = 'true' THEN 'New' ELSE 'Legacy' END) AS version,
             min(a.created_at) AS pf,
             max(CASE WHEN monitoring.session_duration_seconds(a.created_at, a.updated_at) IS NULL THEN a.created_at ELSE a.updated_at END) AS pl
        FROM public.agent_sessions AS a
       WHERE a.created_at > batch_from
         AND a.created_at <= batch_to
         AND isfinite(a.created_at)
       GROUP BY GROUPING SETS ((a.session_id, CASE WHEN a.metadata ->> 'useStateless' = 'true' THEN 'New' ELSE 'Legacy' END), (a.session_id))
    ), n AS (
      SELECT b.session_id, b.version, s.session_id IS NULL AS fresh,
             coalesce(s.first_at, b.pf) AS f0, coalesce(s.last_at, b.pf) AS l0,
             least(coalesce(s.first_at, b.pf), b.pf) AS f1,
             CASE WHEN s.session_id IS NULL THEN b.pl ELSE greatest(s.last_at, b.pl) END AS l1
        FROM b
        LEFT JOIN monitoring.session_spans AS s ON s.session_id = b.session_id AND s.version = b.version
    ), ch AS (
      SELECT * FROM n WHERE n.fresh OR n.f1 <> n.f0 OR n.l1 <> n.l0
    ), sp AS (
      INSERT INTO monitoring.session_spans AS s (session_id, version, first_at, last_at)
      SELECT ch.session_id, ch.version, ch.f1, ch.l1 FROM ch
      ON CONFLICT (session_id, version) DO UPDATE SET first_at = EXCLUDED.first_at, last_at = EXCLUDED.last_at
    ), d AS (
      SELECT ch.version, x.m,
             sum((monitoring.span_seconds_in_minute(ch.f1, ch.l1, x.m) > 0)::int - (monitoring.span_seconds_in_minute(ch.f0, ch.l0, x.m) > 0)::int) AS d_active,
             sum(monitoring.span_seconds_in_minute(ch.f1, ch.l1, x.m) - monitoring.span_seconds_in_minute(ch.f0, ch.l0, x.m)) AS d_busy,
             sum((x.m = date_bin('1 minute', ch.f1, origin))::int - (NOT ch.fresh AND x.m = date_bin('1 minute', ch.f0, origin))::int) AS d_started
        FROM ch
       CROSS JOIN LATERAL (
         SELECT generate_series(date_bin('1 minute', least(ch.f0, ch.f1), origin), date_bin('1 minute', greatest(ch.f0, ch.f1), origin), interval '1 minute') AS m
         UNION
         SELECT generate_series(date_bin('1 minute', least(ch.l0, ch.l1), origin), date_bin('1 minute', greatest(ch.l0, ch.l1), origin), interval '1 minute')
       ) AS x
       GROUP BY ch.version, x.m
    )
    INSERT INTO monitoring.active_minute AS a (minute, version, shard, active, busy_seconds, started)
    SELECT d.m, d.version, pg_backend_pid(), d.d_active, d.d_busy, d.d_started
      FROM d
     WHERE d.d_active <> 0 OR d.d_busy <> 0 OR d.d_started <> 0
    ON CONFLICT (minute, version, shard)
    DO UPDATE SET active = a.active + EXCLUDED.active,
                  busy_seconds = a.busy_seconds + EXCLUDED.busy_seconds,
                  started = a.started + EXCLUDED.started;
    COMMIT;
    batch_from := batch_to;
  END LOOP;
  UPDATE monitoring.rollup_coverage SET covered_from = started - interval '24 hours' WHERE name = 'session_spans';
  COMMIT;
END
$do$;
