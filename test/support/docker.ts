/**
 * The Docker engine, for the `[docker]` suites: whether one answers, the local
 * images they need, and cleanup.
 *
 * - Where no engine answers, a suite skips and prints the command that starts
 *   one; under CI=true it fails instead (so does a missing local image).
 * - Everything a test creates (Swarm services, containers, networks, volumes)
 *   goes through `DockerScope`, which labels it with this run's id and removes it in an
 *   after hook, even when the test failed. The root hook (test/support/hooks.ts)
 *   then sweeps whatever still carries this run's label.
 * - The docker CLI is run with argument arrays only.
 */
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/** Every resource the tests create carries both labels. */
export const TEST_LABEL = "valuecanvas.test";
export const RUN_LABEL = "valuecanvas.test/run";
/** This mocha process's run id (the sweep removes only this run's resources: other runs may share the engine). */
export const RUN_ID = `${process.pid}-${Date.now().toString(36)}`;

/** The exact command that starts an engine on this project's CI machines (as root, no systemd). */
export const START_ENGINE_COMMAND = "sudo .ci/start-dockerd";

export interface DockerResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Where the engine the tests drive publishes a container's ports, and where this machine reaches them:
 * the local engine's loopback, unless the multi-node harness (test/support/multiNode.ts) points the tests
 * at its manager, whose published ports are on its own address.
 */
export interface PublishTarget {
  /** The address `docker run --publish` binds on the engine's host. */
  bindIp: string;
  /** The address this machine connects to for a published port. */
  reachHost: string;
}
const LOOPBACK: PublishTarget = { bindIp: "127.0.0.1", reachHost: "127.0.0.1" };
let target: PublishTarget = LOOPBACK;
export const publishTarget = (): PublishTarget => target;
/** Set by the multi-node harness while its manager is the engine the tests drive; `undefined` restores loopback. */
export function setPublishTarget(t: PublishTarget | undefined): void {
  target = t ?? LOOPBACK;
}

export interface DockerOptions {
  timeoutMs?: number;
  input?: string;
  /** The environment the CLI runs with (its DOCKER_HOST picks the engine); default this process's. */
  env?: NodeJS.ProcessEnv;
}

/** Run `docker <args>` (no shell). Never rejects: the caller reads `code`. */
export function docker(args: readonly string[], opts: DockerOptions = {}): Promise<DockerResult> {
  return new Promise((resolve) => {
    const child = execFile("docker", [...args], { timeout: opts.timeoutMs ?? 120_000, maxBuffer: 64 * 1024 * 1024, encoding: "utf8", env: opts.env ?? process.env }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as NodeJS.ErrnoException & { code?: unknown }).code === "number" ? ((err as unknown as { code: number }).code) : 1) : 0;
      resolve({ code, stdout, stderr: stderr || (err && code !== 0 ? err.message : "") });
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** `docker <args>`, its trimmed stdout; throws with the command and stderr when it fails. */
export async function dockerOk(args: readonly string[], opts: DockerOptions = {}): Promise<string> {
  const r = await docker(args, opts);
  if (r.code !== 0) throw new Error(`docker ${args.join(" ")} exited ${r.code}: ${r.stderr.trim()}`);
  return r.stdout.trim();
}

let engine: Promise<string | undefined> | undefined;
let used = false;

/** The engine's server version, or undefined when none answers (checked once per run). */
export function engineVersion(): Promise<string | undefined> {
  engine ??= docker(["info", "--format", "{{.ServerVersion}}"], { timeoutMs: 20_000 }).then((r) => (r.code === 0 && r.stdout.trim() ? r.stdout.trim() : undefined));
  return engine;
}

function skipOrFail(ctx: Mocha.Context, msg: string): never {
  if (process.env.CI === "true") throw new Error(`${msg} (CI=true: this is a failure, not a skip)`);
  console.warn(`      skipped: ${msg}`);
  ctx.skip();
  throw new Error("unreachable: ctx.skip() throws");
}

/** In a mocha `before`: skip (or, under CI=true, fail) unless a Docker engine answers. */
export async function requireDocker(ctx: Mocha.Context): Promise<void> {
  const v = await engineVersion();
  if (!v) skipOrFail(ctx, `no Docker engine answers \`docker info\`${process.env.DOCKER_HOST ? ` at DOCKER_HOST=${process.env.DOCKER_HOST}` : ""}; start one with: ${START_ENGINE_COMMAND}`);
  used = true;
}

/** In a mocha `before`, after requireDocker: skip (or fail under CI=true) unless every image exists locally. */
export async function requireImages(ctx: Mocha.Context, images: Record<string, string>): Promise<void> {
  const missing: string[] = [];
  for (const [key, tag] of Object.entries(images)) {
    const r = await docker(["image", "inspect", "--format", "{{.Id}}", tag], { timeoutMs: 20_000 });
    if (r.code !== 0) missing.push(key);
  }
  if (missing.length > 0) skipOrFail(ctx, `local image(s) missing: ${missing.map((k) => images[k]).join(", ")}; build with: npm run images -- ${missing.join(" ")}`);
}

/** The labels as `docker create` / `network create` / `volume create` flags. */
export function labelFlags(extra: Record<string, string> = {}): string[] {
  return Object.entries({ [TEST_LABEL]: "1", [RUN_LABEL]: RUN_ID, ...extra }).flatMap(([k, v]) => ["--label", `${k}=${v}`]);
}

const short = () => Math.random().toString(36).slice(2, 8);

/**
 * The resources one suite (or test) creates; `cleanup()` in its `after` hook
 * removes them all, whatever happened. Names are unique per run.
 */
export class DockerScope {
  private readonly services: string[] = [];
  private readonly containers: string[] = [];
  private readonly networks: string[] = [];
  private readonly volumes: string[] = [];
  private readonly secrets: string[] = [];
  constructor(readonly prefix: string) {}

  name(what: string): string {
    return `vct-${this.prefix}-${what}-${short()}`;
  }

  /** A bridge network, or (`overlay`) an attachable overlay network, which Swarm services and plain containers can both join. */
  async network(what = "net", opts: { overlay?: boolean } = {}): Promise<string> {
    const n = this.name(what);
    this.networks.push(n);
    await dockerOk(["network", "create", ...(opts.overlay ? ["--driver", "overlay", "--attachable"] : []), ...labelFlags(), n]);
    return n;
  }

  /**
   * `docker service create --name <unique> <args>` (test labels on the service and on its
   * containers); the service is removed by cleanup(), which waits for its containers to go.
   * Returns the service's name.
   */
  async service(what: string, createArgs: readonly string[], image: string, command: readonly string[] = []): Promise<string> {
    const n = this.name(what);
    this.services.push(n);
    const containerLabels = Object.entries({ [TEST_LABEL]: "1", [RUN_LABEL]: RUN_ID }).flatMap(([k, v]) => ["--container-label", `${k}=${v}`]);
    await dockerOk(["service", "create", "--name", n, ...labelFlags(), ...containerLabels, ...createArgs, image, ...command], { timeoutMs: 120_000 });
    return n;
  }

  /** A Swarm secret holding `data` (given on stdin: never on a command line); removed by cleanup after the services. */
  async secret(what: string, data: string): Promise<string> {
    const n = this.name(what);
    this.secrets.push(n);
    await dockerOk(["secret", "create", ...labelFlags(), n, "-"], { input: data });
    return n;
  }

  async volume(what = "vol"): Promise<string> {
    const n = this.name(what);
    this.volumes.push(n);
    await dockerOk(["volume", "create", ...labelFlags(), n]);
    return n;
  }

  /**
   * `docker create` with the labels, optional files copied in before the start
   * (what the Docker provider's `uploads` do), then `docker start`. Returns the name.
   */
  async start(
    what: string,
    createArgs: readonly string[],
    opts: { image: string; command?: readonly string[]; uploads?: UploadFile[]; networks?: Array<{ name: string; aliases?: string[] }> },
  ): Promise<string> {
    const n = this.name(what);
    this.containers.push(n);
    await dockerOk(["create", "--name", n, ...labelFlags(), ...createArgs, opts.image, ...(opts.command ?? [])]);
    if (opts.uploads && opts.uploads.length > 0) await copyFiles(n, opts.uploads);
    for (const net of opts.networks ?? []) await dockerOk(["network", "connect", ...(net.aliases ?? []).flatMap((a) => ["--alias", a]), net.name, n]);
    await dockerOk(["start", n]);
    return n;
  }

  /** Remove a container now (and forget it). */
  async remove(container: string): Promise<void> {
    await docker(["rm", "-f", "-v", container]);
    const i = this.containers.indexOf(container);
    if (i >= 0) this.containers.splice(i, 1);
  }

  async cleanup(): Promise<void> {
    const services = this.services.splice(0);
    if (services.length > 0) await removeServices(services);
    for (const c of this.containers.splice(0)) await docker(["rm", "-f", "-v", c]);
    for (const x of this.secrets.splice(0)) await docker(["secret", "rm", x]);
    for (const n of this.networks.splice(0)) await docker(["network", "rm", n]);
    for (const v of this.volumes.splice(0)) await docker(["volume", "rm", "-f", v]);
  }
}

/** A file to copy into a container; owner, group (numeric ids) and permissions (octal) as the provider's upload sets them. */
export interface UploadFile {
  file: string;
  content: string;
  owner?: string;
  group?: string;
  permissions?: string;
}

/**
 * Copy files into a (created, not necessarily started) container, creating their directories. Each file
 * gets its declared mode and owner (`docker cp -a` keeps them; without an owner a file is root's, mode 0644).
 */
export async function copyFiles(container: string, files: readonly UploadFile[]): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vct-upload-"));
  try {
    for (const f of files) {
      if (!path.isAbsolute(f.file)) throw new Error(`upload path ${f.file}: expected an absolute path`);
      const p = path.join(dir, f.file);
      fs.mkdirSync(path.dirname(p), { recursive: true, mode: 0o755 });
      fs.writeFileSync(p, f.content, { mode: 0o644 });
      if (f.permissions !== undefined) {
        if (!/^0?[0-7]{3}$/.test(f.permissions)) throw new Error(`upload ${f.file}: permissions ${JSON.stringify(f.permissions)}: expected an octal mode such as 0400`);
        fs.chmodSync(p, parseInt(f.permissions, 8));
      }
      if (f.owner !== undefined || f.group !== undefined) {
        const id = (v: string | undefined, what: string) => {
          if (v === undefined) return 0;
          if (!/^\d+$/.test(v)) throw new Error(`upload ${f.file}: ${what} ${JSON.stringify(v)}: expected a numeric id`);
          return Number(v);
        };
        fs.chownSync(p, id(f.owner, "owner"), id(f.group, "group"));
      }
    }
    // Each top-level directory separately, so that "/" itself is never rewritten; -a keeps each file's owner and mode.
    for (const top of fs.readdirSync(dir)) await dockerOk(["cp", "-a", path.join(dir, top), `${container}:/`]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The host port a container publishes `internal` on (at publishTarget().reachHost). */
export async function publishedPort(container: string, internal: number): Promise<number> {
  const out = await dockerOk(["port", container, `${internal}/tcp`]);
  const m = /^[0-9.]+:(\d+)\s*$/m.exec(out) ?? /:(\d+)\s*$/m.exec(out);
  if (!m) throw new Error(`container ${container} publishes no port for ${internal}: ${out}`);
  return Number(m[1]);
}

/** Poll `fn` until it returns a value (not undefined) or `timeoutMs` passes; the error says what was awaited. */
export async function waitFor<T>(what: string, timeoutMs: number, fn: () => Promise<T | undefined>, intervalMs = 500): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ""}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Docker's health status of a container ("starting", "healthy", "unhealthy"), or its state when it has no check. */
export async function healthOf(container: string): Promise<string> {
  return dockerOk(["inspect", "--format", "{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}", container]);
}

/** Wait until Docker reports the container healthy; fails early when it stops or turns unhealthy. */
export async function waitHealthy(container: string, timeoutMs: number): Promise<void> {
  await waitFor(`${container} to be healthy`, timeoutMs, async () => {
    const s = await healthOf(container);
    if (s === "healthy") return true;
    if (s === "unhealthy" || s === "exited" || s === "dead") {
      const logs = await docker(["logs", "--tail", "30", container]);
      throw new Error(`${container} is ${s}; last logs:\n${logs.stdout}${logs.stderr}`);
    }
    return undefined;
  });
}

const lines = (s: string) => s.split("\n").map((x) => x.trim()).filter(Boolean);

/**
 * Remove Swarm services and wait (up to a minute) until their task containers are gone, so that
 * their networks can be removed next; a container still there then is removed by force.
 */
export async function removeServices(services: readonly string[]): Promise<void> {
  const r = await docker(["service", "inspect", "--format", "{{.ID}}", ...services]);
  const ids = lines(r.stdout);
  if (ids.length === 0) return;
  await docker(["service", "rm", ...ids]);
  const left = async () => {
    const out: string[] = [];
    for (const id of ids) out.push(...lines((await docker(["ps", "-aq", "--filter", `label=com.docker.swarm.service.id=${id}`])).stdout));
    return out;
  };
  const deadline = Date.now() + 60_000;
  let remaining = await left();
  while (remaining.length > 0 && Date.now() < deadline) {
    await new Promise((res) => setTimeout(res, 500));
    remaining = await left();
  }
  if (remaining.length > 0) await docker(["rm", "-f", "-v", ...remaining]);
}

/** Remove everything still labelled with this run's id (root after-all hook). */
export async function sweepTestResources(runId = RUN_ID): Promise<void> {
  if (!used) return;
  const filter = ["--filter", `label=${RUN_LABEL}=${runId}`];
  const ids = async (args: string[]) => lines((await docker(args)).stdout);
  const services = (await docker(["info", "--format", "{{.Swarm.LocalNodeState}}"])).stdout.trim() === "active" ? await ids(["service", "ls", "-q", ...filter]) : [];
  if (services.length > 0) await removeServices(services);
  const containers = await ids(["ps", "-aq", ...filter]);
  if (containers.length > 0) await docker(["rm", "-f", "-v", ...containers]);
  const networks = await ids(["network", "ls", "-q", ...filter]);
  if (networks.length > 0) await docker(["network", "rm", ...networks]);
  const volumes = await ids(["volume", "ls", "-q", ...filter]);
  if (volumes.length > 0) await docker(["volume", "rm", "-f", ...volumes]);
}
