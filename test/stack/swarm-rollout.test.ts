/**
 * [docker] The app as a Swarm service (issue 15), on a real single-node Swarm:
 * the dev stack as declared (test/support/stack.ts), the app's docker.Service
 * created and then updated in place the way the provider does
 * (test/support/service.ts), under constant load from many users through the
 * edge proxy on loopback (test/support/swarmScenario.ts, shared with
 * `npm run bench:stage-change`).
 *
 * A password rotation (issue 21 finding 5) is one more change under the same
 * load: the role change applied first, then the service update.
 *
 * Each test asserts behaviour: no failed request, one agent_sessions row per
 * 2xx, which tasks ran and which answered, what Swarm recorded. Timings are
 * printed for the reader and measured by the bench, never asserted.
 */
import { strict as assert } from "node:assert";
import { requireImages, DockerScope } from "../support/docker";
import { requireSwarm } from "../support/swarm";
import { SCENARIO_IMAGES, SwarmScenario } from "../support/swarmScenario";
import { Sample, isOk, windowStats, within } from "../support/loadStats";
import { hostnamesOf, runningTasks, settledTasks, tasksOf, updateService, updateStatus } from "../support/service";
import { replicasOf } from "../support/serviceSpec";
import { ROLLBACK_UP_ERROR } from "../../core/swarm";
import { APP_LOGIN_ROLES } from "../../core/appCredentials";
import { declaredAppDatabaseUrl, evaluateStack } from "../support/program";
import { applyDatabaseChange, withAdmin } from "../support/stack";
import { Client } from "pg";

const ids = (ts: ReadonlyArray<{ id: string }>) => ts.map((t) => t.id).sort();
/** The database outages' windows (load clock, ms), with a margin for the requests in flight when they ended. */
const outages: Array<[number, number]> = [];
const failedOutsideOutages = (samples: readonly Sample[]) =>
  samples.filter((s) => !isOk(s) && !outages.some(([a, b]) => s.startMs >= a - 6_000 && s.startMs <= b + 6_000)).length;

describe("the app as a Swarm service, under load [docker]", function () {
  this.timeout(900_000);
  const scope = new DockerScope("swarm");
  let sc: SwarmScenario;

  before(async function () {
    await requireSwarm(this);
    await requireImages(this, SCENARIO_IMAGES);
    sc = await SwarmScenario.start(scope, {
      connections: 8,
      users: 400,
      maxSeconds: 840,
      maxRequests: 2_000_000,
      steadySeconds: 3,
      log: (l) => console.log(`      ${l}`),
    });
  });
  after(async () => {
    await sc?.stop().catch(() => undefined);
    await scope.cleanup();
  });

  it("declares what the scenario relies on: 3 replicas, start-first, failure action rollback, dnsrr, a convergeConfig", () => {
    const s = sc.spec;
    assert.equal(replicasOf(s), 3);
    assert.equal(s.updateConfig?.order, "start-first");
    assert.equal(s.updateConfig?.failureAction, "rollback");
    assert.equal(s.endpointSpec?.mode, "dnsrr");
    assert.ok(s.convergeConfig, "convergeConfig: pulumi up waits for the rollout");
    assert.ok(s.rollbackConfig, "rollbackConfig");
  });

  it("a stage change (0 → 10 %): in place, every task replaced start-first, 0 failed", async () => {
    const r = await sc.change({ from: "0", to: "10" }, { canaryPercentage: "10" });
    assert.equal(r.error, undefined);
    assert.ok(r.requests > 0);
    assert.deepEqual(r.window.failures, [], `${r.failed} of ${r.requests} failed`);
    assert.equal(r.after.length, 3);
    assert.deepEqual(r.after.filter((t) => ids(r.before).includes(t.id)), [], "every task is a new one");
    // Each slot replaced once: no task of the change itself was replaced again (a re-sent env order would).
    const created = (await tasksOf(sc.stack.service)).filter((t) => !ids(r.before).includes(t.id));
    assert.equal(created.length, 3, `tasks created by the change: ${created.map((t) => `${t.slot}:${t.state}`).join(", ")}`);
    // After the change, every answer comes from a replica at 10 %.
    const tail = (await sc.samplesFrom(r.toMs + 6_000)).filter(isOk);
    assert.ok(tail.length > 0);
    assert.deepEqual([...new Set(tail.map((s) => s.canaryPercentage))], [10]);
  });

  it("a password rotation (appCredentialRotation 0 → 1): the incoming role's password first, then the service start-first, 0 failed; the previous login works until rotation 2 renews it", async () => {
    const withCredentials = async (url: URL, f: (c: Client) => Promise<void>) => {
      // The declared URL's user and password, through the dev PostgreSQL's published port (the alias resolves only on the network).
      const u = new URL(sc.stack.adminUrl);
      u.username = url.username;
      u.password = url.password;
      const c = new Client({ connectionString: u.toString() });
      await c.connect();
      try {
        await f(c);
      } finally {
        await c.end();
      }
    };
    const loginWorks = async (url: URL): Promise<true | string> =>
      withCredentials(url, async (c) => void (await c.query("SELECT 1"))).then(
        () => true as const,
        (e: Error & { code?: string }) => e.code ?? e.message,
      );
    // Who the app's tasks are logged in as (the reference app names its connections).
    const appUsers = () =>
      withAdmin(sc.stack, async (c) =>
        (await c.query<{ u: string }>("SELECT DISTINCT usename::text AS u FROM pg_stat_activity WHERE application_name = 'valuecanvas-reference-app' ORDER BY 1")).rows.map((x) => x.u),
      );
    const url0 = declaredAppDatabaseUrl(sc.ev);
    assert.equal(url0.username, APP_LOGIN_ROLES.a);
    assert.deepEqual(await appUsers(), [APP_LOGIN_ROLES.a]);

    const r1 = await sc.change({ from: "rotation 0", to: "rotation 1" }, { appCredentialRotation: "1" });
    assert.equal(r1.error, undefined, r1.error?.message);
    assert.deepEqual(r1.database?.steps, ["database-app-b: password"], "only the incoming role changed, before the service");
    assert.deepEqual(r1.window.failures, [], `${r1.failed} of ${r1.requests} failed`);
    assert.ok(r1.requests > 0);
    assert.deepEqual(r1.after.filter((t) => ids(r1.before).includes(t.id)), [], "every task is a new one");
    const url1 = declaredAppDatabaseUrl(sc.ev);
    assert.equal(url1.username, APP_LOGIN_ROLES.b);
    assert.deepEqual(await appUsers(), [APP_LOGIN_ROLES.b], "the new tasks log in as the incoming role; no old task is left");
    assert.equal(await loginWorks(url0), true, "the previous role's password stays valid until the next rotation");

    // Rotation 2's first step, what `pulumi up` does before the service update (which rotation 1 showed):
    // slot a's new password. No task uses slot a, so under the same load nothing fails.
    const ev2 = await evaluateStack("dev", { sets: { ...sc.sets, appCredentialRotation: "2" } });
    const from = sc.load.now();
    const step = await applyDatabaseChange(sc.stack, sc.ev, ev2);
    assert.deepEqual(step.steps, ["database-app: password"], "rotation 2 renews slot a's password");
    assert.equal(await loginWorks(url0), "28P01", "slot a's password of rotation 0 is refused after rotation 2");
    assert.equal(await loginWorks(declaredAppDatabaseUrl(ev2)), true);
    assert.equal(await loginWorks(url1), true, "rotation 1's password, which the running tasks use, works until rotation 3");
    assert.deepEqual(windowStats(await sc.samplesFrom(from)).failures, [], "no request fails while slot a's password changes");
    // The harness puts slot a's password back to what rotation 1 declares, so the stack is rotation 1's again for the
    // next tests (a real 2 → 1 would give it a new one: rotationChangeProblem refuses it).
    await applyDatabaseChange(sc.stack, ev2, sc.ev);
    console.log(`      rotation 0 → 1 under load: ${r1.failed} failed of ${r1.requests} in ${r1.seconds} s`);
  });

  it("a bad release (health check never passes) is rolled back by Swarm: `up` fails, 0 failed requests, the old tasks serve throughout", async () => {
    const r = await sc.badRelease();
    assert.ok(r.change.error, "the update fails, as pulumi up does");
    // The provider's words around Swarm's own once the rollback completed (issue 22 fact 5), as docs/swarm.md quotes them;
    // the provider's converge may return first (every slot has a running task), and the wait after the service then fails.
    assert.match(r.change.error.message, new RegExp(`^${ROLLBACK_UP_ERROR}$|Swarm rolled the update back`));
    assert.equal(r.rolledBack, true);
    assert.deepEqual(r.change.window.failures, [], `${r.failed} of ${r.requests} failed`);
    // Swarm's rollback sometimes replaces the one slot it was updating (parallelism 1) with a new task of
    // the good spec instead of keeping that slot's old task (seen once in a CI run: 0 failed requests,
    // 1 of 3 tasks new). Every other old task must still run; "the old tasks serve throughout" is
    // asserted whole only when no slot was replaced (issue 15 keeps this open).
    const replaced = ids(r.change.before).filter((id) => !ids(r.change.after).includes(id));
    assert.ok(replaced.length <= 1, `at most the slot being updated gets a new task; replaced: ${replaced.join(", ")}`);
    assert.equal(r.change.after.length, r.change.before.length, "as many tasks after as before");
    if (replaced.length === 0) assert.equal(r.oldTasksKeptServing, true, "every answer during the release came from an old task");
    else console.log(`      the rollback replaced the updating slot's task (${replaced[0]}) with a new one of the good spec`);
    assert.equal((await updateStatus(sc.stack.service))?.State, "rollback_completed");
    // Swarm's spec is the good one again.
    for (const t of await runningTasks(sc.stack.service)) assert.equal(t.image, SCENARIO_IMAGES["reference-app"]);
  });

  it("a label and an update-policy change keep every task: the provider re-sends the env in a new order, and the settings are not in it (issue 22 fact 2)", async () => {
    const before = await runningTasks(sc.stack.service);
    const base = sc.stack.serviceSpec;
    const changed: typeof base = {
      ...base,
      labels: [...(base.labels ?? []), { label: "valuecanvas.test/extra", value: "1" }],
      updateConfig: { ...base.updateConfig, delay: base.updateConfig?.delay === "2s" ? "1s" : "2s" },
    };
    const u = await updateService(sc.stack.service, "app", base, changed, (l) => console.log(`      ${l}`));
    sc.stack.serviceSpec = changed;
    assert.deepEqual(u.changed.sort(), ["labels", "updateConfig"], "only the label and the policy changed");
    const after = await settledTasks(sc.stack.service, replicasOf(changed));
    assert.deepEqual(ids(after), ids(before), "the same tasks run: none was restarted");
  });

  it("a scale change 3 → 5 → 3: 0 failed; the scale-down keeps 3 of the 5 tasks", async () => {
    const up = await sc.change({ from: "3 replicas", to: "5 replicas" }, { appReplicas: "5" });
    assert.equal(up.error, undefined);
    assert.equal(up.after.length, 5);
    assert.deepEqual(up.after.filter((t) => ids(up.before).includes(t.id)).map((t) => t.id).sort(), ids(up.before), "scaling up keeps the tasks that ran");
    const down = await sc.change({ from: "5 replicas", to: "3 replicas" }, { appReplicas: "3" });
    assert.equal(down.error, undefined);
    assert.equal(down.after.length, 3);
    for (const r of [up, down]) assert.deepEqual(r.window.failures, [], `${r.from} → ${r.to}: ${r.failed} of ${r.requests} failed`);
  });

  it("the immediate rollback (both flags off) from 10 % updates every replica at once (parallelism 0), 0 failed, then no answer from a flags-on replica", async () => {
    const r = await sc.immediateRollback();
    assert.equal(r.error, undefined);
    assert.equal(sc.spec.updateConfig?.parallelism, 0, "the program declares parallelism 0 for the immediate rollback");
    assert.deepEqual(r.window.failures, [], `${r.failed} of ${r.requests} failed`);
    assert.equal(r.after.length, 3);
    assert.deepEqual(r.after.filter((t) => ids(r.before).includes(t.id)), []);
    const tail = (await sc.samplesFrom(r.toMs + 6_000)).filter(isOk);
    assert.ok(tail.length > 0);
    assert.deepEqual([...new Set(tail.map((s) => s.flagsOn))], [false]);
    console.log(`      time to effect: ${r.secondsToEffect} s (goal 15 s; measured by npm run bench:stage-change)`);
  });

  it("a 30 s database outage at steady state kills no task and rolls nothing back; queries fail fast (503) and recover", async () => {
    const before = await runningTasks(sc.stack.service);
    const stateBefore = await updateStatus(sc.stack.service);
    const o = await sc.databaseOutage(30);
    outages.push([o.fromMs, o.toMs]);
    const recoveredSamples = await sc.samplesFrom(o.toMs + 5_000);
    const after = await runningTasks(sc.stack.service);
    assert.deepEqual(ids(after), ids(before), "the same tasks run: none was killed or restarted");
    assert.deepEqual(await updateStatus(sc.stack.service), stateBefore, "no update, no rollback");
    const during = within(sc.load.samples, o.fromMs, o.toMs);
    const statuses = [...new Set(during.filter((s) => !isOk(s)).map((s) => s.status))];
    assert.ok(statuses.every((s) => s === 503), `failed answers during the outage are 503s: ${statuses.join(", ")}`);
    const recovered = windowStats(recoveredSamples);
    assert.ok(recovered.requests > 0);
    assert.deepEqual(recovered.failures, [], "after the outage every request succeeds");
  });

  it("a 30 s database outage during a stage change: the update completes, nothing is rolled back, no running task is killed", async () => {
    const before = await runningTasks(sc.stack.service);
    const hostsBefore = await hostnamesOf(before.map((t) => t.containerId!));
    const failedBefore = ids(await sc.failedTasks());
    const changing = sc.change({ from: "flags off", to: "flags on at 10 %" }, { enableStatelessOrchestration: "true", enableSafeJsonParser: "true", canaryPercentage: "10" });
    // The outage starts once the update has (the steady window before it is 3 s).
    await new Promise((r) => setTimeout(r, 4_000));
    const o = await sc.databaseOutage(30);
    outages.push([o.fromMs, o.toMs]);
    const result = await changing;
    const hc = sc.spec.taskSpec.containerSpec.healthcheck;
    assert.equal(
      result.error,
      undefined,
      `the good release is not rolled back. A task started during the outage does not listen until the database answers, ` +
        `and Docker counts its failed checks once the declared startPeriod (${hc?.startPeriod}, then ${hc?.retries} × ${hc?.interval}) is over: ` +
        `the startPeriod must outlast the outage plus the app's start (docs/reference-app.md, section 6)`,
    );
    assert.equal((await updateStatus(sc.stack.service))?.State, "completed");
    assert.equal(result.after.length, 3);
    assert.deepEqual(ids(await sc.failedTasks()).filter((id) => !failedBefore.includes(id)), [], "no task failed (none was killed by its health check)");
    // No old task stopped before its replacement was healthy: every answer came from an old task or a new one.
    const hostsAfter = await hostnamesOf(result.after.map((t) => t.containerId!));
    const known = new Set([...hostsBefore, ...hostsAfter]);
    assert.ok(within(sc.load.samples, result.fromMs, result.toMs).filter(isOk).every((s) => s.replica !== undefined && known.has(s.replica)));
  });

  it("over the whole run: one agent_sessions row per 2xx, no request written twice (no retry wrote a second row)", async () => {
    const { samples, rows } = await sc.stopAndCheckRows();
    console.log(`      ${samples.length} requests, ${rows.ok} 2xx; rows of failed requests (writes the paused database completed after the app's 5 s query timeout): ${rows.rowsOfFailed}`);
    assert.equal(rows.okWithOneRow, rows.ok, JSON.stringify(rows));
    assert.equal(rows.writtenTwice, 0, JSON.stringify(rows));
    assert.equal(rows.unknownRows, 0, JSON.stringify(rows));
    // A failed request's row can only come from an outage: the app answered 503 after its query timeout, and the
    // paused database completed the insert when it resumed. Outside the outages, no failed request wrote a row.
    assert.equal(failedOutsideOutages(samples), 0);
  });
});
