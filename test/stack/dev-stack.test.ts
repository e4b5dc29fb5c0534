/**
 * [docker] The dev stack, as declared, comes up on the real engine
 * and a single-node Swarm (test/support/stack.ts): the dev PostgreSQL, the
 * migrations applied by the project's runner, the app and monitoring roles
 * with their declared grants, the app's Swarm service converged with every
 * task healthy, and the edge proxy answering on loopback and routing to the
 * tasks under their alias.
 *
 * The app is the reference app's local image (npm run images, reference-app/,
 * docs/reference-app.md): the guide's verification request writes a row the
 * monitoring views count, and a stage change under traffic from many users
 * loses no request and writes exactly one row per 2xx.
 */
import { strict as assert } from "node:assert";
import { Client } from "pg";
import { imageByKey } from "../../tools/images";
import { loadMigrations } from "../../db/migrate";
import { MONITORING_VIEW_NAMES, ROLE_NAMES } from "../../core/grants";
import { APP_LOGIN_ROLES } from "../../core/appCredentials";
import { PROXY_HEALTH_PATH } from "../../core/proxyConfig";
import type { Evaluation } from "../../offline/evaluate";
import { DockerScope, docker, dockerOk, requireImages } from "../support/docker";
import { requireSwarm } from "../support/swarm";
import { StartedStack, applyAppChange, declaredService, startDevStack } from "../support/stack";
import { declaredWait } from "../support/swarmScenario";
import { waitRolledOut } from "../../components/rolloutWait";
import { runningTasks } from "../support/service";
import { declaredAppDatabaseUrl, evaluateStack } from "../support/program";
import { replicasOf } from "../support/serviceSpec";
import { rolloutLabelName } from "../../program/labels";
import { ENV_NAMES, effectivePercentage } from "../../core/stages";
import { onNewPath } from "../../core/bucketing";
import { REPLICA_HEADER, ROLLOUT_HEADER, parseRolloutHeader } from "../../reference-app/src/contract";

/** The guide's verification request, through the proxy, as `user`. */
function query(base: string, user: string, timeoutMs = 10_000): Promise<Response> {
  return fetch(`${base}/api/agent/query`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${user}` },
    body: JSON.stringify({ query: "test query" }),
    signal: AbortSignal.timeout(timeoutMs),
  });
}

const tag = (k: string) => imageByKey(k).tag;
const SETS = {
  proxyImage: tag("nginx"),
  devPostgresImage: tag("postgres"),
  "monitoring.prometheusImage": tag("prometheus"),
  "monitoring.alertmanagerImage": tag("alertmanager"),
  "monitoring.exporterImage": tag("postgres-exporter"),
};
describe("the dev stack on the real engine [docker]", function () {
  this.timeout(600_000);
  const scope = new DockerScope("devstack");
  let ev: Evaluation;
  let stack: StartedStack;
  const appOpts: Parameters<typeof startDevStack>[2] = {};

  before(async function () {
    await requireSwarm(this);
    await requireImages(this, { nginx: tag("nginx"), postgres: tag("postgres"), "reference-app": tag("reference-app") });
    ev = await evaluateStack("dev", { sets: { ...SETS, appImage: tag("reference-app") } });
    stack = await startDevStack(scope, ev, appOpts);
  });
  after(async () => scope.cleanup());

  it("applies every migration with the project's runner", () => {
    assert.deepEqual(stack.migrations, loadMigrations().map((x) => x.name));
  });

  it("creates the declared app and monitoring roles with their grants; the app's DATABASE_URL logs in from the stack's network", async () => {
    const admin = new Client({ connectionString: stack.adminUrl });
    await admin.connect();
    try {
      const priv = async (role: string, obj: string, p: string) =>
        (await admin.query<{ ok: boolean }>("select has_table_privilege($1, $2, $3) as ok", [role, obj, p])).rows[0].ok;
      // The app's login roles hold its privileges through its group role (core/appCredentials.ts).
      for (const r of [ROLE_NAMES.app, ...Object.values(APP_LOGIN_ROLES)]) assert.equal(await priv(r, "public.agent_sessions", "INSERT"), true, r);
      assert.equal(await priv(ROLE_NAMES.monitoring, "public.agent_sessions", "SELECT"), false);
      for (const v of MONITORING_VIEW_NAMES) assert.equal(await priv(ROLE_NAMES.monitoring, `monitoring.${v}`, "SELECT"), true, v);
    } finally {
      await admin.end();
    }
    // The URL exactly as declared (host postgres:5432, the app role's password), from a container on the network.
    // It is the Docker secret's data (issue 21 finding 5: never in the task's env), base64 as the provider takes it.
    const url = declaredAppDatabaseUrl(ev).toString();
    const probe = await scope.start("urlprobe", ["--network", stack.network, "--env", `DATABASE_URL=${url}`], {
      image: tag("postgres"),
      command: ["sh", "-c", 'psql "$DATABASE_URL" -tAc "select current_user"'],
    });
    await dockerOk(["wait", probe]);
    const logs = await docker(["logs", probe]);
    assert.equal(logs.stdout.trim(), APP_LOGIN_ROLES.a, logs.stderr);
  });

  it("starts every declared app replica, each healthy by its declared check", async () => {
    assert.equal(stack.appContainers.length, replicasOf(declaredService(ev).spec));
    assert.ok(stack.appContainers.length >= 2);
    for (const c of stack.appContainers) assert.equal(await dockerOk(["inspect", "--format", "{{.State.Health.Status}}", c]), "healthy");
  });

  it("the edge proxy answers on loopback; the guide's verification request through it returns 200, from every replica, and writes a row the views count", async () => {
    const own = await fetch(`${stack.proxyUrl}${PROXY_HEALTH_PATH}`, { signal: AbortSignal.timeout(5000) });
    assert.equal(own.status, 200);
    const served = new Set<string>();
    for (let i = 0; i < 30; i++) {
      const r = await query(stack.proxyUrl, `verify-user-${i}`);
      assert.equal(r.status, 200, await r.text());
      served.add(r.headers.get(REPLICA_HEADER) ?? "");
      await r.text().catch(() => undefined);
    }
    const hostnames = await Promise.all(stack.appContainers.map((c) => dockerOk(["inspect", "--format", "{{.Config.Hostname}}", c])));
    assert.deepEqual([...served].sort(), [...hostnames].sort(), "the proxy balanced over every replica");
    const admin = new Client({ connectionString: stack.adminUrl });
    await admin.connect();
    try {
      const rows = await admin.query<{ n: string }>("select coalesce(sum(total_requests), 0)::text as n from monitoring.error_rate_by_version");
      assert.equal(Number(rows.rows[0].n), 30, "monitoring.error_rate_by_version counts the 30 rows");
    } finally {
      await admin.end();
    }
  });

  it("a stage change (10 → 25) under traffic from many users: the service updated in place, start-first, no request lost, one row per 2xx, then every answer at 25 % by the sticky bucketing", async () => {
    const next = await evaluateStack("dev", { sets: { ...SETS, appImage: tag("reference-app"), canaryPercentage: "25" } });
    const before = [...stack.appContainers];
    const admin = new Client({ connectionString: stack.adminUrl });
    await admin.connect();
    const rowsBefore = Number((await admin.query<{ n: string }>("select count(*)::text as n from public.agent_sessions")).rows[0].n);
    let stop = false;
    const statuses: number[] = [];
    let k = 0;
    const worker = async () => {
      while (!stop) {
        const r = await query(stack.proxyUrl, `user-${k++ % 500}`, 30_000).catch(() => undefined);
        statuses.push(r?.status ?? 0);
        await r?.text().catch(() => undefined);
      }
    };
    const traffic = Promise.all(Array.from({ length: 4 }, worker));
    try {
      const change = await applyAppChange(scope, stack, ev, next, appOpts);
      // The provider's converge may return before Swarm has rolled out (issue 22 fact 3); `pulumi up` goes on to the
      // program's wait after the service, and so does this test before it counts the tasks.
      await waitRolledOut(declaredWait(next, stack.service), appOpts.log);
      change.after = (await runningTasks(stack.service)).map((t) => t.containerId!).filter(Boolean);
      stack.appContainers = change.after;
      stop = true;
      await traffic;
      ev = next;
      // In place: the service's settings (its ordered args, issue 22 fact 2) and its rollout label, nothing else; every task is a new one.
      assert.deepEqual(change.changed.sort(), ["labels", "taskSpec.containerSpec.args"]);
      assert.equal(change.after.length, before.length);
      assert.deepEqual(change.after.filter((c) => before.includes(c)), [], "every task was replaced by the rolling update");
      assert.equal(await dockerOk(["service", "inspect", "--format", `{{index .Spec.Labels "${rolloutLabelName(ENV_NAMES.canaryPercentage)}"}}`, stack.service]), "25");
      const failed = statuses.filter((x) => x < 200 || x > 299);
      console.log(`      ${failed.length} of ${statuses.length} requests during the change failed`);
      assert.ok(statuses.length > 0);
      assert.deepEqual(failed, [], `of ${statuses.length} requests during the change`);
      const rowsAfter = Number((await admin.query<{ n: string }>("select count(*)::text as n from public.agent_sessions")).rows[0].n);
      assert.equal(rowsAfter - rowsBefore, statuses.length, "exactly one row per 2xx: no retry wrote twice");
      // Once the change has finished, every answer is the new stage's, and each user's path is the sticky bucketing at 25 %.
      for (let i = 0; i < 60; i++) {
        const user = `after-user-${i}`;
        const r = await query(stack.proxyUrl, user);
        assert.equal(r.status, 200);
        const h = parseRolloutHeader(r.headers.get(ROLLOUT_HEADER) ?? undefined);
        await r.text();
        assert.equal(h.canaryPercentage, 25);
        assert.equal(h.path, onNewPath(user, effectivePercentage(h)) ? "new" : "legacy", user);
      }
    } finally {
      stop = true;
      await traffic.catch(() => undefined);
      await admin.end();
    }
  });
});
