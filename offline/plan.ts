/**
 * The offline plan: what a stack declares, and what a config change alters,
 * resource by resource. Pure functions over evaluations (offline/evaluate.ts);
 * secrets are always shown as `[secret]`.
 */
import { createHash } from "node:crypto";
import { CONFIG_NAMESPACE, RawConfig, SECRET_KEYS, objectInput } from "../core/configSchema";
import { showSetting } from "../core/configSecrets";
import { isGoShortDuration, goShortDuration, parseGoDuration } from "../core/goDuration";
import { Evaluation, EvaluatedResource, resourceKey } from "./evaluation";
import { SecretStatus } from "../stack/stackFile";

export { SECRET_MASK } from "../core/redact";
import { SECRET_MASK } from "../core/redact";
import { ALL_AT_ONCE } from "../core/swarm";

export interface PlannedResource {
  type: string;
  name: string;
  parent?: string;
  /** Inputs with the value at every secret path replaced by `[secret]` (plain values beside it shown). */
  inputs: Record<string, unknown>;
  secretInputs: string[];
  /** Where the secrets are (offline/evaluation.ts EvaluatedResource.secretPaths). */
  secretPaths: string[];
  deleteBeforeReplace?: boolean;
}

export interface InputChange {
  /** Dot path of the value that differs, e.g. `taskSpec.containerSpec.image` (a secret subtree is one change). */
  input: string;
  before: unknown;
  after: unknown;
  secret: boolean;
  /** This change alone makes the provider replace the resource (see REPLACEMENT below). */
  replaces?: true;
}

export interface ResourceChange {
  type: string;
  name: string;
  action: "create" | "delete" | "update";
  /**
   * For updates the provider cannot make in place (a Docker container's env,
   * labels or image; a service's name or container-spec labels): how it is
   * replaced.
   */
  replace?: "create-first" | "delete-first";
  /** For updates: the values that differ, path by path (secrets masked). */
  changes: InputChange[];
}

const under = (path: string, prefix: string) => path === prefix || path.startsWith(`${prefix}.`);
const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * `v` (at path `at`) with the value at every secret path replaced by the mask.
 * Walks the tree with the same path spelling offline/evaluate.ts records, so a
 * key that contains a dot can only mask more, never less.
 */
function maskTree(v: unknown, at: string, secret: ReadonlySet<string>): unknown {
  if (secret.has(at)) return SECRET_MASK;
  if (Array.isArray(v)) return v.map((x, i) => maskTree(x, `${at}.${i}`, secret));
  if (isPlainObject(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, maskTree(x, `${at}.${k}`, secret)]));
  return v;
}

/** A resource's inputs with every secret masked at its leaf. */
export function maskedInputs(r: Pick<EvaluatedResource, "inputs" | "secretPaths">): Record<string, unknown> {
  const secret = new Set(r.secretPaths);
  return Object.fromEntries(Object.entries(r.inputs).map(([k, v]) => [k, maskTree(v, k, secret)]));
}

export function plannedResources(ev: Evaluation): PlannedResource[] {
  return ev.resources
    .filter((r) => r.custom)
    .map((r) => ({
      type: r.type,
      name: r.name,
      parent: r.parent,
      inputs: maskedInputs(r),
      secretInputs: r.secretInputs,
      secretPaths: r.secretPaths,
      deleteBeforeReplace: r.options.deleteBeforeReplace,
    }));
}

export function maskedOutputs(ev: Evaluation): Record<string, unknown> {
  return Object.fromEntries(Object.entries(ev.outputs).map(([k, v]) => [k, ev.secretOutputs.includes(k) ? SECRET_MASK : v]));
}

/** Stable JSON for comparison (object keys sorted). */
export function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (typeof v === "object" && v !== null) {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(v) ?? "undefined";
}

interface Leaf {
  value: unknown;
  secret: boolean;
}

/**
 * The values a diff compares, by path: objects are walked key by key; an array,
 * a scalar, an empty object and a secret subtree are each one leaf. A leaf that
 * holds a secret anywhere inside (an array with a secret element) is secret.
 */
function leaves(v: unknown, at: string, secretPaths: readonly string[], out: Map<string, Leaf>): Map<string, Leaf> {
  if (secretPaths.includes(at)) out.set(at, { value: v, secret: true });
  else if (isPlainObject(v) && Object.keys(v).length > 0) for (const [k, x] of Object.entries(v)) leaves(x, `${at}.${k}`, secretPaths, out);
  else out.set(at, { value: v, secret: secretPaths.some((p) => under(p, at)) });
  return out;
}

function inputLeaves(r: EvaluatedResource): Map<string, Leaf> {
  const out = new Map<string, Leaf>();
  for (const [k, v] of Object.entries(r.inputs)) leaves(v, k, r.secretPaths, out);
  if (r.type === SERVICE) {
    // The app's settings are words of args (core/appCommand.ts): compared word by word, so a stage change shows
    // as the one setting that changed, not as two whole command lines.
    const args = out.get(SERVICE_ARGS);
    if (args && !args.secret && Array.isArray(args.value)) {
      out.delete(SERVICE_ARGS);
      args.value.forEach((w, i) => out.set(`${SERVICE_ARGS}.${i}`, { value: w, secret: false }));
    }
    for (const [path, leaf] of out) {
      const v = readBackForm(path, leaf.value);
      if (v === undefined) out.delete(path);
      else out.set(path, { ...leaf, value: v });
    }
  }
  return out;
}

const SERVICE_ARGS = "taskSpec.containerSpec.args";

/** The service inputs docker provider 5.2.0 types as Go durations (ServiceArgs): the last segment of their paths. */
export const SERVICE_DURATION_KEYS: readonly string[] = ["interval", "timeout", "startPeriod", "stopGracePeriod", "delay", "monitor", "window"];

/**
 * A service input leaf as the provider reads it back (issue 22 fact 1), so that
 * a no-op compares clean: a Go duration in its short form (core/goDuration.ts),
 * and an empty map or null as no value (Terraform's model, which the provider
 * follows, holds no empty map: `sysctl: {}` and no `sysctl` read back alike).
 */
function readBackForm(path: string, v: unknown): unknown {
  if (v === null || (isPlainObject(v) && Object.keys(v).length === 0)) return undefined;
  const key = path.slice(path.lastIndexOf(".") + 1);
  if (typeof v === "string" && SERVICE_DURATION_KEYS.includes(key) && !isGoShortDuration(v)) {
    try {
      parseGoDuration(v);
    } catch {
      return v; // not a duration: compared as written (the provider refuses it at `up`)
    }
    return goShortDuration(v);
  }
  return v;
}

// ---------------------------------------------------------------------------
// Which changes the docker provider makes in place, and which replace

const CONTAINER = "docker:index/container:Container";
const NETWORK = "docker:index/network:Network";
const VOLUME = "docker:index/volume:Volume";
export const SERVICE = "docker:index/service:Service";

/**
 * Service input paths whose change replaces the whole service. Measured by hand
 * with the real engine for docker provider 5.2.0 (issue 15): `name`, and
 * `taskSpec.containerSpec.labels` (so the rollout labels live on the service's
 * own `labels`). `auth` and `taskSpec.containerSpec.hosts` are ForceNew in the
 * provider's schema (not measured here).
 */
export const SERVICE_REPLACED_PATHS: readonly string[] = ["name", "auth", "taskSpec.containerSpec.labels", "taskSpec.containerSpec.hosts"];

/**
 * Service input paths measured IN PLACE for docker provider 5.2.0 (issue 15):
 * the task env, the image given as a plain string, the replica count and the
 * service's own labels (once it has some). Every other service path (updateConfig,
 * rollbackConfig, convergeConfig, the health check, networks...) is updated in
 * place per the provider's schema, but was not measured.
 */
export const SERVICE_IN_PLACE_MEASURED: readonly string[] = ["taskSpec.containerSpec.env", "taskSpec.containerSpec.image", "mode.replicated.replicas", "labels"];

const isEmpty = (v: unknown) => v === undefined || v === null || (Array.isArray(v) && v.length === 0);

/**
 * Whether the provider replaces a resource of `type` for this one change.
 * Mocks compute no diffs, so this encodes what the provider was seen to do:
 * - a container, network or volume: any change replaces it;
 * - a service: a change under SERVICE_REPLACED_PATHS replaces it, and so does
 *   giving `labels` to a service that had none (measured: once); the rest is
 *   in place.
 * Other types (the database's, the dynamic providers') update in place.
 */
export function replacesResource(type: string, change: Pick<InputChange, "input" | "before" | "after">): boolean {
  switch (type) {
    case CONTAINER:
    case NETWORK:
    case VOLUME:
      return true;
    case SERVICE:
      if (SERVICE_REPLACED_PATHS.some((p) => under(change.input, p))) return true;
      return change.input === "labels" && isEmpty(change.before) && !isEmpty(change.after);
    default:
      return false;
  }
}

/** Resource-by-resource differences between two evaluations (custom resources only), path by path. */
export function diffEvaluations(before: Evaluation, after: Evaluation): ResourceChange[] {
  const a = new Map(before.resources.filter((r) => r.custom).map((r) => [resourceKey(r), r]));
  const b = new Map(after.resources.filter((r) => r.custom).map((r) => [resourceKey(r), r]));
  const out: ResourceChange[] = [];
  for (const [k, rb] of b) {
    const ra = a.get(k);
    if (!ra) {
      out.push({ type: rb.type, name: rb.name, action: "create", changes: [] });
      continue;
    }
    const la = inputLeaves(ra);
    const lb = inputLeaves(rb);
    const changes: InputChange[] = [];
    for (const input of [...new Set([...la.keys(), ...lb.keys()])].sort()) {
      const x = la.get(input);
      const y = lb.get(input);
      if (canonical(x?.value) === canonical(y?.value)) continue;
      const secret = (x?.secret ?? false) || (y?.secret ?? false);
      const replaces = replacesResource(rb.type, { input, before: x?.value, after: y?.value });
      changes.push({
        input,
        before: secret ? SECRET_MASK : x?.value,
        after: secret ? SECRET_MASK : y?.value,
        secret,
        ...(replaces ? { replaces: true as const } : {}),
      });
    }
    if (changes.length > 0) {
      const replace = changes.some((c) => c.replaces) ? (rb.options.deleteBeforeReplace ? "delete-first" : "create-first") : undefined;
      out.push({ type: rb.type, name: rb.name, action: "update", changes, ...(replace ? { replace } : {}) });
    }
  }
  for (const [k, ra] of a) if (!b.has(k)) out.push({ type: ra.type, name: ra.name, action: "delete", changes: [] });
  return out;
}

// ---------------------------------------------------------------------------
// --set key=value

export class SetArgumentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SetArgumentError";
  }
}

export interface ConfigSet {
  /** Dot path without namespace. */
  path: string;
  value: string;
}

/** Parse `key=value` (key with or without `valuecanvas:`, dots for nested keys). */
export function parseSet(arg: string): ConfigSet {
  const eq = arg.indexOf("=");
  if (eq <= 0) {
    throw new SetArgumentError(`--set ${JSON.stringify(arg)}: expected key=value, e.g. --set canaryPercentage=25`);
  }
  let key = arg.slice(0, eq).trim();
  const value = arg.slice(eq + 1);
  const colon = key.indexOf(":");
  if (colon >= 0) {
    const ns = key.slice(0, colon);
    if (ns !== CONFIG_NAMESPACE) {
      throw new SetArgumentError(`--set ${JSON.stringify(arg)}: only ${CONFIG_NAMESPACE}: keys can be set here, not ${ns}:`);
    }
    key = key.slice(colon + 1);
  }
  if (!/^[A-Za-z][A-Za-z0-9]*(\.[A-Za-z][A-Za-z0-9]*)*$/.test(key)) {
    throw new SetArgumentError(`--set ${JSON.stringify(arg)}: expected a key such as canaryPercentage or thresholds.p95WarningSeconds`);
  }
  if ((SECRET_KEYS as readonly string[]).includes(key)) {
    throw new SetArgumentError(
      `--set ${key}: secrets are never given on a command line; the plan uses a placeholder for them (pulumi config set --secret sets the real value)`,
    );
  }
  return { path: key, value };
}

/** The sets as shown to people: credential-looking values masked (core/configSecrets.ts showSetting). */
export function shownSets(sets: readonly ConfigSet[]): ConfigSet[] {
  return sets.map((s) => ({ path: s.path, value: showSetting(s.path, s.value) }));
}

/** Apply sets to raw config (copy), as `pulumi config set [--path]` would store them. */
export function applySets(raw: RawConfig, sets: ConfigSet[]): RawConfig {
  const out = structuredClone(raw);
  for (const s of sets) {
    const segs = s.path.split(".");
    let cur = out as Record<string, unknown>;
    for (const seg of segs.slice(0, -1)) {
      // A group may be a JSON-encoded string (how Pulumi passes structured config); a bad one is left to the schema.
      let next = objectInput(cur[seg]);
      if (typeof next !== "object" || next === null || Array.isArray(next)) next = {};
      cur[seg] = next;
      cur = next as Record<string, unknown>;
    }
    cur[segs[segs.length - 1]] = s.value;
  }
  return out;
}

// ---------------------------------------------------------------------------
// Text rendering

const LONG = 160;

function showValue(v: unknown): string {
  if (typeof v === "string") {
    if (v.length > LONG || v.includes("\n")) {
      const lines = v.split("\n").length;
      const hash = createHash("sha256").update(v).digest("hex").slice(0, 12);
      return `<${lines} lines, ${v.length} bytes, sha256:${hash}>`;
    }
    return JSON.stringify(v);
  }
  const s = JSON.stringify(v, (_k, x: unknown) => (typeof x === "string" && (x.length > LONG || x.includes("\n")) ? showValue(x) : x));
  return s ?? "undefined";
}

export interface PlanHeader {
  stack: string;
  file: string;
  secrets: SecretStatus[];
  warnings: string[];
}

function headerLines(h: PlanHeader): string[] {
  const lines = [
    `Stack ${h.stack} (${h.file}), evaluated offline under the Pulumi SDK mock runtime. Secrets are shown as ${SECRET_MASK}.`,
  ];
  const unset = h.secrets.filter((s) => s.source === "unset" && s.used).map((s) => s.key);
  if (unset.length > 0) {
    lines.push(`Secrets not in the stack file (placeholders here; set each with pulumi config set --secret on the change's branch, before its merge runs pulumi up): ${unset.join(", ")}`);
  }
  for (const w of h.warnings) lines.push(`warning: ${w}`);
  return lines;
}

export function formatResources(h: PlanHeader, resources: PlannedResource[], outputs: Record<string, unknown>): string {
  const lines = headerLines(h);
  lines.push("", `${resources.length} resources:`);
  for (const r of resources) {
    const flags = r.deleteBeforeReplace ? " (replaced delete-first)" : "";
    lines.push(``, `+ ${r.type} ${r.name}${r.parent ? `  [in ${r.parent.split("::").pop()}]` : ""}${flags}`);
    for (const [k, v] of Object.entries(r.inputs).sort(([x], [y]) => x.localeCompare(y))) {
      lines.push(`    ${k}: ${showValue(v)}`);
    }
  }
  lines.push("", "Outputs:");
  for (const [k, v] of Object.entries(outputs)) lines.push(`    ${k}: ${showValue(v)}`);
  return lines.join("\n") + "\n";
}

/**
 * Why an input changes when the change that moves it says nothing of it, in one line: the update's
 * parallelism follows the declared state (core/swarm.ts updateParallelism).
 */
export function changeNote(input: string, after: unknown): string | undefined {
  if (input !== "updateConfig.parallelism") return undefined;
  return after === ALL_AT_ONCE
    ? "all tasks at once: with both flags off above 0 %, Swarm swaps every task together, as the flags-off rollback needs"
    : "one task at a time again: the all-at-once swap is only for both flags off above 0 % (the flags-off rollback)";
}

export function formatChanges(h: PlanHeader, sets: ConfigSet[], changes: ResourceChange[]): string {
  const lines = headerLines(h);
  lines.push("", `Changes from ${shownSets(sets).map((s) => `${CONFIG_NAMESPACE}:${s.path}=${s.value}`).join(", ")}:`);
  if (changes.length === 0) lines.push("", "No resource changes.");
  for (const c of changes) {
    const sign = c.action === "create" ? "+" : c.action === "delete" ? "-" : c.replace ? "+-" : "~";
    const how = c.replace === "create-first" ? "  (replace: new one first, old one removed once healthy)" : c.replace === "delete-first" ? "  (replace: old one removed first)" : "";
    lines.push("", `${sign} ${c.type} ${c.name}${how}`);
    for (const ch of c.changes) {
      const forces = ch.replaces && c.replace ? "  (forces replacement)" : "";
      if (ch.secret) lines.push(`    ${ch.input}: ${SECRET_MASK} (changed)${forces}`);
      else if (Array.isArray(ch.before) && Array.isArray(ch.after)) {
        // Element-wise: what left the list and what joined it.
        const inAfter = new Set(ch.after.map(canonical));
        const inBefore = new Set(ch.before.map(canonical));
        lines.push(`    ${ch.input}:${forces}`);
        for (const x of ch.before) if (!inAfter.has(canonical(x))) lines.push(`      - ${showValue(x)}`);
        for (const x of ch.after) if (!inBefore.has(canonical(x))) lines.push(`      + ${showValue(x)}`);
      } else lines.push(`    ${ch.input}: ${showValue(ch.before)} => ${showValue(ch.after)}${forces}`);
      const why = changeNote(ch.input, ch.after);
      if (why !== undefined) lines.push(`      (${why})`);
    }
  }
  const n = changes.length;
  lines.push("", `${n} resource${n === 1 ? "" : "s"} would change.`);
  return lines.join("\n") + "\n";
}
