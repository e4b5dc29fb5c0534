/**
 * The containers the program declares (from the same mock-runtime evaluation
 * `npm run plan` uses, offline/evaluate.ts), translated to `docker create`
 * arguments, so a `[docker]` test starts exactly what a stack declares: image,
 * command, env, labels, network and aliases, volumes, health check, uploads,
 * published ports, restart policy, stop signal and grace.
 *
 * This exercises the declared resources on a real engine; it is not a
 * substitute for `pulumi up` (no provider, no state, no diff).
 */
import type { EvaluatedResource, Evaluation } from "../../offline/evaluate";
import { LABEL_PREFIX } from "../../program/labels";
import { publishTarget, type DockerScope } from "./docker";
import { CONTAINER, labelsOf } from "./program";
import { shellCommand } from "../../core/shell";

export interface Healthcheck {
  tests?: string[];
  interval?: string;
  timeout?: string;
  retries?: number;
  startPeriod?: string;
}
interface NetworkAdvanced {
  name: string;
  aliases?: string[];
}
interface Port {
  internal: number;
  external?: number;
  ip?: string;
}
interface Volume {
  volumeName: string;
  containerPath: string;
}
export interface Upload {
  file: string;
  content: string;
  /** Numeric uid / gid and octal mode ("0400"), as the provider's upload sets them. */
  owner?: string;
  group?: string;
  permissions?: string;
}

/**
 * A declared health check as `docker create` / `docker service create` flags.
 * `--health-cmd` only makes CMD-SHELL checks (the provider sends the exec form through the
 * Engine API). An exec-form ["CMD", argv...] check is given as that argv, each word shell-quoted
 * (core/shell.ts), which /bin/sh runs as exactly the same argv.
 */
export function healthFlags(resource: string, hc: Healthcheck): string[] {
  const tests = hc.tests ?? [];
  let cmd: string;
  if (tests[0] === "CMD" && tests.length >= 2) cmd = shellCommand(tests.slice(1));
  else if (tests[0] === "CMD-SHELL" && tests.length === 2) cmd = tests[1];
  else throw new Error(`${resource}: health check ${JSON.stringify(tests)}: only ["CMD", argv...] or ["CMD-SHELL", cmd] is supported`);
  const args = ["--health-cmd", cmd];
  if (hc.interval) args.push("--health-interval", hc.interval);
  if (hc.timeout) args.push("--health-timeout", hc.timeout);
  if (hc.retries !== undefined) args.push("--health-retries", String(hc.retries));
  if (hc.startPeriod) args.push("--health-start-period", hc.startPeriod);
  return args;
}

export interface ContainerSpec {
  /** The resource's Pulumi name. */
  name: string;
  /** Its `valuecanvas.rollout/role` label. */
  role: string;
  image: string;
  /** `docker create` flags (everything but the image and the command). */
  createArgs: string[];
  command: string[];
  uploads: Upload[];
  /** Networks after the first (joined with `docker network connect` before the start). */
  extraNetworks: NetworkAdvanced[];
  resource: EvaluatedResource;
}

/** The declared containers, by their role label. */
export function declaredContainers(ev: Evaluation): EvaluatedResource[] {
  return ev.resources.filter((r) => r.type === CONTAINER);
}

export function containerByRole(ev: Evaluation, role: string): EvaluatedResource {
  const found = declaredContainers(ev).filter((r) => labelsOf(r)[`${LABEL_PREFIX}/role`] === role);
  if (found.length !== 1) throw new Error(`expected one declared container with role ${role}, found ${found.length}`);
  return found[0];
}

export interface SpecOptions {
  /** Declared network name (the mock's) → the real network the test created. */
  networks: Readonly<Record<string, string>>;
  /** Declared volume name → the real volume. */
  volumes?: Readonly<Record<string, string>>;
  /**
   * "declared": publish exactly as declared; "ephemeral": the declared ports on loopback with an
   * ephemeral host port (tests must not take fixed host ports); extra internal ports to publish the
   * same way (a test probing a port the stack keeps private says so here); `{ loopbackPort }`: the
   * declared port on that loopback port (the benchmark's proxy replacement, which must keep its
   * address, picks a free one).
   */
  publish: "declared" | "ephemeral" | { loopbackPort: number };
  alsoPublish?: number[];
}

/** `docker create` arguments for one declared container. Throws on an input it cannot express. */
export function containerSpec(r: EvaluatedResource, opts: SpecOptions): ContainerSpec {
  const i = r.inputs;
  const args: string[] = [];
  for (const e of (i.envs as string[] | undefined) ?? []) args.push("--env", e);
  for (const [k, v] of Object.entries(labelsOf(r))) args.push("--label", `${k}=${v}`);
  const nets = (i.networksAdvanced as NetworkAdvanced[] | undefined) ?? [];
  const real = (n: NetworkAdvanced): NetworkAdvanced => {
    const name = opts.networks[n.name];
    if (!name) throw new Error(`${r.name}: network ${n.name} has no real network (known: ${Object.keys(opts.networks).join(", ")})`);
    return { name, aliases: n.aliases };
  };
  if (nets.length > 0) {
    const first = real(nets[0]);
    args.push("--network", first.name);
    for (const a of first.aliases ?? []) args.push("--network-alias", a);
  }
  for (const v of (i.volumes as Volume[] | undefined) ?? []) {
    const name = opts.volumes?.[v.volumeName];
    if (!name) throw new Error(`${r.name}: volume ${v.volumeName} has no real volume`);
    args.push("--volume", `${name}:${v.containerPath}`);
  }
  const ports = [...((i.ports as Port[] | undefined) ?? [])];
  for (const p of opts.alsoPublish ?? []) if (!ports.some((x) => x.internal === p)) ports.push({ internal: p });
  for (const p of ports) {
    const pub = opts.publish;
    const bind = publishTarget().bindIp;
    args.push("--publish", pub === "declared" ? `${p.ip ?? "0.0.0.0"}:${p.external ?? p.internal}:${p.internal}` : pub === "ephemeral" ? `${bind}::${p.internal}` : `${bind}:${pub.loopbackPort}:${p.internal}`);
  }
  const hc = i.healthcheck as Healthcheck | undefined;
  if (hc) args.push(...healthFlags(r.name, hc));
  if (typeof i.restart === "string") args.push("--restart", i.restart);
  if (typeof i.stopSignal === "string") args.push("--stop-signal", i.stopSignal);
  if (typeof i.destroyGraceSeconds === "number") args.push("--stop-timeout", String(i.destroyGraceSeconds));
  for (const k of ["entrypoints", "user", "workingDir", "privileged", "capabilities", "mounts", "hosts", "dns"]) {
    if (i[k] !== undefined) throw new Error(`${r.name}: input ${k} is declared but not translated by test/support/declared.ts`);
  }
  return {
    name: r.name,
    role: labelsOf(r)[`${LABEL_PREFIX}/role`] ?? "",
    image: String(i.image),
    createArgs: args,
    command: ((i.command as string[] | undefined) ?? []).map(String),
    uploads: ((i.uploads as Upload[] | undefined) ?? []).map((u) => ({ file: u.file, content: u.content, owner: u.owner, group: u.group, permissions: u.permissions })),
    extraNetworks: nets.slice(1).map(real),
    resource: r,
  };
}

/** Create (with its uploads and networks) and start one declared container in `scope`; returns its name. */
export function startSpec(scope: DockerScope, spec: ContainerSpec, what = spec.role || spec.name): Promise<string> {
  return scope.start(what, spec.createArgs, { image: spec.image, command: spec.command, uploads: spec.uploads, networks: spec.extraNetworks });
}
