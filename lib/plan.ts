/**
 * The offline plan: what a stack declares, and what a config change alters,
 * resource by resource. Pure functions over evaluations (offline/evaluate.ts);
 * secrets are always shown as `[secret]`.
 */
import { createHash } from "node:crypto";
import { CONFIG_NAMESPACE, RawConfig, SECRET_KEYS, showSetting } from "./config";
import { Evaluation, EvaluatedResource, resourceKey } from "../offline/evaluation";
import { SecretStatus } from "./stackFile";

export { SECRET_MASK } from "./redact";
import { SECRET_MASK } from "./redact";

export interface PlannedResource {
  type: string;
  name: string;
  parent?: string;
  /** Inputs with every secret input replaced by `[secret]`. */
  inputs: Record<string, unknown>;
  secretInputs: string[];
  deleteBeforeReplace?: boolean;
}

export interface InputChange {
  input: string;
  before: unknown;
  after: unknown;
  secret: boolean;
}

export interface ResourceChange {
  type: string;
  name: string;
  action: "create" | "delete" | "update";
  /**
   * For updates of resources the provider cannot change in place (a Docker
   * container's env, labels or image): how it is replaced.
   */
  replace?: "create-first" | "delete-first";
  /** For updates: the inputs that differ (secrets masked). */
  changes: InputChange[];
}

function masked(r: EvaluatedResource): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(r.inputs)) out[k] = r.secretInputs.includes(k) ? SECRET_MASK : v;
  return out;
}

export function plannedResources(ev: Evaluation): PlannedResource[] {
  return ev.resources
    .filter((r) => r.custom)
    .map((r) => ({
      type: r.type,
      name: r.name,
      parent: r.parent,
      inputs: masked(r),
      secretInputs: r.secretInputs,
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

/**
 * Types the Docker provider recreates rather than updates when their inputs
 * change (a container's env, labels, image, uploads...): the plan says
 * "replace" for them, and whether the new one is created before the old one
 * is deleted.
 */
const REPLACED_ON_CHANGE = new Set(["docker:index/container:Container", "docker:index/network:Network", "docker:index/volume:Volume"]);

/** Resource-by-resource differences between two evaluations (custom resources only). */
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
    const changes: InputChange[] = [];
    const keys = [...new Set([...Object.keys(ra.inputs), ...Object.keys(rb.inputs)])].sort();
    for (const input of keys) {
      if (canonical(ra.inputs[input]) === canonical(rb.inputs[input])) continue;
      const secret = ra.secretInputs.includes(input) || rb.secretInputs.includes(input);
      changes.push({
        input,
        before: secret ? SECRET_MASK : ra.inputs[input],
        after: secret ? SECRET_MASK : rb.inputs[input],
        secret,
      });
    }
    if (changes.length > 0) {
      const replace = REPLACED_ON_CHANGE.has(rb.type) ? (rb.options.deleteBeforeReplace ? "delete-first" : "create-first") : undefined;
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

/** The sets as shown to people: credential-looking values masked (lib/config.ts showSetting). */
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
      let next = cur[seg];
      if (typeof next === "string" && next.trim().startsWith("{")) {
        try {
          next = JSON.parse(next);
        } catch {
          /* left as is: the schema reports it */
        }
      }
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

export function formatChanges(h: PlanHeader, sets: ConfigSet[], changes: ResourceChange[]): string {
  const lines = headerLines(h);
  lines.push("", `Changes from ${shownSets(sets).map((s) => `${CONFIG_NAMESPACE}:${s.path}=${s.value}`).join(", ")}:`);
  if (changes.length === 0) lines.push("", "No resource changes.");
  for (const c of changes) {
    const sign = c.action === "create" ? "+" : c.action === "delete" ? "-" : c.replace ? "+-" : "~";
    const how = c.replace === "create-first" ? "  (replace: new one first, old one removed once healthy)" : c.replace === "delete-first" ? "  (replace: old one removed first)" : "";
    lines.push("", `${sign} ${c.type} ${c.name}${how}`);
    for (const ch of c.changes) {
      if (ch.secret) lines.push(`    ${ch.input}: ${SECRET_MASK} (changed)`);
      else if (Array.isArray(ch.before) && Array.isArray(ch.after)) {
        // Element-wise: what left the list and what joined it.
        const inAfter = new Set(ch.after.map(canonical));
        const inBefore = new Set(ch.before.map(canonical));
        lines.push(`    ${ch.input}:`);
        for (const x of ch.before) if (!inAfter.has(canonical(x))) lines.push(`      - ${showValue(x)}`);
        for (const x of ch.after) if (!inBefore.has(canonical(x))) lines.push(`      + ${showValue(x)}`);
      } else lines.push(`    ${ch.input}: ${showValue(ch.before)} => ${showValue(ch.after)}`);
    }
  }
  const n = changes.length;
  lines.push("", `${n} resource${n === 1 ? "" : "s"} would change.`);
  return lines.join("\n") + "\n";
}
