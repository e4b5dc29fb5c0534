import { strict as assert } from "node:assert";
import { Client } from "pg";
import { loadMigrations, migrate } from "../../lib/migrate";
import { freshDatabase, migratedDatabase } from "./dbHelpers";

async function count(client: Client, where = "true"): Promise<number> {
  return Number((await client.query(`SELECT count(*) AS n FROM public.agent_sessions WHERE ${where}`)).rows[0].n);
}

const REFUSED = (session: string, owner: string, intruder: string) =>
  new RegExp(`session isolation: session_id ${session} already belongs to user_id ${owner}; refusing to give it user_id ${intruder}`);

describe("[pg] session isolation is enforced by the database", function () {
  this.timeout(60_000);

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

  it("two concurrent first writes of one session by two users: the second is refused", async () => {
    const { url, client } = await migratedDatabase();
    const other = new Client({ connectionString: url });
    await other.connect();
    try {
      await client.query("BEGIN");
      await client.query(`INSERT INTO public.agent_sessions (session_id, user_id) VALUES ('race', 'alice')`);
      await other.query("BEGIN");
      const second = other.query(`INSERT INTO public.agent_sessions (session_id, user_id) VALUES ('race', 'bob')`).then(
        () => "inserted",
        (e: Error) => e.message,
      );
      // The second writer waits on the session's lock until the first commits.
      for (;;) {
        const waiting = await client.query(`SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`);
        if (waiting.rowCount) break;
        assert.equal(await Promise.race([second, new Promise((r) => setTimeout(() => r("waiting"), 20))]), "waiting", "the second insert must wait");
      }
      await client.query("COMMIT");
      assert.match(await second, REFUSED("race", "alice", "bob"));
      await other.query("ROLLBACK");
      assert.deepEqual((await client.query(`SELECT user_id FROM public.agent_sessions WHERE session_id = 'race'`)).rows, [{ user_id: "alice" }]);
    } finally {
      await other.end();
      await client.end();
    }
  });

  it("leaves old violations in place and counts those inside 24 hours", async () => {
    const { url, client } = await freshDatabase();
    try {
      await migrate({ databaseUrl: url });
      // Simulate history written before enforcement existed: disable the trigger for the load only.
      await client.query("ALTER TABLE public.agent_sessions DISABLE TRIGGER agent_sessions_session_isolation");
      await client.query(`INSERT INTO public.agent_sessions (session_id, user_id, created_at) VALUES
        ('old-in', 'alice', now() - interval '2 hours'), ('old-in', 'bob', now() - interval '3 hours'),
        ('old-out', 'carol', now() - interval '30 hours'), ('old-out', 'dave', now() - interval '2 hours')`);
      await client.query("ALTER TABLE public.agent_sessions ENABLE TRIGGER agent_sessions_session_isolation");
      // Re-running 0005 by hand records them (what the migration does for production's history).
      await client.query(loadMigrations().find((m) => m.name.startsWith("0005_"))!.sql);
      assert.deepEqual((await client.query("SELECT * FROM monitoring.session_isolation")).rows, [{ cross_contamination_count: "1" }]);
      assert.equal(await count(client), 4, "history is not rewritten");
      // A third user is refused on a session that is already contaminated.
      await assert.rejects(client.query(`INSERT INTO public.agent_sessions (session_id, user_id) VALUES ('old-in', 'erin')`), /session isolation: session_id old-in/);
    } finally {
      await client.end();
    }
  });
});
