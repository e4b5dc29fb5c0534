/**
 * Looks at the gate as one counter per recorded stage (sql/0031, issue 21
 * finding 8): a look is one upsert of one row, so the monitoring role cannot
 * grow the table, and the looks the gate shows are the numbers 0030's
 * row-per-look table gave, also across the upgrade.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import { Client } from "pg";
import { migrate } from "../../db/migrate";
import { recordGateLook } from "../../db/rolloutStore";
import { seededRandom } from "../../drill/traffic";
import { copyMigrations, freshDatabase, migratedDatabase, migrationNames } from "./dbHelpers";

async function newEvent(c: Client, stack: string): Promise<number> {
  const r = await c.query<{ id: string }>(
    `INSERT INTO monitoring.rollout_events (stack, from_stage, to_stage, enable_stateless_orchestration, enable_safe_json_parser) VALUES ($1, 0, 10, true, true) RETURNING id`,
    [stack],
  );
  return Number(r.rows[0].id);
}

/** A database migrated up to and including `last` (a file name of sql/). */
async function migratedUpTo(last: string): Promise<{ url: string; client: Client; dir: string }> {
  const db = await freshDatabase();
  const dir = copyMigrations(migrationNames().indexOf(last) + 1);
  await migrate({ databaseUrl: db.url, dir });
  return { ...db, dir };
}

describe("[pg] gate looks: a counter per recorded stage (sql/0031)", function () {
  this.timeout(300_000);
  const clients: Client[] = [];
  after(async () => {
    for (const c of clients) await c.end().catch(() => undefined);
  });

  it("20,000 looks (each a transaction of its own, as 20,000 runs of the gate) leave one row for the stage, counting 20,000; another stage's count is untouched", async () => {
    const { client } = await migratedDatabase();
    clients.push(client);
    const a = await newEvent(client, "prod");
    const b = await newEvent(client, "staging");
    assert.deepEqual(await recordGateLook(client, b), { looks: 1 });
    // One round trip: a DO block may COMMIT between its calls (outside an explicit transaction).
    await client.query(`DO $do$ BEGIN FOR i IN 1..20000 LOOP PERFORM monitoring.record_gate_look(${a}); COMMIT; END LOOP; END $do$`);
    const rows = (await client.query<{ event_id: string; looks: string }>("SELECT event_id, looks FROM monitoring.gate_look_counts ORDER BY event_id")).rows;
    assert.deepEqual(rows.map((x) => [Number(x.event_id), Number(x.looks)]), [[a, 20_000], [b, 1]], "one row per stage");
    assert.deepEqual(await recordGateLook(client, a), { looks: 20_001 });
    assert.equal((await client.query<{ n: string }>("SELECT count(*) AS n FROM monitoring.gate_looks")).rows[0].n, "0", "0030's row-per-look table gets no row");
    const size = Number((await client.query<{ n: string }>("SELECT pg_relation_size('monitoring.gate_look_counts') AS n")).rows[0].n);
    assert.ok(size <= 64 * 1024, `the table stays small after 20,000 looks (${size} bytes)`);
  });

  it("one statement of 20,000 calls is one transaction, so one look: it counts 1, and every call returns the same count", async () => {
    const { client } = await migratedDatabase();
    clients.push(client);
    const a = await newEvent(client, "prod");
    assert.deepEqual(await recordGateLook(client, a), { looks: 1 });
    const r = await client.query<{ lo: string; hi: string }>("SELECT min(n) AS lo, max(n) AS hi FROM (SELECT monitoring.record_gate_look($1) AS n FROM generate_series(1, 20000)) AS s", [a]);
    assert.deepEqual([Number(r.rows[0].lo), Number(r.rows[0].hi)], [2, 2]);
    assert.deepEqual(await recordGateLook(client, a), { looks: 3 }, "the next run counts on");
  });

  it("the looks the gate reads are 0030's numbers: the same random sequence of looks over several stages gives the same counts on both", async () => {
    const old = await migratedUpTo("0030_gate_looks.sql");
    const cur = await migratedDatabase();
    clients.push(old.client, cur.client);
    fs.rmSync(old.dir, { recursive: true, force: true });
    const stacks = ["prod", "staging", "dev", "qa"];
    const oldIds = [];
    const curIds = [];
    for (const s of stacks) {
      oldIds.push(await newEvent(old.client, s));
      curIds.push(await newEvent(cur.client, s));
    }
    const next = seededRandom(21);
    const seenOld: Array<number | null> = [];
    const seenCur: Array<number | null> = [];
    for (let i = 0; i < 300; i++) {
      const k = Math.floor(next() * next() * stacks.length); // skewed: some stages read far more often
      seenOld.push((await recordGateLook(old.client, oldIds[k])).looks);
      seenCur.push((await recordGateLook(cur.client, curIds[k])).looks);
    }
    assert.deepEqual(seenCur, seenOld);
    // Both refuse a stage without a record, and a read-only transaction, with the codes the gate reports.
    for (const c of [old.client, cur.client]) {
      await assert.rejects(c.query("SELECT monitoring.record_gate_look(-1)"), (e: Error & { code?: string }) => e.code === "23503");
      await c.query("BEGIN READ ONLY");
      assert.equal((await recordGateLook(c, oldIds[0])).looks, null, "not counted on a replica");
      await c.query("ROLLBACK");
    }
  });

  it("the upgrade from 0030 keeps every stage's count (and first and last look), and the next look goes on from it", async () => {
    const db = await migratedUpTo("0030_gate_looks.sql");
    clients.push(db.client);
    fs.rmSync(db.dir, { recursive: true, force: true });
    const a = await newEvent(db.client, "prod");
    const b = await newEvent(db.client, "staging");
    const c = await newEvent(db.client, "dev");
    await db.client.query("SELECT monitoring.record_gate_look($1) FROM generate_series(1, 7)", [a]);
    await db.client.query("SELECT monitoring.record_gate_look($1)", [b]);
    const span = (await db.client.query<{ first: Date; last: Date }>("SELECT min(looked_at) AS first, max(looked_at) AS last FROM monitoring.gate_looks WHERE event_id = $1", [a])).rows[0];
    await migrate({ databaseUrl: db.url });
    await db.client.query("SELECT monitoring.record_gate_look($1)", [b]);
    assert.equal((await db.client.query<{ n: string }>("SELECT count(*) AS n FROM monitoring.gate_looks")).rows[0].n, "8", "0030's table is frozen: kept, never written again");
    const rows = (await db.client.query<{ event_id: string; looks: string; first_looked_at: Date; last_looked_at: Date }>("SELECT * FROM monitoring.gate_look_counts ORDER BY event_id")).rows;
    assert.deepEqual(rows.map((x) => [Number(x.event_id), Number(x.looks)]), [[a, 7], [b, 2]], "a stage never looked at has no row");
    assert.deepEqual([rows[0].first_looked_at, rows[0].last_looked_at], [span.first, span.last]);
    assert.deepEqual(await recordGateLook(db.client, a), { looks: 8 });
    assert.deepEqual(await recordGateLook(db.client, c), { looks: 1 });
  });
});
