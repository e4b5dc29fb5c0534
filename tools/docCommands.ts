/**
 * Commands in the docs must be true. This module extracts the `rollout`,
 * `npm run` and `pulumi config set` command lines from markdown (fenced code
 * blocks and inline code spans), splits them the way a shell would, and
 * checks a `pulumi config set` line against the schema (core/configSchema.ts, validated by core/config.ts): the
 * key exists, secrets are set with --secret, dotted keys use --path, and the
 * value is one the schema accepts for that stack. The `rollout` lines are
 * parsed by the real CLI in the test; `npm run` names are checked against
 * package.json there too.
 *
 * Shell words come from shell-quote; the `pulumi config set` flags are parsed
 * here: there is no Pulumi CLI here, and the flags we accept are the ones
 * `pulumi config set` documents.
 */
import * as fs from "node:fs";
import { ParseEntry, parse } from "shell-quote";
import { ConfigError, namespaced, parseConfig } from "../core/config";
import { configKeyDocs } from "../core/configIntrospect";
import { CONFIG_NAMESPACE, RawConfig, objectInput } from "../core/configSchema";
import { closestKey } from "../core/suggest";
import { programConfig, readStackFile, stackFilePath } from "../stack/stackFile";

export type CommandKind = "rollout" | "npm-run" | "pulumi-config-set";

export interface DocCommand {
  file: string;
  /** 1-based line in the file. */
  line: number;
  kind: CommandKind;
  /** The command as written (one shell command, after splitting on && ; | ||). */
  text: string;
  /** Words after the command itself: after `npx rollout`/`rollout`, `npm run`, `pulumi config set`. */
  args: string[];
}

export class DocCommandError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DocCommandError";
  }
}

// ---------------------------------------------------------------------------
// Shell words

type Token = { op: string } | { word: string };

/** `$VAR` and `${VAR}` stay as written (`$VAR`): a doc's variables are the reader's, not this process's. */
const keepVariable = (name: string): string => `$${name}`;

/**
 * What shell-quote 1.8 would misread in `line` without a word of warning, if anything, read by bash's
 * rules (nothing escapes inside single quotes; a backslash escapes the next character elsewhere; an
 * unquoted # starts a comment, as shell-quote reads it also inside a word):
 * - a quote left open: shell-quote drops an unpaired quote, so `--reason 'unterminated` would read
 *   as a valid command;
 * - a single-quoted word ending in a backslash (`'a\' 'b'`): shell-quote's chunker takes `\'` for an
 *   escaped quote and runs the words together (fixed upstream after 1.8, ljharb/shell-quote#26).
 */
function quoteProblem(line: string): string | undefined {
  let quote: "'" | '"' | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote === "'") {
      if (c === "'") {
        if (line[i - 1] === "\\") return `a backslash ends a single-quoted word in: ${line}`;
        quote = undefined;
      }
    } else if (c === "\\") i++;
    else if (quote === '"') {
      if (c === '"') quote = undefined;
    } else if (c === "'" || c === '"') quote = c;
    else if (c === "#") return undefined;
  }
  return quote === undefined ? undefined : `unterminated ${quote} in: ${line}`;
}

/**
 * A doc's placeholder, `<stack>` or `<last deployed commit>` (a letter after the <, no < or > inside):
 * part of a word, as the reader will replace it, not the redirections a shell would read. Its brackets
 * are swapped for private-use characters, which shell-quote keeps in words (quoted or not), and back.
 */
const PLACEHOLDER = /<([A-Za-z][^<>]*)>/g;
const [OPEN, CLOSE] = ["\uE000", "\uE001"];
const restoreBrackets = (s: string): string => s.replaceAll(OPEN, "<").replaceAll(CLOSE, ">");

/**
 * Split a shell line into words and control operators (&&, ||, ;, |, and the redirections and
 * parentheses), with shell-quote's `parse`: single and double quotes group (double quotes honour
 * \" \\ \$), an unquoted # begins a comment, a glob stays as written, and `$VAR` stays as written.
 */
export function shellTokens(line: string): Token[] {
  const problem = quoteProblem(line);
  if (problem !== undefined) throw new DocCommandError(problem);
  let entries: ParseEntry[];
  try {
    entries = parse(line.replace(PLACEHOLDER, (_, inner: string) => `${OPEN}${inner}${CLOSE}`), keepVariable);
  } catch (err) {
    throw new DocCommandError(`${(err as Error).message} in: ${line}`); // "Bad substitution: ${"
  }
  const out: Token[] = [];
  for (const e of entries) {
    if (typeof e === "string") out.push({ word: restoreBrackets(e) });
    else if ("comment" in e) break;
    else if (e.op === "glob") out.push({ word: restoreBrackets(e.pattern) });
    else out.push({ op: e.op });
  }
  return out;
}

/** The simple commands of a line, each as its words. */
export function shellCommands(line: string): string[][] {
  const cmds: string[][] = [[]];
  for (const t of shellTokens(line)) {
    if ("op" in t) cmds.push([]);
    else cmds[cmds.length - 1].push(t.word);
  }
  return cmds.filter((c) => c.length > 0);
}

function classify(all: string[]): { kind: CommandKind; args: string[] } | undefined {
  // Leading environment assignments (`DATABASE_URL=... npm run migrate`) belong to the shell, not the command.
  let i = 0;
  while (i < all.length && /^[A-Za-z_][A-Za-z0-9_]*=/.test(all[i])) i++;
  const words = all.slice(i);
  if (words[0] === "npx" && words[1] === "rollout") return { kind: "rollout", args: words.slice(2) };
  if (words[0] === "rollout") return { kind: "rollout", args: words.slice(1) };
  if (words[0] === "npm" && words[1] === "run") return { kind: "npm-run", args: words.slice(2) };
  if (words[0] === "pulumi" && words[1] === "config" && words[2] === "set") return { kind: "pulumi-config-set", args: words.slice(3) };
  return undefined;
}

/** A text that names one of the tools whose commands are checked. */
const MENTIONS_COMMAND = /\b(?:npx\s+rollout|rollout\s+[a-z]|npm\s+run|pulumi\s+config\s+set)\b/;

/**
 * Every rollout / npm run / pulumi config set command in a markdown text:
 * each line of a fenced code block (a leading "$ " prompt dropped) but a
 * ```text block, which shows what a command printed, and each inline code
 * span. A bare mention with no arguments (`pulumi config set`,
 * `npx rollout`), or of a subcommand alone in prose (`rollout gate`), is a
 * reference to the tool, not a command, and is skipped.
 */
export function extractCommands(file: string, markdown: string): DocCommand[] {
  const out: DocCommand[] = [];
  const lines = markdown.split("\n");
  let fence: string | null = null;
  let output = false;
  const add = (text: string, line: number, inline = false) => {
    let commands: string[][];
    try {
      commands = shellCommands(text);
    } catch (err) {
      // Prose in a code span or an output sample (a list of characters, an error message) need not be
      // valid shell; a line that names one of the checked tools must be.
      if (MENTIONS_COMMAND.test(text)) throw err;
      return;
    }
    for (const words of commands) {
      const c = classify(words);
      // In prose, `rollout gate` names the subcommand, as `npx rollout` names the tool.
      const reference = inline && c?.kind === "rollout" && c.args.length === 1;
      if (c && c.args.length > 0 && !reference) out.push({ file, line, kind: c.kind, text: words.join(" "), args: c.args });
    }
  };
  lines.forEach((raw, i) => {
    const fenceMatch = /^\s*(`{3,}|~{3,})\s*(\S*)/.exec(raw);
    if (fenceMatch) {
      if (fence === null) {
        fence = fenceMatch[1];
        output = fenceMatch[2] === "text";
      } else if (fenceMatch[1].startsWith(fence[0]) && fenceMatch[1].length >= fence.length) fence = null;
      return;
    }
    if (fence !== null) {
      if (output) return;
      add(raw.replace(/^\s*\$ /, ""), i + 1);
      return;
    }
    for (const m of raw.matchAll(/(`+)([^`]+?)\1/g)) add(m[2], i + 1, true);
  });
  return out;
}

// ---------------------------------------------------------------------------
// pulumi config set

export interface PulumiConfigSet {
  stack?: string;
  secret: boolean;
  path: boolean;
  /** The key as written, e.g. `canaryPercentage`, `valuecanvas:database.adminPassword`. */
  rawKey: string;
  namespace: string;
  /** The key without namespace. */
  key: string;
  value?: string;
}

const VALUE_FLAGS = new Set(["--stack", "-s", "--config-file", "--cwd", "-C", "--type"]);
const BOOL_FLAGS = new Set(["--secret", "--plaintext", "--path", "--non-interactive", "--yes", "-y"]);

/** Parse the words after `pulumi config set`. Throws DocCommandError naming the bad word. */
export function parsePulumiConfigSet(args: readonly string[]): PulumiConfigSet {
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--") {
      positional.push(...args.slice(i + 1));
      break;
    }
    if (a.startsWith("-") && a.length > 1) {
      const [name, inline] = a.includes("=") ? [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)] : [a, undefined];
      if (VALUE_FLAGS.has(name)) {
        const v = inline ?? args[++i];
        if (v === undefined) throw new DocCommandError(`${name} needs a value`);
        flags.set(name === "-s" ? "--stack" : name === "-C" ? "--cwd" : name, v);
      } else if (BOOL_FLAGS.has(name)) {
        flags.set(name, true);
      } else {
        throw new DocCommandError(`unknown flag ${a} for pulumi config set (known: ${[...VALUE_FLAGS, ...BOOL_FLAGS].join(", ")})`);
      }
      continue;
    }
    positional.push(a);
  }
  if (positional.length === 0) throw new DocCommandError("pulumi config set needs a key");
  if (positional.length > 2) throw new DocCommandError(`pulumi config set takes a key and a value; got ${positional.length} words: ${positional.join(" ")}`);
  if (flags.has("--secret") && flags.has("--plaintext")) throw new DocCommandError("--secret and --plaintext exclude each other");
  const rawKey = positional[0];
  const colon = rawKey.indexOf(":");
  const namespace = colon >= 0 ? rawKey.slice(0, colon) : CONFIG_NAMESPACE;
  const stack = flags.get("--stack");
  return {
    stack: typeof stack === "string" ? stack : undefined,
    secret: flags.has("--secret"),
    path: flags.has("--path"),
    rawKey,
    namespace,
    key: colon >= 0 ? rawKey.slice(colon + 1) : rawKey,
    value: positional[1],
  };
}

/** Provider namespaces a stack may legitimately set; their keys are the providers' business. */
export const OTHER_NAMESPACES: readonly string[] = ["docker", "postgresql", "random", "pulumi"];

const MINIMAL_IMAGE = `ghcr.io/valuecanvas/app@sha256:${"0".repeat(64)}`;

function baseConfig(projectDir: string, stack: string | undefined): RawConfig {
  if (stack && fs.existsSync(stackFilePath(projectDir, stack))) {
    const raw = namespaced(programConfig(readStackFile(projectDir, stack)).config);
    for (const [k, v] of Object.entries(raw)) raw[k] = objectInput(v);
    return raw;
  }
  return { appImage: MINIMAL_IMAGE };
}

function setAt(raw: RawConfig, dotted: string, value: string): void {
  const segs = dotted.split(".");
  let cur = raw as Record<string, unknown>;
  for (const seg of segs.slice(0, -1)) {
    if (typeof cur[seg] !== "object" || cur[seg] === null) cur[seg] = {};
    cur = cur[seg] as Record<string, unknown>;
  }
  cur[segs[segs.length - 1]] = value;
}

/**
 * What is wrong with a `pulumi config set` command for this project, or
 * undefined when it is right. `projectDir` holds the stack files: with
 * `--stack`, the value is checked in that stack's config (prod's image must be
 * pinned, for instance).
 */
export function checkPulumiConfigSet(set: PulumiConfigSet, projectDir: string): string | undefined {
  if (set.namespace !== CONFIG_NAMESPACE) {
    return OTHER_NAMESPACES.includes(set.namespace)
      ? undefined
      : `namespace "${set.namespace}" is neither this project's (${CONFIG_NAMESPACE}) nor a provider's (${OTHER_NAMESPACES.join(", ")})`;
  }
  if (set.stack !== undefined && !fs.existsSync(stackFilePath(projectDir, set.stack))) {
    return `--stack ${set.stack}: there is no Pulumi.${set.stack}.yaml`;
  }
  if (set.key.includes(".") && !set.path) {
    return `key "${set.key}" has a "." but no --path: Pulumi would store a top-level key literally named "${set.key}"`;
  }
  const docs = configKeyDocs();
  const doc = docs.find((d) => d.path === set.key);
  const mapParent = doc ? undefined : docs.find((d) => set.key.startsWith(d.path + ".") && /\bmap\b/.test(d.allowed));
  if (!doc && !mapParent) {
    const hint = closestKey(set.key, docs.map((d) => d.path));
    return `unknown key ${CONFIG_NAMESPACE}:${set.key}${hint ? `; did you mean ${hint}?` : ""}`;
  }
  const secret = doc?.secret ?? false;
  if (secret && !set.secret) return `${set.key} is a secret: set it with --secret`;
  if (!secret && set.secret) return `${set.key} is not a secret: drop --secret`;
  if (secret) return undefined; // the value of a secret is the operator's; placeholders are fine in docs
  if (set.value === undefined) return `no value for ${set.key}`;
  if (mapParent) return undefined;
  const raw = baseConfig(projectDir, set.stack);
  setAt(raw, set.key, set.value);
  try {
    parseConfig(raw, { stack: set.stack ?? "(selected stack)" });
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    const own = e.problems.filter((p) => p.key === `${CONFIG_NAMESPACE}:${set.key}`);
    if (own.length > 0) return own.map((p) => `${p.key} = ${p.value}: expected ${p.allowed}`).join("; ");
  }
  return undefined;
}
