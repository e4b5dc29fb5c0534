-- migrate:no-transaction
-- Backfill of 0040's session spans from the last 25 hours of agent_sessions,
-- in batches of 10 minutes of created_at, each committed on its own: no lock
-- that blocks the app's writes is held for longer than one batch's span rows
-- (row locks on the spans it merges; the table itself is only read, through
-- 0002's created_at index). Runs outside a transaction (the marker above) so
-- that the block can COMMIT between batches.
--
-- Correct alongside the trigger, and re-runnable after an interruption:
-- merging a row into a span is idempotent (0040), so rows the trigger has
-- already merged, or a batch merged twice, change nothing. When every batch
-- is in, the coverage starts 24 hours before the backfill began.
DO $do$
DECLARE
  started constant timestamptz := clock_timestamp();
  batch_from timestamptz := clock_timestamp() - interval '25 hours';
  batch_to timestamptz;
  r record;
BEGIN
  WHILE batch_from < started LOOP
    batch_to := least(batch_from + interval '10 minutes', started);
    FOR r IN
      SELECT a.session_id::text AS session_id,
             CASE WHEN a.metadata ->> 'useStateless' = 'true' THEN 'New' ELSE 'Legacy' END AS version,
             min(a.created_at) AS first_at,
             max(CASE WHEN monitoring.session_duration_seconds(a.created_at, a.updated_at) IS NULL THEN a.created_at ELSE a.updated_at END) AS last_at
        FROM public.agent_sessions AS a
       WHERE a.created_at > batch_from
         AND a.created_at <= batch_to
         AND isfinite(a.created_at)
       GROUP BY GROUPING SETS ((a.session_id, CASE WHEN a.metadata ->> 'useStateless' = 'true' THEN 'New' ELSE 'Legacy' END), (a.session_id))
    LOOP
      PERFORM monitoring.merge_session_span(r.session_id, coalesce(r.version, 'All'), r.first_at, r.last_at);
    END LOOP;
    COMMIT;
    batch_from := batch_to;
  END LOOP;
  UPDATE monitoring.rollup_coverage SET covered_from = started - interval '24 hours' WHERE name = 'session_spans';
  COMMIT;
END
$do$;
