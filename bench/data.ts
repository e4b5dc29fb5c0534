/**
 * Realistic, time-ordered agent_sessions traffic for the benchmark and tests.
 * Everything is relative to now(): `windowRows` rows spread over the last 24
 * hours, behind `historyRows` older rows spread over the `historyDays` before.
 * Rows are inserted in created_at order, as an append-mostly table holds them.
 *
 * Shape: sessions of ~4 requests by one user; ~20 % of rows on the new path
 * (metadata useStateless 'true'), some 'false', some without the key, some
 * NULL metadata; ~2 % errors with 20 messages; durations 0.2 s plus an
 * exponential tail (mean 1.2 s). A handful of historical sessions were
 * contaminated (two users), some of them still active inside the window.
 */
import { Client } from "pg";

export interface TrafficShape {
  windowRows: number;
  historyRows: number;
  /** How far back history goes, in days before the window. */
  historyDays: number;
  seed?: number;
}

function insertRange(prefix: string, n: number, startSql: string, spanSql: string): string {
  return `
INSERT INTO public.agent_sessions (session_id, user_id, status, error_message, metadata, workflow_state, created_at, updated_at)
SELECT '${prefix}' || (g / 4)::text,
       'u' || ((g / 4) % 50000)::text,
       CASE WHEN r1 < 0.02 THEN 'error' WHEN r1 < 0.08 THEN 'active' ELSE 'completed' END,
       CASE WHEN r1 < 0.02 THEN 'agent error ' || floor(r2 * 20)::int END,
       (CASE WHEN r3 < 0.05 THEN NULL
             WHEN r3 < 0.25 THEN '{"useStateless": "true", "client": "web"}'
             WHEN r3 < 0.30 THEN '{"useStateless": "false", "client": "web"}'
             ELSE '{"client": "web"}' END)::jsonb,
       jsonb_build_object('currentStage', (ARRAY['intake', 'plan', 'execute', 'review'])[1 + floor(r2 * 4)::int],
                          'step', floor(r1 * 10)::int),
       ts,
       ts + make_interval(secs => 0.2 + (-ln(1 - r4)) * 1.2)
  FROM (
    SELECT g, random() AS r1, random() AS r2, random() AS r3, random() AS r4,
           (${startSql}) + (${spanSql}) * (g::float8 / ${n}) AS ts
      FROM generate_series(0, ${n} - 1) AS g
  ) AS x
 ORDER BY ts`;
}

/** Load the traffic into an existing agent_sessions table (before migrating, as production has it). */
export async function loadTraffic(client: Client, shape: TrafficShape): Promise<void> {
  await client.query("SELECT setseed($1)", [shape.seed ?? 0.42]);
  if (shape.historyRows > 0) {
    await client.query(
      insertRange(
        "h",
        shape.historyRows,
        `now() - interval '24 hours' - interval '${shape.historyDays} days'`,
        `interval '${shape.historyDays} days'`,
      ),
    );
    // A few sessions contaminated before isolation was enforced: one user's
    // rows in history, another user's rows in the window (counted) or not.
    await client.query(`
      INSERT INTO public.agent_sessions (session_id, user_id, status, metadata, created_at, updated_at)
      SELECT 'legacy-contaminated-' || i, 'intruder-' || i, 'completed', '{"useStateless": "true"}',
             now() - interval '2 hours' * i, now() - interval '2 hours' * i + interval '1 second'
        FROM generate_series(1, 5) AS i;
      INSERT INTO public.agent_sessions (session_id, user_id, status, metadata, created_at, updated_at)
      SELECT 'legacy-contaminated-' || i, 'owner-' || i, 'completed', NULL,
             now() - interval '30 hours', now() - interval '30 hours' + interval '2 seconds'
        FROM generate_series(1, 5) AS i;
      INSERT INTO public.agent_sessions (session_id, user_id, status, metadata, created_at, updated_at)
      SELECT 'legacy-contaminated-' || i, 'owner-' || i, 'completed', NULL,
             now() - interval '3 hours' * i, now() - interval '3 hours' * i + interval '2 seconds'
        FROM generate_series(1, 5) AS i;`);
  }
  if (shape.windowRows > 0) {
    await client.query(insertRange("w", shape.windowRows, `now() - interval '24 hours'`, `interval '24 hours'`));
  }
}
