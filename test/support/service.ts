/**
 * Applies a declared `docker.Service` to the real Swarm the way docker
 * provider 5.2.0 does (issue 15): `docker service create` with the declared
 * spec, then, for a change, an in-place `docker service update` of only the
 * changed fields (test/support/serviceSpec.ts builds both argument lists),
 * and then waits as the provider's `convergeConfig` makes `pulumi up` wait
 * (its `resourceDockerServiceUpdateRefreshFunc`, issue 22 fact 3): every
 * `delay`, until every slot has *a* running task, old ones included, or it
 * reads `UpdateState: completed`, which can be the previous update's. That is
 * NOT "rolled out": the program's RolloutWait (components/rolloutWait.ts) is
 * what waits for that, and SwarmScenario runs it after this, as `pulumi up`
 * does. It fails with the provider's "service rollback completed" when it
 * reads Swarm's rollback, and after `timeout`. A failed update leaves the
 * state the provider leaves: the new spec recorded (test/support/stack.ts).
 *
 * Like the provider, every update re-sends the task env in a new order (the provider builds it from a
 * Go map: issue 22 fact 2), so an env of two or more entries restarts every task on any update, a replica
 * or label change included (resendEnvShuffled).
 *
 * It exercises the declared resource on a real Swarm; it is not `pulumi up`:
 * no provider, no state, no diff engine (the change is computed from two
 * evaluations), no replacement of the service.
 */
import * as http from "node:http";
import type { DockerScope } from "./docker";
import { docker, dockerOk } from "./docker";
import { ServiceInputs, convergeOf, replicasOf, serviceCreateArgs, serviceUpdateArgs } from "./serviceSpec";
import { parseEnvCommand } from "../../core/appCommand";

/** `pulumi up` failed because Swarm rolled the update back (the provider's error, and the service's state). */
export class ServiceRollbackError extends Error {
  constructor(readonly service: string, readonly updateState: string, readonly updateMessage: string) {
    // The provider's words exactly (what a failed `pulumi up` prints under the service's URN): once Swarm's
    // rollback has completed, its message is "rollback completed" (core/swarm.ts ROLLBACK_UP_ERROR).
    super(`service rollback completed: ${updateMessage}`);
    this.name = "ServiceRollbackError";
  }
}

interface UpdateStatus {
  State?: string;
  StartedAt?: string;
  CompletedAt?: string;
  Message?: string;
}

/** The service's UpdateStatus (undefined before its first rolling update). */
export async function updateStatus(service: string): Promise<UpdateStatus | undefined> {
  const out = await dockerOk(["service", "inspect", "--format", "{{json .UpdateStatus}}", service]);
  const v = JSON.parse(out) as UpdateStatus | null;
  return v ?? undefined;
}

export interface Task {
  id: string;
  slot: number;
  desiredState: string;
  state: string;
  /** The task's container id (undefined before it has one). */
  containerId: string | undefined;
  image: string;
  /** The environment the app's process gets: the task's env, then the settings its args set through /usr/bin/env (core/appCommand.ts). */
  env: string[];
  error: string | undefined;
}

interface TaskJson {
  ID: string;
  Slot?: number;
  DesiredState: string;
  Status: { State: string; Err?: string; ContainerStatus?: { ContainerID?: string } };
  Spec: { ContainerSpec: { Image: string; Env?: string[]; Args?: string[] } };
}

/** Every task of the service Swarm still records (the task history limit bounds the old ones). */
export async function tasksOf(service: string): Promise<Task[]> {
  const ids = (await dockerOk(["service", "ps", "--no-trunc", "--quiet", service])).split("\n").filter(Boolean);
  if (ids.length === 0) return [];
  const r = await docker(["inspect", "--type", "task", ...ids]);
  // A task removed between the two calls makes inspect exit 1 but still print the others.
  const parsed = JSON.parse(r.stdout.trim() || "[]") as TaskJson[];
  return parsed.map((t) => ({
    id: t.ID,
    slot: t.Slot ?? 0,
    desiredState: t.DesiredState,
    state: t.Status.State,
    containerId: t.Status.ContainerStatus?.ContainerID || undefined,
    image: t.Spec.ContainerSpec.Image,
    env: [...(t.Spec.ContainerSpec.Env ?? []), ...Object.entries(parseEnvCommand(t.Spec.ContainerSpec.Args)?.settings ?? {}).map(([k, v]) => `${k}=${v}`)],
    error: t.Status.Err || undefined,
  }));
}

/** The tasks Swarm wants running and that run (healthy, when the spec has a health check). */
export async function runningTasks(service: string): Promise<Task[]> {
  return (await tasksOf(service)).filter((t) => t.desiredState === "running" && t.state === "running");
}

/**
 * The running tasks once the list has settled: `want` of them run and no task Swarm wants running is
 * still starting. Right after a converged update `docker service ps` can still show a slot between
 * tasks (the replaced one draining, or a new one not yet running); counting then reads a transient.
 * Polls every 500 ms for at most `timeoutMs`, then returns what runs, so that a caller's assertion
 * reports the unsettled list rather than hanging.
 */
export async function settledTasks(service: string, want: number, timeoutMs = 20_000): Promise<Task[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const all = await tasksOf(service);
    const running = all.filter((t) => t.desiredState === "running" && t.state === "running");
    const starting = all.filter((t) => t.desiredState === "running" && t.state !== "running");
    if ((running.length === want && starting.length === 0) || Date.now() > deadline) return running;
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** The host names of containers (what the reference app's replica header carries). */
export async function hostnamesOf(containerIds: readonly string[]): Promise<string[]> {
  if (containerIds.length === 0) return [];
  const r = await docker(["inspect", "--format", "{{.Config.Hostname}}", ...containerIds]);
  if (r.code === 0) return r.stdout.split("\n").filter(Boolean);
  // A task on another node (the multi-node harness): its container is that node's engine's, not this one's.
  // Docker names a container's host after its id's first 12 characters; the declared service sets no hostname.
  return containerIds.map((id) => id.slice(0, 12));
}

export interface Converged {
  /** How long the wait took (the provider's `up` holds this long). */
  seconds: number;
  updateState: string | undefined;
}

/**
 * Wait as the provider's convergeConfig does: poll every `delay` until every slot has a running task
 * (old ones included) or UpdateStatus says `completed` (whichever update it belongs to). Throws
 * ServiceRollbackError when it reads a completed rollback, an error on a paused update or after
 * `timeout`. `rollingUpdate` and `since` are kept for callers and no longer change the wait: the
 * provider knows neither.
 */
export async function waitConverged(service: string, spec: ServiceInputs, opts: { rollingUpdate: boolean; since?: string; log?: (l: string) => void }): Promise<Converged> {
  const t0 = Date.now();
  const converge = convergeOf(spec);
  if (!converge) return { seconds: 0, updateState: (await updateStatus(service))?.State };
  const want = replicasOf(spec);
  const deadline = t0 + converge.timeoutMs;
  for (;;) {
    const us = await updateStatus(service);
    if (us?.State === "rollback_completed") throw new ServiceRollbackError(service, us.State, us.Message ?? "");
    if (us?.State === "paused" || us?.State === "rollback_paused") throw new Error(`service ${service}: update ${us.State}: ${us.Message ?? ""}`);
    if (us?.State === "completed") return { seconds: (Date.now() - t0) / 1000, updateState: us.State };
    const slots = new Set((await runningTasks(service)).map((t) => t.slot));
    if (slots.size >= want) return { seconds: (Date.now() - t0) / 1000, updateState: us?.State };
    const pending = `every slot to have a running task (${slots.size} of ${want}; update ${us?.State ?? "none"})`;
    if (Date.now() + converge.delayMs > deadline) {
      throw new Error(`service ${service}: did not converge within ${converge.timeoutMs / 1000} s (convergeConfig.timeout): waiting for ${pending}`);
    }
    opts.log?.(`service ${service}: waiting for ${pending}`);
    await new Promise((r) => setTimeout(r, converge.delayMs));
  }
}

export interface CreatedService {
  name: string;
  converged: Converged;
}

/** `docker service create` of the declared spec in `scope` (removed by its cleanup), then the convergence wait. */
export async function createService(scope: DockerScope, resource: string, spec: ServiceInputs, networks: Readonly<Record<string, string>>, log?: (l: string) => void): Promise<CreatedService> {
  const c = serviceCreateArgs(resource, spec, { networks });
  const name = await scope.service(resource, c.flags, c.image, c.args);
  const converged = await waitConverged(name, spec, { rollingUpdate: false, log });
  return { name, converged };
}

export interface UpdatedService {
  /** The fields the update changed (dotted input paths). */
  changed: string[];
  /** The `docker service update` flags sent. */
  flags: string[];
  converged: Converged;
}

/**
 * An in-place `docker service update` from the declared `before` to `after` (only the changed
 * fields), then the convergence wait. Throws ServiceRollbackError when Swarm rolled it back.
 */
export async function updateService(service: string, resource: string, before: ServiceInputs, after: ServiceInputs, log?: (l: string) => void): Promise<UpdatedService> {
  const u = serviceUpdateArgs(resource, before, after);
  if (u.flags.length === 0) return { changed: [], flags: [], converged: { seconds: 0, updateState: (await updateStatus(service))?.State } };
  const since = (await updateStatus(service))?.StartedAt;
  await dockerOk(["service", "update", ...u.flags, service], { timeoutMs: 120_000 });
  // The provider sends the whole spec on every update, its env built from a Go map: a new order each time.
  const shuffled = await resendEnvShuffled(service);
  if (shuffled) log?.(`service ${service}: the env re-sent in a new order, as the provider does`);
  const converged = await waitConverged(service, after, { rollingUpdate: u.rollingUpdate || shuffled, since, log });
  return { changed: shuffled ? [...u.changed, "taskSpec.containerSpec.env (order)"] : u.changed, flags: u.flags, converged };
}

/**
 * Where the engine's API is: DOCKER_HOST when it is a unix socket or plain TCP (the multi-node harness's manager,
 * test/support/multiNode.ts), else the default socket.
 */
function engineTarget(): { socketPath: string } | { host: string; port: number } {
  const h = process.env.DOCKER_HOST;
  if (h === undefined || h === "") return { socketPath: "/var/run/docker.sock" };
  if (h.startsWith("unix://")) return { socketPath: h.slice("unix://".length) };
  const m = /^tcp:\/\/([^:/]+):(\d+)\/?$/.exec(h);
  if (m) return { host: m[1], port: Number(m[2]) };
  throw new Error(`DOCKER_HOST=${h}: the harness re-sends a service's spec through the engine's API on a unix socket or plain tcp://host:port only`);
}

function engineRequest(method: "GET" | "POST", path: string, body?: unknown): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(
      { ...engineTarget(), method, path, headers: data === undefined ? {} : { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(data) }, timeout: 60_000 },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (text += c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on("timeout", () => req.destroy(new Error(`${method} ${path}: no answer from the engine in 60 s`)));
    req.on("error", reject);
    req.end(data);
  });
}

/** A permutation of `xs` that differs from it (for two or more distinct items). */
export function anotherOrder<T>(xs: readonly T[], random: () => number = Math.random): T[] {
  if (new Set(xs).size < 2) return [...xs];
  for (;;) {
    const out = [...xs];
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [out[i], out[j]] = [out[j], out[i]];
    }
    if (out.some((x, i) => x !== xs[i])) return out;
  }
}

/**
 * What docker provider 5.2.0 does on every update of a service (issue 22 fact 2): it sends the whole spec,
 * `ContainerSpec.Env` built from a Go map, so in a new order. The `docker service update` above changed only
 * the changed fields and kept the env's order; this re-sends the service's spec with its env in another order
 * (the engine's API: the CLI cannot choose an order). Swarm compares task templates including the env's order:
 * with two or more entries it is a new template and a rolling restart of every task. Returns whether it did.
 */
export async function resendEnvShuffled(service: string): Promise<boolean> {
  const got = await engineRequest("GET", `/services/${encodeURIComponent(service)}`);
  if (got.status !== 200) throw new Error(`GET /services/${service}: ${got.status} ${got.text}`);
  const svc = JSON.parse(got.text) as { ID: string; Version: { Index: number }; Spec: { TaskTemplate: { ContainerSpec: { Env?: string[] } } } };
  const env = svc.Spec.TaskTemplate.ContainerSpec.Env ?? [];
  if (new Set(env).size < 2) return false;
  svc.Spec.TaskTemplate.ContainerSpec.Env = anotherOrder(env);
  const put = await engineRequest("POST", `/services/${svc.ID}/update?version=${svc.Version.Index}`, svc.Spec);
  if (put.status !== 200) throw new Error(`POST /services/${service}/update: ${put.status} ${put.text}`);
  return true;
}
