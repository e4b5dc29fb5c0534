import { strict as assert } from "node:assert";
import { parseConfig } from "../../core/config";
import { latencyThresholds } from "../../core/gate";
import { readStageMetrics } from "../../db/rolloutStore";
import { migratedDatabase, seedPath, withClient } from "./support";

const T = parseConfig({ appImage: "example/app:1" }, { stack: "test" }).thresholds;

describe("[pg] monitoring.stage_latency_counts (migration 0015): the per-threshold counts the p95 criteria are judged on", function () {
  this.timeout(120_000);

  it("counts, per path and threshold, the timed requests, those longer than it and those of it or longer", async () => {
    const url = await migratedDatabase();
    await withClient(url, async (c) => {
      await seedPath(c, { isNew: true, requests: 100, errors: 0, users: 10, seconds: 1, fromHours: 2, prefix: "n1" });
      await seedPath(c, { isNew: true, requests: 20, errors: 0, users: 10, seconds: 3, fromHours: 2, prefix: "n3" }); // exactly 3 s
      await seedPath(c, { isNew: true, requests: 5, errors: 0, users: 5, seconds: 6, fromHours: 2, prefix: "n6" });
      await seedPath(c, { isNew: false, requests: 50, errors: 0, users: 10, seconds: 2.5, fromHours: 2, prefix: "l" });
      const now = (await c.query<{ now: Date }>("select now() as now")).rows[0].now;
      const m = await readStageMetrics(c, new Date(now.getTime() - 3 * 3_600_000), now, latencyThresholds(T));
      const at = (p: "new" | "legacy", s: number) => m[p].latency?.find((l) => l.thresholdSeconds === s);
      assert.deepEqual(at("new", 3), { thresholdSeconds: 3, timed: 125, over: 5, atLeast: 25 });
      assert.deepEqual(at("new", 2), { thresholdSeconds: 2, timed: 125, over: 25, atLeast: 25 });
      assert.deepEqual(at("new", 5), { thresholdSeconds: 5, timed: 125, over: 5, atLeast: 5 });
      assert.deepEqual(at("legacy", 2), { thresholdSeconds: 2, timed: 50, over: 50, atLeast: 50 });
      assert.deepEqual(at("legacy", 3), { thresholdSeconds: 3, timed: 50, over: 0, atLeast: 0 });
      // Outside the window: nothing.
      const before = await readStageMetrics(c, new Date(now.getTime() - 10 * 3_600_000), new Date(now.getTime() - 5 * 3_600_000), latencyThresholds(T));
      assert.deepEqual(before.new.latency?.map((l) => l.timed), [0, 0, 0]);
    });
  });

  it("an 'infinity' updated_at counts as slower than every threshold, without 'cannot subtract infinite timestamps'", async () => {
    const url = await migratedDatabase();
    await withClient(url, async (c) => {
      // Written past the triggers (as a restore would): on PostgreSQL 15 the rollup trigger of 0006 cannot
      // take the duration of such a row (issue 10 item 15, fixed elsewhere); this function must still read it.
      await c.query("begin");
      await c.query("set local session_replication_role = replica");
      await c.query(
        `insert into public.agent_sessions (session_id, user_id, status, metadata, created_at, updated_at)
         values ('inf-s', 'inf-u', 'completed', '{"useStateless": "true"}', now() - interval '1 hour', 'infinity')`,
      );
      await c.query("commit");
      const rows = await c.query<{ threshold_seconds: number; timed: string; over: string; at_least: string }>(
        "select * from monitoring.stage_latency_counts(now() - interval '2 hours', now(), $1::double precision[]) order by 2",
        [latencyThresholds(T)],
      );
      assert.deepEqual(
        rows.rows.map((r) => [Number(r.threshold_seconds), Number(r.timed), Number(r.over), Number(r.at_least)]),
        latencyThresholds(T).map((s) => [s, 1, 1, 1]),
      );
      // Non-finite and non-positive thresholds are ignored, not an error.
      const odd = await c.query("select * from monitoring.stage_latency_counts(now() - interval '2 hours', now(), array['NaN', 'Infinity', -1, 0]::double precision[])");
      assert.equal(odd.rows.length, 0);
    });
  });
});
