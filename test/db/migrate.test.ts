import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { MigrationError, loadMigrations, migrate, migrationsHash } from "../../db/migrate";
import { copyMigrations, freshDatabase, migrationNames, schemaDump } from "./dbHelpers";

async function rejectsNaming(p: Promise<unknown>, file: string, also?: RegExp): Promise<MigrationError> {
  let caught: unknown;
  try {
    await p;
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof MigrationError, `expected a MigrationError, got ${String(caught)}`);
  assert.equal(caught.file, file);
  assert.ok(caught.message.includes(file), `message names ${file}: ${caught.message}`);
  if (also) assert.match(caught.message, also);
  return caught;
}

describe("[pg] migration runner", function () {
  this.timeout(180_000);
  const names = migrationNames();

  it("applies every file in order, and a second run is a no-op", async () => {
    const { url, client } = await freshDatabase();
    try {
      const first = await migrate({ databaseUrl: url });
      assert.deepEqual(first.applied, names);
      const dump = await schemaDump(client);
      const second = await migrate({ databaseUrl: url });
      assert.deepEqual(second, { applied: [], alreadyApplied: names });
      assert.equal(await schemaDump(client), dump);
    } finally {
      await client.end();
    }
  });

  it("every transactional file can be run again by hand without error or change (re-runnable)", async () => {
    const { url, client } = await freshDatabase();
    try {
      await migrate({ databaseUrl: url });
      const dump = await schemaDump(client);
      for (const m of loadMigrations()) await client.query(m.sql);
      assert.equal(await schemaDump(client), dump);
    } finally {
      await client.end();
    }
  });

  for (let k = 1; k <= names.length; k++) {
    it(`a failure injected in file ${k} of ${names.length} leaves the schema as before and names the file`, async () => {
      const dir = copyMigrations();
      const target = loadMigrations(dir)[k - 1];
      const file = path.join(dir, target.name);
      if (target.transactional) {
        // Fail after the file's own statements have run: they must be rolled back.
        fs.appendFileSync(file, "\nSELECT 1 / 0;\n");
      } else {
        // An index build that fails part-way (duplicate keys), leaving an INVALID index behind.
        fs.writeFileSync(file, "-- migrate:no-transaction\nCREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS broken_idx ON public.agent_sessions (user_id);\n");
      }
      const { url, client } = await freshDatabase();
      const reference = await freshDatabase();
      try {
        // Files before k, already applied; data that makes the index build fail.
        const before = copyMigrations(k - 1);
        await migrate({ databaseUrl: url, dir: before });
        await migrate({ databaseUrl: reference.url, dir: before });
        if (k > 1) {
          for (const c of [client, reference.client]) {
            await c.query(`INSERT INTO public.agent_sessions (session_id, user_id) VALUES ('s1', 'dup'), ('s2', 'dup')`);
          }
        }
        const dumpBefore = await schemaDump(client);
        const err = await rejectsNaming(
          migrate({ databaseUrl: url, dir }),
          target.name,
          target.transactional ? /division by zero/ : k > 1 ? /could not create unique index/ : /relation "public.agent_sessions" does not exist/,
        );
        assert.ok(err.pgMessage, "carries PostgreSQL's message");
        assert.equal(await schemaDump(client), dumpBefore, "schema identical to before the failed run");
        assert.equal(await schemaDump(client), await schemaDump(reference.client), "identical to a database migrated up to the file before");
        // Fixed, the next run applies the rest.
        fs.copyFileSync(path.join(copyMigrations(), target.name), file);
        const r = await migrate({ databaseUrl: url, dir });
        assert.deepEqual(r.applied, names.slice(k - 1));
      } finally {
        await client.end();
        await reference.client.end();
      }
    });
  }

  it("rebuilds an index that an interrupted earlier run left INVALID (IF NOT EXISTS would skip it)", async () => {
    const { url, client } = await freshDatabase();
    try {
      await migrate({ databaseUrl: url, dir: copyMigrations(1) });
      const target = names[1];
      const indexName = /INDEX CONCURRENTLY IF NOT EXISTS (\w+)/.exec(loadMigrations()[1].sql)![1];
      // What a build killed half-way leaves: an INVALID index under the file's index name.
      await client.query(`INSERT INTO public.agent_sessions (session_id, user_id) VALUES ('s1', 'dup'), ('s2', 'dup')`);
      await assert.rejects(client.query(`CREATE UNIQUE INDEX CONCURRENTLY ${indexName} ON public.agent_sessions (user_id)`));
      assert.equal((await client.query(`SELECT indisvalid FROM pg_index WHERE indexrelid = 'public.${indexName}'::regclass`)).rows[0].indisvalid, false);
      const lines: string[] = [];
      const r = await migrate({ databaseUrl: url, log: (l) => lines.push(l) });
      assert.equal(r.applied[0], target);
      assert.ok(lines.some((l) => l.includes(`dropping public.${indexName}, an INVALID index`)), lines.join("\n"));
      const idx = (await client.query(`SELECT indisvalid, pg_get_indexdef(indexrelid) AS def FROM pg_index WHERE indexrelid = 'public.${indexName}'::regclass`)).rows[0];
      assert.equal(idx.indisvalid, true);
      assert.match(idx.def, /\(created_at\)/);
    } finally {
      await client.end();
    }
  });

  it("the error gives the line of the failing statement", async () => {
    const dir = copyMigrations(1);
    fs.writeFileSync(path.join(dir, "0002_bad.sql"), "-- a comment\nSELECT 1;\nSELECT no_such_column FROM public.agent_sessions;\n");
    const { url, client } = await freshDatabase();
    try {
      await rejectsNaming(migrate({ databaseUrl: url, dir }), "0002_bad.sql", /line 3\): column "no_such_column" does not exist/);
    } finally {
      await client.end();
    }
  });

  it("two concurrent runs apply each file once", async () => {
    const { url, client } = await freshDatabase();
    try {
      const [a, b] = await Promise.all([migrate({ databaseUrl: url }), migrate({ databaseUrl: url })]);
      assert.deepEqual([...a.applied, ...b.applied].sort(), names);
      assert.ok(a.applied.length === 0 || b.applied.length === 0, "one run applied everything, the other waited and found nothing pending");
      const rows = (await client.query<{ name: string; n: string }>("SELECT name, count(*) AS n FROM public.schema_migrations GROUP BY name")).rows;
      assert.deepEqual(rows.map((r) => r.name).sort(), names);
      assert.ok(rows.every((r) => r.n === "1"));
    } finally {
      await client.end();
    }
  });

  it("refuses an applied file that was edited, naming it, and applies nothing", async () => {
    const dir = copyMigrations();
    const { url, client } = await freshDatabase();
    try {
      await migrate({ databaseUrl: url, dir: copyMigrations(4) });
      fs.appendFileSync(path.join(dir, names[2]), "\n-- an innocent-looking edit\n");
      const dump = await schemaDump(client);
      await rejectsNaming(migrate({ databaseUrl: url, dir }), names[2], /edited after it was applied/);
      assert.equal(await schemaDump(client), dump);
    } finally {
      await client.end();
    }
  });

  it("applies an appended next-numbered file (how later migrations are added)", async () => {
    const dir = copyMigrations();
    const { url, client } = await freshDatabase();
    try {
      await migrate({ databaseUrl: url, dir });
      const next = String(loadMigrations(dir).at(-1)!.number + 1).padStart(4, "0");
      fs.writeFileSync(path.join(dir, `${next}_rollout_events.sql`), "CREATE TABLE IF NOT EXISTS public.rollout_events_probe (id bigint);\n");
      const hashBefore = migrationsHash(copyMigrations());
      assert.notEqual(migrationsHash(dir), hashBefore, "the sql/ hash changes when a file is added");
      const r = await migrate({ databaseUrl: url, dir });
      assert.deepEqual(r.applied, [`${next}_rollout_events.sql`]);
    } finally {
      await client.end();
    }
  });

  it("refuses bad directories with a message naming the file", async () => {
    const { url, client } = await freshDatabase();
    try {
      const badName = copyMigrations();
      fs.writeFileSync(path.join(badName, "8_Oops.sql"), "SELECT 1;");
      await rejectsNaming(migrate({ databaseUrl: url, dir: badName }), "8_Oops.sql", /NNNN_description\.sql/);

      const dup = copyMigrations();
      fs.writeFileSync(path.join(dup, "0001_zzz.sql"), "SELECT 1;");
      await rejectsNaming(migrate({ databaseUrl: url, dir: dup }), "0001_zzz.sql", /share the number 0001/);

      const twoStatements = copyMigrations(1);
      fs.writeFileSync(path.join(twoStatements, "0002_two.sql"), "-- migrate:no-transaction\nSELECT 1;\nSELECT 2;\n");
      await rejectsNaming(migrate({ databaseUrl: url, dir: twoStatements }), "0002_two.sql", /exactly one statement/);

      // Applied, then removed from the directory; and a gap filled below an applied number.
      const dir = copyMigrations(3);
      await migrate({ databaseUrl: url, dir });
      const missing = copyMigrations(2);
      await rejectsNaming(migrate({ databaseUrl: url, dir: missing }), names[2], /missing from the migrations directory/);
      const late = copyMigrations(3);
      fs.writeFileSync(path.join(late, "0000_late.sql"), "SELECT 1;");
      await rejectsNaming(migrate({ databaseUrl: url, dir: late }), "0000_late.sql", /later-numbered file is already applied/);
      assert.deepEqual(
        (await client.query<{ name: string }>("SELECT name FROM public.schema_migrations ORDER BY name")).rows.map((r) => r.name),
        names.slice(0, 3),
      );
    } finally {
      await client.end();
    }
  });

  it("npm run migrate applies, then finds nothing to apply, and fails naming the file (exit 1)", async () => {
    const { spawnSync } = await import("node:child_process");
    const { url, client } = await freshDatabase();
    const run = (env: Record<string, string>) =>
      spawnSync(process.execPath, [require.resolve("ts-node/dist/bin"), "--transpile-only", path.join(__dirname, "..", "..", "cli", "migrate.ts")], {
        env: { ...process.env, ...env },
        encoding: "utf8",
      });
    try {
      const first = run({ DATABASE_URL: url });
      assert.equal(first.status, 0, first.stderr);
      assert.match(first.stdout, new RegExp(`applied ${names.length} migration\\(s\\): ${names[0]}`));
      const again = run({ DATABASE_URL: url });
      assert.equal(again.status, 0, again.stderr);
      assert.match(again.stdout, new RegExp(`nothing to apply \\(${names.length} migrations already applied\\)`));
      const dir = copyMigrations();
      fs.writeFileSync(path.join(dir, "0099_broken.sql"), "SELECT 1 / 0;\n");
      const broken = run({ DATABASE_URL: url, MIGRATIONS_DIR: dir });
      assert.equal(broken.status, 1);
      assert.match(broken.stderr, /migration 0099_broken\.sql failed: division by zero; rolled back/);
      assert.ok(!broken.stderr.includes("test-only-password"), "the URL's password is not printed");
    } finally {
      await client.end();
    }
  });

  it("npm run migrate without DATABASE_URL says what is needed", async () => {
    const { spawnSync } = await import("node:child_process");
    const env = { ...process.env };
    delete env.DATABASE_URL;
    const r = spawnSync(process.execPath, [require.resolve("ts-node/dist/bin"), "--transpile-only", path.join(__dirname, "..", "..", "cli", "migrate.ts")], {
      env,
      encoding: "utf8",
    });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /DATABASE_URL is not set: expected a PostgreSQL URL/);
  });

  for (const bad of ["garbage-with-s3cret", "mysql://u:s3cret@127.0.0.1/x", "postgres://u:s3cret@/x"]) {
    it(`npm run migrate refuses DATABASE_URL=${bad.replace("s3cret", "***")} without echoing it`, async () => {
      const { spawnSync } = await import("node:child_process");
      const r = spawnSync(process.execPath, [require.resolve("ts-node/dist/bin"), "--transpile-only", path.join(__dirname, "..", "..", "cli", "migrate.ts")], {
        env: { ...process.env, DATABASE_URL: bad },
        encoding: "utf8",
      });
      assert.equal(r.status, 2);
      assert.match(r.stderr, /DATABASE_URL is not a PostgreSQL URL such as postgres:\/\/user:password@host:5432\/database \(value not shown/);
      assert.ok(!r.stderr.includes("s3cret") && !r.stdout.includes("s3cret"));
    });
  }
});
