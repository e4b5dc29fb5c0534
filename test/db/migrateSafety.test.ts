import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { Client } from "pg";
import { MIGRATION_LOCK_KEY, MigrationError, migrate } from "../../db/migrate";
import { copyMigrations, freshDatabase } from "./dbHelpers";

async function waitFor(what: string, check: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("[pg] migration runner: other sessions' work and locks", function () {
  this.timeout(120_000);

  it("a failed CREATE INDEX CONCURRENTLY drops only the index its file names, not another session's build in progress", async () => {
    const { url, client } = await freshDatabase();
    const dir = copyMigrations(1);
    fs.writeFileSync(
      path.join(dir, "0002_unique_user.sql"),
      "-- migrate:no-transaction\nCREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS agent_sessions_user_id_key ON public.agent_sessions (user_id);\n",
    );
    const other = await new Client({ connectionString: url });
    const locker = new Client({ connectionString: url });
    const oldSnapshot = new Client({ connectionString: url });
    await Promise.all([other.connect(), locker.connect(), oldSnapshot.connect()]);
    try {
      await migrate({ databaseUrl: url, dir: copyMigrations(1) });
      await client.query("CREATE TABLE public.other_work (x int)");
      await client.query(`INSERT INTO public.agent_sessions (session_id, user_id) VALUES ('s1', 'dup'), ('s2', 'dup')`);
      // The runner's build waits for this writer before it scans (and fails on the duplicates).
      await locker.query("BEGIN");
      await locker.query(`INSERT INTO public.agent_sessions (session_id, user_id) VALUES ('s3', 'x')`);
      const run = migrate({ databaseUrl: url, dir }).then(
        () => undefined,
        (e: unknown) => e,
      );
      await waitFor("the runner's INVALID index", async () =>
        Boolean((await client.query("SELECT 1 FROM pg_class WHERE relname = 'agent_sessions_user_id_key'")).rowCount),
      );
      // Meanwhile another session builds its own index, kept in progress (INVALID) by an old snapshot.
      await oldSnapshot.query("BEGIN ISOLATION LEVEL REPEATABLE READ");
      await oldSnapshot.query("SELECT count(*) FROM public.other_work");
      const otherBuild = other.query("CREATE INDEX CONCURRENTLY other_work_x_idx ON public.other_work (x)").then(
        () => "built",
        (e: Error) => e.message,
      );
      await waitFor("the other session's INVALID index", async () =>
        Boolean((await client.query("SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = 'other_work_x_idx' AND NOT i.indisvalid")).rowCount),
      );
      await locker.query("COMMIT");
      const err = await Promise.race([run, new Promise((r) => setTimeout(() => r("still running"), 20_000))]);
      await oldSnapshot.query("COMMIT");
      const failed = (await run) as MigrationError;
      assert.ok(failed instanceof MigrationError, String(err));
      assert.equal(failed.file, "0002_unique_user.sql");
      assert.match(failed.message, /could not create unique index/);
      assert.equal(await otherBuild, "built");
      const idx = await client.query("SELECT c.relname, i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname IN ('other_work_x_idx', 'agent_sessions_user_id_key') ORDER BY 1");
      assert.deepEqual(idx.rows, [{ relname: "other_work_x_idx", indisvalid: true }]);
    } finally {
      await Promise.all([other.end(), locker.end(), oldSnapshot.end()]);
      await client.end();
    }
  });

  it("gives up waiting for the migration lock after lockWaitMs, naming the holder (pid, role, since); applies nothing", async () => {
    const { url, client } = await freshDatabase();
    const role = `vc_squatter_${process.pid}`;
    await client.query(`DROP ROLE IF EXISTS ${role}`);
    await client.query(`CREATE ROLE ${role} LOGIN PASSWORD 'squat-pw'`);
    const u = new URL(url);
    u.username = role;
    u.password = "squat-pw";
    const squatter = new Client({ connectionString: u.toString(), application_name: "squatter" });
    await squatter.connect();
    try {
      const pid = Number((await squatter.query("SELECT pg_backend_pid() AS p")).rows[0].p);
      await squatter.query("SELECT pg_advisory_lock($1::bigint)", [MIGRATION_LOCK_KEY]);
      const lines: string[] = [];
      await assert.rejects(migrate({ databaseUrl: url, lockWaitMs: 1500, log: (l) => lines.push(l) }), (e: Error) => {
        assert.ok(e instanceof MigrationError);
        assert.match(e.message, new RegExp(`held by pid ${pid}, role ${role}, application "squatter", connected since \\d{4}-\\d\\d-\\d\\dT`));
        assert.match(e.message, /gave up after waiting 1\.5 s/);
        return true;
      });
      assert.match(lines.join("\n"), new RegExp(`holds the migration lock \\(pid ${pid}, role ${role}`));
      assert.equal((await client.query("SELECT to_regclass('public.schema_migrations') AS t")).rows[0].t, null);
      await assert.rejects(migrate({ databaseUrl: url, lockWaitMs: -1 }), /lockWaitMs must be a number of milliseconds from 0 up, got -1/);
      // Once the holder lets go, the run proceeds.
      await squatter.query("SELECT pg_advisory_unlock($1::bigint)", [MIGRATION_LOCK_KEY]);
      assert.ok((await migrate({ databaseUrl: url, lockWaitMs: 1500 })).applied.length > 0);
    } finally {
      await squatter.end();
      await client.end();
    }
  });
});
