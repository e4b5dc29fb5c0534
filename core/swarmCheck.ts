/**
 * Every stack runs on a Swarm manager (docs/swarm.md): the decision whether a
 * deploy may go on, from what the target Docker engine says about its Swarm.
 * Pure: the engine is asked by program/dockerInfo.ts, the program calls both from
 * program/swarmManager.ts.
 */
import { shellCommand } from "./shell";

/** Where the docker provider sends its calls: `docker:context` / DOCKER_CONTEXT, else `docker:host` / DOCKER_HOST, else the local socket. */
export type DockerTarget =
  | { kind: "unix"; socketPath: string; host: string }
  | { kind: "tcp"; hostname: string; port: number; host: string }
  | { kind: "cli"; host?: string; context?: string };

export const DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock";

export class DockerTargetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DockerTargetError";
  }
}

/**
 * The target from the provider's settings and the environment, as the docker
 * provider reads them. Engines reached over TLS or ssh, and docker contexts,
 * are asked through the docker CLI, which reads their settings itself.
 */
/**
 * Which engine a stack deploys to, as the docker provider picks it: the stack's
 * `docker:context` / `docker:host`, else DOCKER_CONTEXT / DOCKER_HOST (and
 * DOCKER_TLS_VERIFY). The one rule for the program (program/swarmManager.ts)
 * and `rollout status` (cli/rollout.ts); `env` is passed in (this module is pure).
 */
export function engineSettings(stack: { context?: string; host?: string }, env: Readonly<Record<string, string | undefined>>): { host?: string; context?: string; tlsVerify?: string } {
  return { context: stack.context ?? env.DOCKER_CONTEXT, host: stack.host ?? env.DOCKER_HOST, tlsVerify: env.DOCKER_TLS_VERIFY };
}

export function dockerTarget(s: { host?: string; context?: string; tlsVerify?: string }): DockerTarget {
  if (s.context && s.context !== "default") return { kind: "cli", context: s.context };
  const host = s.host && s.host.trim() !== "" ? s.host.trim() : DEFAULT_DOCKER_HOST;
  let url: URL;
  try {
    url = new URL(host);
  } catch {
    throw new DockerTargetError(`docker host ${JSON.stringify(host)}: expected unix:///path, tcp://host:port or ssh://[user@]host`);
  }
  switch (url.protocol) {
    case "unix:":
      return { kind: "unix", socketPath: url.pathname, host };
    case "tcp:":
    case "http:": {
      if (s.tlsVerify && s.tlsVerify !== "0" && s.tlsVerify !== "") return { kind: "cli", host };
      const port = url.port === "" ? 2375 : Number(url.port);
      return { kind: "tcp", hostname: url.hostname.replace(/^\[|\]$/g, ""), port, host };
    }
    case "https:":
    case "ssh:":
      return { kind: "cli", host };
    default:
      throw new DockerTargetError(`docker host ${JSON.stringify(host)}: unsupported scheme ${url.protocol.replace(/:$/, "")} (expected unix, tcp or ssh)`);
  }
}

/** What `GET /info` says under `.Swarm` (the fields the check reads). */
export interface SwarmInfo {
  LocalNodeState?: string;
  ControlAvailable?: boolean;
  NodeAddr?: string;
  Error?: string;
}

/** When the check runs: a real deploy only, never a preview, never under the SDK's mock runtime (npm run plan, the tests). */
export function swarmCheckApplies(run: { dryRun: boolean; mocked: boolean }): boolean {
  return !run.dryRun && !run.mocked;
}

/** The host part of a docker host URL, the address a manager there would advertise. */
function advertiseAddress(t: DockerTarget): string {
  if (t.kind === "tcp") return t.hostname;
  if (t.kind === "cli" && t.host) {
    try {
      const h = new URL(t.host).hostname.replace(/^\[|\]$/g, "");
      if (h) return h;
    } catch {
      /* fall through */
    }
  }
  // The local engine: a single-node Swarm advertises loopback (what CI and dev run).
  return "127.0.0.1";
}

/** The docker CLI's flags that address `t` (none for the local default socket). */
function targetFlags(t: DockerTarget): string[] {
  if (t.kind === "cli") return t.context ? ["--context", t.context] : ["-H", t.host ?? DEFAULT_DOCKER_HOST];
  return t.host === DEFAULT_DOCKER_HOST ? [] : ["-H", t.host];
}

/** The exact command that makes the target engine a single-node Swarm manager. */
export function swarmInitCommand(t: DockerTarget): string {
  return shellCommand(["docker", ...targetFlags(t), "swarm", "init", "--advertise-addr", advertiseAddress(t)]);
}

function where(t: DockerTarget): string {
  return t.kind === "cli" && t.context ? `docker context ${t.context}` : `the Docker engine at ${t.host ?? DEFAULT_DOCKER_HOST}`;
}

/**
 * Why a deploy to `t` must stop, or undefined when the engine is a Swarm
 * manager. Every message names the engine and says the exact command.
 */
export function swarmProblem(info: SwarmInfo, t: DockerTarget): string | undefined {
  const state = info.LocalNodeState ?? "";
  const init = swarmInitCommand(t);
  const tail = `The app runs as a Swarm service (docs/swarm.md).`;
  if (state === "active" && info.ControlAvailable === true) return undefined;
  if (state === "active") {
    return `${where(t)} is a Swarm worker, not a manager: services are created on a manager. Point DOCKER_HOST (or docker:host, or a docker context) at a manager of the Swarm. ${tail}`;
  }
  if (state === "inactive" || state === "") {
    return `no Swarm is active on ${where(t)}: the deploy stopped before changing anything. Make it a Swarm manager with:\n  ${init}\n(for a multi-host Swarm, use the address other nodes reach it on). ${tail}`;
  }
  if (state === "pending") return `the Swarm on ${where(t)} is still joining (state pending): wait for it, or leave and re-init it with:\n  ${init}\n${tail}`;
  if (state === "locked") return `the Swarm on ${where(t)} is locked: unlock it with docker swarm unlock, then deploy again. ${tail}`;
  return `the Swarm on ${where(t)} is in state ${JSON.stringify(state)}${info.Error ? ` (${info.Error})` : ""}: repair it, or leave and re-init it with:\n  ${init}\n${tail}`;
}
