/**
 * Whether the app's Swarm service has rolled out what this `pulumi up` declared,
 * and what runs, from Swarm's own records (the Engine API's service and task
 * JSON). Pure: no I/O, no clock (the time is passed in). Two readers:
 * components/rolloutWait.ts (the wait after the service, so that `pulumi up`
 * succeeds only once the update is rolled out, issue 22 fact 3) and
 * `rollout status` (what runs after a failed `up`, fact 4). The reading is
 * program/swarmService.ts.
 */
import { parseEnvCommand } from "./appCommand";

/** The Engine API's UpdateStatus (absent before the first rolling update and right after a scale). */
export interface SwarmUpdateStatus {
  State?: string;
  StartedAt?: string;
  CompletedAt?: string;
  Message?: string;
}

/** The fields of a task's container spec that a change of the app alters (what "runs the new spec" compares). */
export interface SwarmContainerSpec {
  Image?: string;
  Env?: string[];
  Args?: string[];
  Command?: string[];
}

/** `GET /services/{id}`, the fields read. */
export interface SwarmServiceView {
  ID: string;
  UpdatedAt?: string;
  Spec: {
    Name?: string;
    Labels?: Record<string, string>;
    TaskTemplate: { ContainerSpec?: SwarmContainerSpec; ForceUpdate?: number };
    Mode?: { Replicated?: { Replicas?: number } };
  };
  UpdateStatus?: SwarmUpdateStatus | null;
}

/** `GET /tasks?filters={"service":[id]}`, the fields read. */
export interface SwarmTaskView {
  ID: string;
  Slot?: number;
  DesiredState: string;
  Spec: { ContainerSpec?: SwarmContainerSpec; ForceUpdate?: number };
  Status: { State: string; Timestamp?: string; Err?: string; ContainerStatus?: { ExitCode?: number } };
}

/** What this `pulumi up` declared, as Swarm records it on the service (plain values only: the env is a secret). */
export interface RolloutExpectation {
  image: string;
  /** The service labels the program declares (the rollout stage and flags among them). */
  labels: Record<string, string>;
  replicas: number;
}

export type RolloutVerdict =
  | { kind: "rolledOut"; summary: string }
  | { kind: "waiting"; reason: string }
  | { kind: "failed"; message: string };

/** Swarm's update states that end an update which did not roll out. */
const ROLLED_BACK = "rollback_completed";
const HALTED = ["paused", "rollback_paused"];
const IN_PROGRESS = ["updating", "rollback_started"];

/** The image as declared, whether or not Swarm pinned its digest (`image@sha256:…`). */
export function sameImage(running: string | undefined, declared: string): boolean {
  if (running === undefined) return false;
  return running === declared || running.startsWith(`${declared}@`) || declared.startsWith(`${running}@`);
}

/** Which declared values the service's spec does not carry (empty: the spec in force is the declared one). */
export function specMismatch(service: SwarmServiceView, expected: RolloutExpectation): string[] {
  const out: string[] = [];
  const image = service.Spec.TaskTemplate.ContainerSpec?.Image;
  if (!sameImage(image, expected.image)) out.push(`image ${image ?? "(none)"} (declared ${expected.image})`);
  for (const [k, v] of Object.entries(expected.labels)) {
    const got = service.Spec.Labels?.[k];
    if (got !== v) out.push(`label ${k}=${got ?? "(none)"} (declared ${v})`);
  }
  const replicas = service.Spec.Mode?.Replicated?.Replicas;
  if (replicas !== expected.replicas) out.push(`replicas ${replicas ?? "(none)"} (declared ${expected.replicas})`);
  return out;
}

/** True when the task was created from the service's current task template (image, env in order, args, command, force-update counter). */
export function runsCurrentSpec(task: SwarmTaskView, service: SwarmServiceView): boolean {
  const a = task.Spec.ContainerSpec ?? {};
  const b = service.Spec.TaskTemplate.ContainerSpec ?? {};
  const same = (x: readonly string[] | undefined, y: readonly string[] | undefined) => JSON.stringify(x ?? []) === JSON.stringify(y ?? []);
  return a.Image === b.Image && same(a.Env, b.Env) && same(a.Args, b.Args) && same(a.Command, b.Command) && (task.Spec.ForceUpdate ?? 0) === (service.Spec.TaskTemplate.ForceUpdate ?? 0);
}

const wanted = (tasks: readonly SwarmTaskView[]) => tasks.filter((t) => t.DesiredState === "running");

/**
 * The decision, one poll at a time:
 *
 * - the spec in force is not the declared one: Swarm rolled the update back (`failed`, with Swarm's
 *   own `UpdateStatus.Message`), or is rolling it back (`waiting` for the rollback to finish, so the
 *   message is final), or someone else changed the service (`failed`);
 * - the update is paused (`failed`, Swarm's message);
 * - Swarm's update of this spec is still in progress (`waiting`);
 * - otherwise the tasks decide, whatever UpdateStatus says (it is absent after a scale, and a
 *   `completed` can be an older update's): `replicas` tasks run, every one from the current
 *   template, each running for at least `soakSeconds`, and none is still starting.
 */
export function judgeRollout(a: {
  expected: RolloutExpectation;
  service: SwarmServiceView;
  tasks: readonly SwarmTaskView[];
  soakSeconds: number;
  nowMs: number;
}): RolloutVerdict {
  const { service, expected } = a;
  const us = service.UpdateStatus ?? undefined;
  const state = us?.State;
  const said = us?.Message ? `: ${us.Message}` : "";
  const mismatch = specMismatch(service, expected);
  if (mismatch.length > 0) {
    if (state === ROLLED_BACK) return { kind: "failed", message: `Swarm rolled the update back (${state}${said}); the service runs ${mismatch.join(", ")}` };
    if (state === "rollback_started") return { kind: "waiting", reason: `Swarm is rolling the update back${said}` };
    if (state && HALTED.includes(state)) return { kind: "failed", message: `Swarm's update is ${state}${said}` };
    return { kind: "failed", message: `the service does not run the declared spec: ${mismatch.join(", ")}` };
  }
  if (state && HALTED.includes(state)) return { kind: "failed", message: `Swarm's update is ${state}${said}` };
  if (state && IN_PROGRESS.includes(state)) return { kind: "waiting", reason: `Swarm's update is ${state}${said}` };

  const want = wanted(a.tasks);
  const running = want.filter((t) => t.Status.State === "running");
  const old = running.filter((t) => !runsCurrentSpec(t, service));
  if (old.length > 0) return { kind: "waiting", reason: `${old.length} running task(s) still run the previous spec` };
  const starting = want.filter((t) => t.Status.State !== "running");
  if (starting.length > 0) return { kind: "waiting", reason: `${starting.length} task(s) not running yet (${[...new Set(starting.map((t) => t.Status.State))].join(", ")})` };
  if (running.length !== expected.replicas) return { kind: "waiting", reason: `${running.length} of ${expected.replicas} tasks running` };
  const young = running.filter((t) => {
    const since = t.Status.Timestamp ? Date.parse(t.Status.Timestamp) : NaN;
    return !(a.nowMs - since >= a.soakSeconds * 1000);
  });
  if (young.length > 0) return { kind: "waiting", reason: `${young.length} task(s) running for less than the ${a.soakSeconds} s soak` };
  return { kind: "rolledOut", summary: `${running.length} of ${expected.replicas} tasks run ${service.Spec.TaskTemplate.ContainerSpec?.Image ?? "?"} for at least ${a.soakSeconds} s${state ? ` (update ${state})` : ""}` };
}

/** The recovery after Swarm rolled an update back (docs/RUNBOOK.md says it in these words; test/rollout/workflow.test.ts checks). */
export const RECOVERY_AFTER_ROLLBACK = "revert the config, then `pulumi up --refresh`";

/** What runs, for `rollout status`: the tasks' images and flags, and what Swarm says of the last update. */
export interface SwarmRunning {
  service: string;
  /** Each distinct image among the running tasks, with how many run it. */
  images: Array<{ image: string; tasks: number }>;
  /** Each distinct flag setting among the running tasks (read from their env and the settings their args set), with how many run it. */
  flags: Array<{ values: Record<string, string>; tasks: number }>;
  updateState: string | undefined;
  updateMessage: string | undefined;
  /** True when Swarm's last update of the service was rolled back (the spec in force is the previous one). */
  rolledBack: boolean;
}

/** Interpret the service and its tasks; `flagNames` are the env names whose values are shown (never a secret). */
export function swarmRunning(service: SwarmServiceView, tasks: readonly SwarmTaskView[], flagNames: readonly string[]): SwarmRunning {
  const running = wanted(tasks).filter((t) => t.Status.State === "running");
  const images = new Map<string, number>();
  const flags = new Map<string, { values: Record<string, string>; tasks: number }>();
  for (const t of running) {
    const image = t.Spec.ContainerSpec?.Image ?? "?";
    images.set(image, (images.get(image) ?? 0) + 1);
    const values: Record<string, string> = {};
    for (const e of t.Spec.ContainerSpec?.Env ?? []) {
      const i = e.indexOf("=");
      const k = i < 0 ? e : e.slice(0, i);
      if (flagNames.includes(k)) values[k] = i < 0 ? "" : e.slice(i + 1);
    }
    // The settings the task's args set through /usr/bin/env (issue 22 fact 2: where the flags live now) win, as in the process.
    for (const [k, v] of Object.entries(parseEnvCommand(t.Spec.ContainerSpec?.Args)?.settings ?? {})) if (flagNames.includes(k)) values[k] = v;
    // In the caller's order, wherever the task set them (the args are sorted by name).
    const ordered = Object.fromEntries(flagNames.filter((n) => n in values).map((n) => [n, values[n]]));
    const key = JSON.stringify(flagNames.map((n) => values[n] ?? null));
    const f = flags.get(key) ?? { values: ordered, tasks: 0 };
    f.tasks++;
    flags.set(key, f);
  }
  const us = service.UpdateStatus ?? undefined;
  return {
    service: service.Spec.Name ?? service.ID,
    images: [...images].map(([image, n]) => ({ image, tasks: n })),
    flags: [...flags.values()],
    updateState: us?.State,
    updateMessage: us?.Message,
    rolledBack: us?.State === ROLLED_BACK,
  };
}
