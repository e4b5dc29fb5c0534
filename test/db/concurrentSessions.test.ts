/**
 * The guide's key metric 4, concurrent sessions (sql/0020), against
 * hand-computed figures: overlapping, nested, back-to-back and multi-row
 * sessions, sessions on both paths, zero-length sessions, and every window
 * edge (a row at `since` is out, a row at `until` is in, a span is clipped at
 * `until`, rows before the window do not stretch a span).
 */
import { strict as assert } from "node:assert";
import { Client } from "pg";
import { migratedDatabase } from "./dbHelpers";

const T = "2026-01-01T00:00:00Z";
const NEW = `'{"useStateless": "true"}'`;
const LEGACY_NULL = "NULL";
const LEGACY_FALSE = `'{"useStateless": "false"}'`;

/** One request: session, metadata, created and updated as minutes after T. */
type Row = [session: string, meta: string, createdMin: number, updatedMin: number];

async function insert(c: Client, rows: Row[]): Promise<void> {
  const values = rows.map(
    ([s, meta], i) =>
      `('${s}', 'user-${s}', 'completed', ${meta}::jsonb, $1::timestamptz + make_interval(mins => $${2 * i + 2}::int), $1::timestamptz + make_interval(mins => $${2 * i + 3}::int))`,
  );
  await c.query(
    `INSERT INTO public.agent_sessions (session_id, user_id, status, metadata, created_at, updated_at) VALUES ${values.join(", ")}`,
    [T, ...rows.flatMap(([, , a, b]) => [a, b])],
  );
}

interface Out {
  version: string;
  sessions: number;
  peak: number;
  peakAtMin: number | null;
  avg: number;
}

async function concurrency(c: Client, sinceMin: number, untilMin: number): Promise<Record<string, Out>> {
  const r = await c.query<{ version: string; sessions: string; peak_concurrent: string; peak_at: Date | null; avg_concurrent: number }>(
    `SELECT * FROM monitoring.stage_concurrent_sessions($1::timestamptz + make_interval(mins => $2::int), $1::timestamptz + make_interval(mins => $3::int))`,
    [T, sinceMin, untilMin],
  );
  const out: Record<string, Out> = {};
  for (const row of r.rows) {
    out[row.version] = {
      version: row.version,
      sessions: Number(row.sessions),
      peak: Number(row.peak_concurrent),
      peakAtMin: row.peak_at === null ? null : (row.peak_at.getTime() - Date.parse(T)) / 60_000,
      avg: Math.round(row.avg_concurrent * 1e6) / 1e6,
    };
  }
  return out;
}

describe("[pg] concurrent sessions (the guide's key metric 4)", function () {
  this.timeout(60_000);
  let c: Client;

  before(async () => {
    c = (await migratedDatabase()).client;
    await insert(c, [
      // overlapping: [1,10) and [5,15)
      ["n1", NEW, 1, 10],
      ["n2", NEW, 5, 15],
      // nested, the outer one of two requests with a gap: [20,40) holds [25,30)
      ["n3", NEW, 20, 22],
      ["n3", NEW, 35, 40],
      ["n4", NEW, 25, 30],
      // back to back: [50,60) then [60,70) never overlap
      ["n5", NEW, 50, 60],
      ["n6", NEW, 60, 70],
      // three at once from 85 to 88
      ["n7", NEW, 80, 90],
      ["n8", NEW, 82, 88],
      ["n9", NEW, 85, 95],
      // runs past the window's end: clipped to [99,100)
      ["n10", NEW, 99, 130],
      // created exactly at the window's start: outside (created_at > since)
      ["n11", NEW, 0, 50],
      // a request before the window does not stretch the span: [96,97)
      ["n12", NEW, -10, -5],
      ["n12", NEW, 96, 97],
      // created exactly at the window's end: inside, but active at no instant of it
      ["n13", NEW, 100, 105],
      // one request of no duration: a session, never active
      ["n14", NEW, 45, 45],
      // legacy: NULL metadata and "false" both count as legacy
      ["l1", LEGACY_NULL, 5, 50],
      ["l2", LEGACY_FALSE, 10, 12],
      // one session with a request on each path: [70,72) new, [73,75) legacy, [70,75) in All
      ["m1", NEW, 70, 72],
      ["m1", LEGACY_FALSE, 73, 75],
    ]);
  });

  after(async () => {
    await c.end();
  });

  it("per version: the peak, when it was first reached, the distinct sessions and the average, as computed by hand", async () => {
    const r = await concurrency(c, 0, 100);
    // New busy minutes: 9+10+20+5+10+10+10+6+10+1+1 (n1..n10, n12) + 2 (m1) = 94 of 100.
    assert.deepEqual(r.New, { version: "New", sessions: 14, peak: 3, peakAtMin: 85, avg: 0.94 });
    // Legacy: l1 [5,50), l2 [10,12), m1 [73,75): busy 45+2+2 = 49.
    assert.deepEqual(r.Legacy, { version: "Legacy", sessions: 3, peak: 2, peakAtMin: 10, avg: 0.49 });
    // All: n1+n2+l1 from 5 to 10 is the first instant with 3; m1 counted once, [70,75): busy 92+47+5 = 144.
    assert.deepEqual(r.All, { version: "All", sessions: 16, peak: 3, peakAtMin: 5, avg: 1.44 });
  });

  it("back-to-back sessions do not overlap; nested and overlapping ones do", async () => {
    assert.equal((await concurrency(c, 49, 71)).New.peak, 1, "[50,60) then [60,70)");
    assert.deepEqual((await concurrency(c, 19, 45)).New, { version: "New", sessions: 3, peak: 2, peakAtMin: 25, avg: Math.round((25 / 26) * 1e6) / 1e6 });
    assert.equal((await concurrency(c, 0, 16)).New.peak, 2, "[1,10) and [5,15)");
  });

  it("window edges: a span is clipped at `until`; a row at `since` is out, a row at `until` is in", async () => {
    // (95, 100]: n10 [99,100) and n12 [96,97) active, n13 (created at 100) a session of no span.
    assert.deepEqual((await concurrency(c, 95, 100)).New, { version: "New", sessions: 3, peak: 1, peakAtMin: 96, avg: 0.4 });
    // (99, 120]: n10's only row is at 99 = since: out; n13 [100,105) now runs inside the window.
    assert.deepEqual((await concurrency(c, 99, 120)).New, { version: "New", sessions: 1, peak: 1, peakAtMin: 100, avg: Math.round((5 / 21) * 1e6) / 1e6 });
    // n11 (created at 0) appears only once the window starts before it.
    assert.equal((await concurrency(c, -1, 100)).New.sessions, 15);
    // ... and then the peak of 3 is first reached at 5 (n1, n2, n11), no longer at 85.
    assert.deepEqual(
      (({ peak, peakAtMin }) => ({ peak, peakAtMin }))((await concurrency(c, -1, 100)).New),
      { peak: 3, peakAtMin: 5 },
    );
  });

  it("a window with no requests returns no rows; a session of no duration counts as a session with peak 0", async () => {
    assert.deepEqual(await concurrency(c, 200, 300), {});
    assert.deepEqual((await concurrency(c, 44, 45)).New, { version: "New", sessions: 1, peak: 0, peakAtMin: null, avg: 0 });
  });

  it("the view monitoring.concurrent_sessions is the function over the last 24 hours", async () => {
    const { client } = await migratedDatabase();
    try {
      await client.query(
        `INSERT INTO public.agent_sessions (session_id, user_id, metadata, created_at, updated_at) VALUES
           ('old', 'u-old', ${NEW}::jsonb, now() - interval '25 hours', now() - interval '23 hours'),
           ('a', 'u-a', ${NEW}::jsonb, now() - interval '2 hours', now() - interval '1 hour'),
           ('b', 'u-b', ${NEW}::jsonb, now() - interval '90 minutes', now() - interval '30 minutes')`,
      );
      await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ");
      const view = (await client.query("SELECT * FROM monitoring.concurrent_sessions ORDER BY version")).rows;
      const fn = (await client.query("SELECT * FROM monitoring.stage_concurrent_sessions(now() - interval '24 hours', now()) ORDER BY version")).rows;
      await client.query("COMMIT");
      assert.deepEqual(view, fn);
      assert.deepEqual(
        view.map((r) => [r.version, r.sessions, r.peak_concurrent]),
        [
          ["All", "2", "2"],
          ["New", "2", "2"],
        ],
        "the session created 25 hours ago is outside the window",
      );
    } finally {
      await client.end();
    }
  });
});
