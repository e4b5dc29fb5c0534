/**
 * `npm run bench:stage-change` (issue 15): the dev stack as declared, with the
 * app as a Swarm service of 3 replicas, on this machine's Docker engine and
 * single-node Swarm, under constant load through the edge proxy on loopback
 * (the guide's POST /api/agent/query from 400 users over 16 connections,
 * bounded in time). The scenario is test/support/swarmScenario.ts, the same
 * code the [docker] suite runs:
 *
 *   stage 0 → 10 → 25 → 50 → 75 → 100 → 0, then 0 → 50 and the guide's
 *   immediate rollback (both flags off) from 50 %, timed from the update and from
 *   the moment the config was applied (evaluation included); then a bad image
 *   (listens, answers 500, fails its health check); then a release that dies 12 s
 *   after start (must be rolled back inside the soak, 0 failed); then the control
 *   (the same bad image stop-first, all at once, failure action continue); then
 *   3 → 5 → 3 replicas and 3 → 4 → 3 with the tasks kept counted;
 *   then the one-time cut-over's only interruption: the edge proxy replaced
 *   delete-first (published on a free loopback port so the load keeps its address).
 *
 *   npm run bench:stage-change             # a table; figures written to out/bench/stage-change.md
 *   npm run bench:stage-change -- --json   # one JSON object (the issue's shape) on stdout
 *
 * Needs what the [docker] suites need: an engine that is an active Swarm
 * manager (docker swarm init --advertise-addr 127.0.0.1) and the local images
 * (npm run images). Everything it creates carries the test labels and is
 * removed at the end, also on failure or Ctrl-C.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { freeLoopbackPort } from "../db/embeddedPostgres";
import { DockerScope, docker, engineVersion } from "../test/support/docker";
import { SWARM_INIT_COMMAND, swarmState } from "../test/support/swarm";
import { ChangeResult, ProxyReplacementResult, ReleaseResult, SCENARIO_IMAGES, SwarmScenario } from "../test/support/swarmScenario";
import { updateStatus } from "../test/support/service";

type ChangeEntry = Pick<ChangeResult, "from" | "to" | "requests" | "failed" | "p50Ms" | "p99Ms" | "steadyP50Ms" | "steadyP99Ms" | "seconds">;
export interface StageChangeBench {
  changes: ChangeEntry[];
  immediateRollback: {
    requests: number;
    failed: number;
    secondsToEffect: number;
    /** From the moment the new config was applied (program evaluation under the mock runtime included) to the last flags-on answer (issue 22, fact 6). */
    secondsFromConfig: number;
    evaluationSeconds: number;
    /** When the provider's converge returned, and when `up` (with the wait after the service) did, from the update. */
    convergedSeconds: number;
    upSeconds: number;
  };
  /** A replica change 3 → 4 → 3: how many of the tasks that ran before each step still run after it. */
  replicaChange: Array<{ from: string; to: string; tasksBefore: number; tasksKept: number; requests: number; failed: number }>;
  /** A release whose tasks die 12 s after start (healthy first): Swarm must roll it back inside the soak (goal: 0 failed). */
  diesAfter12s: { requests: number; failed: number; rolledBack: boolean; upFailed: boolean; error: string | undefined; seconds: number };
  badRelease: ReleaseResult;
  control: ReleaseResult;
  /** The cut-over's one interruption (docs/swarm.md): not part of the round trip's goal. */
  cutOver: { proxyReplacement: ProxyReplacementResult };
}

const json = process.argv.includes("--json");
/** Only the pieces issue 22 added (a stage change to have flags on, the immediate rollback, the release dying at 12 s, 3 → 4 → 3): about 5 min instead of the whole run. */
const only22 = process.argv.includes("--issue22");
const say = (l: string) => (json ? process.stderr : process.stdout).write(`${l}\n`);
const entry = (r: ChangeResult): ChangeEntry => ({ from: r.from, to: r.to, requests: r.requests, failed: r.failed, p50Ms: r.p50Ms, p99Ms: r.p99Ms, steadyP50Ms: r.steadyP50Ms, steadyP99Ms: r.steadyP99Ms, seconds: r.seconds });

async function main(): Promise<number> {
  if (!(await engineVersion())) throw new Error("no Docker engine answers `docker info`; start one with: sudo .ci/start-dockerd");
  const sw = await swarmState();
  if (sw.state !== "active" || !sw.manager) throw new Error(`this engine is not an active Swarm manager (${sw.state}); start one with: ${SWARM_INIT_COMMAND}`);
  for (const [key, t] of Object.entries(SCENARIO_IMAGES)) {
    if ((await docker(["image", "inspect", "--format", "{{.Id}}", t])).code !== 0) throw new Error(`local image ${t} is missing; build with: npm run images -- ${key}`);
  }
  const load0 = os.loadavg()[0];
  const t0 = Date.now();
  const scope = new DockerScope("bench");
  // One cleanup, whoever asks first (Ctrl-C or the end of the run): two at once each took half the list,
  // and the first to finish exited under the other (a container and a network were left, seen once).
  let cleaning: Promise<void> | undefined;
  const cleanup = () => (cleaning ??= scope.cleanup().catch(() => undefined));
  process.once("SIGINT", () => void cleanup().then(() => process.exit(130)));
  try {
    const sc = await SwarmScenario.start(scope, { connections: 16, users: 400, maxSeconds: 1800, maxRequests: 5_000_000, steadySeconds: 5, proxyLoopbackPort: await freeLoopbackPort(), log: say });
    if (only22) return await issue22Pieces(sc);
    const changes: ChangeResult[] = [];
    const stages = ["0", "10", "25", "50", "75", "100", "0", "50"];
    for (let i = 1; i < stages.length; i++) changes.push(await sc.change({ from: `stage ${stages[i - 1]}`, to: `stage ${stages[i]}` }, { canaryPercentage: stages[i] }));
    const ir = await sc.immediateRollback();
    const bad = await sc.badRelease();
    const dies = await sc.change({ from: "good image", to: "dies 12 s after start" }, { appImage: SCENARIO_IMAGES["reference-app-dies"] });
    const diesUs = await updateStatus(sc.stack.service);
    const control = await sc.control(25);
    changes.push(await sc.change({ from: "3 replicas", to: "5 replicas" }, { appReplicas: "5" }));
    changes.push(await sc.change({ from: "5 replicas", to: "3 replicas" }, { appReplicas: "3" }));
    const replicaChange = await replicaSteps(sc);
    const proxyReplacement = await sc.proxyReplacement();
    const { samples, rows: check } = await sc.stopAndCheckRows();
    const ok = check.ok;
    const rowsOk = check.okWithOneRow === ok && check.writtenTwice === 0 && check.rowsOfFailed === 0 && check.unknownRows === 0;
    const result: StageChangeBench = {
      changes: changes.map(entry),
      immediateRollback: {
        requests: ir.requests,
        failed: ir.failed,
        secondsToEffect: ir.secondsToEffect,
        secondsFromConfig: ir.secondsFromConfig,
        evaluationSeconds: ir.evaluationSeconds,
        convergedSeconds: ir.convergedSeconds,
        upSeconds: ir.seconds,
      },
      replicaChange,
      diesAfter12s: { requests: dies.requests, failed: dies.failed, rolledBack: diesUs?.State === "rollback_completed", upFailed: dies.error !== undefined, error: dies.error?.message, seconds: dies.seconds },
      badRelease: { requests: bad.requests, failed: bad.failed, rolledBack: bad.rolledBack, oldTasksKeptServing: bad.oldTasksKeptServing, seconds: bad.seconds },
      control,
      cutOver: { proxyReplacement },
    };
    const machine = `${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? "unknown"}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Linux ${os.release()}, Docker ${await engineVersion()}, Node ${process.version}; load average ${load0.toFixed(1)} at the start, ${os.loadavg()[0].toFixed(1)} at the end; ${((Date.now() - t0) / 1000).toFixed(0)} s in all`;
    const md = render(result, machine, { requests: samples.length, ok, rows: check.okWithOneRow + check.rowsOfFailed, rowsOk });
    const out = path.join(__dirname, "..", "out", "bench");
    fs.mkdirSync(out, { recursive: true });
    fs.writeFileSync(path.join(out, "stage-change.md"), md);
    fs.writeFileSync(path.join(out, "stage-change.json"), JSON.stringify(result, null, 2) + "\n");
    if (json) process.stdout.write(JSON.stringify(result) + "\n");
    else process.stdout.write(`\n${md}`);
    const roundTripFailed = result.changes.reduce((n, c) => n + c.failed, 0) + result.immediateRollback.failed;
    // Goals: 0 failed over the round trip and the bad release; the control must see failures; one row per 2xx.
    return roundTripFailed === 0 && result.badRelease.failed === 0 && result.control.failed > 0 && rowsOk ? 0 : 1;
  } finally {
    await cleanup();
  }
}

/** 3 → 4 → 3 replicas, counting the tasks each step keeps. */
async function replicaSteps(sc: SwarmScenario): Promise<StageChangeBench["replicaChange"]> {
  const out: StageChangeBench["replicaChange"] = [];
  for (const [from, to] of [["3", "4"], ["4", "3"]]) {
    const r = await sc.change({ from: `${from} replicas`, to: `${to} replicas` }, { appReplicas: to });
    const before = new Set(r.before.map((t) => t.id));
    out.push({ from: r.from, to: r.to, tasksBefore: before.size, tasksKept: r.after.filter((t) => before.has(t.id)).length, requests: r.requests, failed: r.failed });
  }
  return out;
}

/** `--issue22`: the pieces issue 22 added, alone; written to out/bench/stage-change-issue22.json. */
async function issue22Pieces(sc: SwarmScenario): Promise<number> {
  await sc.change({ from: "stage 0", to: "stage 10" }, { canaryPercentage: "10" });
  const ir = await sc.immediateRollback();
  const dies = await sc.change({ from: "good image", to: "dies 12 s after start" }, { appImage: SCENARIO_IMAGES["reference-app-dies"] });
  const diesUs = await updateStatus(sc.stack.service);
  const replicaChange = await replicaSteps(sc);
  const result = {
    immediateRollback: { requests: ir.requests, failed: ir.failed, secondsToEffect: ir.secondsToEffect, secondsFromConfig: ir.secondsFromConfig, evaluationSeconds: ir.evaluationSeconds, convergedSeconds: ir.convergedSeconds, upSeconds: ir.seconds },
    diesAfter12s: { requests: dies.requests, failed: dies.failed, rolledBack: diesUs?.State === "rollback_completed", upFailed: dies.error !== undefined, error: dies.error?.message, seconds: dies.seconds },
    replicaChange,
    loadAverage: os.loadavg()[0],
  };
  const out = path.join(__dirname, "..", "out", "bench");
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(path.join(out, "stage-change-issue22.json"), JSON.stringify(result, null, 2) + "\n");
  process.stdout.write(JSON.stringify(result, null, 2) + "\n");
  return dies.failed === 0 && result.diesAfter12s.rolledBack ? 0 : 1;
}

function render(r: StageChangeBench, machine: string, totals: { requests: number; ok: number; rows: number; rowsOk: boolean }): string {
  const lines = [
    "# Stage-change benchmark (the app as a Swarm service)",
    "",
    `Machine: ${machine}.`,
    "",
    "| change | requests | failed | p50 / p99 during (ms) | p50 / p99 steady (ms) | seconds |",
    "|---|---:|---:|---:|---:|---:|",
    ...r.changes.map((c) => `| ${c.from} → ${c.to} | ${c.requests} | ${c.failed} | ${c.p50Ms} / ${c.p99Ms} | ${c.steadyP50Ms} / ${c.steadyP99Ms} | ${c.seconds} |`),
    "",
    "| | requests | failed | rolled back | old tasks kept serving | seconds |",
    "|---|---:|---:|---|---|---:|",
    `| bad image (declared service) | ${r.badRelease.requests} | ${r.badRelease.failed} | ${r.badRelease.rolledBack} | ${r.badRelease.oldTasksKeptServing} | ${r.badRelease.seconds} |`,
    `| control (stop-first, all at once, continue) | ${r.control.requests} | ${r.control.failed} | ${r.control.rolledBack} | ${r.control.oldTasksKeptServing} | ${r.control.seconds} |`,
    "",
    `Immediate rollback (both flags off from 50 %, parallelism 0): ${r.immediateRollback.failed} failed of ${r.immediateRollback.requests}; no request reached a flags-on replica ${r.immediateRollback.secondsToEffect} s after the update started, ${r.immediateRollback.secondsFromConfig} s after the new config was applied (the program's evaluation under the mock runtime, ${r.immediateRollback.evaluationSeconds} s, included; goal ≤ 15 s). The provider's converge returned at ${r.immediateRollback.convergedSeconds} s, \`up\` (the wait after the service, soak included) at ${r.immediateRollback.upSeconds} s.`,
    "",
    "| replica change | tasks before | tasks kept | requests | failed |",
    "|---|---:|---:|---:|---:|",
    ...r.replicaChange.map((c) => `| ${c.from} → ${c.to} | ${c.tasksBefore} | ${c.tasksKept} | ${c.requests} | ${c.failed} |`),
    "",
    `A release dying 12 s after start (healthy first): ${r.diesAfter12s.failed} failed of ${r.diesAfter12s.requests} (goal 0); rolled back by Swarm: ${r.diesAfter12s.rolledBack}; \`up\` failed: ${r.diesAfter12s.upFailed}${r.diesAfter12s.error ? ` (${r.diesAfter12s.error})` : ""}; ${r.diesAfter12s.seconds} s.`,
    "",
    `Cut-over (the edge proxy replaced delete-first, the one step on the serving path): ${r.cutOver.proxyReplacement.failed} failed of ${r.cutOver.proxyReplacement.requests}; ${r.cutOver.proxyReplacement.secondsWithoutService} s without service; ${r.cutOver.proxyReplacement.seconds} s from the old proxy's stop until the new one was healthy.`,
    "",
    `Whole run: ${totals.requests} requests, ${totals.ok} 2xx, ${totals.rows} agent_sessions rows written by the load's requests (${totals.rowsOk ? "exactly one per 2xx, none for a failed request, none twice" : "NOT one per 2xx: see out/bench/stage-change.json"}).`,
    "",
  ];
  return lines.join("\n");
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    process.stderr.write(`bench:stage-change: ${err.message}\n`);
    process.exit(1);
  },
);
