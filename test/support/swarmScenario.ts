/**
 * The Swarm rollout scenario of issue 15, in one place for the `[docker]`
 * tests (test/stack/swarm-rollout.test.ts) and `npm run bench:stage-change`
 * (bench/stageChange.ts): the dev stack as declared (test/support/stack.ts)
 * with the app as a Swarm service, constant load through the edge proxy on
 * loopback (test/support/load.ts), and the changes it measures:
 *
 * - a stage change (a config set evaluated by the program, applied in place);
 * - the guide's immediate rollback (both flags off: the program declares
 *   update parallelism 0 for it), with the time until no request reaches a
 *   flags-on replica;
 * - a bad release (the reference app's bad-release image), which Swarm must
 *   roll back with the old tasks serving throughout;
 * - a control that shows the measurement sees failures: the same bad image
 *   released without the health gate's protection (stop-first, all tasks at
 *   once, failure action continue: not what the program declares);
 * - a scale change; a database outage (the dev PostgreSQL paused);
 * - a password rotation (config appCredentialRotation): the role change
 *   applied first, then the service update, as `pulumi up` orders them.
 */
import { Client } from "pg";
import { imageByKey } from "../../tools/images";
import type { Evaluation } from "../../offline/evaluate";
import { SERVE_AFTER_SIGTERM_MS } from "../../reference-app/src/contract";
import { startSpec } from "./declared";
import { DockerScope, docker, dockerOk, waitHealthy } from "./docker";
import { Load } from "./load";
import { RowCheck, Sample, WindowStats, checkRows, isOk, secondsUntilNone, windowStats, within } from "./loadStats";
import { evaluateStack } from "./program";
import { Task, hostnamesOf, runningTasks, settledTasks, tasksOf, updateStatus, waitConverged } from "./service";
import { ServiceInputs, replicasOf, serviceUpdateArgs } from "./serviceSpec";
import { ServiceRollbackError, StartedStack, applyAppChange, applyDatabaseChange, declaredService, startDevStack } from "./stack";
import { RolloutWaitInputs, waitRolledOut } from "../../components/rolloutWait";
import { RolloutVerdict, judgeRollout } from "../../core/rollout";
import { dockerTarget } from "../../core/swarmCheck";
import { readSwarmService } from "../../program/swarmService";

/** The wait after the service failed (components/rolloutWait.ts): `pulumi up` fails with it. */
export class RolloutWaitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RolloutWaitError";
  }
}

/** The engine the tests use, found as the program finds it (DOCKER_CONTEXT, DOCKER_HOST, the local socket). */
export const testEngine = () => dockerTarget({ context: process.env.DOCKER_CONTEXT, host: process.env.DOCKER_HOST, tlsVerify: process.env.DOCKER_TLS_VERIFY });

/** The program's RolloutWait inputs for this evaluation, pointed at the real service and engine. */
export function declaredWait(ev: Evaluation, service: string): RolloutWaitInputs {
  const r = ev.resources.find((x) => x.type === "pulumi-nodejs:dynamic/rollout:RolloutWait");
  if (!r) throw new Error("the program declares no RolloutWait after the app service");
  const i = r.inputs as unknown as RolloutWaitInputs;
  return { ...i, serviceId: service, target: testEngine() };
}

const tag = (k: string) => imageByKey(k).tag;

/** The local images the scenario runs (npm run images). */
export const SCENARIO_IMAGES = {
  nginx: tag("nginx"),
  postgres: tag("postgres"),
  "reference-app": tag("reference-app"),
  "reference-app-bad": tag("reference-app-bad"),
  "reference-app-dies": tag("reference-app-dies"),
};

/** The dev stack's config for the scenario: the local images, 3 replicas, both flags on at 0 %. */
export const SCENARIO_SETS: Readonly<Record<string, string>> = {
  proxyImage: tag("nginx"),
  devPostgresImage: tag("postgres"),
  "monitoring.prometheusImage": tag("prometheus"),
  "monitoring.alertmanagerImage": tag("alertmanager"),
  "monitoring.exporterImage": tag("postgres-exporter"),
  appImage: tag("reference-app"),
  appReplicas: "3",
  enableStatelessOrchestration: "true",
  enableSafeJsonParser: "true",
  canaryPercentage: "0",
};

export interface ScenarioOptions {
  connections: number;
  users: number;
  /** Upper bound of the whole load (seconds) and of its request count. */
  maxSeconds: number;
  maxRequests: number;
  /** Steady load measured before each change, in seconds. */
  steadySeconds: number;
  /** Publish the edge proxy on this loopback port, so that proxyReplacement() keeps the load's address. */
  proxyLoopbackPort?: number;
  log?: (line: string) => void;
}

/** The cut-over's one interruption, measured (proxyReplacement). */
export interface ProxyReplacementResult {
  requests: number;
  failed: number;
  /** From the old proxy's stop until the new one was healthy (what the engine's delete-first replacement holds). */
  seconds: number;
  /** From the first failed request's start to the last one's end (0 when none failed). */
  secondsWithoutService: number;
}

/** One change, measured: the issue's `changes[]` entry, plus what tests assert on. */
export interface ChangeResult {
  from: string;
  to: string;
  requests: number;
  failed: number;
  p50Ms: number;
  p99Ms: number;
  steadyP50Ms: number;
  steadyP99Ms: number;
  /** Wall time of the change: from `docker service update` until converged (what `pulumi up` holds). */
  seconds: number;
  /** The change's window (from its start to its end plus the old tasks' serve-after-SIGTERM window). */
  window: WindowStats;
  fromMs: number;
  toMs: number;
  /** Date.now() when the update was sent (to compare with the engine's timestamps). */
  startedAtWallMs: number;
  /** Load clock when the new config was applied: before the program's evaluation under the mock runtime. */
  configAppliedMs: number;
  /** The program's evaluation (mock runtime) of the new config, in seconds: before the service update. */
  evaluationSeconds: number;
  /** Seconds until the provider's converge returned (where `pulumi up` returned before issue 22). */
  convergedSeconds: number;
  /** What Swarm's records said at that moment (core/rollout.ts judgeRollout): "waiting" means it returned before the rollout. */
  atConverge: RolloutVerdict | undefined;
  /** The wait after the service, when it ran: what it concluded (undefined when the service step itself failed). */
  rolledOut: string | undefined;
  /** ServiceRollbackError (the provider's converge) or RolloutWaitError (the wait after the service). */
  error: Error | undefined;
  before: Task[];
  after: Task[];
  /** The declared roles' and grants' change applied before the service update, and the deletes run after it rolled out. */
  database: { steps: string[]; pending: string[] } | undefined;
}

export interface ReleaseResult {
  requests: number;
  failed: number;
  rolledBack: boolean;
  oldTasksKeptServing: boolean;
  seconds: number;
}

/** After a change, old tasks still serve for their SIGTERM window: their answers belong to the change. */
const TAIL_MS = SERVE_AFTER_SIGTERM_MS + 2_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class SwarmScenario {
  ev!: Evaluation;
  stack!: StartedStack;
  load!: Load;
  sets: Record<string, string> = { ...SCENARIO_SETS };
  private constructor(readonly scope: DockerScope, readonly opts: ScenarioOptions) {}

  /** Start the stack (app converged, proxy healthy) and the load. */
  static async start(scope: DockerScope, opts: ScenarioOptions, sets: Record<string, string> = {}): Promise<SwarmScenario> {
    const s = new SwarmScenario(scope, opts);
    s.sets = { ...s.sets, ...sets };
    s.ev = await evaluateStack("dev", { sets: s.sets });
    s.stack = await startDevStack(scope, s.ev, { log: opts.log, proxyLoopbackPort: opts.proxyLoopbackPort });
    s.load = new Load({ url: s.stack.proxyUrl, connections: opts.connections, users: opts.users, maxSeconds: opts.maxSeconds, maxRequests: opts.maxRequests });
    return s;
  }

  log(line: string): void {
    this.opts.log?.(line);
  }

  get spec(): ServiceInputs {
    return this.stack.serviceSpec;
  }

  /**
   * The load's samples from `fromMs` on, once the load has run at least `spanMs` past it: a window that
   * starts after a change has ended is never read before it holds traffic (it used to be read as soon
   * as the change returned, and was empty when the change's own tail was shorter than its offset).
   */
  async samplesFrom(fromMs: number, spanMs = 3_000): Promise<Sample[]> {
    const wait = fromMs + spanMs - this.load.now();
    if (wait > 0) await sleep(wait);
    return within(this.load.samples, fromMs, this.load.now());
  }

  /** The steady load before a change: its stats. */
  private async steady(): Promise<WindowStats> {
    const from = this.load.now();
    await sleep(this.opts.steadySeconds * 1000);
    return windowStats(within(this.load.samples, from, this.load.now()));
  }

  /**
   * Apply config `sets` (evaluated by the program) as the harness's in-place service update,
   * measured. A rollback is returned as `error` (ServiceRollbackError), not thrown.
   */
  async change(label: { from: string; to: string }, sets: Record<string, string>): Promise<ChangeResult> {
    const steady = await this.steady();
    const configAppliedMs = this.load.now();
    const next = await evaluateStack("dev", { sets: { ...this.sets, ...sets } });
    const evaluationSeconds = round2((this.load.now() - configAppliedMs) / 1000);
    const before = await runningTasks(this.stack.service);
    const fromMs = this.load.now();
    const startedAtWallMs = Date.now();
    let error: Error | undefined;
    let convergedMs = 0;
    let atConverge: RolloutVerdict | undefined;
    let rolledOut: string | undefined;
    let database: ChangeResult["database"];
    try {
      // The roles first (a rotation's new password), as the app's URL secret depends on them; their deletes last.
      const db = await applyDatabaseChange(this.stack, this.ev, next);
      database = { steps: db.steps, pending: db.pending };
      if (db.steps.length > 0) this.log(`database: ${db.steps.join("; ")}`);
      await applyAppChange(this.scope, this.stack, this.ev, next, { log: this.opts.log });
      convergedMs = this.load.now();
      // `pulumi up` goes on to the wait after the service (components/rolloutWait.ts); first, what Swarm says now.
      const wait = declaredWait(next, this.stack.service);
      const seen = await readSwarmService(wait.target, this.stack.service);
      atConverge = judgeRollout({ expected: wait.expected, service: seen.service, tasks: seen.tasks, soakSeconds: wait.soakSeconds, nowMs: Date.now() });
      try {
        rolledOut = await waitRolledOut(wait, this.opts.log);
      } catch (e) {
        throw new RolloutWaitError((e as Error).message);
      }
      await db.finish();
      this.ev = next;
      this.sets = { ...this.sets, ...sets };
    } catch (e) {
      if (!(e instanceof ServiceRollbackError) && !(e instanceof RolloutWaitError)) throw e;
      error = e;
    }
    const toMs = this.load.now();
    if (!convergedMs) convergedMs = toMs;
    await sleep(TAIL_MS);
    const after = await settledTasks(this.stack.service, replicasOf(this.spec));
    const w = windowStats(within(this.load.samples, fromMs, toMs + TAIL_MS));
    const r: ChangeResult = {
      ...label,
      requests: w.requests,
      failed: w.failed,
      p50Ms: w.p50Ms,
      p99Ms: w.p99Ms,
      steadyP50Ms: steady.p50Ms,
      steadyP99Ms: steady.p99Ms,
      seconds: round2((toMs - fromMs) / 1000),
      window: w,
      fromMs,
      toMs,
      startedAtWallMs,
      configAppliedMs,
      evaluationSeconds,
      convergedSeconds: round2((convergedMs - fromMs) / 1000),
      atConverge,
      rolledOut,
      error,
      before,
      after,
      database,
    };
    this.log(
      `${label.from} → ${label.to}: ${w.failed} failed of ${w.requests}, p50 ${w.p50Ms} ms, p99 ${w.p99Ms} ms (steady ${steady.p50Ms}/${steady.p99Ms}), ${r.seconds} s ` +
        `(the provider's converge returned at ${r.convergedSeconds} s: ${atConverge ? (atConverge.kind === "waiting" ? `not rolled out, ${atConverge.reason}` : atConverge.kind) : "failed"})${error ? `; ${error.message}` : ""}`,
    );
    return r;
  }

  /** The guide's immediate rollback (both flags off) from the stage in force, with its time to effect. */
  async immediateRollback(): Promise<ChangeResult & { secondsToEffect: number; secondsFromConfig: number; containersCreatedS: number[]; containersStartedS: number[] }> {
    const r = await this.change({ from: `${this.sets.canaryPercentage} % flags on`, to: "flags off" }, { enableStatelessOrchestration: "false", enableSafeJsonParser: "false" });
    const secondsToEffect = secondsUntilNone(this.load.samples, r.fromMs, (s) => s.flagsOn === true);
    // From the moment the new config was applied, the program's evaluation included (issue 22, fact 6).
    const secondsFromConfig = secondsUntilNone(this.load.samples, r.configAppliedMs, (s) => s.flagsOn === true);
    // Where the time went: when the new tasks' containers were created and started (the engine's clock).
    const ids = r.after.map((t) => t.containerId!).filter(Boolean);
    // On a multi-node Swarm a task's container is its node's: the manager's task records give when each was created and last changed state.
    const byContainer = ids.length > 0 ? await docker(["inspect", "--format", "{{.Created}} {{.State.StartedAt}}", ...ids]) : undefined;
    const times =
      byContainer === undefined ? [] : byContainer.code === 0 ? byContainer.stdout.trim().split("\n") : (await dockerOk(["inspect", "--type", "task", "--format", "{{json .CreatedAt}} {{json .Status.Timestamp}}", ...r.after.map((t) => t.id)])).replace(/"/g, "").split("\n");
    const rel = (iso: string) => round2((Date.parse(iso) - r.startedAtWallMs) / 1000);
    const created = times.map((l) => rel(l.split(" ")[0]));
    const started = times.map((l) => rel(l.split(" ")[1]));
    this.log(
      `immediate rollback: no request reached a flags-on replica ${secondsToEffect} s after the update started, ${secondsFromConfig} s after the config was applied (evaluation ${r.evaluationSeconds} s); the new containers were created at ${created.join(", ")} s and started at ${started.join(", ")} s`,
    );
    return { ...r, secondsToEffect, secondsFromConfig, containersCreatedS: created, containersStartedS: started };
  }

  /**
   * Release the bad image as the program declares the service (health-gated, start-first,
   * failure action rollback): Swarm must roll it back.
   */
  async badRelease(): Promise<ReleaseResult & { change: ChangeResult }> {
    const oldHosts = new Set(await hostnamesOf((await runningTasks(this.stack.service)).map((t) => t.containerId!)));
    const r = await this.change({ from: "good image", to: "bad image" }, { appImage: SCENARIO_IMAGES["reference-app-bad"] });
    const us = await updateStatus(this.stack.service);
    const afterHosts = new Set(await hostnamesOf(r.after.map((t) => t.containerId!)));
    const answered = within(this.load.samples, r.fromMs, r.toMs).filter(isOk);
    const oldTasksKeptServing =
      [...oldHosts].every((h) => afterHosts.has(h)) && afterHosts.size === oldHosts.size && answered.length > 0 && answered.every((s) => s.replica !== undefined && oldHosts.has(s.replica));
    return {
      requests: r.requests,
      failed: r.failed,
      rolledBack: (r.error instanceof ServiceRollbackError || r.error instanceof RolloutWaitError) && us?.State === "rollback_completed",
      oldTasksKeptServing,
      seconds: r.seconds,
      change: r,
    };
  }

  /**
   * The control: the same bad image, released without what protects the declared service
   * (stop-first, every task at once, failure action continue), measured for `seconds`, then the
   * declared spec restored (and converged) outside the measurement.
   */
  async control(seconds: number): Promise<ReleaseResult> {
    // The last spec that rolled out (after a failed release the stack records the failed one, as the provider's state does).
    const good = declaredService(this.ev).spec;
    const oldHosts = new Set(await hostnamesOf((await runningTasks(this.stack.service)).map((t) => t.containerId!)));
    const c = good.taskSpec.containerSpec;
    const bad: ServiceInputs = {
      ...good,
      taskSpec: { ...good.taskSpec, containerSpec: { ...c, image: SCENARIO_IMAGES["reference-app-bad"] } },
      updateConfig: { ...good.updateConfig, order: "stop-first", parallelism: 0, failureAction: "continue" },
    };
    const resource = declaredService(this.ev).resource.name;
    await this.steady();
    const fromMs = this.load.now();
    await dockerOk(["service", "update", ...serviceUpdateArgs(resource, good, bad).flags, this.stack.service], { timeoutMs: 120_000 });
    await sleep(seconds * 1000);
    const toMs = this.load.now();
    const w = windowStats(within(this.load.samples, fromMs, toMs));
    const afterHosts = new Set(await hostnamesOf((await runningTasks(this.stack.service)).map((t) => t.containerId!)));
    const us = await updateStatus(this.stack.service);
    const answered = within(this.load.samples, fromMs, toMs).filter(isOk);
    const kept = [...oldHosts].every((h) => afterHosts.has(h)) && answered.every((s) => s.replica !== undefined && oldHosts.has(s.replica));
    this.log(`control (bad image, stop-first, all at once, failure action continue): ${w.failed} failed of ${w.requests} in ${seconds} s; update ${us?.State}`);
    // Restore the declared spec (start-first again): not measured.
    const since = us?.StartedAt;
    await dockerOk(["service", "update", ...serviceUpdateArgs(resource, bad, good).flags, this.stack.service], { timeoutMs: 120_000 });
    await waitConverged(this.stack.service, good, { rollingUpdate: true, since, log: this.opts.log });
    await waitRolledOut(declaredWait(this.ev, this.stack.service), this.opts.log);
    this.stack.serviceSpec = good;
    await sleep(TAIL_MS);
    return { requests: w.requests, failed: w.failed, rolledBack: us?.State?.startsWith("rollback") ?? false, oldTasksKeptServing: kept, seconds };
  }

  /**
   * The one-time cut-over's only interruption (docs/swarm.md): the edge proxy replaced delete-first
   * onto the new network, as the engine replaces a container whose published host port only one
   * container can hold. The old proxy is stopped with its declared stop signal and grace period
   * and removed, then the new one is created, started and waited on until healthy. Everything
   * else the cut-over does happens beside the serving path (the new network and service converge
   * before the proxy moves; the old containers go after it). Needs proxyLoopbackPort.
   */
  async proxyReplacement(): Promise<ProxyReplacementResult> {
    if (!this.opts.proxyLoopbackPort) throw new Error("proxyReplacement needs ScenarioOptions.proxyLoopbackPort: the replacement must keep the load's address");
    await this.steady();
    const spec = this.stack.proxySpec;
    const old = this.stack.containers[spec.name];
    const fromMs = this.load.now();
    // The container was created with the declared stop signal and grace (test/support/declared.ts), which docker stop uses.
    await dockerOk(["stop", old], { timeoutMs: 120_000 });
    await this.scope.remove(old);
    const next = await startSpec(this.scope, spec);
    await waitHealthy(next, 60_000);
    const toMs = this.load.now();
    this.stack.containers[spec.name] = next;
    await sleep(2_000);
    const samples = within(this.load.samples, fromMs, toMs + 2_000);
    const w = windowStats(samples);
    const failed = samples.filter((x) => !isOk(x));
    const secondsWithoutService = failed.length === 0 ? 0 : round2((Math.max(...failed.map((x) => x.endMs)) - Math.min(...failed.map((x) => x.startMs))) / 1000);
    const r = { requests: w.requests, failed: w.failed, seconds: round2((toMs - fromMs) / 1000), secondsWithoutService };
    this.log(`proxy replaced delete-first (the cut-over's interruption): ${r.failed} failed of ${r.requests}, ${r.secondsWithoutService} s without service, ${r.seconds} s from stop to healthy`);
    return r;
  }

  /** Pause the dev PostgreSQL for `seconds` (connections hang, as in a network outage), then resume it. */
  async databaseOutage(seconds: number, during?: () => Promise<void>): Promise<{ fromMs: number; toMs: number }> {
    const pg = Object.entries(this.stack.containers).find(([name]) => name.includes("postgres"))?.[1];
    if (!pg) throw new Error(`no dev PostgreSQL container among ${Object.keys(this.stack.containers).join(", ")}`);
    const fromMs = this.load.now();
    // The cgroup freezer can fail to freeze a busy process ("unable to freeze"): try again, bounded.
    for (let attempt = 1; ; attempt++) {
      const r = await docker(["pause", pg]);
      if (r.code === 0) break;
      if (attempt === 10) throw new Error(`docker pause ${pg} failed ${attempt} times: ${r.stderr.trim()}`);
      await sleep(500);
    }
    try {
      await Promise.all([sleep(seconds * 1000), during?.()]);
    } finally {
      await dockerOk(["unpause", pg]);
    }
    return { fromMs, toMs: this.load.now() };
  }

  /** The tasks Swarm still records (task history limit 1) as failed or rejected. */
  async failedTasks(): Promise<Task[]> {
    return (await tasksOf(this.stack.service)).filter((t) => ["failed", "rejected"].includes(t.state));
  }

  /** agent_sessions rows the load's users wrote, by session id. */
  async rowsBySession(): Promise<Map<string, number>> {
    const admin = new Client({ connectionString: this.stack.adminUrl });
    await admin.connect();
    try {
      const r = await admin.query<{ session_id: string; n: string }>(
        "select session_id, count(*)::text as n from public.agent_sessions where user_id like $1 group by session_id",
        ["load-user-%"],
      );
      return new Map(r.rows.map((x) => [x.session_id, Number(x.n)]));
    } finally {
      await admin.end();
    }
  }

  /** Stop the load, then check each request's rows against its response (loadStats.ts checkRows). */
  async stopAndCheckRows(): Promise<{ samples: Sample[]; rows: RowCheck }> {
    const samples = await this.load.stop();
    return { samples, rows: checkRows(samples, await this.rowsBySession()) };
  }

  /** Stop the load; every sample. */
  async stop(): Promise<Sample[]> {
    return this.load.stop();
  }
}

const round2 = (x: number) => Math.round(x * 100) / 100;
