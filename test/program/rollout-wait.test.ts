/**
 * `pulumi up` means "rolled out" (issue 22, fact 3): core/rollout.ts judgeRollout decides from
 * Swarm's records, and the RolloutWait provider, as the SDK serializes it into the state, polls
 * an engine until it decides. The engine here is a stand-in Engine API on a unix socket that
 * answers the service and task JSON the real one does (shapes read off a real Swarm); the real
 * Swarm is test/stack/swarm-converge.test.ts.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { RolloutExpectation, SwarmServiceView, SwarmTaskView, judgeRollout, swarmRunning } from "../../core/rollout";
import { ROLLOUT_SOAK_SECONDS, updatePolicy } from "../../core/swarm";
import { envCommand } from "../../core/appCommand";
import { RolloutWaitInputs, rolloutWaitProvider } from "../../components/rolloutWait";
import { withSerializedProvider } from "../support/serializedProvider";
import { migrationProvider } from "../../components/database";

const NOW = Date.parse("2026-12-07T12:00:00Z");
const ago = (s: number) => new Date(NOW - s * 1000).toISOString();
const LABELS = { "valuecanvas.rollout/canary_percentage": "25" };
const expected: RolloutExpectation = { image: "app:2", labels: LABELS, replicas: 3 };
const env = (pct: string) => [`CANARY_PERCENTAGE=${pct}`, "DATABASE_URL=postgres://app:s3cret@db/app"];

function service(o: { image?: string; pct?: string; replicas?: number; state?: string; message?: string } = {}): SwarmServiceView {
  return {
    ID: "svc1",
    Spec: {
      Name: "app-123",
      Labels: { "valuecanvas.rollout/role": "app", "valuecanvas.rollout/canary_percentage": o.pct ?? "25" },
      TaskTemplate: { ContainerSpec: { Image: o.image ?? "app:2", Env: env(o.pct ?? "25") }, ForceUpdate: 0 },
      Mode: { Replicated: { Replicas: o.replicas ?? 3 } },
    },
    UpdateStatus: o.state ? { State: o.state, StartedAt: ago(60), Message: o.message } : null,
  };
}
function task(slot: number, o: { image?: string; pct?: string; state?: string; desired?: string; since?: number } = {}): SwarmTaskView {
  return {
    ID: `t${slot}-${o.image ?? "app:2"}-${o.since ?? 60}`,
    Slot: slot,
    DesiredState: o.desired ?? "running",
    Spec: { ContainerSpec: { Image: o.image ?? "app:2", Env: env(o.pct ?? "25") }, ForceUpdate: 0 },
    Status: { State: o.state ?? "running", Timestamp: ago(o.since ?? 60) },
  };
}
const three = (o: Parameters<typeof task>[1] = {}) => [1, 2, 3].map((s) => task(s, o));
const judge = (svc: SwarmServiceView, tasks: SwarmTaskView[]) => judgeRollout({ expected, service: svc, tasks, soakSeconds: 30, nowMs: NOW });

describe("rolled out, from Swarm's records (core/rollout.ts judgeRollout)", () => {
  it("every task from the declared spec, soaked, update completed: rolled out", () => {
    assert.equal(judge(service({ state: "completed" }), three()).kind, "rolledOut");
    // After a scale Swarm resets UpdateStatus: the tasks decide.
    assert.equal(judge(service(), three()).kind, "rolledOut");
  });

  it("what the provider's converge accepts is not rolled out: every slot has a running task, but old ones; or a stale `completed`", () => {
    const mixed = [task(1), task(2, { image: "app:1", pct: "10" }), task(3, { image: "app:1", pct: "10" })];
    assert.equal(judge(service({ state: "completed" }), mixed).kind, "waiting", "a stale completed with old tasks running");
    assert.equal(judge(service({ state: "updating" }), three()).kind, "waiting", "Swarm still monitors the update");
    // Same image, another env: the env decides too (a stage change).
    assert.equal(judge(service(), three({ pct: "10" })).kind, "waiting");
  });

  it("a task younger than the soak, a task still starting, or too few tasks: waiting", () => {
    assert.equal(judge(service(), [task(1), task(2), task(3, { since: 12 })]).kind, "waiting");
    assert.equal(judge(service(), [task(1), task(2), task(3, { state: "starting" })]).kind, "waiting");
    assert.equal(judge(service(), [task(1), task(2), task(3, { state: "failed", desired: "shutdown" })]).kind, "waiting");
    // Old shut-down tasks do not count.
    assert.equal(judge(service(), [...three(), task(1, { image: "app:1", state: "shutdown", desired: "shutdown" })]).kind, "rolledOut");
  });

  it("Swarm rolled the update back: failed, with Swarm's own words; while it rolls back: waiting", () => {
    const v = judge(service({ image: "app:1", pct: "10", state: "rollback_completed", message: "rollback completed" }), three({ image: "app:1", pct: "10" }));
    assert.equal(v.kind, "failed");
    assert.match(v.kind === "failed" ? v.message : "", /Swarm rolled the update back \(rollback_completed: rollback completed\); the service runs image app:1 \(declared app:2\)/);
    assert.equal(judge(service({ image: "app:1", state: "rollback_started", message: "update rolled back due to failure" }), three()).kind, "waiting");
    const paused = judge(service({ state: "paused", message: "update paused due to failure" }), three());
    assert.deepEqual(paused, { kind: "failed", message: "Swarm's update is paused: update paused due to failure" });
  });

  it("a stale rollback of an earlier `up` does not fail an `up` whose spec is in force", () => {
    assert.equal(judge(service({ state: "rollback_completed", message: "rollback completed" }), three()).kind, "rolledOut");
  });

  it("someone else's spec: failed, naming each difference", () => {
    const v = judge(service({ replicas: 2 }), three());
    assert.deepEqual(v, { kind: "failed", message: "the service does not run the declared spec: replicas 2 (declared 3)" });
  });

  it("Swarm monitors an updated task for at least the soak the wait asks, in Go's short form", () => {
    const p = updatePolicy({ canaryPercentage: 10, enableStatelessOrchestration: true, enableSafeJsonParser: true });
    assert.ok(ROLLOUT_SOAK_SECONDS >= 30);
    assert.equal(p.monitor, `${ROLLOUT_SOAK_SECONDS}s`);
    assert.ok(ROLLOUT_SOAK_SECONDS < 60, "below a minute, `Ns` is Go's short form");
  });

  it("what runs (rollout status): images and flags by task, never another env value; a rollback named", () => {
    const r = swarmRunning(service({ image: "app:1", state: "rollback_completed", message: "rollback completed" }), [...three({ image: "app:1", pct: "10" }), task(4, { state: "shutdown", desired: "shutdown" })], ["CANARY_PERCENTAGE"]);
    assert.deepEqual(r.images, [{ image: "app:1", tasks: 3 }]);
    assert.deepEqual(r.flags, [{ values: { CANARY_PERCENTAGE: "10" }, tasks: 3 }]);
    assert.equal(r.rolledBack, true);
    assert.doesNotMatch(JSON.stringify(r), /s3cret/);
  });

  it("what runs reads the flags from the settings a task's args set (issue 22 fact 2), as the app's process gets them", () => {
    const t = task(1, { image: "app:2", pct: "10" });
    t.Spec.ContainerSpec = { ...t.Spec.ContainerSpec, Image: t.Spec.ContainerSpec?.Image ?? "app:2", Env: [], Args: envCommand({ CANARY_PERCENTAGE: "25", ENABLE_SAFE_JSON_PARSER: "true", OTHER: "x" }, ["/usr/bin/node", "main.js"]) };
    const r = swarmRunning(service(), [t], ["CANARY_PERCENTAGE", "ENABLE_SAFE_JSON_PARSER"]);
    assert.deepEqual(r.flags, [{ values: { CANARY_PERCENTAGE: "25", ENABLE_SAFE_JSON_PARSER: "true" }, tasks: 1 }]);
  });
});

/** A stand-in Engine API on a unix socket: GET /services/{id} and GET /tasks, answering what `state` holds. */
async function fakeEngine(state: { service: SwarmServiceView; tasks: SwarmTaskView[] }): Promise<{ socketPath: string; close: () => Promise<void> }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "engine-"));
  const socketPath = path.join(dir, "docker.sock");
  const server = http.createServer((req, res) => {
    const body = req.url?.startsWith("/services/") ? state.service : req.url?.startsWith("/tasks?") ? state.tasks : undefined;
    res.writeHead(body ? 200 : 404, { "content-type": "application/json" });
    res.end(JSON.stringify(body ?? { message: "not found" }));
  });
  await new Promise<void>((r) => server.listen(socketPath, r));
  return { socketPath, close: () => new Promise<void>((r) => server.close(() => (fs.rmSync(dir, { recursive: true, force: true }), r()))) };
}

describe("the RolloutWait provider as the SDK serializes it, against an engine", function () {
  this.timeout(60_000);

  it("waits while Swarm updates, returns once every task runs the declared spec for the soak, and fails with Swarm's words on a rollback", () =>
    withSerializedProvider(rolloutWaitProvider, async (p: pulumi.dynamic.ResourceProvider) => {
      const nowIso = () => new Date(Date.now()).toISOString();
      const state = { service: { ...service({ state: "updating", message: "update in progress" }) }, tasks: three({ image: "app:1", pct: "10" }) };
      const engine = await fakeEngine(state);
      try {
        const inputs: RolloutWaitInputs = {
          serviceId: "svc1",
          target: { kind: "unix", socketPath: engine.socketPath, host: `unix://${engine.socketPath}` },
          expected,
          soakSeconds: 1,
          timeoutSeconds: 20,
          pollSeconds: 0.2,
        };
        let done = false;
        const created = p.create(inputs).then((r) => ((done = true), r));
        await new Promise((r) => setTimeout(r, 800));
        assert.equal(done, false, "still waiting while Swarm updates");
        // Swarm finished: the new tasks run (just started), the status says completed.
        state.service = service({ state: "completed" });
        state.tasks = three().map((t) => ({ ...t, Status: { ...t.Status, Timestamp: nowIso() } }));
        const r = await created;
        assert.equal(r.id, "svc1");
        assert.match(String(r.outs?.summary), /3 of 3 tasks run app:2/);

        // The next up: Swarm rolls the release back.
        state.service = service({ image: "app:1", state: "rollback_completed", message: "rollback completed" });
        assert.ok(p.update);
        await assert.rejects(p.update("svc1", { ...inputs, summary: "" }, { ...inputs, expected: { ...expected, image: "app:3" } }), /did not roll out: Swarm rolled the update back \(rollback_completed: rollback completed\)/);

        // No engine: the error names it.
        await assert.rejects(p.create({ ...inputs, target: { kind: "unix", socketPath: path.join(os.tmpdir(), "no-such-engine.sock"), host: "unix:///nowhere" } }), /GET \/services\/svc1 on unix:\/\/\/nowhere/);
      } finally {
        await engine.close();
      }
    }));

  it("diffs on what it waits for only", async () => {
    assert.ok(rolloutWaitProvider.diff);
    const i: RolloutWaitInputs = { serviceId: "s", target: { kind: "cli", context: "c" }, expected, soakSeconds: 30, timeoutSeconds: 600, pollSeconds: 2 };
    assert.equal((await rolloutWaitProvider.diff("s", { ...i, summary: "x" }, i)).changes, false);
    assert.equal((await rolloutWaitProvider.diff("s", { ...i, summary: "x" }, { ...i, expected: { ...expected, replicas: 4 } })).changes, true);
  });
});

describe("nothing before the service waits on the database for a rollback (issue 22, fact 6)", () => {
  it("the migrations resource's diff on unchanged SQL decides from the hash alone: it never connects (an unreachable database answers at once)", async () => {
    assert.ok(migrationProvider.diff);
    const unreachable = "postgres://admin:pw@127.0.0.1:1/postgres";
    const olds = { sqlHash: "h1", files: ["0001_agent_sessions.sql"], migrationsDir: "sql", applied: ["0001_agent_sessions.sql"] };
    const d = await migrationProvider.diff("m", olds, { databaseUrl: unreachable, sqlHash: "h1", files: ["0001_agent_sessions.sql"], migrationsDir: "sql" });
    assert.equal(d.changes, false);
  });
});
