-- The guide's monitoring queries as views (schema monitoring). Each returns
-- the rows and values of the guide's query, made runnable, on the same data:
-- the same labels ('New' / 'Legacy', from metadata->>'useStateless' = 'true'),
-- the same windows (created_at > now() - interval ..., no upper bound), the
-- same rounding and the same column types.
--
-- Printed as is, the guide's latency query fails on PostgreSQL:
-- PERCENTILE_CONT returns double precision and round(double precision, int)
-- does not exist. The view casts to numeric before ROUND(..., 2).
-- The guide's top-10 queries leave ties in order unspecified; the views break
-- ties deterministically (by the remaining columns) and otherwise keep the
-- guide's order, including NULL durations first in slow_sessions (DESC).

-- Error rate by version, last 24 hours. Whole minutes come from
-- request_minute; the window's first, partial minute from session_latency.
CREATE OR REPLACE VIEW monitoring.error_rate_by_version AS
WITH parts AS (
  SELECT r.is_new, r.requests, r.errors
    FROM monitoring.request_minute AS r
   WHERE r.minute >= date_bin('1 minute', now() - interval '24 hours', timestamptz '2000-01-01 00:00:00+00') + interval '1 minute'
  UNION ALL
  SELECT l.is_new, 1, l.is_error::int
    FROM monitoring.session_latency AS l
   WHERE l.created_at > now() - interval '24 hours'
     AND l.created_at < date_bin('1 minute', now() - interval '24 hours', timestamptz '2000-01-01 00:00:00+00') + interval '1 minute'
), totals AS (
  SELECT p.is_new, sum(p.requests)::bigint AS total_requests, sum(p.errors)::bigint AS errors
    FROM parts AS p
   GROUP BY p.is_new
)
SELECT CASE WHEN t.is_new THEN 'New' ELSE 'Legacy' END AS version,
       t.total_requests,
       t.errors,
       ROUND(100.0 * t.errors / t.total_requests, 2) AS error_rate
  FROM totals AS t
 WHERE t.total_requests > 0;

-- Latency (average and p95 of updated_at - created_at), last 24 hours.
-- The average is the exact numeric sum over the count of durations, as AVG
-- computes it. The p95 is what PERCENTILE_CONT(0.95) computes: over the N
-- durations (as double precision) in ascending order, the values at positions
-- floor(0.95 (N - 1)) and ceil(0.95 (N - 1)), interpolated with the same
-- double-precision arithmetic. The two values are read from the top of the
-- (is_new, duration_seconds) index, skipping the ~5 % above them.
CREATE OR REPLACE VIEW monitoring.latency_by_version AS
WITH parts AS (
  SELECT r.is_new, r.requests, r.timed, r.duration_sum
    FROM monitoring.request_minute AS r
   WHERE r.minute >= date_bin('1 minute', now() - interval '24 hours', timestamptz '2000-01-01 00:00:00+00') + interval '1 minute'
  UNION ALL
  SELECT l.is_new, 1, (l.duration_seconds IS NOT NULL)::int, coalesce(l.duration_seconds, 0)
    FROM monitoring.session_latency AS l
   WHERE l.created_at > now() - interval '24 hours'
     AND l.created_at < date_bin('1 minute', now() - interval '24 hours', timestamptz '2000-01-01 00:00:00+00') + interval '1 minute'
), totals AS (
  SELECT p.is_new,
         sum(p.requests)::bigint AS requests,
         sum(p.timed)::bigint AS timed,
         sum(p.duration_sum) AS duration_sum,
         0.95::float8 * (sum(p.timed) - 1)::float8 AS p95_rank
    FROM parts AS p
   GROUP BY p.is_new
)
SELECT CASE WHEN t.is_new THEN 'New' ELSE 'Legacy' END AS version,
       ROUND(t.duration_sum / NULLIF(t.timed, 0), 2) AS avg_duration_seconds,
       ROUND((CASE
                WHEN t.timed = 0 THEN NULL
                WHEN floor(t.p95_rank) = ceil(t.p95_rank) THEN v.vals[1]
                ELSE v.vals[2] + ((t.p95_rank - floor(t.p95_rank)) * (v.vals[1] - v.vals[2]))
              END)::numeric, 2) AS p95_duration_seconds
  FROM totals AS t
  LEFT JOIN LATERAL (
    SELECT array_agg(top.d ORDER BY top.d DESC) AS vals
      FROM (
        SELECT l.duration_seconds::float8 AS d
          FROM monitoring.session_latency AS l
         WHERE l.is_new = t.is_new
           AND l.duration_seconds IS NOT NULL
           AND l.created_at > now() - interval '24 hours'
         ORDER BY l.duration_seconds DESC
        OFFSET greatest(t.timed - 1 - ceil(t.p95_rank)::bigint, 0)
         LIMIT 2
      ) AS top
  ) AS v ON t.timed > 0
 WHERE t.requests > 0;

-- Cross-contamination count (MUST be 0), last 24 hours. Since 0004 no session
-- can gain a second user, so only sessions contaminated before then can count.
CREATE OR REPLACE VIEW monitoring.session_isolation AS
SELECT count(*) AS cross_contamination_count
  FROM (
    SELECT a.session_id
      FROM monitoring.contaminated_sessions_before_enforcement AS c
      JOIN public.agent_sessions AS a ON a.session_id = c.session_id
     WHERE a.created_at > now() - interval '24 hours'
     GROUP BY a.session_id
    HAVING count(DISTINCT a.user_id) > 1
  ) AS subquery;

-- Error patterns, last hour, top 10.
CREATE OR REPLACE VIEW monitoring.error_patterns AS
SELECT a.error_message,
       COUNT(*) AS occurrence_count
  FROM public.agent_sessions AS a
 WHERE a.status = 'error'
   AND a.created_at > now() - interval '1 hour'
 GROUP BY a.error_message
 ORDER BY occurrence_count DESC, a.error_message
 LIMIT 10;

-- Slow sessions, last hour, top 10.
CREATE OR REPLACE VIEW monitoring.slow_sessions AS
SELECT a.session_id,
       a.user_id,
       a.workflow_state ->> 'currentStage' AS stage,
       EXTRACT(EPOCH FROM (a.updated_at - a.created_at)) AS duration_seconds
  FROM public.agent_sessions AS a
 WHERE a.created_at > now() - interval '1 hour'
 ORDER BY duration_seconds DESC, a.session_id, a.user_id, stage
 LIMIT 10;

-- Contaminated sessions, last hour (the guide's "Find contaminated sessions").
CREATE OR REPLACE VIEW monitoring.contaminated_sessions AS
SELECT a.session_id,
       ARRAY_AGG(DISTINCT a.user_id) AS user_ids,
       COUNT(*) AS request_count
  FROM public.agent_sessions AS a
 WHERE a.created_at > now() - interval '1 hour'
 GROUP BY a.session_id
HAVING COUNT(DISTINCT a.user_id) > 1;
