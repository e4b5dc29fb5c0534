import { strict as assert } from "node:assert";
import { Client } from "pg";
import { migrate } from "../../db/migrate";
import { loadTraffic } from "../../bench/data";
import { GUIDE_LATENCY_AS_PRINTED, GUIDE_QUERIES } from "../../bench/guideQueries";
import { canon, freshDatabase } from "./dbHelpers";

/** The guide's queries (made runnable) next to the view that must return the same rows. */
const PAIRS: Array<{ view: string; guide: string; ordered?: { guideTieBroken: string; rankColumn: string } }> = [
  { view: "monitoring.error_rate_by_version", guide: GUIDE_QUERIES.errorRate },
  { view: "monitoring.latency_by_version", guide: GUIDE_QUERIES.latency },
  { view: "monitoring.session_isolation", guide: GUIDE_QUERIES.sessionIsolation },
  {
    view: "monitoring.error_patterns",
    guide: GUIDE_QUERIES.errorPatterns,
    ordered: {
      guideTieBroken: GUIDE_QUERIES.errorPatterns.replace("ORDER BY occurrence_count DESC", "ORDER BY occurrence_count DESC, error_message"),
      rankColumn: "occurrence_count",
    },
  },
  {
    view: "monitoring.slow_sessions",
    guide: GUIDE_QUERIES.slowSessions,
    ordered: {
      guideTieBroken: GUIDE_QUERIES.slowSessions.replace("ORDER BY duration_seconds DESC", "ORDER BY duration_seconds DESC, session_id, user_id, stage"),
      rankColumn: "duration_seconds",
    },
  },
  { view: "monitoring.contaminated_sessions", guide: GUIDE_QUERIES.contaminatedSessions },
];

/**
 * Compare every view with the guide's query inside one transaction, so both
 * see the same now() (rows exactly at a window's edge stay at the edge).
 */
async function assertViewsEqualGuide(client: Client, label: string): Promise<void> {
  await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ");
  try {
    for (const p of PAIRS) {
      const view = (await client.query(`SELECT * FROM ${p.view}`)).rows;
      const guide = (await client.query(p.guide)).rows;
      const viewCols = (await client.query(`SELECT * FROM ${p.view} LIMIT 0`)).fields.map((f) => `${f.name}:${f.dataTypeID}`);
      const guideCols = (await client.query(`${p.guide.replace(/LIMIT 10$/, "")} LIMIT 0`)).fields.map((f) => `${f.name}:${f.dataTypeID}`);
      assert.deepEqual(viewCols, guideCols, `${label}: ${p.view} has the guide's columns and types`);
      if (p.ordered) {
        const tieBroken = (await client.query(p.ordered.guideTieBroken)).rows;
        assert.deepEqual(view, tieBroken, `${label}: ${p.view} equals the guide's query (ties broken by the remaining columns)`);
        const rank = (rows: Array<Record<string, unknown>>) => rows.map((r) => r[p.ordered!.rankColumn]);
        assert.deepEqual(rank(view), rank(guide), `${label}: ${p.view} ranks like the guide's query as printed`);
      } else {
        assert.deepEqual(canon(view), canon(guide), `${label}: ${p.view} equals the guide's query`);
      }
    }
  } finally {
    await client.query("COMMIT");
  }
}

/** Awkward rows, all relative to now(). `p` prefixes session ids. */
function awkwardRows(p: string, opts: { contaminate: boolean; nulls: boolean }): string {
  const metas = [
    "NULL",
    `'{}'`,
    `'{"useStateless": "true"}'`,
    `'{"useStateless": "false"}'`,
    `'{"useStateless": true}'`,
    `'{"useStateless": 1}'`,
    `'{"useStateless": "TRUE"}'`,
    `'{"useStateless": null}'`,
    `'"true"'`,
    `'[1, 2]'`,
    `'{"useStateless": {"v": "true"}}'`,
  ].filter((m) => opts.nulls || m !== "NULL");
  const statuses = ["'error'", "'completed'", "'ERROR'", "'active'", ...(opts.nulls ? ["NULL"] : [])];
  const rows: string[] = [];
  let i = 0;
  const add = (session: string, user: string, status: string, msg: string, meta: string, created: string, updated: string, stage = "'plan'") => {
    rows.push(`('${p}${session}', ${user}, ${status}, ${msg}, ${meta}::jsonb, jsonb_build_object('currentStage', ${stage}), ${created}, ${updated})`);
  };
  // A grid over metadata x status x age (inside 1 h, inside 24 h, outside 24 h).
  for (const meta of metas) {
    for (const status of statuses) {
      for (const age of ["interval '10 minutes'", "interval '5 hours'", "interval '30 hours'"]) {
        i++;
        add(`g${i}`, `'u${i}'`, status, status === "'error'" ? `'boom ${i % 3}'` : "NULL", meta, `now() - ${age}`, `now() - ${age} + interval '${(i % 7) * 0.37} seconds'`);
      }
    }
  }
  // Window edges: exactly at the 24 h / 1 h edge (excluded: the guide says >), 1 µs inside, and in the future.
  for (const [k, created] of [
    ["e24", "now() - interval '24 hours'"],
    ["i24", "now() - interval '24 hours' + interval '1 microsecond'"],
    ["e1", "now() - interval '1 hour'"],
    ["i1", "now() - interval '1 hour' + interval '1 microsecond'"],
    ["fut", "now() + interval '1 hour'"],
    // The first whole minute of the 24 h window, and 1 µs before it (the partial minute).
    ["m1", "date_bin('1 minute', now() - interval '24 hours', timestamptz '2000-01-01 00:00:00+00') + interval '1 minute'"],
    ["m0", "date_bin('1 minute', now() - interval '24 hours', timestamptz '2000-01-01 00:00:00+00') + interval '1 minute' - interval '1 microsecond'"],
    ["o25", "now() - interval '25 hours' + interval '1 second'"],
  ] as const) {
    add(k, `'edge-${k}'`, "'error'", `'edge ${k}'`, `'{"useStateless": "true"}'`, created, `${created} + interval '2 seconds'`);
    add(`${k}l`, `'edge-${k}'`, "'completed'", "NULL", "NULL", created, `${created} + interval '4.5 seconds'`);
  }
  // Error-message ties around the top-10 cut: counts 5,4,4,3,3,3,2,2,2,2,2,1 in the last hour.
  const counts = [5, 4, 4, 3, 3, 3, 2, 2, 2, 2, 2, 1];
  counts.forEach((n, m) => {
    for (let j = 0; j < n; j++) add(`t${m}-${j}`, `'tie-user'`, "'error'", `'tie message ${String.fromCharCode(97 + m)}'`, "NULL", `now() - interval '${5 + j} minutes'`, `now() - interval '${5 + j} minutes' + interval '1 second'`);
  });
  // Duration ties around the slow-sessions cut (12 rows of 99 s), a negative duration.
  for (let j = 0; j < 12; j++) add(`slow${j}`, `'slow-${j % 3}'`, "'completed'", "NULL", "NULL", `now() - interval '20 minutes'`, `now() - interval '20 minutes' + interval '99 seconds'`, `'stage-${j % 4}'`);
  add("neg", "'neg'", "'completed'", "NULL", "NULL", "now() - interval '3 minutes'", "now() - interval '4 minutes'");
  if (opts.nulls) {
    add("nullupd", "'n1'", "'completed'", "NULL", `'{"useStateless": "true"}'`, "now() - interval '2 minutes'", "NULL");
    add("nullcreated", "'n2'", "'error'", "'no created_at'", "NULL", "NULL", "now()");
    rows.push(`(NULL, 'n3', 'error', 'no session', NULL, NULL, now() - interval '7 minutes', now())`);
    add("nulluser", "NULL", "'completed'", "NULL", "NULL", "now() - interval '8 minutes'", "now()");
    add("nulluser", "'n4'", "'completed'", "NULL", "NULL", "now() - interval '8 minutes'", "now()");
  }
  if (opts.contaminate) {
    // Sessions with two users: in the last hour, inside 24 h only, and straddling 24 h.
    add("c1", "'alice'", "'completed'", "NULL", "NULL", "now() - interval '10 minutes'", "now()");
    add("c1", "'bob'", "'completed'", "NULL", "NULL", "now() - interval '12 minutes'", "now()");
    add("c1", "'bob'", "'error'", "'c1'", "NULL", "now() - interval '13 minutes'", "now()");
    add("c2", "'carol'", "'completed'", "NULL", "NULL", "now() - interval '3 hours'", "now()");
    add("c2", "'dave'", "'completed'", "NULL", "NULL", "now() - interval '4 hours'", "now()");
    add("c3", "'erin'", "'completed'", "NULL", "NULL", "now() - interval '2 hours'", "now()");
    add("c3", "'frank'", "'completed'", "NULL", "NULL", "now() - interval '26 hours'", "now()");
  }
  return `INSERT INTO public.agent_sessions (session_id, user_id, status, error_message, metadata, workflow_state, created_at, updated_at) VALUES\n${rows.join(",\n")}`;
}

/** agent_sessions as an older production might have it: every column nullable, no id. */
const PRODUCTION_TABLE = `CREATE TABLE public.agent_sessions (
  session_id text, user_id text, status text, error_message text,
  metadata jsonb, workflow_state jsonb, created_at timestamptz, updated_at timestamptz)`;

describe("[pg] monitoring views return what the guide's queries return", function () {
  this.timeout(120_000);

  it("the guide's latency query fails as printed; the runnable version only adds a cast", async () => {
    const { client } = await freshDatabase();
    try {
      await client.query(PRODUCTION_TABLE);
      await assert.rejects(client.query(GUIDE_LATENCY_AS_PRINTED), /function round\(double precision, integer\) does not exist/);
      await client.query(GUIDE_QUERIES.latency);
    } finally {
      await client.end();
    }
  });

  it("on an empty table", async () => {
    const { url, client } = await freshDatabase();
    try {
      await migrate({ databaseUrl: url });
      await assertViewsEqualGuide(client, "empty");
      assert.deepEqual((await client.query("SELECT * FROM monitoring.session_isolation")).rows, [{ cross_contamination_count: "0" }]);
      assert.equal((await client.query("SELECT * FROM monitoring.error_rate_by_version")).rowCount, 0);
    } finally {
      await client.end();
    }
  });

  it("on a production-like table (nullable columns, old contamination) loaded before migrating, then after writes through the triggers", async () => {
    const { url, client } = await freshDatabase();
    try {
      await client.query(PRODUCTION_TABLE);
      await client.query(awkwardRows("pre-", { contaminate: true, nulls: true }));
      await migrate({ databaseUrl: url });
      await assertViewsEqualGuide(client, "after migrating");
      // Old violations are counted: c1 and c2 inside 24 h; c3's second user is older.
      assert.deepEqual((await client.query("SELECT * FROM monitoring.session_isolation")).rows, [{ cross_contamination_count: "2" }]);
      assert.deepEqual(
        (await client.query("SELECT session_id, user_ids, request_count FROM monitoring.contaminated_sessions")).rows,
        [{ session_id: "pre-c1", user_ids: ["alice", "bob"], request_count: "3" }],
      );

      // New rows, at the edges, inserted and compared in one transaction (one now()).
      await client.query("BEGIN");
      await client.query(awkwardRows("tx-", { contaminate: false, nulls: true }));
      for (const p of PAIRS) {
        const view = (await client.query(`SELECT * FROM ${p.view}`)).rows;
        const guide = (await client.query(p.ordered ? p.ordered.guideTieBroken : p.guide)).rows;
        assert.deepEqual(p.ordered ? view : canon(view), p.ordered ? guide : canon(guide), `same transaction: ${p.view}`);
      }
      await client.query("COMMIT");
      await assertViewsEqualGuide(client, "after inserts");

      // Updates that move rows between versions, statuses, durations and minutes, in and out of the window; deletes.
      await client.query(`UPDATE public.agent_sessions SET status = 'error' WHERE session_id LIKE 'tx-g1%'`);
      await client.query(`UPDATE public.agent_sessions SET metadata = '{"useStateless": "true"}' WHERE session_id LIKE 'tx-g2%'`);
      await client.query(`UPDATE public.agent_sessions SET updated_at = updated_at + interval '17.25 seconds' WHERE session_id LIKE 'tx-g3%'`);
      await client.query(`UPDATE public.agent_sessions SET updated_at = NULL WHERE session_id LIKE 'tx-g4%'`);
      await client.query(`UPDATE public.agent_sessions SET created_at = created_at - interval '23 hours' WHERE session_id LIKE 'tx-g5%'`);
      await client.query(`UPDATE public.agent_sessions SET created_at = now() - interval '1 minute' WHERE session_id LIKE 'pre-g6%'`);
      await client.query(`DELETE FROM public.agent_sessions WHERE session_id LIKE 'tx-g7%' OR session_id LIKE 'pre-g8%'`);
      await assertViewsEqualGuide(client, "after updates and deletes");

      await client.query("TRUNCATE public.agent_sessions");
      await assertViewsEqualGuide(client, "after truncate");
    } finally {
      await client.end();
    }
  });

  it("under concurrent writers (sharded per-minute rows, updates racing inserts)", async () => {
    const { url, client } = await freshDatabase();
    await migrate({ databaseUrl: url });
    const writers = await Promise.all([0, 1, 2, 3].map(async () => {
      const c = new Client({ connectionString: url });
      await c.connect();
      return c;
    }));
    try {
      await Promise.all(
        writers.map(async (c, w) => {
          for (let i = 0; i < 60; i++) {
            const meta = i % 3 === 0 ? `'{"useStateless": "true"}'` : "NULL";
            await c.query(`INSERT INTO public.agent_sessions (session_id, user_id, status, metadata, created_at, updated_at)
              VALUES ('w${w}-${i % 7}', 'user-${w}-${i % 7}', ${i % 5 === 0 ? "'error'" : "'active'"}, ${meta}::jsonb,
                      now() - interval '${i} minutes', now() - interval '${i} minutes' + interval '${i * 0.1} seconds')`);
            if (i % 4 === 0) {
              await c.query(`UPDATE public.agent_sessions SET status = 'error', updated_at = updated_at + interval '1.5 seconds'
                              WHERE session_id = 'w${(w + 1) % 4}-${i % 7}'`);
            }
          }
        }),
      );
      await assertViewsEqualGuide(client, "concurrent writers");
    } finally {
      await Promise.all(writers.map((c) => c.end()));
      await client.end();
    }
  });

  it("prunes rollup rows no window can read when a new minute starts, and still agrees with the guide", async () => {
    const { url, client } = await freshDatabase();
    try {
      await migrate({ databaseUrl: url });
      // Rows a 24 h window can never read again (as if written more than a day ago).
      await client.query(`INSERT INTO monitoring.request_minute VALUES (date_bin('1 minute', now() - interval '27 hours', timestamptz '2000-01-01 00:00:00+00'), true, 0, 5, 1, 5, 10)`);
      await client.query(`INSERT INTO monitoring.session_latency VALUES (now() - interval '26 hours', true, false, 2)`);
      await client.query(`INSERT INTO public.agent_sessions (session_id, user_id, created_at, updated_at) VALUES ('p1', 'u1', now() - interval '3 minutes', now())`);
      assert.equal((await client.query("SELECT count(*) AS n FROM monitoring.request_minute WHERE minute < now() - interval '26 hours'")).rows[0].n, "0");
      assert.equal((await client.query("SELECT count(*) AS n FROM monitoring.session_latency WHERE created_at < now() - interval '25 hours'")).rows[0].n, "0");
      await assertViewsEqualGuide(client, "after pruning");
    } finally {
      await client.end();
    }
  });

  it("with legacy-only traffic", async () => {
    const { url, client } = await freshDatabase();
    try {
      await migrate({ databaseUrl: url });
      await client.query(`INSERT INTO public.agent_sessions (session_id, user_id, status, metadata, created_at, updated_at)
        SELECT 'l' || g, 'u' || g, CASE WHEN g % 9 = 0 THEN 'error' ELSE 'completed' END,
               CASE WHEN g % 2 = 0 THEN NULL ELSE '{"useStateless": "false"}' END::jsonb,
               now() - g * interval '1 minute', now() - g * interval '1 minute' + g * interval '10 ms'
          FROM generate_series(1, 2000) AS g`);
      await assertViewsEqualGuide(client, "legacy only");
      assert.deepEqual((await client.query("SELECT version FROM monitoring.error_rate_by_version")).rows, [{ version: "Legacy" }]);
    } finally {
      await client.end();
    }
  });

  it("on the benchmark's traffic shape, loaded before and written after migrating", async () => {
    const { url, client } = await freshDatabase();
    try {
      await client.query(PRODUCTION_TABLE);
      await loadTraffic(client, { windowRows: 6000, historyRows: 3000, historyDays: 2, seed: 0.1 });
      await migrate({ databaseUrl: url });
      await assertViewsEqualGuide(client, "loaded before migrating");
      await loadTraffic(client, { windowRows: 3000, historyRows: 0, historyDays: 1, seed: 0.2 });
      await assertViewsEqualGuide(client, "written after migrating");
      const rates = (await client.query<{ version: string }>("SELECT version FROM monitoring.error_rate_by_version ORDER BY version")).rows;
      assert.deepEqual(rates.map((r) => r.version), ["Legacy", "New"]);
    } finally {
      await client.end();
    }
  });
});
