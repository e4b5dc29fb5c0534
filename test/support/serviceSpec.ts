/**
 * A declared `docker.Service` (from the mock-runtime evaluation `npm run plan`
 * uses) as docker CLI arguments: `docker service create` flags for the whole
 * spec, and, for a change, `docker service update` flags for only the fields
 * that changed. Pure: no I/O. The I/O half is test/support/service.ts.
 *
 * This mirrors what docker provider 5.2.0 sends for a Service (issue 15's
 * "provider facts"): env, the image (a plain string), the replica count and the
 * service's own labels change in place, and so do `args` and the secret mounts
 * (no ForceNew in the provider's schema); a change of the container-spec labels
 * or the networks makes the provider replace the service, which
 * this harness does not mimic: it refuses such a change, naming the field.
 * Every declared input this file does not translate is refused too, so a new
 * field in components/app.ts cannot be silently dropped.
 */
import { shellCommand } from "../../core/shell";
import { Healthcheck, healthFlags } from "./declared";
import type { ServiceInputs } from "./program";

export type { ServiceInputs };
type ContainerSpecInputs = ServiceInputs["taskSpec"]["containerSpec"];
type UpdateConfig = NonNullable<ServiceInputs["updateConfig"]>;
type RollbackConfig = NonNullable<ServiceInputs["rollbackConfig"]>;

export interface ServiceCreateOptions {
  /** Declared network (its mock id or name) → the real network the test created. */
  networks: Readonly<Record<string, string>>;
}

const TRANSLATED = {
  service: ["name", "labels", "mode", "endpointSpec", "updateConfig", "rollbackConfig", "convergeConfig", "taskSpec"],
  taskSpec: ["containerSpec", "networksAdvanceds", "restartPolicy", "placement"],
  containerSpec: ["image", "env", "labels", "healthcheck", "stopSignal", "stopGracePeriod", "args", "sysctl", "user", "secrets"],
} as const;

function refuseUntranslated(resource: string, where: string, o: object | undefined, known: readonly string[]): void {
  for (const [k, v] of Object.entries(o ?? {})) {
    if (v !== undefined && !known.includes(k)) throw new Error(`${resource}: ${where}${k} is declared but not translated by test/support/serviceSpec.ts (translated: ${known.join(", ")})`);
  }
}

/** Throws, naming the input, for any declared field the harness would silently drop. */
export function checkTranslated(resource: string, s: ServiceInputs): void {
  refuseUntranslated(resource, "", s, TRANSLATED.service);
  refuseUntranslated(resource, "taskSpec.", s.taskSpec, TRANSLATED.taskSpec);
  refuseUntranslated(resource, "taskSpec.containerSpec.", s.taskSpec.containerSpec, TRANSLATED.containerSpec);
  const sysctl = s.taskSpec.containerSpec.sysctl;
  if (sysctl && Object.keys(sysctl).length > 0) throw new Error(`${resource}: taskSpec.containerSpec.sysctl: only an empty map is translated`);
  const mode = s.mode;
  if (mode?.global) throw new Error(`${resource}: mode.global: only a replicated service is translated`);
  for (const n of s.taskSpec.networksAdvanceds ?? []) {
    if (n.driverOpts && n.driverOpts.length > 0) throw new Error(`${resource}: taskSpec.networksAdvanceds[].driverOpts is not translated`);
  }
}

const kv = (labels: ReadonlyArray<{ label: string; value: string }> | undefined): Record<string, string> =>
  Object.fromEntries((labels ?? []).map((l) => [l.label, l.value]));

/** The service's own (top-level) labels as a map. */
export const serviceLabels = (s: ServiceInputs): Record<string, string> => kv(s.labels);
/** The container-spec labels as a map. */
export const containerSpecLabels = (s: ServiceInputs): Record<string, string> => kv(s.taskSpec.containerSpec.labels);
export const replicasOf = (s: ServiceInputs): number => s.mode?.replicated?.replicas ?? 1;

const UPDATE_FLAGS: ReadonlyArray<[keyof UpdateConfig & keyof RollbackConfig, string]> = [
  ["parallelism", "parallelism"],
  ["delay", "delay"],
  ["failureAction", "failure-action"],
  ["monitor", "monitor"],
  ["order", "order"],
  ["maxFailureRatio", "max-failure-ratio"],
];

function policyFlags(prefix: "update" | "rollback", c: UpdateConfig | RollbackConfig | undefined, only?: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (const [key, flag] of UPDATE_FLAGS) {
    const v = (c as Record<string, unknown> | undefined)?.[key];
    if (v === undefined || (only && !only.has(key))) continue;
    out.push(`--${prefix}-${flag}`, String(v));
  }
  return out;
}

function restartFlags(r: ServiceInputs["taskSpec"]["restartPolicy"]): string[] {
  if (!r) return [];
  const out: string[] = [];
  if (r.condition !== undefined) out.push("--restart-condition", r.condition);
  if (r.delay !== undefined) out.push("--restart-delay", r.delay);
  if (r.maxAttempts !== undefined) out.push("--restart-max-attempts", String(r.maxAttempts));
  if (r.window !== undefined) out.push("--restart-window", r.window);
  return out;
}

function networkFlags(resource: string, s: ServiceInputs, opts: ServiceCreateOptions): string[] {
  const out: string[] = [];
  for (const n of s.taskSpec.networksAdvanceds ?? []) {
    const declared = n.id ?? n.name;
    const real = declared === undefined ? undefined : opts.networks[declared];
    if (!real) throw new Error(`${resource}: taskSpec.networksAdvanceds: network ${JSON.stringify(declared)} has no real network (known: ${Object.keys(opts.networks).join(", ")})`);
    // The CLI's long form: name=<network>,alias=<a>,alias=<b> (a network name or id holds no comma or '=').
    out.push("--network", [`name=${real}`, ...(n.aliases ?? []).map((a) => `alias=${a}`)].join(","));
  }
  return out;
}

type SecretRef = NonNullable<ContainerSpecInputs["secrets"]>[number];

/** `--secret` / `--secret-add` value: the CLI's long form (a secret name holds no comma or '='). */
function secretMount(resource: string, x: SecretRef): string {
  const source = x.secretName ?? x.secretId;
  if (!source) throw new Error(`${resource}: taskSpec.containerSpec.secrets[]: no secretName or secretId`);
  const parts = [`source=${source}`, `target=${x.fileName}`];
  if (x.fileUid !== undefined) parts.push(`uid=${x.fileUid}`);
  if (x.fileGid !== undefined) parts.push(`gid=${x.fileGid}`);
  // The CLI reads mode as octal.
  if (x.fileMode !== undefined) parts.push(`mode=${x.fileMode.toString(8).padStart(4, "0")}`);
  return parts.join(",");
}

function stopFlags(c: ContainerSpecInputs): string[] {
  const out: string[] = [];
  if (c.stopSignal !== undefined) out.push("--stop-signal", c.stopSignal);
  if (c.stopGracePeriod !== undefined) out.push("--stop-grace-period", c.stopGracePeriod);
  return out;
}

export interface ServiceCreate {
  /** `docker service create` flags (no --name, no image, no args). */
  flags: string[];
  image: string;
  args: string[];
}

type Placement = ServiceInputs["taskSpec"]["placement"];

/** `docker service create` flags for the task's placement (core/swarm.ts appPlacement). */
function placementFlags(resource: string, p: Placement): string[] {
  if (!p) return [];
  if (p.platforms && p.platforms.length > 0) throw new Error(`${resource}: taskSpec.placement.platforms is not translated`);
  const out: string[] = [];
  for (const c of p.constraints ?? []) out.push("--constraint", c);
  for (const x of p.prefs ?? []) out.push("--placement-pref", x);
  if (p.maxReplicas !== undefined) out.push("--replicas-max-per-node", String(p.maxReplicas));
  return out;
}

/** `docker service create` for the declared spec, detached (the harness waits as convergeConfig does). */
export function serviceCreateArgs(resource: string, s: ServiceInputs, opts: ServiceCreateOptions): ServiceCreate {
  checkTranslated(resource, s);
  const c = s.taskSpec.containerSpec;
  const flags: string[] = ["--detach", "--no-resolve-image", "--replicas", String(replicasOf(s))];
  if (s.endpointSpec?.mode) flags.push("--endpoint-mode", s.endpointSpec.mode);
  if (s.endpointSpec?.ports && s.endpointSpec.ports.length > 0) throw new Error(`${resource}: endpointSpec.ports is not translated (the edge proxy publishes the port)`);
  for (const [k, v] of Object.entries(serviceLabels(s))) flags.push("--label", `${k}=${v}`);
  for (const [k, v] of Object.entries(containerSpecLabels(s))) flags.push("--container-label", `${k}=${v}`);
  for (const [k, v] of Object.entries(c.env ?? {})) flags.push("--env", `${k}=${v}`);
  flags.push(...networkFlags(resource, s, opts));
  if (c.healthcheck) flags.push(...healthFlags(resource, c.healthcheck as Healthcheck));
  flags.push(...stopFlags(c));
  if (c.user !== undefined) flags.push("--user", c.user);
  for (const x of c.secrets ?? []) flags.push("--secret", secretMount(resource, x));
  flags.push(...restartFlags(s.taskSpec.restartPolicy));
  flags.push(...placementFlags(resource, s.taskSpec.placement));
  flags.push(...policyFlags("update", s.updateConfig));
  flags.push(...policyFlags("rollback", s.rollbackConfig));
  return { flags, image: c.image, args: [...(c.args ?? [])] };
}

export interface ServiceUpdate {
  /** `docker service update` flags for the changed fields only (empty: nothing to do). */
  flags: string[];
  /** The changed fields, as dotted input paths (what a preview's `~ update` would list). */
  changed: string[];
  /** Whether the change alters the task template, so Swarm runs a rolling update (else only the service record changes). */
  rollingUpdate: boolean;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/**
 * `docker service update` flags that take the service from `before` to `after`, in place, for the
 * fields the provider updates in place. Throws, naming the field, for a change that makes the
 * provider replace the service (container-spec labels, networks, args) or that this file does not
 * translate.
 */
export function serviceUpdateArgs(resource: string, before: ServiceInputs, after: ServiceInputs): ServiceUpdate {
  checkTranslated(resource, after);
  const flags: string[] = [];
  const changed: string[] = [];
  let rolling = false;
  const b = before.taskSpec.containerSpec;
  const a = after.taskSpec.containerSpec;

  for (const [path, x, y] of [
    ["taskSpec.containerSpec.labels", containerSpecLabels(before), containerSpecLabels(after)],
    ["taskSpec.networksAdvanceds", before.taskSpec.networksAdvanceds, after.taskSpec.networksAdvanceds],
    ["endpointSpec", before.endpointSpec, after.endpointSpec],
    ["name", before.name, after.name],
  ] as const) {
    if (!same(x, y)) throw new Error(`${resource}: ${path} changed (${JSON.stringify(x)} → ${JSON.stringify(y)}): the provider replaces the service for that, which this harness does not mimic`);
  }
  if (before.labels === undefined && after.labels !== undefined) {
    throw new Error(`${resource}: labels added to a service that had none: the provider replaces the service once for that, which this harness does not mimic`);
  }

  if (a.image !== b.image) {
    flags.push("--image", a.image);
    changed.push("taskSpec.containerSpec.image");
    rolling = true;
  }
  const envB = b.env ?? {};
  const envA = a.env ?? {};
  for (const [k, v] of Object.entries(envA)) if (envB[k] !== v) flags.push("--env-add", `${k}=${v}`);
  for (const k of Object.keys(envB)) if (!(k in envA)) flags.push("--env-rm", k);
  if (!same(envB, envA)) {
    changed.push("taskSpec.containerSpec.env");
    rolling = true;
  }
  const lb = serviceLabels(before);
  const la = serviceLabels(after);
  for (const [k, v] of Object.entries(la)) if (lb[k] !== v) flags.push("--label-add", `${k}=${v}`);
  for (const k of Object.keys(lb)) if (!(k in la)) flags.push("--label-rm", k);
  if (!same(lb, la)) changed.push("labels");
  if (replicasOf(before) !== replicasOf(after)) {
    flags.push("--replicas", String(replicasOf(after)));
    changed.push("mode.replicated.replicas");
  }
  if (!same(b.healthcheck, a.healthcheck)) {
    if (!a.healthcheck) throw new Error(`${resource}: taskSpec.containerSpec.healthcheck removed: not translated (the app's health check gates every update)`);
    flags.push(...healthFlags(resource, a.healthcheck as Healthcheck));
    changed.push("taskSpec.containerSpec.healthcheck");
    rolling = true;
  }
  if (!same(b.stopSignal, a.stopSignal) || !same(b.stopGracePeriod, a.stopGracePeriod)) {
    flags.push(...stopFlags(a));
    changed.push("taskSpec.containerSpec.stopSignal/stopGracePeriod");
    rolling = true;
  }
  // args: a list the provider updates in place (no ForceNew in its schema); the CLI reads --args as shell words.
  if (!same(b.args, a.args)) {
    if (!a.args || a.args.length === 0) throw new Error(`${resource}: taskSpec.containerSpec.args removed: not translated`);
    flags.push("--args", shellCommand(a.args));
    changed.push("taskSpec.containerSpec.args");
    rolling = true;
  }
  if (!same(b.user, a.user)) {
    if (a.user === undefined) throw new Error(`${resource}: taskSpec.containerSpec.user removed: not translated`);
    flags.push("--user", a.user);
    changed.push("taskSpec.containerSpec.user");
    rolling = true;
  }
  if (!same(b.secrets, a.secrets)) {
    // A set, updated in place by the provider: every old mount out, every new one in (one update, one rolling restart).
    for (const x of b.secrets ?? []) flags.push("--secret-rm", String(x.secretName ?? x.secretId));
    for (const x of a.secrets ?? []) flags.push("--secret-add", secretMount(resource, x));
    changed.push("taskSpec.containerSpec.secrets");
    rolling = true;
  }
  if (!same(before.taskSpec.placement, after.taskSpec.placement)) {
    const b = before.taskSpec.placement ?? {};
    const a = after.taskSpec.placement ?? {};
    for (const c of b.constraints ?? []) if (!(a.constraints ?? []).includes(c)) flags.push("--constraint-rm", c);
    for (const c of a.constraints ?? []) if (!(b.constraints ?? []).includes(c)) flags.push("--constraint-add", c);
    if (!same(b.prefs, a.prefs)) {
      // Preferences are ordered (highest precedence first): every old one out, the new list in.
      for (const p of b.prefs ?? []) flags.push("--placement-pref-rm", p);
      for (const p of a.prefs ?? []) flags.push("--placement-pref-add", p);
    }
    if (!same(b.maxReplicas, a.maxReplicas)) flags.push("--replicas-max-per-node", String(a.maxReplicas ?? 0));
    changed.push("taskSpec.placement");
    rolling = true;
  }
  if (!same(before.taskSpec.restartPolicy, after.taskSpec.restartPolicy)) {
    flags.push(...restartFlags(after.taskSpec.restartPolicy));
    changed.push("taskSpec.restartPolicy");
    rolling = true;
  }
  for (const [prefix, x, y] of [
    ["update", before.updateConfig, after.updateConfig],
    ["rollback", before.rollbackConfig, after.rollbackConfig],
  ] as const) {
    const keys = new Set(UPDATE_FLAGS.map(([k]) => k as string).filter((k) => !same((x as Record<string, unknown> | undefined)?.[k], (y as Record<string, unknown> | undefined)?.[k])));
    if (keys.size === 0) continue;
    const removed = [...keys].filter((k) => (y as Record<string, unknown> | undefined)?.[k] === undefined);
    if (removed.length > 0) throw new Error(`${resource}: ${prefix}Config.${removed.join(", ")} removed: not translated (docker service update cannot unset it)`);
    flags.push(...policyFlags(prefix, y, keys));
    changed.push(`${prefix}Config`);
  }
  // convergeConfig is the provider's own (how long `up` waits); nothing to send to the engine.
  if (flags.length > 0) flags.unshift("--detach", "--no-resolve-image");
  return { flags, changed, rollingUpdate: rolling };
}

/** A Go-style duration the provider accepts (`7s`, `3m`, `500ms`, `1m30s`) in milliseconds. */
export function durationMs(text: string): number {
  const re = /(\d+(?:\.\d+)?)(ms|us|µs|ns|s|m|h)/g;
  const unit: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001, µs: 0.001, ns: 0.000001 };
  let total = 0;
  let seen = "";
  for (let m = re.exec(text); m; m = re.exec(text)) {
    total += Number(m[1]) * unit[m[2]];
    seen += m[0];
  }
  if (seen === "" || seen !== text) throw new Error(`duration ${JSON.stringify(text)}: expected a Go duration such as 7s, 3m or 500ms`);
  return total;
}

/** convergeConfig with the provider's defaults (delay 7s, timeout 3m), in milliseconds. */
export function convergeOf(s: ServiceInputs): { delayMs: number; timeoutMs: number } | undefined {
  const c = s.convergeConfig;
  if (!c) return undefined;
  return { delayMs: durationMs(c.delay ?? "7s"), timeoutMs: durationMs(c.timeout ?? "3m") };
}
