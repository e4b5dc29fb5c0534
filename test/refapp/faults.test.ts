/**
 * The reference app's fault knob (the admin port's PUT /fault and env
 * REFAPP_FAULT), the database's refusal of a contaminating session, and its
 * configuration errors.
 */
import { strict as assert } from "node:assert";
import { spawn } from "node:child_process";
import { onNewPath } from "../../drill/traffic";
import { ENV_NAMES } from "../../core/stages";
import { REFAPP_ENV_NAMES } from "../../reference-app/src/config";
import { NO_FAULT } from "../../reference-app/src/contract";
import { AppDatabase, AppProcess, agentQuery, appDatabase, appEnvironment, builtApp, health, metric, request, startApp } from "./support";

const PCT = 50;
const usersOn = (isNew: boolean, n: number, prefix: string) => {
  const out: string[] = [];
  for (let i = 0; out.length < n; i++) if (onNewPath(`${prefix}-${i}`, PCT) === isNew) out.push(`${prefix}-${i}`);
  return out;
};

async function rowsOf(db: AppDatabase, users: string[]) {
  return (
    await db.admin.query<{ user_id: string; status: string; error_message: string | null; seconds: number; is_new: boolean }>(
      `SELECT user_id, status, error_message, EXTRACT(EPOCH FROM (updated_at - created_at))::float8 AS seconds,
              coalesce(metadata->>'useStateless' = 'true', false) AS is_new
         FROM public.agent_sessions WHERE user_id = ANY($1) ORDER BY created_at`,
      [users],
    )
  ).rows;
}

const putFault = (app: AppProcess, body: unknown) => request(`${app.admin}/fault`, { method: "PUT", body: JSON.stringify(body) });

describe("[pg] reference app: the fault knob", function () {
  this.timeout(120_000);
  let db: AppDatabase;
  let app: AppProcess;

  before(async () => {
    db = await appDatabase();
    app = await startApp({ stateless: true, safeJson: true, pct: PCT, databaseUrl: db.appUrl });
  });
  afterEach(async () => {
    if (app.proc.exitCode === null) await putFault(app, NO_FAULT);
  });
  after(async () => {
    app?.kill();
    await db?.admin.end();
  });

  it("raises the new path's error rate: new-path requests fail with 500 and write error rows; legacy ones are untouched", async () => {
    assert.equal((await putFault(app, { newPathErrorRate: 1 })).status, 200);
    assert.deepEqual((await request(`${app.admin}/fault`)).json, { ...NO_FAULT, newPathErrorRate: 1 });
    const newUsers = usersOn(true, 5, "err-new");
    const legacyUsers = usersOn(false, 5, "err-legacy");
    for (const u of newUsers) {
      const r = await agentQuery(app, u);
      assert.equal(r.status, 500, r.text);
      assert.equal((r.json as { error: string }).error, "injected_fault");
    }
    for (const u of legacyUsers) assert.equal((await agentQuery(app, u)).status, 200);
    const rows = await rowsOf(db, [...newUsers, ...legacyUsers]);
    assert.equal(rows.length, 10, "one row per request, errors included");
    for (const r of rows) {
      assert.equal(r.status, r.is_new ? "error" : "completed", r.user_id);
      assert.equal(r.error_message, r.is_new ? "injected fault: new-path error" : null);
    }
    // What monitoring sees: the guide's error rate by version.
    const rates = await db.admin.query<{ version: string; errors: string }>("SELECT version, errors FROM monitoring.error_rate_by_version");
    const errorsOf = (v: string) => Number(rates.rows.find((r) => r.version === v)?.errors ?? 0);
    assert.equal(errorsOf("New"), 5);
    assert.equal(errorsOf("Legacy"), 0);
    assert.equal(await metric(app, "refapp_requests_total", { path: "new", code: "500" }), 5);

    // Partial rates: some fail, and not all (0.5 over 40 requests: 40 successes or failures is a 1 in 10^12 chance).
    await putFault(app, { newPathErrorRate: 0.5 });
    const statuses = new Set<number>();
    for (let i = 0; i < 40; i++) statuses.add((await agentQuery(app, newUsers[i % newUsers.length])).status);
    assert.deepEqual([...statuses].sort(), [200, 500]);

    // Cleared: the new path answers again.
    await putFault(app, NO_FAULT);
    assert.equal((await agentQuery(app, newUsers[0])).status, 200);
  });

  it("raises the new path's latency, as the row's duration records it; legacy is untouched", async () => {
    await putFault(app, { newPathLatencyMs: 600 });
    const newUsers = usersOn(true, 3, "slow-new");
    const legacyUsers = usersOn(false, 3, "slow-legacy");
    for (const u of [...newUsers, ...legacyUsers]) assert.equal((await agentQuery(app, u)).status, 200);
    for (const r of await rowsOf(db, [...newUsers, ...legacyUsers])) {
      if (r.is_new) assert.ok(r.seconds >= 0.6, `${r.user_id}: ${r.seconds} s recorded`);
      else assert.ok(r.seconds < 0.6, `${r.user_id}: ${r.seconds} s recorded`);
    }
  });

  it("refuses a bad fault, naming each key, its value and what is allowed, and keeps the fault in force", async () => {
    await putFault(app, { newPathErrorRate: 0.25 });
    const bad = await putFault(app, { newPathErrorRate: 2, newPathLatencyMs: -1, badRelease: "yes", slow: true });
    assert.equal(bad.status, 400);
    const msg = (bad.json as { message: string }).message;
    assert.match(msg, /fault\.newPathErrorRate=2: expected a number from 0 to 1/);
    assert.match(msg, /fault\.newPathLatencyMs=-1: expected an integer from 0 to 120000/);
    assert.match(msg, /fault\.badRelease="yes": expected true or false/);
    assert.match(msg, /fault\.slow=true: unknown key; allowed keys are newPathErrorRate, newPathLatencyMs, badRelease/);
    assert.equal((await request(`${app.admin}/fault`, { method: "PUT", body: "{not json" })).status, 400);
    assert.deepEqual((await request(`${app.admin}/fault`)).json, { ...NO_FAULT, newPathErrorRate: 0.25 });
  });

  it("a bad release (REFAPP_FAULT at start): every path returns 500, errors are recorded, and the health check fails", async () => {
    const bad = await startApp({ stateless: true, safeJson: true, pct: PCT, databaseUrl: db.appUrl, fault: { badRelease: true } });
    try {
      const h = await health(bad);
      assert.equal(h.status, 500);
      const users = [...usersOn(true, 2, "bad-new"), ...usersOn(false, 2, "bad-legacy")];
      for (const u of users) assert.equal((await agentQuery(bad, u)).status, 500);
      assert.equal((await request(`${bad.base}/anything`)).status, 500);
      assert.equal((await request(`${bad.base}/api/agent/query`)).status, 405, "method errors are still method errors");
      const rows = await rowsOf(db, users);
      assert.deepEqual(rows.map((r) => [r.status, r.error_message]), users.map(() => ["error", "injected fault: bad release"]));
      // Fixed at run time: healthy again.
      assert.equal((await putFault(bad, NO_FAULT)).status, 200);
      assert.equal((await health(bad)).status, 200);
    } finally {
      bad.kill();
    }
  });
});

describe("[pg] reference app: a contaminating session is refused by the database", function () {
  this.timeout(60_000);
  let db: AppDatabase;
  let app: AppProcess;

  before(async () => {
    db = await appDatabase();
    app = await startApp({ stateless: true, safeJson: true, pct: 100, databaseUrl: db.appUrl });
  });
  after(async () => {
    app?.kill();
    await db?.admin.end();
  });

  it("a second user in a session gets 409, no row, and the app keeps serving", async () => {
    const first = await agentQuery(app, "owner-user");
    assert.equal(first.status, 200);
    const sessionId = (first.json as { sessionId: string }).sessionId;

    const intruder = await agentQuery(app, "other-user", { query: "test query", sessionId });
    assert.equal(intruder.status, 409, intruder.text);
    assert.equal((intruder.json as { error: string }).error, "session_conflict");
    assert.ok(!intruder.text.includes("owner-user"), "the response does not name the session's owner");
    // The refusal is the database's: the isolation trigger's SQLSTATE, logged by the app.
    const logged = app.logs.find((l) => l.msg === "database error" && l.kind === "conflict");
    assert.ok(logged, app.output());
    assert.equal(logged.sqlstate, "23514");
    assert.match(String(logged.error), /session isolation/);

    const rows = await db.admin.query("SELECT user_id FROM public.agent_sessions WHERE session_id = $1", [sessionId]);
    assert.deepEqual(rows.rows, [{ user_id: "owner-user" }]);
    assert.equal((await db.admin.query("SELECT cross_contamination_count::int AS n FROM monitoring.session_isolation")).rows[0].n, 0);

    assert.equal(app.proc.exitCode, null, "still running");
    assert.equal((await health(app)).status, 200);
    assert.equal((await agentQuery(app, "other-user")).status, 200, "the same user in a new session is served");
    assert.equal((await agentQuery(app, "owner-user", { query: "again", sessionId })).status, 200, "the owner continues");
    assert.equal(await metric(app, "refapp_requests_total", { code: "409" }), 1);
  });

  it("the app itself does not check: without the database's enforcement the same request is written (so the refusal above is the database's)", async () => {
    const open = await appDatabase();
    // Both layers of the enforcement (sql/0004, sql/0010): the trigger and the owner foreign key.
    await open.admin.query("DROP TRIGGER agent_sessions_session_isolation ON public.agent_sessions");
    await open.admin.query("ALTER TABLE public.agent_sessions DROP CONSTRAINT agent_sessions_session_owner_fkey");
    const unguarded = await startApp({ stateless: true, safeJson: true, pct: 100, databaseUrl: open.appUrl });
    try {
      const first = await agentQuery(unguarded, "owner-user");
      const sessionId = (first.json as { sessionId: string }).sessionId;
      assert.equal((await agentQuery(unguarded, "other-user", { query: "q", sessionId })).status, 200);
      const users = await open.admin.query("SELECT DISTINCT user_id FROM public.agent_sessions WHERE session_id = $1 ORDER BY 1", [sessionId]);
      assert.deepEqual(users.rows.map((r) => r.user_id), ["other-user", "owner-user"]);
    } finally {
      unguarded.kill();
      await open.admin.end();
    }
  });
});

describe("reference app: configuration errors", function () {
  this.timeout(60_000);

  /** Run the app with `env` changes and return its exit code and output (it must exit by itself). */
  async function runWith(extra: Record<string, string | undefined>): Promise<{ code: number | null; out: string }> {
    const main = await builtApp();
    const env = await appEnvironment(
      { stateless: true, safeJson: true, pct: 10, databaseUrl: "postgres://app:s3cret-pw@127.0.0.1:1/db", extra },
      3000,
      3001,
    );
    return new Promise((resolve) => {
      const p = spawn(process.execPath, [main], { env, stdio: ["ignore", "pipe", "pipe"] });
      let out = "";
      p.stdout.on("data", (d: Buffer) => (out += d.toString()));
      p.stderr.on("data", (d: Buffer) => (out += d.toString()));
      const t = setTimeout(() => p.kill("SIGKILL"), 20_000);
      p.on("exit", (code) => {
        clearTimeout(t);
        resolve({ code, out });
      });
    });
  }

  const cases: Array<[string, Record<string, string | undefined>, RegExp]> = [
    ["a flag that is not true/false", { [ENV_NAMES.statelessOrchestration]: "yes" }, /ENABLE_STATELESS_ORCHESTRATION=\\"yes\\": expected true or false/],
    ["a missing flag", { [ENV_NAMES.safeJsonParser]: undefined }, /ENABLE_SAFE_JSON_PARSER \(unset\): expected true or false/],
    ["a percentage that is not a stage", { [ENV_NAMES.canaryPercentage]: "33" }, /CANARY_PERCENTAGE=\\"33\\": expected one of the stages 0, 10, 25, 50, 75, 100/],
    ["a percentage with a % sign", { [ENV_NAMES.canaryPercentage]: "10%" }, /CANARY_PERCENTAGE=\\"10%\\": expected one of the stages/],
    ["a port out of range", { APP_PORT: "70000" }, /APP_PORT=\\"70000\\": expected a TCP port from 1 to 65535/],
    ["a relative health path", { APP_HEALTH_CHECK_PATH: "health" }, /APP_HEALTH_CHECK_PATH=\\"health\\": expected an absolute URL path/],
    ["a database URL that is not one", { [ENV_NAMES.databaseUrl]: "mysql://u:pw@h/db" }, /DATABASE_URL: not a postgres:\/\/ or postgresql:\/\/ URL \(value not shown: it carries a password\)/],
    ["no database URL", { [ENV_NAMES.databaseUrl]: undefined }, /DATABASE_URL: unset or empty/],
    ["a fault that is not JSON", { [REFAPP_ENV_NAMES.fault]: "{bad" }, /REFAPP_FAULT=\\"\{bad\\": not JSON/],
    ["a fault out of range", { [REFAPP_ENV_NAMES.fault]: JSON.stringify({ newPathErrorRate: 7 }) }, /REFAPP_FAULT\.newPathErrorRate=7: expected a number from 0 to 1/],
    ["the admin port equal to the app port", { [REFAPP_ENV_NAMES.adminPort]: "3000" }, /REFAPP_ADMIN_PORT=\\"3000\\": must differ from APP_PORT/],
  ];
  for (const [title, extra, message] of cases) {
    it(`exits 2 on ${title}, naming the variable, its value and what is allowed, and never the password`, async () => {
      const { code, out } = await runWith(extra);
      assert.equal(code, 2, out);
      assert.match(out, message);
      assert.ok(!out.includes("s3cret-pw"), "the database password is never printed");
      assert.ok(!out.includes("ready: listening"));
    });
  }

  it("lists every problem at once", async () => {
    const { code, out } = await runWith({ [ENV_NAMES.canaryPercentage]: "5", APP_PORT: "0", [ENV_NAMES.statelessOrchestration]: "TRUE" });
    assert.equal(code, 2);
    for (const name of [ENV_NAMES.canaryPercentage, "APP_PORT", ENV_NAMES.statelessOrchestration]) assert.ok(out.includes(name), name);
  });
});
