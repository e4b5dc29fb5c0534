import { strict as assert } from "node:assert";
import { sharedPostgres } from "./support/postgres";

describe("[pg] test PostgreSQL harness", function () {
  this.timeout(120_000);
  it("starts a real server on loopback and creates isolated databases", async () => {
    const pg = await sharedPostgres();
    const a = await pg.createDatabase();
    const b = await pg.createDatabase();
    assert.notEqual(a, b);
    const c = await pg.connect(a);
    try {
      const r = await c.query<{ v: string; addr: string }>("select current_setting('server_version_num') as v, inet_server_addr()::text as addr");
      assert.ok(Number(r.rows[0].v) >= 150000, `server ${r.rows[0].v} is PostgreSQL 15+`);
      assert.equal(r.rows[0].addr, "127.0.0.1/32");
    } finally {
      await c.end();
    }
  });
});
