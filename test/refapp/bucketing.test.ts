/**
 * The reference app puts users on the new path by the drill's own sticky
 * bucketing (drill/traffic.ts re-exports core/bucketing.ts, which the app
 * imports): for many users, at every stage, and with the flags off.
 */
import { strict as assert } from "node:assert";
import { STAGES, effectivePercentage } from "../../core/stages";
import { onNewPath, userBucket } from "../../drill/traffic";
import { ROLLOUT_HEADER, parseRolloutHeader } from "../../reference-app/src/contract";
import { AppDatabase, agentQuery, appDatabase, startApp } from "./support";

const USERS = Array.from({ length: 120 }, (_, i) => `bucket-user-${i}-${(i * 7919).toString(36)}`);

/** Run `f` over `items` with at most `n` in flight. */
async function pool<T, R>(items: readonly T[], n: number, f: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await f(items[i]);
      }
    }),
  );
  return out;
}

describe("[pg] reference app: sticky bucketing is the drill's", function () {
  this.timeout(180_000);
  let db: AppDatabase;

  before(async () => {
    db = await appDatabase();
  });
  after(async () => {
    await db?.admin.end();
  });

  it("the users cover every stage's boundary (a test that can fail)", () => {
    const buckets = new Set(USERS.map(userBucket));
    for (const s of STAGES.slice(1, -1)) {
      assert.ok([...buckets].some((b) => b < s) && [...buckets].some((b) => b >= s), `users on both sides of ${s}`);
    }
  });

  const states = [
    ...STAGES.map((pct) => ({ stateless: true, safeJson: true, pct })),
    // Either flag off: nobody on the new path, whatever the percentage.
    { stateless: false, safeJson: true, pct: 50 },
    { stateless: true, safeJson: false, pct: 100 },
    { stateless: false, safeJson: false, pct: 75 },
  ];
  for (const st of states) {
    const eff = effectivePercentage({ enableStatelessOrchestration: st.stateless, enableSafeJsonParser: st.safeJson, canaryPercentage: st.pct as (typeof STAGES)[number] });
    it(`stateless=${st.stateless} safe-json=${st.safeJson} at ${st.pct} %: every user's path, header and row are onNewPath(user, ${eff})`, async () => {
      const app = await startApp({ ...st, databaseUrl: db.appUrl });
      try {
        const replies = await pool(USERS, 8, (u) => agentQuery(app, u));
        const sessions: string[] = [];
        for (const [i, r] of replies.entries()) {
          const u = USERS[i];
          assert.equal(r.status, 200, r.text);
          const want = onNewPath(u, eff) ? "new" : "legacy";
          const h = parseRolloutHeader(r.headers[ROLLOUT_HEADER] as string);
          assert.deepEqual(h, { path: want, enableStatelessOrchestration: st.stateless, enableSafeJsonParser: st.safeJson, canaryPercentage: st.pct }, u);
          sessions.push((r.json as { sessionId: string }).sessionId);
        }
        const rows = await db.admin.query<{ user_id: string; is_new: boolean }>(
          "SELECT user_id, coalesce(metadata->>'useStateless' = 'true', false) AS is_new FROM public.agent_sessions WHERE session_id = ANY($1)",
          [sessions],
        );
        assert.equal(rows.rows.length, USERS.length);
        for (const r of rows.rows) assert.equal(r.is_new, onNewPath(r.user_id, eff), r.user_id);
        const newShare = rows.rows.filter((r) => r.is_new).length / USERS.length;
        if (eff === 0) assert.equal(newShare, 0);
        if (eff === 100) assert.equal(newShare, 1);
      } finally {
        app.kill();
      }
    });
  }
});
