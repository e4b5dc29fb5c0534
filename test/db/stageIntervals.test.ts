/**
 * A stage over time in one statement (sql/0033, issue 24): monitoring.stage_interval_metrics and
 * db/rolloutStore.ts readIntervalMetrics give, for every interval (bounds[k], bounds[k+1]], exactly what
 * the per-interval read gives (readStageMetrics, without latency counts: stage_metrics and
 * stage_contamination over that interval), on random traffic: both paths, errors, durations, a few
 * contaminated sessions, rows on the intervals' ends.
 */
import { strict as assert } from "node:assert";
import fc from "fast-check";
import { Client } from "pg";
import { readIntervalMetrics, readStageMetrics } from "../../db/rolloutStore";
import { migratedDatabase } from "./dbHelpers";

const MIN = 60_000;

interface Row {
  session: number;
  user: number;
  /** Minutes after the run's base time (rows and bounds share the grid, so rows fall on interval ends). */
  minute: number;
  durationSeconds: number;
  error: boolean;
  stateless: boolean | null;
}

const rowArb: fc.Arbitrary<Row> = fc.record({
  session: fc.nat(15),
  user: fc.nat(6),
  minute: fc.integer({ min: -30, max: 6 * 60 }),
  durationSeconds: fc.oneof(fc.constantFrom(0, 1, 3, 5), fc.double({ min: 0, max: 20, noNaN: true })),
  error: fc.boolean(),
  stateless: fc.option(fc.boolean(), { nil: null }),
});

describe("[pg] monitoring.stage_interval_metrics: a stage's display intervals in one statement (sql/0033)", function () {
  this.timeout(300_000);
  let c: Client;
  let run = 0;

  before(async () => {
    c = (await migratedDatabase()).client;
  });
  after(async () => c?.end());

  /** The rows, written as a restore would (the isolation trigger bypassed, so sessions can be contaminated), at a base time of their own. */
  async function seed(rows: readonly Row[]): Promise<Date> {
    // Each run far from the others: no earlier run's row falls into its intervals.
    const base = new Date(Date.UTC(2020, 0, 1) + run++ * 30 * 24 * 60 * MIN);
    if (rows.length === 0) return base;
    await c.query("begin");
    await c.query("set local session_replication_role = replica");
    await c.query(
      `insert into public.agent_sessions (session_id, user_id, status, metadata, created_at, updated_at)
       select 's' || r.session, 'u' || r.usr, case when r.error then 'error' else 'completed' end,
              case when r.stateless is null then null else jsonb_build_object('useStateless', r.stateless::text) end,
              $1::timestamptz + make_interval(mins => r.minute),
              $1::timestamptz + make_interval(mins => r.minute, secs => r.duration)
         from jsonb_to_recordset($2::jsonb) as r(session int, usr int, minute int, duration float8, error boolean, stateless boolean)`,
      [base, JSON.stringify(rows.map((r) => ({ session: r.session, usr: r.user, minute: r.minute, duration: r.durationSeconds, error: r.error, stateless: r.stateless })))],
    );
    await c.query("commit");
    return base;
  }

  const at = (base: Date, minute: number) => new Date(base.getTime() + minute * MIN);

  it("readIntervalMetrics equals readStageMetrics on each interval, for random traffic and up to 24 consecutive intervals", async () => {
    let contaminatedSeen = 0;
    let rowsOnEnds = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(rowArb, { maxLength: 120 }),
        fc.uniqueArray(fc.integer({ min: -60, max: 7 * 60 }), { minLength: 0, maxLength: 25 }),
        async (rows, minutes) => {
          const base = await seed(rows);
          const bounds = [...minutes].sort((a, b) => a - b).map((m) => at(base, m));
          const grouped = await readIntervalMetrics(c, bounds);
          assert.equal(grouped.length, Math.max(0, bounds.length - 1));
          for (let k = 0; k + 1 < bounds.length; k++) {
            const one = await readStageMetrics(c, bounds[k], bounds[k + 1]);
            assert.deepStrictEqual(grouped[k], one, `interval ${k + 1} of ${bounds.length - 1}`);
            contaminatedSeen += one.contaminationCount;
          }
          rowsOnEnds += rows.filter((r) => minutes.includes(r.minute)).length;
        },
      ),
      { numRuns: 60, seed: 2433 },
    );
    // The random data reached the cases that matter: contaminated sessions and rows on an interval's end.
    assert.ok(contaminatedSeen > 0, "some interval held a contaminated session");
    assert.ok(rowsOnEnds > 0, "some row was created exactly at an interval's end");
  });

  it("the function itself: any array (unsorted, repeated, with NULLs) gives one row per adjacent pair, each the two functions' answer for it", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(rowArb, { maxLength: 60 }),
        fc.array(fc.option(fc.integer({ min: -60, max: 7 * 60 }), { nil: null, freq: 8 }), { maxLength: 12 }),
        async (rows, minutes) => {
          const base = await seed(rows);
          const bounds = minutes.map((m) => (m === null ? null : at(base, m)));
          const got = (await c.query<{ interval_index: number; since: Date | null; until: Date | null; paths: unknown; contamination: string }>(
            "select * from monitoring.stage_interval_metrics($1::timestamptz[])",
            [bounds],
          )).rows;
          assert.deepEqual(got.map((r) => r.interval_index), bounds.slice(1).map((_, i) => i + 1));
          for (const [i, r] of got.entries()) {
            assert.deepEqual([r.since, r.until], [bounds[i], bounds[i + 1]]);
            const want = (await c.query<{ paths: unknown; contamination: string }>(
              `select (select coalesce(json_agg(m), '[]'::json) from monitoring.stage_metrics($1, $2) as m) as paths, monitoring.stage_contamination($1, $2) as contamination`,
              [bounds[i], bounds[i + 1]],
            )).rows[0];
            assert.deepEqual({ paths: r.paths, contamination: r.contamination }, want);
          }
        },
      ),
      { numRuns: 40, seed: 2434 },
    );
  });

  it("an array whose lower bound is not 1 still numbers the intervals from 1; fewer than two times give no interval", async () => {
    const base = await seed([{ session: 1, user: 1, minute: 30, durationSeconds: 1, error: false, stateless: true }]);
    const rows = (await c.query("select interval_index, contamination from monitoring.stage_interval_metrics(('[0:2]={' || $1 || ',' || $2 || ',' || $3 || '}')::timestamptz[])", [
      at(base, 0).toISOString(),
      at(base, 60).toISOString(),
      at(base, 120).toISOString(),
    ])).rows;
    assert.deepEqual(rows, [
      { interval_index: 1, contamination: "0" },
      { interval_index: 2, contamination: "0" },
    ]);
    assert.deepEqual(await readIntervalMetrics(c, [at(base, 0)]), []);
    assert.deepEqual((await c.query("select * from monitoring.stage_interval_metrics(array[]::timestamptz[])")).rows, []);
  });
});
