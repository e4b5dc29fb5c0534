/**
 * A multi-node Docker Swarm on this one machine, for the `[docker]` multi-node suites (issue 26): a
 * harness that drives real engines, named for what it is. It is not a cloud: every node shares this
 * machine's kernel, cores and disk, so timings are this machine's, and "a node lost" is an engine's
 * container killed, not a host's power cut.
 *
 * - Each node is a Docker engine in a container (`valuecanvas-local/swarm-node`, Debian's docker.io,
 *   built by `npm run images`), run with every capability but CAP_SYS_RESOURCE (which this machine's
 *   bounding set lacks, so `--privileged` fails), no seccomp or AppArmor profile, the host's cgroups, and
 *   its own /var/lib/docker volume (vfs storage).
 * - The nodes share a bridge network of their own on the outer engine. The first is the manager
 *   (`swarm init --advertise-addr` its address); the others join as workers.
 * - The project's images go into each node with `docker save` on the outer engine and `docker load` in
 *   the node (the app's image into every node, the plain containers' only into the manager).
 * - `use()` points the tests at the manager: DOCKER_HOST is its API (TCP 2375, published on the outer
 *   engine's loopback only), and published ports are bound on its address, where this machine reaches
 *   them (test/support/docker.ts publishTarget). The program finds its engine the same way (DOCKER_HOST),
 *   as a deploy to a real manager does.
 * - `stop()` removes the nodes and their volumes and network: every service, container and network inside
 *   goes with them. Each carries this run's labels, so the root hook's sweep removes them too.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { imageByKey } from "../../tools/images";
import { DockerResult, docker, dockerOk, labelFlags, setPublishTarget, waitFor } from "./docker";

/**
 * The multi-node suite (test/stack/multinode.test.ts) runs only when this is "1" (`npm run test:multinode`):
 * about 10 minutes on 2 cores, more than CI's budget has room for.
 */
export const MULTINODE_ENV = "VALUECANVAS_MULTINODE";

/** The node image (tools/images.ts `swarm-node`). */
export const NODE_IMAGE = imageByKey("swarm-node").tag;

/** What a Docker engine in a container needs here (see the header); `--privileged` fails on this machine. */
export const NODE_RUN_FLAGS: readonly string[] = [
  "--cap-add", "ALL",
  "--cap-drop", "SYS_RESOURCE",
  "--security-opt", "seccomp=unconfined",
  "--security-opt", "apparmor=unconfined",
  "--security-opt", "systempaths=unconfined",
  "--cgroupns", "host",
  "--volume", "/sys/fs/cgroup:/sys/fs/cgroup:rw",
  "--tmpfs", "/run",
];

/** The port each node's engine listens on without TLS (the image's CMD); only the manager's is published, on loopback. */
export const NODE_API_PORT = 2375;

export interface SwarmNode {
  role: "manager" | "worker";
  /** The node's host name, as `docker node ls` shows it: node-1 (the manager), node-2, … */
  hostname: string;
  /** The outer engine's container running this node's engine. */
  container: string;
  /** Its address on the nodes' network. */
  ip: string;
  /** Its Swarm node id. */
  id: string;
}

export interface MultiNodeOptions {
  /** Names the outer resources: vct-<prefix>-node-<n>-<random>. */
  prefix: string;
  /** Worker nodes beside the manager (default 2). */
  workers?: number;
  /** Images to load into every node (the app's) and into the manager only (the plain containers'). */
  images: { everyNode: readonly string[]; managerOnly?: readonly string[] };
  log?: (line: string) => void;
}

const short = () => Math.random().toString(36).slice(2, 8);

/** `docker load` in a node, fed from an archive the outer engine saved (no shell). */
function loadInto(container: string, file: string, env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn("docker", ["exec", "-i", container, "docker", "load", "--quiet"], { env, stdio: ["pipe", "ignore", "pipe"] });
    let err = "";
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`docker load in ${container} exited ${code}: ${err.trim()}`))));
    fs.createReadStream(file).on("error", reject).pipe(child.stdin);
  });
}

export class MultiNodeSwarm {
  private restore: (() => void) | undefined;

  private constructor(
    readonly nodes: readonly SwarmNode[],
    /** The nodes' bridge network on the outer engine. */
    readonly network: string,
    /** The manager's API as this machine reaches it: tcp://127.0.0.1:<port>. */
    readonly dockerHost: string,
    /** The environment the outer engine is driven with (as it was when the harness started). */
    private readonly outerEnv: NodeJS.ProcessEnv,
  ) {}

  get manager(): SwarmNode {
    return this.nodes[0];
  }

  get workers(): SwarmNode[] {
    return this.nodes.slice(1);
  }

  /** Run `docker <args>` on the outer engine (the one that runs the nodes). */
  outer(args: readonly string[], timeoutMs = 120_000): Promise<DockerResult> {
    return docker(args, { env: this.outerEnv, timeoutMs });
  }

  /** Run `docker <args>` inside a node, against that node's own engine. */
  inNode(node: SwarmNode, args: readonly string[], timeoutMs = 120_000): Promise<DockerResult> {
    return this.outer(["exec", node.container, "docker", ...args], timeoutMs);
  }

  /** As inNode, its trimmed stdout; throws with the command and stderr when it fails. */
  async inNodeOk(node: SwarmNode, args: readonly string[], timeoutMs = 120_000): Promise<string> {
    const r = await this.inNode(node, args, timeoutMs);
    if (r.code !== 0) throw new Error(`docker ${args.join(" ")} on ${node.hostname} failed (${r.code}): ${r.stderr.trim()}`);
    return r.stdout.trim();
  }

  static async start(opts: MultiNodeOptions): Promise<MultiNodeSwarm> {
    const log = opts.log ?? (() => undefined);
    const outerEnv = { ...process.env };
    const outer = (args: readonly string[], timeoutMs = 120_000) => dockerOk(args, { env: outerEnv, timeoutMs });
    const t0 = Date.now();
    const network = `vct-${opts.prefix}-nodes-${short()}`;
    await outer(["network", "create", ...labelFlags(), network]);
    const containers: string[] = [];
    const count = 1 + (opts.workers ?? 2);
    let swarm: MultiNodeSwarm | undefined;
    try {
      for (let n = 1; n <= count; n++) {
        const name = `vct-${opts.prefix}-node-${n}-${short()}`;
        containers.push(name);
        const publish = n === 1 ? ["--publish", `127.0.0.1::${NODE_API_PORT}`] : [];
        await outer(["run", "--detach", "--name", name, "--hostname", `node-${n}`, "--network", network, ...labelFlags(), ...NODE_RUN_FLAGS, "--volume", "/var/lib/docker", ...publish, NODE_IMAGE]);
      }
      for (const c of containers) {
        await waitFor(`the engine in ${c} to answer`, 60_000, async () => ((await docker(["exec", c, "docker", "info", "--format", "{{.ServerVersion}}"], { env: outerEnv })).code === 0 ? true : undefined));
      }
      const ips = await Promise.all(containers.map((c) => outer(["inspect", "--format", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", c])));
      log(`${count} engines answer after ${((Date.now() - t0) / 1000).toFixed(1)} s`);

      const inNode = (c: string, args: readonly string[]) => outer(["exec", c, "docker", ...args]);
      await inNode(containers[0], ["swarm", "init", "--advertise-addr", ips[0]]);
      await inNode(containers[0], ["swarm", "update", "--task-history-limit", "1"]);
      const token = await inNode(containers[0], ["swarm", "join-token", "--quiet", "worker"]);
      for (let i = 1; i < count; i++) await inNode(containers[i], ["swarm", "join", "--token", token, `${ips[0]}:2377`]);
      const listed = await inNode(containers[0], ["node", "ls", "--format", "{{.ID}} {{.Hostname}}"]);
      const idOf = new Map(listed.split("\n").map((l) => l.trim().split(" ")).map(([id, host]) => [host, id]));
      const nodes: SwarmNode[] = containers.map((c, i) => {
        const hostname = `node-${i + 1}`;
        const id = idOf.get(hostname);
        if (!id) throw new Error(`${hostname} is not in the Swarm: ${listed}`);
        return { role: i === 0 ? "manager" : "worker", hostname, container: c, ip: ips[i], id };
      });
      log(`Swarm formed: 1 manager, ${count - 1} workers (${((Date.now() - t0) / 1000).toFixed(1)} s)`);

      const api = await outer(["port", containers[0], `${NODE_API_PORT}/tcp`]);
      const m = /127\.0\.0\.1:(\d+)/.exec(api);
      if (!m) throw new Error(`the manager publishes no API port: ${api}`);
      swarm = new MultiNodeSwarm(nodes, network, `tcp://127.0.0.1:${m[1]}`, outerEnv);

      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vct-images-"));
      try {
        const everyNode = [...new Set(opts.images.everyNode)];
        const managerOnly = [...new Set(opts.images.managerOnly ?? [])].filter((t) => !everyNode.includes(t));
        // One archive per set: images that share layers (the app and its bad releases) are saved and loaded once.
        const everyFile = path.join(dir, "every-node.tar");
        const managerFile = path.join(dir, "manager.tar");
        await outer(["save", "--output", everyFile, ...everyNode], 300_000);
        if (managerOnly.length > 0) await outer(["save", "--output", managerFile, ...managerOnly], 300_000);
        await Promise.all(
          nodes.map(async (node) => {
            await loadInto(node.container, everyFile, outerEnv);
            if (node.role === "manager" && managerOnly.length > 0) await loadInto(node.container, managerFile, outerEnv);
          }),
        );
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
      log(`images loaded (${((Date.now() - t0) / 1000).toFixed(1)} s in all)`);
      return swarm;
    } catch (e) {
      for (const c of containers) await docker(["rm", "--force", "--volumes", c], { env: outerEnv });
      await docker(["network", "rm", network], { env: outerEnv });
      throw e;
    }
  }

  /**
   * Point the tests (and the program, through DOCKER_HOST) at the manager until `release()` or `stop()`:
   * the docker CLI talks to its API, and published ports are bound on its address.
   */
  use(): void {
    if (this.restore) return;
    const saved = process.env.DOCKER_HOST;
    process.env.DOCKER_HOST = this.dockerHost;
    setPublishTarget({ bindIp: "0.0.0.0", reachHost: this.manager.ip });
    this.restore = () => {
      if (saved === undefined) delete process.env.DOCKER_HOST;
      else process.env.DOCKER_HOST = saved;
      setPublishTarget(undefined);
    };
  }

  /** Point the tests back at the outer engine. */
  release(): void {
    this.restore?.();
    this.restore = undefined;
  }

  /** Each node's Swarm view as the manager has it: availability and status, by host name. */
  async nodeStates(): Promise<Map<string, { availability: string; status: string }>> {
    const out = await this.inNodeOk(this.manager, ["node", "ls", "--format", "{{.Hostname}} {{.Availability}} {{.Status}}"]);
    return new Map(out.split("\n").map((l) => l.trim().split(" ")).map(([h, a, s]) => [h, { availability: a.toLowerCase(), status: s.toLowerCase() }]));
  }

  /** The node each running task of `service` runs on: host name → task count. */
  async tasksPerNode(service: string): Promise<Map<string, number>> {
    const out = await this.inNodeOk(this.manager, ["service", "ps", "--filter", "desired-state=running", "--format", "{{.Node}} {{.CurrentState}}", service]);
    const m = new Map<string, number>();
    for (const l of out.split("\n").filter((x) => /\sRunning\b/.test(x))) {
      const node = l.split(" ")[0];
      m.set(node, (m.get(node) ?? 0) + 1);
    }
    return m;
  }

  /** Remove every node (and what ran in it) and the network. Idempotent. */
  async stop(): Promise<void> {
    this.release();
    for (const n of this.nodes) await this.outer(["rm", "--force", "--volumes", n.container]);
    await this.outer(["network", "rm", this.network]);
  }
}
