import { strict as assert } from "node:assert";
import { Client } from "pg";
import { MONITORING_VIEW_NAMES, roleGrantStatements } from "../../core/grants";
import { migratedDatabase } from "./dbHelpers";

/**
 * A monitoring query blocked by a lock is cancelled even when the monitoring
 * role lifted every timeout it can (its own settings): the functions' own
 * lock_timeout (sql/0013) holds.
 */
describe("[pg] monitoring queries are bounded where the monitoring role cannot lift the bound", function () {
  this.timeout(120_000);

  const QUERIES = [
    // Every view the monitoring role may read (core/grants.ts) ...
    ...MONITORING_VIEW_NAMES.map((v) => `SELECT * FROM monitoring.${v}`),
    // ... and every function it calls.
    "SELECT monitoring.stage_contamination(now() - interval '24 hours', 'infinity')",
    "SELECT * FROM monitoring.stage_metrics(now() - interval '24 hours', now())",
    "SELECT * FROM monitoring.stage_data_problems(now() - interval '24 hours', now())",
    "SELECT * FROM monitoring.rollout_history('prod')",
    "SELECT * FROM monitoring.stage_latency_counts(now() - interval '24 hours', now(), ARRAY[1, 3]::float8[])",
    "SELECT * FROM monitoring.stage_concurrent_sessions(now() - interval '24 hours', now())",
    "SELECT * FROM monitoring.stage_interval_metrics(ARRAY[now() - interval '2 hours', now() - interval '1 hour', now()])",
  ];

  it("each view and function is cancelled with a lock timeout while its tables are locked, whatever the role set", async () => {
    const { url, client } = await migratedDatabase();
    const role = `vc_bound_mon_${process.pid}`;
    await client.query(`DROP ROLE IF EXISTS ${role}`);
    await client.query(`CREATE ROLE ${role} LOGIN PASSWORD 'bound-pw'`);
    for (const q of roleGrantStatements("monitoring", role)) await client.query(q);
    const u = new URL(url);
    u.username = role;
    u.password = "bound-pw";
    const mon = new Client({ connectionString: u.toString() });
    await mon.connect();
    const holder = new Client({ connectionString: url });
    await holder.connect();
    try {
      // Everything the role itself can do to lift a bound.
      await client.query(`ALTER ROLE ${role} SET statement_timeout = 0`);
      await mon.query("SET statement_timeout = 0");
      await mon.query("SET lock_timeout = 0");
      await holder.query("BEGIN");
      await holder.query("LOCK TABLE public.agent_sessions, monitoring.rollout_events, monitoring.request_minute, monitoring.session_latency IN ACCESS EXCLUSIVE MODE");
      for (const q of QUERIES) {
        const outcome = await Promise.race([
          mon.query(q).then(
            () => "answered",
            (e: Error & { code?: string }) => `${e.code}: ${e.message}`,
          ),
          new Promise<string>((r) => setTimeout(() => r("still blocked after 30 s"), 30_000)),
        ]);
        assert.match(outcome, /^55P03: canceling statement due to lock timeout/, q);
      }
      await holder.query("ROLLBACK");
      for (const q of QUERIES) await mon.query(q);
    } finally {
      await holder.end();
      await mon.end();
      await client.end();
    }
  });
});
