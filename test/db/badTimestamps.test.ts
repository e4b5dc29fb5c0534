import { strict as assert } from "node:assert";
import { readDataProblems, readStageMetrics } from "../../db/rolloutStore";
import { migrate } from "../../db/migrate";
import { copyMigrations, freshDatabase, migratedDatabase } from "./dbHelpers";

/** Every kind of timestamp that gives no duration, each on both paths. */
const BAD_ROWS: Array<{ created: string; updated: string; problem: string }> = [
  { created: "now() - interval '1 minute'", updated: "'infinity'", problem: "updated_at is infinite" },
  { created: "now() - interval '2 minutes'", updated: "'-infinity'", problem: "updated_at is infinite" },
  { created: "now() - interval '3 minutes'", updated: "'294276-12-31 00:00:00+00'", problem: "duration over 7 days" },
  { created: "now() - interval '4 minutes'", updated: "now() - interval '30 days'", problem: "updated_at is before created_at" },
  { created: "'infinity'", updated: "now()", problem: "created_at is infinite" },
];

describe("[pg] impossible timestamps: bounded durations, reported as data problems", function () {
  this.timeout(120_000);

  it("infinite, reversed and absurd timestamps are written, break no view or gate query, give finite metrics, and are counted", async () => {
    const { client } = await migratedDatabase();
    try {
      await client.query(`INSERT INTO public.agent_sessions (session_id, user_id, status, metadata, created_at, updated_at)
        SELECT 'good-' || g, 'u' || g, CASE WHEN g % 10 = 0 THEN 'error' ELSE 'completed' END,
               CASE WHEN g % 2 = 0 THEN '{"useStateless": "true"}'::jsonb END,
               now() - make_interval(mins => g), now() - make_interval(mins => g) + interval '2 seconds'
          FROM generate_series(5, 40) AS g`);
      for (const [i, r] of BAD_ROWS.entries()) {
        for (const path of ['{"useStateless": "true"}', "{}"]) {
          // The app's write itself must not fail (on 15 the rollup trigger refused it).
          await client.query(
            `INSERT INTO public.agent_sessions (session_id, user_id, status, metadata, created_at, updated_at)
             VALUES ($1, 'bad', 'completed', $2::jsonb, ${r.created}, ${r.updated})`,
            [`bad-${i}-${path.length}`, path],
          );
        }
      }
      // An update into and out of an impossible value keeps the rollups exact.
      await client.query(`UPDATE public.agent_sessions SET updated_at = 'infinity' WHERE session_id = 'good-5'`);
      await client.query(`UPDATE public.agent_sessions SET updated_at = created_at + interval '2 seconds' WHERE session_id = 'good-5'`);
      const now = (await client.query<{ now: Date }>("SELECT now() AS now")).rows[0].now;
      const since = new Date(now.getTime() - 48 * 3_600_000);
      const m = await readStageMetrics(client, since, now);
      for (const p of [m.new, m.legacy]) {
        assert.ok(p.avgSeconds !== null && Number.isFinite(p.avgSeconds) && Math.abs(p.avgSeconds - 2) < 1e-9, String(p.avgSeconds));
        assert.ok(p.p95Seconds !== null && Number.isFinite(p.p95Seconds), String(p.p95Seconds));
      }
      assert.equal(m.new.requests + m.legacy.requests, 36 + 2 * (BAD_ROWS.length - 1), "the infinite created_at is after any finite window");
      for (const view of ["error_rate_by_version", "latency_by_version", "session_isolation", "slow_sessions", "error_patterns", "contaminated_sessions"]) {
        const rows = (await client.query(`SELECT * FROM monitoring.${view}`)).rows;
        for (const r of rows) for (const v of Object.values(r)) assert.ok(!/inf|nan/i.test(String(v)), `${view}: ${JSON.stringify(r)}`);
      }
      const lat = (await client.query("SELECT version, avg_duration_seconds::float8 AS a FROM monitoring.latency_by_version ORDER BY 1")).rows;
      assert.deepEqual(lat.map((r) => Number(r.a)), [2, 2]);
      const expected = new Map<string, number>();
      for (const r of BAD_ROWS) if (r.created !== "'infinity'") expected.set(r.problem, (expected.get(r.problem) ?? 0) + 2);
      assert.deepEqual(
        await readDataProblems(client, since, now),
        [...expected].sort(([a], [b]) => a.localeCompare(b)).map(([problem, rows]) => ({ problem, rows })),
      );
      const all = (await client.query("SELECT problem, row_count::int AS n FROM monitoring.data_problems ORDER BY 1")).rows;
      assert.deepEqual(all.find((r) => r.problem === "created_at is infinite"), { problem: "created_at is infinite", n: 2 });
    } finally {
      await client.end();
    }
  });

  it("rollups stored from such rows before 0012 (infinite sums, NaN after an update) are repaired by the migration", async () => {
    const { url, client } = await freshDatabase();
    try {
      await migrate({ databaseUrl: url, dir: copyMigrations(11) });
      await client.query(`INSERT INTO public.agent_sessions (session_id, user_id, metadata, created_at, updated_at)
        SELECT 'good-' || g, 'u' || g, CASE WHEN g % 2 = 0 THEN '{"useStateless": "true"}'::jsonb END,
               now() - make_interval(mins => g), now() - make_interval(mins => g) + interval '2 seconds'
          FROM generate_series(5, 40) AS g`);
      // What the old trigger accepted: PostgreSQL 17 stores an infinite duration, 15 refuses it (and stores an absurd finite one).
      for (const [s, updated] of [["inf", "'infinity'"], ["far", "'294276-12-31 00:00:00+00'"], ["cycled", "'infinity'"]] as const) {
        for (const meta of ['{"useStateless": "true"}', "{}"]) {
          await client
            .query(`INSERT INTO public.agent_sessions (session_id, user_id, metadata, created_at, updated_at) VALUES ($1, 'bad', $2::jsonb, now() - interval '7 minutes', ${updated})`, [`${s}-${meta.length}`, meta])
            .catch(() => undefined);
        }
      }
      await client.query(`UPDATE public.agent_sessions SET updated_at = created_at + interval '2 seconds' WHERE session_id LIKE 'cycled-%'`).catch(() => undefined);
      await migrate({ databaseUrl: url });
      const lat = (await client.query("SELECT version, avg_duration_seconds::float8 AS a, p95_duration_seconds::float8 AS p FROM monitoring.latency_by_version ORDER BY 1")).rows;
      assert.deepEqual(lat.map((r) => [r.version, Number(r.a), Number(r.p)]), [["Legacy", 2, 2], ["New", 2, 2]]);
      const viewCounts = (await client.query("SELECT version, total_requests::int AS n FROM monitoring.error_rate_by_version ORDER BY 1")).rows;
      const rawCounts = (await client.query(
        `SELECT CASE WHEN metadata ->> 'useStateless' = 'true' THEN 'New' ELSE 'Legacy' END AS version, count(*)::int AS n
           FROM public.agent_sessions WHERE created_at > now() - interval '24 hours' GROUP BY 1 ORDER BY 1`,
      )).rows;
      assert.deepEqual(viewCounts, rawCounts);
      const bad = (await client.query("SELECT count(*)::int AS n FROM monitoring.request_minute WHERE duration_sum = 'NaN'::numeric OR abs(duration_sum) > 1e30")).rows[0].n;
      assert.equal(bad, 0);
    } finally {
      await client.end();
    }
  });
});
