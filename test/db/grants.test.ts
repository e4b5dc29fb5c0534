import { strict as assert } from "node:assert";
import { randomBytes } from "node:crypto";
import { Client } from "pg";
import { CURRENT_ROLLOUTS_FUNCTION, ROLLOUT_QUERY } from "../../core/alerts";
import { MONITORING_VIEW_NAMES, ROLE_SETTINGS, RoleKey, quoteIdent, roleGrantStatements } from "../../core/grants";
import { connectAs, migratedDatabase } from "./dbHelpers";

/** The statement fails with permission denied (42501), or with one of `alsoCodes`. */
async function denied(client: Client, sql: string, alsoCodes: string[] = []): Promise<void> {
  await assert.rejects(client.query(sql), (err: Error & { code?: string }) => {
    assert.ok(["42501", ...alsoCodes].includes(err.code ?? ""), `${sql}: expected permission denied, got ${err.code} ${err.message}`);
    return true;
  }, sql);
}

describe("[pg] least-privilege roles (the grants the Pulumi resources apply)", function () {
  this.timeout(60_000);
  let adminUrl: string;
  let admin: Client;
  const suffix = randomBytes(4).toString("hex");
  const names: Record<RoleKey, string> = { app: `vc_app_${suffix}`, monitoring: `vc_mon_${suffix}` };
  const password = randomBytes(12).toString("hex");
  let app: Client;
  let mon: Client;

  before(async () => {
    const db = await migratedDatabase();
    adminUrl = db.url;
    admin = db.client;
    await admin.query(`INSERT INTO public.agent_sessions (session_id, user_id, status, created_at) VALUES ('s1', 'u1', 'error', now() - interval '5 minutes')`);
    for (const key of ["app", "monitoring"] as const) {
      // Role attributes as components/database.ts sets them through postgresql.Role.
      const s = ROLE_SETTINGS[key];
      await admin.query(`CREATE ROLE ${quoteIdent(names[key])} LOGIN PASSWORD '${password}' CONNECTION LIMIT ${s.connectionLimit}`);
      if (s.statementTimeoutMs > 0) await admin.query(`ALTER ROLE ${quoteIdent(names[key])} SET statement_timeout = ${s.statementTimeoutMs}`);
      for (const stmt of roleGrantStatements(key, names[key])) await admin.query(stmt);
    }
    app = await connectAs(adminUrl, names.app, password);
    mon = await connectAs(adminUrl, names.monitoring, password);
  });

  after(async () => {
    await app?.end();
    await mon?.end();
    await admin?.end();
  });

  it("monitoring role reads every monitoring view", async () => {
    for (const v of MONITORING_VIEW_NAMES) await mon.query(`SELECT * FROM monitoring.${v}`);
    assert.deepEqual((await mon.query("SELECT version, total_requests FROM monitoring.error_rate_by_version")).rows, [
      { version: "Legacy", total_requests: "1" },
    ]);
    assert.equal((await mon.query("SHOW statement_timeout")).rows[0].statement_timeout, "10s");
  });

  it("monitoring role is denied the raw table, the rollup tables, and every write", async () => {
    await denied(mon, "SELECT * FROM public.agent_sessions");
    await denied(mon, "SELECT * FROM monitoring.request_minute");
    await denied(mon, "SELECT * FROM monitoring.session_latency");
    await denied(mon, "SELECT * FROM monitoring.contaminated_sessions_before_enforcement");
    for (const t of ["session_owners", "quarantined_sessions", "unchecked_session_writes"]) {
      await denied(mon, `SELECT * FROM monitoring.${t}`);
      await denied(mon, `INSERT INTO monitoring.${t} (session_id) VALUES ('x')`);
    }
    // The isolation trigger runs as its owner: the monitoring role cannot call it or change an owner row.
    await denied(mon, "DELETE FROM monitoring.session_owners");
    await denied(mon, "SELECT * FROM public.schema_migrations");
    await denied(mon, "INSERT INTO public.agent_sessions (session_id, user_id) VALUES ('x', 'y')");
    await denied(mon, "UPDATE public.agent_sessions SET status = 'ok'");
    await denied(mon, "DELETE FROM public.agent_sessions");
    await denied(mon, "INSERT INTO monitoring.request_minute VALUES (now(), true, 0, 1, 0, 0, 0)");
    // Aggregating views are not updatable at all (55000 cannot delete from view), whatever the grants.
    await denied(mon, "DELETE FROM monitoring.error_rate_by_version", ["55000"]);
    for (const v of MONITORING_VIEW_NAMES) {
      const r = await admin.query<{ ok: boolean }>(
        `SELECT bool_or(has_table_privilege($1, 'monitoring.${v}', p)) AS ok FROM unnest(ARRAY['INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) AS p`,
        [names.monitoring],
      );
      assert.equal(r.rows[0].ok, false, `monitoring role holds no write privilege on monitoring.${v}`);
    }
    await denied(mon, "SELECT monitoring.prune_rollups()");
    await denied(mon, "CREATE TABLE public.t (x int)");
    await denied(mon, "CREATE TABLE monitoring.t (x int)");
    await denied(mon, "CREATE SCHEMA intruder");
  });

  it("monitoring role records a gate look through monitoring.record_gate_look (sql/0030, a counter since 0031), and writes nothing else", async () => {
    const ev = await admin.query<{ id: string }>(
      `INSERT INTO monitoring.rollout_events (stack, from_stage, to_stage, enable_stateless_orchestration, enable_safe_json_parser) VALUES ('grants', 0, 10, true, true) RETURNING id`,
    );
    const id = Number(ev.rows[0].id);
    const look = async () => Number((await mon.query<{ n: string }>("SELECT monitoring.record_gate_look($1) AS n", [id])).rows[0].n);
    assert.equal(await look(), 1);
    assert.equal(await look(), 2);
    // Only for a stage that has a record (the foreign key), and no direct access to the table.
    await assert.rejects(mon.query("SELECT monitoring.record_gate_look(-1)"), (e: Error & { code?: string }) => e.code === "23503");
    await denied(mon, "SELECT * FROM monitoring.gate_look_counts");
    await denied(mon, `INSERT INTO monitoring.gate_look_counts (event_id, looks) VALUES (${id}, 1)`);
    await denied(mon, "DELETE FROM monitoring.gate_look_counts");
    await denied(mon, "UPDATE monitoring.gate_look_counts SET looks = 1");
    // The app role cannot reach it at all (no USAGE on schema monitoring).
    await denied(app, `SELECT monitoring.record_gate_look(${id})`);
    // A read-only transaction (as on a replica) refuses the write with 25006, which `rollout gate` reports as "not counted".
    await mon.query("BEGIN READ ONLY");
    await assert.rejects(mon.query("SELECT monitoring.record_gate_look($1)", [id]), (e: Error & { code?: string }) => e.code === "25006");
    await mon.query("ROLLBACK");
  });

  it("monitoring role runs the exporter's rollout query (monitoring.current_rollouts, sql/0032) but cannot read the records' table; the app role cannot call it", async () => {
    await admin.query(
      `INSERT INTO monitoring.rollout_events (stack, from_stage, to_stage, enable_stateless_orchestration, enable_safe_json_parser) VALUES ('grants-current', 10, 25, true, false)`,
    );
    const rows = (await mon.query<{ stack: string; canary_percentage: number }>(ROLLOUT_QUERY.query)).rows;
    assert.deepEqual(rows.filter((r) => r.stack === "grants-current").map((r) => r.canary_percentage), [25]);
    await denied(mon, "SELECT * FROM monitoring.rollout_events");
    await denied(app, `SELECT * FROM ${CURRENT_ROLLOUTS_FUNCTION}()`);
  });

  it("app role reads and writes agent_sessions (the triggers run as their owner)", async () => {
    await app.query(`INSERT INTO public.agent_sessions (session_id, user_id, status) VALUES ('s2', 'u2', 'completed')`);
    await app.query(`UPDATE public.agent_sessions SET status = 'error' WHERE session_id = 's2'`);
    assert.equal((await app.query("SELECT count(*) AS n FROM public.agent_sessions")).rows[0].n, "2");
    await app.query(`DELETE FROM public.agent_sessions WHERE session_id = 's2'`);
    await assert.rejects(app.query(`INSERT INTO public.agent_sessions (session_id, user_id) VALUES ('s1', 'intruder')`), /session isolation/);
  });

  it("app role is denied DDL and everything besides agent_sessions", async () => {
    await denied(app, "CREATE TABLE public.t (x int)");
    await denied(app, "ALTER TABLE public.agent_sessions ADD COLUMN x int");
    await denied(app, "DROP TABLE public.agent_sessions");
    await denied(app, "CREATE INDEX ON public.agent_sessions (status)");
    await denied(app, "ALTER TABLE public.agent_sessions DISABLE TRIGGER agent_sessions_session_isolation");
    await denied(app, "TRUNCATE public.agent_sessions");
    await denied(app, "CREATE SCHEMA intruder");
    await denied(app, "SELECT * FROM public.schema_migrations");
    for (const v of MONITORING_VIEW_NAMES) await denied(app, `SELECT * FROM monitoring.${v}`);
    await denied(app, "SELECT * FROM monitoring.request_minute");
    // Nor can it loosen session isolation.
    await denied(app, "ALTER TABLE public.agent_sessions DROP CONSTRAINT agent_sessions_session_owner_fkey");
    await denied(app, "ALTER TABLE public.agent_sessions ENABLE TRIGGER agent_sessions_session_isolation");
    await denied(app, "DELETE FROM monitoring.session_owners");
    await denied(app, "DELETE FROM monitoring.quarantined_sessions");
  });

  it("the grants can be applied twice (the provider revokes, then grants)", async () => {
    for (const key of ["app", "monitoring"] as const) for (const stmt of roleGrantStatements(key, names[key])) await admin.query(stmt);
    await mon.query("SELECT * FROM monitoring.session_isolation");
    await denied(mon, "SELECT * FROM public.agent_sessions");
  });
});
