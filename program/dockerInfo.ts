/**
 * Ask a Docker engine about its Swarm (`GET /info`, `.Swarm`), synchronously, so
 * the program can stop before it registers anything. I/O only; what the answer
 * means is core/swarmCheck.ts.
 *
 * A local socket or a plain tcp:// engine is asked through the Engine API by a
 * short child Node process (the script is a constant; the target is passed as
 * an argument). An engine over TLS or ssh, or a docker context, is asked with
 * `docker info`, which reads their settings itself. Bounded by a timeout.
 */
import { spawnSync } from "node:child_process";
import { DockerTarget, SwarmInfo } from "../core/swarmCheck";

export const DOCKER_INFO_TIMEOUT_MS = 10_000;

/** Runs in the child: GET /info over the socket or TCP target in argv[1], prints `.Swarm` as JSON. */
const ENGINE_API_SCRIPT = `
const http = require("node:http");
const t = JSON.parse(process.argv[1]);
const opts = t.kind === "unix" ? { socketPath: t.socketPath } : { host: t.hostname, port: t.port };
const req = http.get({ ...opts, path: "/info", timeout: ${DOCKER_INFO_TIMEOUT_MS - 1000} }, (res) => {
  let body = "";
  res.setEncoding("utf8");
  res.on("data", (c) => (body += c));
  res.on("end", () => {
    if (res.statusCode !== 200) { process.stderr.write("GET /info: HTTP " + res.statusCode + " " + body.slice(0, 200)); process.exit(1); }
    try { process.stdout.write(JSON.stringify(JSON.parse(body).Swarm ?? {})); } catch (e) { process.stderr.write("GET /info: not JSON"); process.exit(1); }
  });
});
req.on("timeout", () => req.destroy(new Error("timed out")));
req.on("error", (e) => { process.stderr.write(String(e.message)); process.exit(1); });
`;

export class DockerInfoError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DockerInfoError";
  }
}

function parse(stdout: string, what: string): SwarmInfo {
  try {
    const v = JSON.parse(stdout) as unknown;
    if (typeof v === "object" && v !== null) return v as SwarmInfo;
  } catch {
    /* below */
  }
  throw new DockerInfoError(`${what}: unexpected answer ${JSON.stringify(stdout.slice(0, 200))}`);
}

/** The target engine's `.Swarm`; throws DockerInfoError (naming the engine) when it cannot be asked. */
export function readSwarmInfo(t: DockerTarget): SwarmInfo {
  if (t.kind === "cli") {
    const flags = t.context ? ["--context", t.context] : ["-H", t.host ?? ""];
    const what = `docker ${flags.join(" ")} info`;
    const r = spawnSync("docker", [...flags, "info", "--format", "{{json .Swarm}}"], { encoding: "utf8", timeout: DOCKER_INFO_TIMEOUT_MS });
    if (r.error) throw new DockerInfoError(`${what}: ${r.error.message} (the Swarm check asks engines over TLS or ssh, and docker contexts, with the docker CLI)`);
    if (r.status !== 0) throw new DockerInfoError(`${what}: exit ${r.status}: ${r.stderr.trim().slice(0, 300)}`);
    return parse(r.stdout, what);
  }
  const what = `GET /info on ${t.host}`;
  const r = spawnSync(process.execPath, ["-e", ENGINE_API_SCRIPT, JSON.stringify(t)], { encoding: "utf8", timeout: DOCKER_INFO_TIMEOUT_MS });
  if (r.error) throw new DockerInfoError(`${what}: ${r.error.message}`);
  if (r.status !== 0) throw new DockerInfoError(`${what}: ${r.stderr.trim().slice(0, 300) || `exit ${r.status}`}`);
  return parse(r.stdout, what);
}
