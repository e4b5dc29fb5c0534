-- migrate:no-transaction
-- Backfill of 0040's session spans from the last 25 hours of agent_sessions,
-- in batches of at most 20,000 rows in created_at order, each committed on
-- its own. Runs
-- outside a transaction (the marker above) so that the block can COMMIT
-- between batches.
--
-- Each batch is one call of monitoring.merge_spans (0040), the function the
-- trigger calls, with the trigger's locking: it locks the span rows of the
-- batch's sessions only (an app write to one of those sessions waits for the
-- batch's commit, a fraction of a second); agent_sessions is only read,
-- through 0002's created_at index. Merging is idempotent: rows the trigger
-- has already merged, or a batch run twice after an interruption, change
-- nothing. When every batch is in, the
-- maintained state covers the last 24 hours before the backfill began.
DO $do$
DECLARE
  started constant timestamptz := clock_timestamp();
  batch_from timestamptz := clock_timestamp() - interval '25 hours';
  batch_to timestamptz;
BEGIN
  WHILE batch_from < started LOOP
    -- At most 20,000 rows a batch (read off 0002's created_at index), so a
    -- small table is done in a few batches and a big one in short ones.
    SELECT least(coalesce(max(x.created_at), started), started) INTO batch_to
      FROM (SELECT a.created_at FROM public.agent_sessions AS a
             WHERE a.created_at > batch_from
             ORDER BY a.created_at
             OFFSET 20000 LIMIT 1) AS x;
    PERFORM monitoring.merge_spans(array_agg(k.s), array_agg(k.v), array_agg(k.f), array_agg(k.l))
       FROM (
         SELECT a.session_id::text AS s, v.v, a.created_at AS f,
                CASE WHEN monitoring.session_duration_seconds(a.created_at, a.updated_at) IS NULL THEN a.created_at ELSE a.updated_at END AS l
           FROM public.agent_sessions AS a
          CROSS JOIN LATERAL (VALUES ('All'), (CASE WHEN a.metadata ->> 'useStateless' = 'true' THEN 'New' ELSE 'Legacy' END)) AS v(v)
          WHERE a.created_at > batch_from
            AND a.created_at <= batch_to
            AND isfinite(a.created_at)
            AND a.session_id IS NOT NULL
       ) AS k
     HAVING count(*) > 0;
    COMMIT;
    batch_from := batch_to;
  END LOOP;
  UPDATE monitoring.rollup_coverage SET covered_from = started - interval '24 hours' WHERE name = 'session_spans';
  COMMIT;
END
$do$;
