/**
 * The reference app's life cycle as Docker and the edge proxy see it: no
 * connection accepted before it is ready; a database outage that leaves the
 * health check passing while requests fail with 503 and are counted; and a
 * SIGTERM that fails the health check at once, keeps serving for the
 * proxy's cached-address window, then drains and exits inside the grace.
 *
 * Times are measured and reported; only the contract's bounds are asserted
 * (served at least SERVE_AFTER_SIGTERM_MS, exited inside the grace period).
 */
import { strict as assert } from "node:assert";
import { quoteIdent } from "../../core/grants";
import { onNewPath } from "../../drill/traffic";
import { EXIT_DEADLINE_MS, SERVE_AFTER_SIGTERM_MS } from "../../reference-app/src/contract";
import { CONNECT_TIMEOUT_MS, WARM_CONNECTIONS } from "../../reference-app/src/server";
import {
  AppDatabase,
  AppProcess,
  DbRelay,
  Reply,
  accepts,
  agentQuery,
  appDatabase,
  health,
  metric,
  request,
  sleep,
  spawnApp,
  startApp,
  viaPort,
} from "./support";

/** components/app.ts destroyGraceSeconds (test/program/app-env.test.ts ties the app's deadline to it). */
const STOP_GRACE_MS = 30_000;

const rowCount = async (db: AppDatabase, users: string[]) =>
  (await db.admin.query<{ n: number }>("SELECT count(*)::int AS n FROM public.agent_sessions WHERE user_id = ANY($1)", [users])).rows[0].n;

/** Send `user`'s agent query until one is answered 200, for at most 15 s: the last reply, and the time it took. */
async function untilAnswered(app: AppProcess, user: string): Promise<{ reply: Reply; ms: number }> {
  const t0 = Date.now();
  let reply = await agentQuery(app, user);
  while (reply.status !== 200 && Date.now() - t0 < 15_000) {
    await sleep(100);
    reply = await agentQuery(app, user);
  }
  return { reply, ms: Date.now() - t0 };
}

describe("[pg] reference app: readiness, database outages and SIGTERM", function () {
  this.timeout(120_000);
  let db: AppDatabase;
  let relay: DbRelay;
  const apps: AppProcess[] = [];

  before(async () => {
    db = await appDatabase();
    relay = await new DbRelay(db.port).start();
  });
  afterEach(() => {
    for (const a of apps.splice(0)) a.kill();
    relay.restore();
  });
  after(async () => {
    await relay?.close();
    await db?.admin.end();
  });

  it("accepts no connection until the database has answered as the app role", async () => {
    relay.cut("refuse");
    const app = await spawnApp({ stateless: true, safeJson: true, pct: 10, databaseUrl: viaPort(db.appUrl, relay.port) });
    apps.push(app);
    while (app.logs.filter((l) => l.msg === "not ready: database unreachable").length < 3) await sleep(100);
    assert.equal(await accepts(app.port), false, "the app port refuses connections while the database is down");
    assert.equal(await accepts(app.adminPort), false, "so does the admin port");
    relay.restore();
    await app.ready();
    assert.equal(await accepts(app.port), true);
    assert.equal((await health(app)).status, 200);
    assert.equal((await agentQuery(app, "after-start")).status, 200);
  });

  it("opens its warm connections before it listens, and keeps them: a new replica's first requests wait for no connect", async () => {
    const app = await startApp({ stateless: true, safeJson: true, pct: 10, databaseUrl: db.appUrl });
    apps.push(app);
    const count = async () =>
      (
        await db.admin.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'valuecanvas-reference-app'",
        )
      ).rows[0].n;
    // Ready (listening) and not one request served yet: the pool is already open.
    assert.ok((await count()) >= WARM_CONNECTIONS, `connections open at ready: ${await count()}, expected at least ${WARM_CONNECTIONS}`);
    // Past the pool's 10 s idle timeout they are still open (the pool's min keeps them).
    await sleep(11_000);
    assert.ok((await count()) >= WARM_CONNECTIONS, `connections open after 11 s idle: ${await count()}`);
  });

  it("is not ready while the role cannot insert into agent_sessions (a misconfigured release never turns healthy)", async () => {
    await db.admin.query(`REVOKE INSERT ON public.agent_sessions FROM ${quoteIdent(db.appRole)}`);
    try {
      const app = await spawnApp({ stateless: true, safeJson: true, pct: 10, databaseUrl: db.appUrl });
      apps.push(app);
      while (app.logs.filter((l) => l.msg === "not ready: the database role cannot insert into public.agent_sessions").length < 2) await sleep(100);
      assert.equal(await accepts(app.port), false);
      await db.admin.query(`GRANT INSERT ON public.agent_sessions TO ${quoteIdent(db.appRole)}`);
      await app.ready();
      assert.equal((await agentQuery(app, "after-grant")).status, 200);
    } finally {
      await db.admin.query(`GRANT INSERT ON public.agent_sessions TO ${quoteIdent(db.appRole)}`);
    }
  });

  for (const mode of ["refuse", "blackhole"] as const) {
    it(`a database outage (${mode === "refuse" ? "server down: connections reset" : "partition: connections hang"}) keeps the replica up and healthy; requests fail with 503, are counted, and recover`, async () => {
      const app = await startApp({ stateless: true, safeJson: true, pct: 50, databaseUrl: viaPort(db.appUrl, relay.port) });
      apps.push(app);
      const users = Array.from({ length: 6 }, (_, i) => `outage-${mode}-${i}`);
      assert.ok(users.some((u) => onNewPath(u, 50)) && users.some((u) => !onNewPath(u, 50)), "both paths");
      for (const u of users) assert.equal((await agentQuery(app, u)).status, 200);
      const before503 = await metric(app, "refapp_requests_total", { route: "agent_query", code: "503" });

      relay.cut(mode);
      // 30 s is as long as Docker's check (interval 10 s x 3 retries) takes to call a replica unhealthy.
      const outageMs = mode === "refuse" ? 30_000 : 6_000;
      const start = Date.now();
      const healthReplies: Reply[] = [];
      const queryReplies: Reply[] = [];
      const slowest = { health: 0, query: 0 };
      let i = 0;
      while (Date.now() - start < outageMs) {
        const t0 = Date.now();
        healthReplies.push(await health(app));
        slowest.health = Math.max(slowest.health, Date.now() - t0);
        const t1 = Date.now();
        queryReplies.push(await agentQuery(app, users[i++ % users.length]));
        slowest.query = Math.max(slowest.query, Date.now() - t1);
        await sleep(400);
      }
      relay.restore();
      assert.equal(app.proc.exitCode, null, "the process stayed up");
      assert.deepEqual([...new Set(healthReplies.map((r) => r.status))], [200], "the health check kept passing");
      assert.ok(healthReplies.some((r) => (r.json as { database: string }).database === "unreachable"), "health reports the database as unreachable");
      assert.deepEqual([...new Set(queryReplies.map((r) => r.status))], [503], "every request during the outage failed with 503");
      for (const r of queryReplies) assert.equal((r.json as { error: string }).error, "database_unavailable");
      const counted = (await metric(app, "refapp_requests_total", { route: "agent_query", code: "503" })) - before503;
      assert.equal(counted, queryReplies.length, "each failed request is counted");
      assert.ok((await metric(app, "refapp_db_errors_total", { kind: "unavailable" })) >= queryReplies.length);
      console.log(
        `      ${mode} outage of ${outageMs} ms: ${queryReplies.length} requests, all 503 (slowest ${slowest.query} ms); ${healthReplies.length} health checks, all 200 (slowest ${slowest.health} ms)`,
      );

      // Recovery, with no restart: the next requests succeed and are recorded again.
      const { reply: r, ms } = await untilAnswered(app, users[0]);
      assert.equal(r.status, 200, `recovered: ${r.text}`);
      console.log(`      recovered ${ms} ms after the database came back`);
      assert.deepEqual((await health(app)).json, { status: "ok", database: "ok" });
      // Rows equal successes: users.length before, 1 after; nothing of the outage was written.
      assert.equal(await rowCount(db, users), users.length + 1);
    });
  }

  it("a paused database (docker pause: connections accepted, nothing answered) under concurrent load: one request at a time probes it and the rest wait for its outcome or get 503, so the app opens at most one connection per connect timeout; it recovers when the database resumes", async () => {
    const app = await startApp({ stateless: true, safeJson: true, pct: 50, databaseUrl: viaPort(db.appUrl, relay.port) });
    apps.push(app);
    const workers = 8;
    const users = Array.from({ length: workers }, (_, i) => `pause-${i}`);
    for (const u of users) assert.equal((await agentQuery(app, u)).status, 200);
    const shedBefore = await metric(app, "refapp_requests_shed_total");
    const acceptedBefore = relay.accepted;
    const pauseMs = 10_000;
    relay.cut("freeze");
    const pausedAt = Date.now();
    const during: Reply[] = [];
    await Promise.all(
      users.map(async (u) => {
        while (Date.now() - pausedAt < pauseMs) {
          during.push(await agentQuery(app, u));
          await sleep(50);
        }
      }),
    );
    const opened = relay.accepted - acceptedBefore;
    relay.restore();
    // Before the probe, each waiting request made the pool open a connection and abandon it after the
    // connect timeout: 8 workers opened about 20 in 10 s, each a dead entry in a paused server's listen queue.
    const bound = Math.ceil(pauseMs / CONNECT_TIMEOUT_MS) + 1;
    assert.ok(opened <= bound, `connections opened while the database was paused: ${opened} (at most ${bound}: one probe at a time)`);
    assert.deepEqual([...new Set(during.filter((r) => r.status !== 200).map((r) => r.status))], [503], "failed answers are 503s");
    const shed = (await metric(app, "refapp_requests_shed_total")) - shedBefore;
    assert.ok(shed > 0, "requests arriving while one probes are shed once it has not answered within the connect timeout");
    // Recovery: the held probe is answered when the database resumes; then every worker succeeds again.
    const { reply: r, ms: recoveredMs } = await untilAnswered(app, users[0]);
    assert.equal(r.status, 200, `recovered: ${r.text}`);
    const after = await Promise.all(users.map((u) => agentQuery(app, u)));
    assert.deepEqual(after.map((x) => x.status), users.map(() => 200), "after the recovery every worker succeeds");
    console.log(`      paused ${pauseMs} ms under ${workers} workers: ${during.length} answers, ${shed} shed, ${opened} connections opened (bound ${bound}); recovered ${recoveredMs} ms after the resume`);
  });

  it("SIGTERM: health fails at once, requests are served for the proxy's window, in-flight ones drain, and it exits inside the grace", async () => {
    const app = await startApp({ stateless: true, safeJson: true, pct: 100, databaseUrl: db.appUrl });
    apps.push(app);
    const users = ["sigterm-a", "sigterm-b", "sigterm-c"];
    assert.equal((await health(app)).status, 200);

    const t0 = Date.now();
    app.proc.kill("SIGTERM");
    // kill() returns once the signal is sent; the process handles it on its next turn of the event loop. A
    // health check racing that turn could be answered before it, so the check is the first one after the
    // app has logged the signal (Docker's checks are seconds apart).
    while (!app.logs.some((l) => l.msg === "SIGTERM: health check failing; still serving") && Date.now() - t0 < 5_000) await sleep(5);
    const firstHealth = await health(app);
    const healthFailedAfter = Date.now() - t0;
    assert.equal(firstHealth.status, 503, "the first health check after SIGTERM fails");
    assert.deepEqual(firstHealth.json, { status: "draining" });
    assert.equal(firstHealth.headers.connection, "close");

    // A slow request started just before the listener closes must still be answered.
    let slow: Promise<Reply> | undefined;
    const served: Array<{ at: number; status: number }> = [];
    while (Date.now() - t0 < SERVE_AFTER_SIGTERM_MS - 1_500) {
      const r = await agentQuery(app, users[served.length % users.length]);
      served.push({ at: Date.now() - t0, status: r.status });
      assert.equal((await health(app)).status, 503);
      await sleep(100);
    }
    const put = await request(`${app.admin}/fault`, { method: "PUT", body: JSON.stringify({ newPathLatencyMs: 3_000 }) });
    assert.equal(put.status, 200);
    const slowSentAt = Date.now() - t0;
    slow = agentQuery(app, "sigterm-slow");

    // Once the window is over the listener closes: new connections are refused.
    while (await accepts(app.port)) await sleep(50);
    const refusedAfter = Date.now() - t0;
    const slowReply = await slow;
    const slowDoneAt = Date.now() - t0;
    const exit = await app.exited;
    const exitedAfter = exit.at - t0;

    assert.ok(served.length >= 5, `requests during the window: ${served.length}`);
    assert.deepEqual([...new Set(served.map((s) => s.status))], [200], "every request during the window was served");
    assert.equal(slowReply.status, 200, `the in-flight request was answered: ${slowReply.text}`);
    assert.ok(slowDoneAt > refusedAfter, "it finished after the listener had closed");
    assert.ok(refusedAfter >= SERVE_AFTER_SIGTERM_MS, `kept accepting for ${refusedAfter} ms, at least ${SERVE_AFTER_SIGTERM_MS}`);
    assert.equal(exit.code, 0, app.output());
    assert.ok(exitedAfter < EXIT_DEADLINE_MS && exitedAfter < STOP_GRACE_MS, `exited ${exitedAfter} ms after SIGTERM`);
    assert.equal(await rowCount(db, [...users, "sigterm-slow"]), served.length + 1, "every served request wrote its row");
    console.log(
      `      SIGTERM: health failing after ${healthFailedAfter} ms; ${served.length} requests served up to ${served[served.length - 1].at} ms; ` +
        `slow request sent at ${slowSentAt} ms, answered at ${slowDoneAt} ms; listener closed by ${refusedAfter} ms; exited at ${exitedAfter} ms (grace ${STOP_GRACE_MS} ms)`,
    );
  });

  it("SIGTERM before ready exits at once", async () => {
    relay.cut("refuse");
    const app = await spawnApp({ stateless: true, safeJson: true, pct: 10, databaseUrl: viaPort(db.appUrl, relay.port) });
    apps.push(app);
    while (!app.logs.some((l) => l.msg === "not ready: database unreachable")) await sleep(50);
    const t0 = Date.now();
    app.proc.kill("SIGTERM");
    const exit = await app.exited;
    assert.equal(exit.code, 0);
    console.log(`      exited ${exit.at - t0} ms after SIGTERM`);
    assert.ok(exit.at - t0 < SERVE_AFTER_SIGTERM_MS, "nothing to drain: no serving window");
  });
});
