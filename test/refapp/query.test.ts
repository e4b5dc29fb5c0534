/**
 * The guide's verification request against the reference app, run as a real
 * node process on loopback, writing as the app role to a real PostgreSQL.
 */
import { strict as assert } from "node:assert";
import { onNewPath } from "../../drill/traffic";
import { REPLICA_HEADER, ROLLOUT_HEADER, parseRolloutHeader } from "../../reference-app/src/contract";
import { AppDatabase, AppProcess, agentQuery, appDatabase, health, request, startApp } from "./support";

/** The guide's error-rate query, as the monitoring view answers it. */
async function errorRates(db: AppDatabase): Promise<Record<string, { total: number; errors: number }>> {
  const r = await db.admin.query<{ version: string; total_requests: string; errors: string }>(
    "SELECT version, total_requests, errors FROM monitoring.error_rate_by_version",
  );
  return Object.fromEntries(r.rows.map((x) => [x.version, { total: Number(x.total_requests), errors: Number(x.errors) }]));
}

describe("[pg] reference app: the verification request", function () {
  this.timeout(120_000);
  let db: AppDatabase;
  let app: AppProcess;

  before(async () => {
    db = await appDatabase();
    app = await startApp({ stateless: true, safeJson: true, pct: 50, databaseUrl: db.appUrl });
  });
  after(async () => {
    app?.kill();
    await db?.admin.end();
  });

  it("returns 200 and writes one agent_sessions row, as the app role, that monitoring.error_rate_by_version counts", async () => {
    // A user on each path at 50 %.
    const users = { New: "", Legacy: "" };
    for (let i = 0; !users.New || !users.Legacy; i++) {
      const u = `verify-user-${i}`;
      if (onNewPath(u, 50)) users.New ||= u;
      else users.Legacy ||= u;
    }
    for (const [version, user] of Object.entries(users)) {
      const before = (await errorRates(db))[version]?.total ?? 0;
      const r = await agentQuery(app, user);
      assert.equal(r.status, 200, r.text);
      const body = r.json as { sessionId: string; userId: string; path: string };
      assert.equal(body.userId, user);
      assert.equal(body.path, version === "New" ? "new" : "legacy");

      const rows = (
        await db.admin.query(
          `SELECT session_id, user_id, status, error_message, metadata, workflow_state, created_at, updated_at,
                  (metadata->>'useStateless' = 'true') AS is_new
             FROM public.agent_sessions WHERE session_id = $1`,
          [body.sessionId],
        )
      ).rows;
      assert.equal(rows.length, 1, "exactly one row per request");
      const row = rows[0];
      assert.equal(row.user_id, user);
      assert.equal(row.status, "completed");
      assert.equal(row.error_message, null);
      assert.equal(row.is_new, version === "New");
      assert.equal(row.metadata.useStateless, version === "New");
      assert.equal(row.workflow_state.currentStage, "answered");
      assert.ok(row.updated_at.getTime() >= row.created_at.getTime());
      assert.deepEqual(await errorRates(db).then((e) => e[version]), { total: before + 1, errors: 0 });
    }
    // Written by the app role, never a superuser.
    const owners = await db.admin.query<{ usename: string }>(
      "SELECT DISTINCT usename FROM pg_stat_activity WHERE application_name = 'valuecanvas-reference-app' AND datname = current_database()",
    );
    assert.deepEqual(owners.rows.map((r) => r.usename), [db.appRole]);
  });

  it("continues a session the client names, with the same user", async () => {
    const first = await agentQuery(app, "returning-user");
    const sessionId = (first.json as { sessionId: string }).sessionId;
    const second = await agentQuery(app, "returning-user", { query: "follow-up", sessionId });
    assert.equal(second.status, 200, second.text);
    const n = await db.admin.query("SELECT count(*)::int AS n FROM public.agent_sessions WHERE session_id = $1 AND user_id = 'returning-user'", [sessionId]);
    assert.equal(n.rows[0].n, 2);
  });

  it("takes the user from a JWT bearer token's sub", async () => {
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
    const token = `${b64({ alg: "none" })}.${b64({ sub: "jwt-user-7", role: "authenticated" })}.sig`;
    const r = await request(`${app.base}/api/agent/query`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: "test query" }),
    });
    assert.equal(r.status, 200, r.text);
    assert.equal((r.json as { userId: string }).userId, "jwt-user-7");
    assert.equal(parseRolloutHeader(r.headers[ROLLOUT_HEADER] as string).path, onNewPath("jwt-user-7", 50) ? "new" : "legacy");
  });

  it("refuses a request with no usable user or body, writing nothing", async () => {
    const count = async () => (await db.admin.query("SELECT count(*)::int AS n FROM public.agent_sessions")).rows[0].n as number;
    const before = await count();
    const cases: Array<[string, Record<string, string>, string, number]> = [
      ["no Authorization", { "content-type": "application/json" }, JSON.stringify({ query: "q" }), 401],
      ["not a bearer token", { authorization: "Basic dXNlcjpwdw==" }, JSON.stringify({ query: "q" }), 401],
      ["a JWT without sub", { authorization: `Bearer ${Buffer.from("{}").toString("base64url")}.${Buffer.from("{}").toString("base64url")}.x` }, JSON.stringify({ query: "q" }), 401],
      ["a body that is not JSON", { authorization: "Bearer u1" }, "query=test", 400],
      ["no query", { authorization: "Bearer u1" }, JSON.stringify({ q: "test" }), 400],
      ["an empty query", { authorization: "Bearer u1" }, JSON.stringify({ query: "" }), 400],
      ["a session id that is not a string", { authorization: "Bearer u1" }, JSON.stringify({ query: "q", sessionId: 12 }), 400],
      ["a body over 64 KiB", { authorization: "Bearer u1" }, JSON.stringify({ query: "x".repeat(70_000) }), 413],
    ];
    for (const [title, headers, body, status] of cases) {
      const r = await request(`${app.base}/api/agent/query`, { method: "POST", headers, body });
      assert.equal(r.status, status, `${title}: ${r.text}`);
      assert.equal(parseRolloutHeader(r.headers[ROLLOUT_HEADER] as string).path, "none", title);
    }
    const wrongMethod = await request(`${app.base}/api/agent/query`);
    assert.equal(wrongMethod.status, 405);
    assert.equal(await count(), before);
  });

  it("says on every response which path served it, under which flags and percentage, and which replica", async () => {
    const replies = [await agentQuery(app, "header-user"), await health(app), await request(`${app.base}/nope`), await agentQuery(app, "header-user")];
    assert.deepEqual(replies.map((r) => r.status), [200, 200, 404, 200]);
    const path = onNewPath("header-user", 50) ? "new" : "legacy";
    const seen = replies.map((r) => parseRolloutHeader(r.headers[ROLLOUT_HEADER] as string));
    for (const [i, h] of seen.entries()) {
      assert.deepEqual(h, { path: i === 0 || i === 3 ? path : "none", enableStatelessOrchestration: true, enableSafeJsonParser: true, canaryPercentage: 50 });
      assert.ok(String(replies[i].headers[REPLICA_HEADER] ?? "").length > 0);
    }
    assert.equal(replies[0].headers[ROLLOUT_HEADER], `path=${path}; ENABLE_STATELESS_ORCHESTRATION=true; ENABLE_SAFE_JSON_PARSER=true; CANARY_PERCENTAGE=50`);
  });

  it("serves the health path it is given, and only that", async () => {
    const other = await startApp({ stateless: false, safeJson: false, pct: 0, databaseUrl: db.appUrl, healthCheckPath: "/internal/ready" });
    try {
      assert.equal((await health(other)).status, 200);
      assert.deepEqual((await health(other)).json, { status: "ok", database: "ok" });
      assert.equal((await request(`${other.base}/health`)).status, 404);
    } finally {
      other.kill();
    }
  });
});
