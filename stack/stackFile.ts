/**
 * Reading `Pulumi.<stack>.yaml` files without the Pulumi CLI: the plan
 * command, the `rollout` CLI and the tests use this to get a stack's config.
 *
 * Secrets are `secure:` values that only the stack's secrets provider can
 * decrypt; here they become placeholders. Secret keys that the file leaves to
 * `pulumi config set --secret` also get placeholders, reported as such, so the
 * program can be evaluated without any secret's plain value.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { isDeepStrictEqual } from "node:util";
import { parseDocument } from "yaml";
import { namespaced, parseConfig } from "../core/config";
import { configValueAt } from "../core/configIntrospect";
import { CONFIG_NAMESPACE, RawConfig, RolloutConfig, SECRET_KEYS, SecretKey } from "../core/configSchema";
import { secretUsed } from "../core/configSecrets";
import { YamlSubsetError, readSubset } from "../core/yamlSubset";
import { PROJECT_FILE, ProjectInfo, STACK_NAME_RE, checkProjectFile, checkPulumiFileNames, stackOfFileName } from "./projectFiles";
import { StackFileError } from "./stackFileError";



export function stackFilePath(projectDir: string, stack: string): string {
  return path.join(projectDir, `Pulumi.${stack}.yaml`);
}

/** The stacks that have a file in `projectDir`, sorted; refuses a folder with other Pulumi files (checkProjectDir). */
export function listStacks(projectDir: string): string[] {
  checkProjectDir(projectDir);
  return fs
    .readdirSync(projectDir)
    .map(stackOfFileName)
    .filter((s): s is string => s !== undefined)
    .sort();
}

export interface SecretStatus {
  key: SecretKey;
  /** `secure`: an encrypted value in the file; `unset`: left to `pulumi config set --secret`. */
  source: "secure" | "unset";
  /** False when the stack's config does not use it (a key of a group the stack does not set): nobody is asked to set it. */
  used: boolean;
}

export interface StackConfig {
  stack: string;
  file: string;
  /** The file's text, byte for byte. */
  text: string;
  /** `valuecanvas:` keys without namespace; secure values replaced by placeholders. */
  raw: RawConfig;
  /** Every key of the file's `config:` block, any namespace, as written (secure values as placeholders). */
  allConfig: Record<string, unknown>;
  /** Each secret key and where its value comes from. */
  secrets: SecretStatus[];
}

/** Secret keys whose value is a URL (core/configSchema.ts validates them as one): their placeholder is a URL too. */
const URL_SECRET_KEYS: readonly string[] = [`${CONFIG_NAMESPACE}:slackWebhookUrl`];

/**
 * The placeholder that stands for a secret nobody here can decrypt. It passes the key's own
 * validation (a URL key gets an https URL on a `.invalid` host, which never resolves: RFC 2606),
 * so an evaluation with placeholders declares what `pulumi up` would, never a config that the
 * container refuses at start (an Alertmanager given a non-URL Slack URL crash-loops).
 */
export function secretPlaceholder(key: string): string {
  const p = `placeholder-for-${key.replace(/[^A-Za-z0-9]+/g, "-")}`;
  return URL_SECRET_KEYS.includes(key) ? `https://placeholder.invalid/${p}` : p;
}

function isSecure(v: unknown): v is { secure: string } {
  return typeof v === "object" && v !== null && !Array.isArray(v) && Object.keys(v).length === 1 && "secure" in v;
}

/** Replace every `{secure: ...}` by a placeholder; collect the dot paths that were secure. */
function replaceSecure(v: unknown, pathSoFar: string, found: string[]): unknown {
  if (isSecure(v)) {
    found.push(pathSoFar);
    return secretPlaceholder(pathSoFar);
  }
  if (Array.isArray(v)) return v.map((x, i) => replaceSecure(x, `${pathSoFar}[${i}]`, found));
  if (typeof v === "object" && v !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = replaceSecure(x, pathSoFar ? `${pathSoFar}.${k}` : k, found);
    return out;
  }
  return v;
}

function getPath(obj: RawConfig, dotted: string): unknown {
  let cur: unknown = obj;
  for (const seg of dotted.split(".")) {
    if (typeof cur !== "object" || cur === null) return undefined;
    cur = (cur as Record<string, unknown>)[seg];
  }
  return cur;
}

function setPath(obj: RawConfig, dotted: string, value: unknown): void {
  const segs = dotted.split(".");
  let cur = obj as Record<string, unknown>;
  for (const seg of segs.slice(0, -1)) {
    if (typeof cur[seg] !== "object" || cur[seg] === null) return; // parent absent: nothing needs the secret
    cur = cur[seg] as Record<string, unknown>;
  }
  cur[segs[segs.length - 1]] = value;
}

/** Top-level keys of a stack file Pulumi reads, and whether the project accepts them. */
const TOP_LEVEL_KEYS = ["config", "secretsprovider", "encryptedkey", "encryptionsalt"] as const;

/**
 * Check that Pulumi and the project read `text` the same way: it must be in
 * the YAML subset (core/yamlSubset.ts), npm `yaml` must read exactly what the
 * subset reader reads, and the keys must mean the same to both (a config key
 * is `namespace:name`: Pulumi namespaces a bare key with the project's name
 * and reads `ns:config:name` as `ns:name`). Returns the document's value.
 */
export function agreedReading(file: string, text: string): Record<string, unknown> {
  let subset: Record<string, unknown>;
  try {
    subset = readSubset(text);
  } catch (e) {
    if (e instanceof YamlSubsetError) throw new StackFileError(`${file} line ${e.line}, column ${e.column}: ${e.reason}`);
    throw e;
  }
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const first = doc.errors[0];
    throw new StackFileError(`${file} is not valid YAML: ${first.message.split("\n")[0]}`);
  }
  const top: unknown = doc.toJS() ?? {};
  if (!isDeepStrictEqual(top, subset)) {
    throw new StackFileError(`${file}: the project's two YAML readings of this file differ; write it in the subset docs/reliability.md lists`);
  }
  for (const [k, v] of Object.entries(subset)) {
    if (k === "environment") {
      throw new StackFileError(
        `${file}: top-level key "environment" imports Pulumi ESC environments, whose config the project cannot see (plan, rollout and CI would judge another config than Pulumi deploys): not accepted`,
      );
    }
    if (!(TOP_LEVEL_KEYS as readonly string[]).includes(k)) {
      throw new StackFileError(`${file}: unknown top-level key "${k}" (Pulumi ignores it): allowed ${TOP_LEVEL_KEYS.join(", ")}`);
    }
    if (k !== "config" && typeof v !== "string") throw new StackFileError(`${file}: "${k}" must be a string`);
  }
  const cfg = subset.config;
  if (cfg !== undefined && (typeof cfg !== "object" || cfg === null || Array.isArray(cfg))) {
    throw new StackFileError(`${file}: "config:" must be a mapping of "namespace:key" to values`);
  }
  for (const [k, v] of Object.entries((cfg ?? {}) as Record<string, unknown>)) {
    const parts = k.split(":");
    if (parts.length === 1) {
      throw new StackFileError(`${file}: config key "${k}" has no namespace; Pulumi reads it as "${CONFIG_NAMESPACE}:${k}" (the project's name): write "${CONFIG_NAMESPACE}:${k}"`);
    }
    if (parts.length > 2) {
      throw new StackFileError(
        `${file}: config key "${k}" has ${parts.length - 1} colons; Pulumi reads "ns:config:name" as "ns:name" and refuses other forms: write "namespace:name"`,
      );
    }
    checkSecureShapes(file, k, v);
  }
  return subset;
}

/** A `secure:` mapping holds exactly one string (Pulumi reads anything else as a plain value). */
function checkSecureShapes(file: string, where: string, v: unknown): void {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return;
  if ("secure" in v) {
    const keys = Object.keys(v);
    if (keys.length !== 1 || typeof (v as { secure: unknown }).secure !== "string") {
      throw new StackFileError(`${file}: ${where}: a "secure:" mapping must hold exactly one string (the ciphertext); Pulumi reads anything else as plain config`);
    }
    return;
  }
  for (const [k, x] of Object.entries(v)) checkSecureShapes(file, `${where}.${k}`, x);
}

/**
 * Parse a stack file's text. Throws StackFileError for a file outside the
 * YAML subset both readers agree on (line, column, reason), a non-mapping
 * `config:`, a key Pulumi would read differently, or a secret stored in plain
 * text.
 */
export function parseStackFile(stack: string, file: string, text: string): StackConfig {
  const top = agreedReading(file, text);
  const cfg = top.config ?? {};
  const found: string[] = [];
  const allConfig = replaceSecure(cfg, "", found) as Record<string, unknown>;
  const prefix = `${CONFIG_NAMESPACE}:`;
  const raw: RawConfig = {};
  for (const [k, v] of Object.entries(allConfig)) if (k.startsWith(prefix)) raw[k.slice(prefix.length)] = v;

  const secureKeys = new Set(found.filter((f) => f.startsWith(prefix)).map((f) => f.slice(prefix.length)));
  const secrets: SecretStatus[] = [];
  for (const key of SECRET_KEYS) {
    // As the schema reads it: a group may be a JSON string (`database: '{"adminPassword": "..."}'`).
    const present = configValueAt(raw, key) !== undefined;
    if (present && !secureKeys.has(key)) {
      throw new StackFileError(
        `${file}: ${prefix}${key} is stored in plain text; it is a secret. Remove it and run: pulumi config set --secret --stack ${stack}${key.includes(".") ? " --path" : ""} ${key} <value>`,
      );
    }
    secrets.push({ key, source: present ? "secure" : "unset", used: present || secretUsed(raw, key) });
  }
  return { stack, file, text, raw, allConfig, secrets };
}

/**
 * Check a project folder as Pulumi would read it: no Pulumi file but
 * `Pulumi.yaml` and `Pulumi.<stack>.yaml` (stack/projectFiles.ts), and the
 * project file's keys, runtime and `main:`. The one check plan, verify, every
 * `rollout` command (through readStackFile and listStacks) make; CI makes the
 * same on a commit's tree (ci/detect.ts).
 */
export function checkProjectDir(projectDir: string): ProjectInfo | undefined {
  checkPulumiFileNames(fs.readdirSync(projectDir), projectDir);
  const projectFile = path.join(projectDir, PROJECT_FILE);
  return fs.existsSync(projectFile) ? checkProjectFile(PROJECT_FILE, fs.readFileSync(projectFile, "utf8")) : undefined;
}

/** Read and parse `Pulumi.<stack>.yaml` in `projectDir` (and check `Pulumi.yaml` there, when it exists). */
export function readStackFile(projectDir: string, stack: string): StackConfig {
  if (!STACK_NAME_RE.test(stack)) {
    throw new StackFileError(`"${stack}" is not a valid stack name: use letters, digits, "_", "." and "-"`);
  }
  checkProjectDir(projectDir);
  const file = stackFilePath(projectDir, stack);
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch {
    const known = listStacks(projectDir);
    throw new StackFileError(
      `unknown stack "${stack}": there is no ${path.basename(file)}. Stacks here: ${known.length ? known.join(", ") : "(none)"}`,
    );
  }
  return parseStackFile(stack, path.basename(file), text);
}

/**
 * The config a program evaluation sees: the file's config with placeholders
 * for secrets that are unset (so evaluation never depends on a secret's value).
 * Keys are namespaced, as `pulumi.runtime.allConfig()` returns them; structured
 * values JSON-encoded, as the Pulumi engine passes them.
 */
export function programConfig(sc: StackConfig): { config: Record<string, string>; secretKeys: string[] } {
  const raw: RawConfig = structuredClone(sc.raw);
  for (const s of sc.secrets) {
    if (s.source === "unset" && getPath(raw, s.key) === undefined) setPath(raw, s.key, secretPlaceholder(`${CONFIG_NAMESPACE}:${s.key}`));
  }
  const config: Record<string, string> = {};
  for (const [k, v] of Object.entries(sc.allConfig)) {
    if (!k.startsWith(`${CONFIG_NAMESPACE}:`)) config[k] = typeof v === "string" ? v : JSON.stringify(v);
  }
  for (const [k, v] of Object.entries(raw)) config[`${CONFIG_NAMESPACE}:${k}`] = typeof v === "string" ? v : JSON.stringify(v);
  const secretKeys = [...new Set(SECRET_KEYS.map((k) => `${CONFIG_NAMESPACE}:${k.split(".")[0]}`))].filter((k) => k in config);
  return { config, secretKeys };
}

/**
 * A stack file's validated config, as the program sees it: `programConfig`'s
 * config (placeholders for secrets the file leaves unset, so no secret's value
 * is ever needed) through the one schema. Throws ConfigError listing every
 * problem. The one home of this chain: the CLI, the drill, CI (changed stacks,
 * gate config) and `npm run verify` all call it.
 */
export function stackConfigOf(sc: StackConfig): RolloutConfig {
  return parseConfig(namespaced(programConfig(sc).config), { stack: sc.stack });
}

/** Read and validate `Pulumi.<stack>.yaml`: StackFileError or ConfigError on bad input. */
export function loadStack(projectDir: string, stack: string): { sc: StackConfig; cfg: RolloutConfig } {
  const sc = readStackFile(projectDir, stack);
  return { sc, cfg: stackConfigOf(sc) };
}
