/**
 * The guide's monitoring queries (docs: the Phase 3 deployment guide), as
 * printed, made runnable on PostgreSQL 15+. The only change: the latency
 * query's PERCENTILE_CONT result (double precision) is cast to numeric before
 * ROUND(..., 2), because round(double precision, integer) does not exist.
 *
 * Used by the benchmark (the reference the scrape is measured against) and by
 * the tests (the views must return what these return on the same data).
 */
export const GUIDE_QUERIES = {
  errorRate: `SELECT
  CASE
    WHEN metadata->>'useStateless' = 'true' THEN 'New'
    ELSE 'Legacy'
  END as version,
  COUNT(*) as total_requests,
  SUM(CASE WHEN status = 'error' THEN 1 ELSE 0 END) as errors,
  ROUND(100.0 * SUM(CASE WHEN status = 'error' THEN 1 ELSE 0 END) / COUNT(*), 2) as error_rate
FROM agent_sessions
WHERE created_at > NOW() - INTERVAL '24 hours'
GROUP BY version`,

  latency: `SELECT
  CASE
    WHEN metadata->>'useStateless' = 'true' THEN 'New'
    ELSE 'Legacy'
  END as version,
  ROUND(AVG(EXTRACT(EPOCH FROM (updated_at - created_at))), 2) as avg_duration_seconds,
  ROUND(PERCENTILE_CONT(0.95) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM (updated_at - created_at)))::numeric, 2) as p95_duration_seconds
FROM agent_sessions
WHERE created_at > NOW() - INTERVAL '24 hours'
GROUP BY version`,

  sessionIsolation: `SELECT COUNT(*) as cross_contamination_count
FROM (
  SELECT session_id, COUNT(DISTINCT user_id) as user_count
  FROM agent_sessions
  WHERE created_at > NOW() - INTERVAL '24 hours'
  GROUP BY session_id
  HAVING COUNT(DISTINCT user_id) > 1
) subquery`,

  errorPatterns: `SELECT
  error_message,
  COUNT(*) as occurrence_count
FROM agent_sessions
WHERE status = 'error'
  AND created_at > NOW() - INTERVAL '1 hour'
GROUP BY error_message
ORDER BY occurrence_count DESC
LIMIT 10`,

  slowSessions: `SELECT
  session_id,
  user_id,
  workflow_state->>'currentStage' as stage,
  EXTRACT(EPOCH FROM (updated_at - created_at)) as duration_seconds
FROM agent_sessions
WHERE created_at > NOW() - INTERVAL '1 hour'
ORDER BY duration_seconds DESC
LIMIT 10`,

  contaminatedSessions: `SELECT
  session_id,
  ARRAY_AGG(DISTINCT user_id) as user_ids,
  COUNT(*) as request_count
FROM agent_sessions
WHERE created_at > NOW() - INTERVAL '1 hour'
GROUP BY session_id
HAVING COUNT(DISTINCT user_id) > 1`,
} as const;

/** The guide's latency query exactly as printed: fails on PostgreSQL (round(double precision, integer)). */
export const GUIDE_LATENCY_AS_PRINTED = GUIDE_QUERIES.latency.replace(
  "ORDER BY EXTRACT(EPOCH FROM (updated_at - created_at)))::numeric, 2)",
  "ORDER BY EXTRACT(EPOCH FROM (updated_at - created_at))), 2)",
);

/** The five queries of the guide's "Monitoring Queries" and "Troubleshooting" sections that a monitoring pass runs. */
export const GUIDE_FIVE = [
  GUIDE_QUERIES.errorRate,
  GUIDE_QUERIES.latency,
  GUIDE_QUERIES.sessionIsolation,
  GUIDE_QUERIES.errorPatterns,
  GUIDE_QUERIES.slowSessions,
] as const;
