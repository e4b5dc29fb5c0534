/**
 * Read a Swarm service and its tasks from the Docker engine the program deploys
 * to (core/swarmCheck.ts dockerTarget: `DOCKER_HOST`, the stack's `docker:host`,
 * the docker context), asynchronously. I/O only; what the answer means is
 * core/rollout.ts. Used by the rollout wait's dynamic provider (serialized into
 * the state by the SDK, so it imports nothing but Node built-ins and types) and
 * by `rollout status`.
 *
 * A local socket or a plain tcp:// engine is asked through the Engine API; an
 * engine over TLS or ssh, or a docker context, through the docker CLI, which
 * reads their settings itself (as program/dockerInfo.ts does). Every request is
 * bounded by a timeout; the CLI gets argument arrays, never a shell.
 */
import * as http from "node:http";
import { execFile } from "node:child_process";
import type { DockerTarget } from "../core/swarmCheck";
import type { SwarmServiceView, SwarmTaskView } from "../core/rollout";

export const SWARM_READ_TIMEOUT_MS = 15_000;

/** A plain Error: a subclass does not survive the SDK's serialization of the provider. */
const readError = (message: string): Error => new Error(message);

function engineGet(t: Exclude<DockerTarget, { kind: "cli" }>, path: string): Promise<unknown> {
  const opts = t.kind === "unix" ? { socketPath: t.socketPath } : { host: t.hostname, port: t.port };
  return new Promise((resolve, reject) => {
    const req = http.get({ ...opts, path, timeout: SWARM_READ_TIMEOUT_MS }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => {
        if (res.statusCode !== 200) return reject(readError(`GET ${path} on ${t.host}: HTTP ${res.statusCode} ${body.slice(0, 200).trim()}`));
        try {
          resolve(JSON.parse(body) as unknown);
        } catch {
          reject(readError(`GET ${path} on ${t.host}: not JSON`));
        }
      });
    });
    req.on("timeout", () => req.destroy(new Error(`timed out after ${SWARM_READ_TIMEOUT_MS} ms`)));
    req.on("error", (e) => reject(readError(`GET ${path} on ${t.host}: ${e.message}`)));
  });
}

function cli(t: Extract<DockerTarget, { kind: "cli" }>, args: string[]): Promise<string> {
  const flags = t.context ? ["--context", t.context] : ["-H", t.host ?? ""];
  return new Promise((resolve, reject) => {
    execFile("docker", [...flags, ...args], { encoding: "utf8", timeout: SWARM_READ_TIMEOUT_MS, maxBuffer: 32 * 2 ** 20 }, (err, stdout, stderr) => {
      if (err) return reject(readError(`docker ${[...flags, ...args.slice(0, 2)].join(" ")}: ${String(stderr).trim().slice(0, 300) || err.message}`));
      resolve(stdout);
    });
  });
}

/** The service (by id or name) and every task Swarm records for it. Throws an Error naming the engine. */
export async function readSwarmService(t: DockerTarget, service: string): Promise<{ service: SwarmServiceView; tasks: SwarmTaskView[] }> {
  if (t.kind !== "cli") {
    const s = (await engineGet(t, `/services/${encodeURIComponent(service)}`)) as SwarmServiceView;
    const filters = encodeURIComponent(JSON.stringify({ service: [s.ID] }));
    const tasks = (await engineGet(t, `/tasks?filters=${filters}`)) as SwarmTaskView[];
    return { service: s, tasks };
  }
  const s = (JSON.parse(await cli(t, ["service", "inspect", service])) as SwarmServiceView[])[0];
  if (!s) throw readError(`no service ${service}`);
  const ids = (await cli(t, ["service", "ps", "--no-trunc", "--quiet", s.ID])).split("\n").filter(Boolean);
  const tasks = ids.length === 0 ? [] : (JSON.parse(await cli(t, ["inspect", "--type", "task", ...ids]).catch(() => "[]")) as SwarmTaskView[]);
  return { service: s, tasks };
}

/** The services carrying a label (`key=value`): the app service is auto-named, so `rollout status` finds it by its role label. */
export async function findServices(t: DockerTarget, label: string): Promise<string[]> {
  if (t.kind !== "cli") {
    const filters = encodeURIComponent(JSON.stringify({ label: [label] }));
    const list = (await engineGet(t, `/services?filters=${filters}`)) as Array<{ ID: string; Spec?: { Name?: string } }>;
    return list.map((s) => s.Spec?.Name ?? s.ID);
  }
  return (await cli(t, ["service", "ls", "--filter", `label=${label}`, "--format", "{{.Name}}"])).split("\n").filter(Boolean);
}
