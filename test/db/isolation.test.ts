import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Client } from "pg";
import { migrate } from "../../db/migrate";
import { copyMigrations, freshDatabase, migratedDatabase } from "./dbHelpers";

async function count(client: Client, where = "true"): Promise<number> {
  return Number((await client.query(`SELECT count(*) AS n FROM public.agent_sessions WHERE ${where}`)).rows[0].n);
}

async function isolationCount(client: Client): Promise<number> {
  return Number((await client.query("SELECT cross_contamination_count FROM monitoring.session_isolation")).rows[0].cross_contamination_count);
}

const REFUSED = (session: string, owner: string, intruder: string) =>
  new RegExp(`session isolation: session_id ${session} already belongs to user_id ${owner}; refusing to give it user_id ${intruder}`);

const LEVELS = ["READ COMMITTED", "REPEATABLE READ", "SERIALIZABLE"] as const;
type Level = (typeof LEVELS)[number];

/** SQLSTATEs of a refused contaminating write: the trigger's check, the owner foreign key, a serialization failure. */
const REFUSAL_CODES = new Set(["23514", "23503", "40001"]);

/** Every way a write can give session `s` the user `u`. `pre` rows are committed before the pair starts. */
interface WriteKind {
  name: string;
  pre?: (s: string, u: string) => string;
  write: (c: Client, s: string, u: string) => Promise<unknown>;
}

const copyDir = fs.mkdtempSync(path.join(os.tmpdir(), "vc-copy-"));
fs.chmodSync(copyDir, 0o755);

const KINDS: readonly WriteKind[] = [
  { name: "INSERT", write: (c, s, u) => c.query("INSERT INTO public.agent_sessions (session_id, user_id) VALUES ($1, $2)", [s, u]) },
  {
    name: "multi-row INSERT",
    write: (c, s, u) => c.query("INSERT INTO public.agent_sessions (session_id, user_id) VALUES ($1 || '-own', $2), ($1, $2)", [s, u]),
  },
  {
    name: "INSERT ... SELECT",
    write: (c, s, u) => c.query("INSERT INTO public.agent_sessions (session_id, user_id) SELECT $1, $2 FROM generate_series(1, 2)", [s, u]),
  },
  {
    name: "COPY",
    write: (c, s, u) => {
      const file = path.join(copyDir, `${s}.csv`);
      fs.writeFileSync(file, `${s},${u}\n`, { mode: 0o644 });
      return c.query(`COPY public.agent_sessions (session_id, user_id) FROM ${c.escapeLiteral(file)} WITH (FORMAT csv)`);
    },
  },
  {
    name: "UPDATE of session_id",
    pre: (s, u) => `INSERT INTO public.agent_sessions (session_id, user_id) VALUES ('${s}-own', '${u}')`,
    write: (c, s) => c.query("UPDATE public.agent_sessions SET session_id = $1 WHERE session_id = $1 || '-own'", [s]),
  },
  {
    name: "UPDATE of session_id and user_id",
    pre: (s) => `INSERT INTO public.agent_sessions (session_id, user_id) VALUES ('${s}-other', 'carol')`,
    write: (c, s, u) => c.query("UPDATE public.agent_sessions SET session_id = $1, user_id = $2 WHERE session_id = $1 || '-other'", [s, u]),
  },
  {
    name: "UPDATE of user_id",
    write: (c, s, u) => c.query("UPDATE public.agent_sessions SET user_id = $2 WHERE session_id = $1", [s, u]),
  },
];

async function backendPid(c: Client): Promise<number> {
  return Number((await c.query("SELECT pg_backend_pid() AS p")).rows[0].p);
}

async function settle<T>(p: Promise<T>): Promise<{ ok: true } | { ok: false; err: Error & { code?: string } }> {
  try {
    await p;
    return { ok: true };
  } catch (err) {
    return { ok: false, err: err as Error & { code?: string } };
  }
}

/**
 * One pair: A (level la) writes the session's first row as alice; B (level
 * lb, its snapshot taken before A's commit) tries to give it bob, either after
 * A committed or while A is still open. Returns the users the session ends with.
 */
async function pair(
  watcher: Client,
  a: Client,
  b: Client,
  la: Level,
  lb: Level,
  s: string,
  kind: WriteKind,
  concurrent: boolean,
): Promise<{ users: string[]; b: string }> {
  if (kind.pre) await watcher.query(kind.pre(s, "bob"));
  const bPid = await backendPid(b);
  await b.query(`BEGIN ISOLATION LEVEL ${lb}`);
  await b.query("SELECT count(*) FROM public.agent_sessions WHERE session_id = 'none'"); // B's snapshot, before A's row
  await a.query(`BEGIN ISOLATION LEVEL ${la}`);
  await a.query("INSERT INTO public.agent_sessions (session_id, user_id) VALUES ($1, 'alice')", [s]);
  let bResult: ReturnType<typeof settle>;
  if (concurrent) {
    bResult = settle(kind.write(b, s, "bob"));
    // Let B reach the owner row A holds (or finish, when its write touches nothing A holds).
    for (let i = 0; i < 200; i++) {
      const w = await watcher.query("SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND wait_event_type = 'Lock'", [bPid]);
      if (w.rowCount) break;
      if ((await Promise.race([bResult.then(() => true), new Promise((r) => setTimeout(() => r(false), 5))])) === true) break;
    }
    await a.query("COMMIT");
  } else {
    await a.query("COMMIT");
    bResult = settle(kind.write(b, s, "bob"));
  }
  const r = await bResult;
  let outcome: string;
  if (r.ok) {
    const c = await settle(b.query("COMMIT"));
    outcome = c.ok ? "committed" : `commit failed ${c.err.code}`;
  } else {
    await b.query("ROLLBACK");
    assert.ok(REFUSAL_CODES.has(r.err.code ?? ""), `${kind.name}: unexpected error ${r.err.code}: ${r.err.message}`);
    outcome = `refused ${r.err.code}`;
  }
  const users = (await watcher.query<{ u: string }>("SELECT DISTINCT user_id AS u FROM public.agent_sessions WHERE session_id = $1 ORDER BY 1", [s])).rows.map(
    (x) => x.u,
  );
  return { users, b: outcome };
}

describe("[pg] session isolation is enforced by the database", function () {
  this.timeout(600_000);

  after(() => fs.rmSync(copyDir, { recursive: true, force: true }));

  it("refuses an insert that gives a session a second user, naming the session, and writes nothing", async () => {
    const { client } = await migratedDatabase();
    try {
      await client.query(`INSERT INTO public.agent_sessions (session_id, user_id) VALUES ('s1', 'alice'), ('s1', 'alice')`);
      await assert.rejects(client.query(`INSERT INTO public.agent_sessions (session_id, user_id) VALUES ('s1', 'mallory')`), (err: Error & { code?: string }) => {
        assert.match(err.message, REFUSED("s1", "alice", "mallory"));
        assert.equal(err.code, "23514");
        return true;
      });
      // A multi-row insert with one contaminating row writes none of them.
      await assert.rejects(
        client.query(`INSERT INTO public.agent_sessions (session_id, user_id) VALUES ('s2', 'bob'), ('s1', 'bob')`),
        REFUSED("s1", "alice", "bob"),
      );
      // Two users in one statement for a new session.
      await assert.rejects(
        client.query(`INSERT INTO public.agent_sessions (session_id, user_id) VALUES ('s3', 'carol'), ('s3', 'dave')`),
        REFUSED("s3", "carol", "dave"),
      );
      assert.equal(await count(client), 2);
      assert.deepEqual((await client.query("SELECT requests FROM monitoring.request_minute")).rows.map((r) => r.requests), ["2"]);
      // The owner may keep writing; other sessions are unaffected.
      await client.query(`INSERT INTO public.agent_sessions (session_id, user_id) VALUES ('s1', 'alice'), ('s4', 'mallory')`);
      assert.equal(await count(client), 4);
    } finally {
      await client.end();
    }
  });

  it("refuses an update that moves a row into another user's session or changes a session's user", async () => {
    const { client } = await migratedDatabase();
    try {
      await client.query(`INSERT INTO public.agent_sessions (session_id, user_id) VALUES ('s1', 'alice'), ('s1', 'alice'), ('s2', 'bob')`);
      await assert.rejects(client.query(`UPDATE public.agent_sessions SET session_id = 's1' WHERE session_id = 's2'`), REFUSED("s1", "alice", "bob"));
      await assert.rejects(
        client.query(`UPDATE public.agent_sessions SET user_id = 'mallory' WHERE ctid = (SELECT ctid FROM public.agent_sessions WHERE session_id = 's1' LIMIT 1)`),
        REFUSED("s1", "alice", "mallory"),
      );
      assert.deepEqual(
        (await client.query("SELECT session_id, user_id FROM public.agent_sessions ORDER BY session_id, user_id")).rows,
        [
          { session_id: "s1", user_id: "alice" },
          { session_id: "s1", user_id: "alice" },
          { session_id: "s2", user_id: "bob" },
        ],
      );
      // Updates that leave session and user alone are not checked.
      await client.query(`UPDATE public.agent_sessions SET status = 'error' WHERE session_id = 's1'`);
    } finally {
      await client.end();
    }
  });

  it("with the isolation trigger disabled, the owner foreign key still refuses a second user", async () => {
    const { client } = await migratedDatabase();
    try {
      await client.query(`INSERT INTO public.agent_sessions (session_id, user_id) VALUES ('s1', 'alice')`);
      await client.query("ALTER TABLE public.agent_sessions DISABLE TRIGGER agent_sessions_session_isolation");
      await assert.rejects(client.query(`INSERT INTO public.agent_sessions (session_id, user_id) VALUES ('s1', 'bob')`), (err: Error & { code?: string }) => {
        assert.equal(err.code, "23503");
        assert.match(err.message, /agent_sessions_session_owner_fkey/);
        return true;
      });
      await assert.rejects(client.query(`UPDATE public.agent_sessions SET user_id = 'bob' WHERE session_id = 's1'`), /agent_sessions_session_owner_fkey/);
      assert.deepEqual((await client.query("SELECT user_id FROM public.agent_sessions")).rows, [{ user_id: "alice" }]);
    } finally {
      await client.end();
    }
  });

  for (const la of LEVELS) {
    for (const lb of LEVELS) {
      it(`concurrent writers, A ${la} and B ${lb}: 50 pairs over every write kind, never two users in a session`, async () => {
        const { url, client } = await migratedDatabase();
        const a = new Client({ connectionString: url });
        const b = new Client({ connectionString: url });
        await a.connect();
        await b.connect();
        const outcomes = new Map<string, number>();
        try {
          for (let i = 0; i < 50; i++) {
            const kind = KINDS[i % KINDS.length];
            const concurrent = i % 2 === 1;
            const s = `p${i}`;
            const r = await pair(client, a, b, la, lb, s, kind, concurrent);
            assert.deepEqual(r.users, ["alice"], `${kind.name} (${concurrent ? "while A open" : "after A committed"}): B ${r.b}`);
            const key = `${kind.name}/${r.b}`;
            outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
          }
          assert.equal(await isolationCount(client), 0);
          // Every row names its session's owner (what VALIDATE would check).
          const orphans = await client.query(
            `SELECT a.session_id, a.user_id FROM public.agent_sessions AS a
              WHERE NOT EXISTS (SELECT 1 FROM monitoring.session_owners AS o WHERE o.session_id = a.session_id AND o.user_id = a.user_id)`,
          );
          assert.deepEqual(orphans.rows, []);
          // Inserts of bob are refused, not silently skipped (an UPDATE may match no row).
          for (const [key, n] of outcomes) {
            if (/^(INSERT|multi-row|COPY)/.test(key)) assert.match(key, /refused/, `${key} x${n}`);
          }
        } finally {
          await a.end();
          await b.end();
          await client.end();
        }
      });
    }
  }

  it("old violations: recorded and quarantined, never fail the migration, counted inside 24 hours; VALIDATE would fail on exactly them", async () => {
    const { url, client } = await freshDatabase();
    try {
      // History written before owners existed: 0001-0009, then contamination 0004 let through (its trigger off, as under REPEATABLE READ).
      await migrate({ databaseUrl: url, dir: copyMigrations(9) });
      await client.query("ALTER TABLE public.agent_sessions DISABLE TRIGGER agent_sessions_session_isolation");
      await client.query(`INSERT INTO public.agent_sessions (session_id, user_id, created_at) VALUES
        ('old-in', 'alice', now() - interval '2 hours'), ('old-in', 'bob', now() - interval '3 hours'),
        ('old-out', 'carol', now() - interval '30 hours'), ('old-out', 'dave', now() - interval '2 hours'),
        ('clean', 'erin', now() - interval '40 hours')`);
      await client.query("ALTER TABLE public.agent_sessions ENABLE TRIGGER agent_sessions_session_isolation");
      const r = await migrate({ databaseUrl: url });
      assert.ok(r.applied.includes("0010_session_owners.sql") && r.applied.includes("0011_session_owners_backfill.sql"), r.applied.join());
      assert.deepEqual(
        (await client.query("SELECT session_id FROM monitoring.quarantined_sessions ORDER BY 1")).rows.map((x) => x.session_id),
        ["old-in", "old-out"],
      );
      assert.deepEqual((await client.query("SELECT session_id, user_id FROM monitoring.session_owners WHERE session_id = 'clean'")).rows, [
        { session_id: "clean", user_id: "erin" },
      ]);
      assert.equal(await isolationCount(client), 1);
      assert.equal(await count(client), 5, "history is not rewritten");
      // A quarantined session takes no new row, from any of its users.
      for (const u of ["alice", "bob", "frank"]) {
        await assert.rejects(
          client.query(`INSERT INTO public.agent_sessions (session_id, user_id) VALUES ('old-in', $1)`, [u]),
          /session isolation: session_id old-in is quarantined/,
        );
      }
      // A legacy session keeps its one user.
      await assert.rejects(client.query(`INSERT INTO public.agent_sessions (session_id, user_id) VALUES ('clean', 'mallory')`), REFUSED("clean", "erin", "mallory"));
      await client.query(`INSERT INTO public.agent_sessions (session_id, user_id) VALUES ('clean', 'erin')`);
      // The documented VALIDATE policy: it fails on the quarantined rows, and on nothing else.
      await assert.rejects(client.query("ALTER TABLE public.agent_sessions VALIDATE CONSTRAINT agent_sessions_session_owner_fkey"), /agent_sessions_session_owner_fkey/);
      await client.query(
        `DELETE FROM public.agent_sessions AS a USING monitoring.quarantined_sessions AS q, monitoring.session_owners AS o
          WHERE a.session_id = q.session_id AND o.session_id = a.session_id AND o.user_id <> a.user_id`,
      );
      await client.query("ALTER TABLE public.agent_sessions VALIDATE CONSTRAINT agent_sessions_session_owner_fkey");
    } finally {
      await client.end();
    }
  });

  describe("monitoring.session_isolation sees a contamination however it got in, at the next read", () => {
    it("a write as session_replication_role = replica (restore, logical replication): recorded, counted at once, not refused", async () => {
      const { client } = await migratedDatabase();
      try {
        await client.query(`INSERT INTO public.agent_sessions (session_id, user_id) VALUES ('s1', 'alice')`);
        await client.query("BEGIN");
        await client.query("SET LOCAL session_replication_role = replica");
        // Back-dated as a restore writes it, and a brand-new session with two users.
        await client.query(`INSERT INTO public.agent_sessions (session_id, user_id, created_at) VALUES ('s1', 'bob', now() - interval '20 hours')`);
        await client.query(`INSERT INTO public.agent_sessions (session_id, user_id) VALUES ('s2', 'carol'), ('s2', 'dave')`);
        await client.query(`UPDATE public.agent_sessions SET user_id = 'erin' WHERE session_id = 's1' AND user_id = 'alice'`);
        await client.query("COMMIT");
        assert.equal(await isolationCount(client), 2);
        assert.equal(Number((await client.query("SELECT monitoring.stage_contamination(now() - interval '24 hours', 'infinity') AS n")).rows[0].n), 2);
      } finally {
        await client.end();
      }
    });

    const bypasses: Array<{ name: string; before: string[]; after: string[] }> = [
      {
        name: "every trigger disabled (DISABLE TRIGGER ALL, as pg_restore --disable-triggers), then re-enabled",
        before: ["ALTER TABLE public.agent_sessions DISABLE TRIGGER ALL"],
        after: ["ALTER TABLE public.agent_sessions ENABLE TRIGGER ALL"],
      },
      {
        name: "every trigger disabled and left disabled",
        before: ["ALTER TABLE public.agent_sessions DISABLE TRIGGER ALL"],
        after: [],
      },
      {
        name: "the foreign key dropped and the isolation trigger disabled, then the trigger re-enabled",
        before: [
          "ALTER TABLE public.agent_sessions DROP CONSTRAINT agent_sessions_session_owner_fkey",
          "ALTER TABLE public.agent_sessions DISABLE TRIGGER agent_sessions_session_isolation",
        ],
        after: ["ALTER TABLE public.agent_sessions ENABLE TRIGGER agent_sessions_session_isolation"],
      },
    ];
    for (const b of bypasses) {
      it(b.name, async () => {
        const { client } = await migratedDatabase();
        try {
          await client.query(`INSERT INTO public.agent_sessions (session_id, user_id) VALUES ('s1', 'alice')`);
          assert.equal(await isolationCount(client), 0);
          for (const q of b.before) await client.query(q);
          await client.query(`INSERT INTO public.agent_sessions (session_id, user_id, created_at) VALUES ('s1', 'bob', now() - interval '3 hours')`);
          for (const q of b.after) await client.query(q);
          assert.equal(await isolationCount(client), 1);
          assert.equal(Number((await client.query("SELECT monitoring.session_isolation_enforced() AS e")).rows[0].e === true ? 1 : 0), 0);
        } finally {
          await client.end();
        }
      });
    }
  });
});
