/**
 * Edits of `Pulumi.<stack>.yaml` for `rollout advance` and `rollout rollback`,
 * with the same effect as `pulumi config set` (string values in the
 * `valuecanvas:` namespace).
 *
 * The file is located with the `yaml` Document API (node ranges) and only the
 * changed values' characters are replaced, so comments, key order, blank lines
 * and `secure:` values stay byte-identical. A key the file does not have yet
 * is added as one new line after the last `valuecanvas:` key. The result must
 * re-parse (stack/stackFile.ts) and validate (core/config.ts) and mean exactly the
 * intended change before it is written, atomically (temp file + rename).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { structuredPatch } from "diff";
import writeFileAtomicLib from "write-file-atomic";
import { isMap, isScalar, parseDocument, Scalar } from "yaml";
import { CONFIG_NAMESPACE, RolloutConfig } from "../core/config";
import { StackConfig, parseStackFile, readStackFile, stackConfigOf, stackFilePath, StackFileError } from "./stackFile";
import {
  RolloutState,
  Stage,
  effectivePercentage,
  flagsOn,
  isStage,
  nextStage,
  previousStage,
  stageIndex,
} from "../core/stages";
import { YamlSubsetError, characterName, firstBadCharacter, lineEndOf, shown } from "./yamlSubset";
import { NamedError } from "../core/namedError";

export class StackEditError extends NamedError {}

/** A refused request (skipping a stage without --force, nothing to roll back, ...): a usage problem. */
export class RefusedError extends NamedError {}

/** One config key to set, without namespace, to a string value (as `pulumi config set` stores it). */
export interface ConfigChange {
  key: "canaryPercentage" | "enableStatelessOrchestration" | "enableSafeJsonParser";
  value: string;
}

export interface EditPlan {
  changes: ConfigChange[];
  /** A comment line recorded above `canaryPercentage` (a forced skip's reason). */
  note?: string;
  from: RolloutState;
  to: RolloutState;
  summary: string;
}

// ---------------------------------------------------------------------------
// What to change

function stateOf(cfg: RolloutConfig): RolloutState {
  return {
    canaryPercentage: cfg.canaryPercentage,
    enableStatelessOrchestration: cfg.enableStatelessOrchestration,
    enableSafeJsonParser: cfg.enableSafeJsonParser,
  };
}

function diffStates(from: RolloutState, to: RolloutState): ConfigChange[] {
  const out: ConfigChange[] = [];
  if (from.enableStatelessOrchestration !== to.enableStatelessOrchestration)
    out.push({ key: "enableStatelessOrchestration", value: String(to.enableStatelessOrchestration) });
  if (from.enableSafeJsonParser !== to.enableSafeJsonParser)
    out.push({ key: "enableSafeJsonParser", value: String(to.enableSafeJsonParser) });
  if (from.canaryPercentage !== to.canaryPercentage) out.push({ key: "canaryPercentage", value: String(to.canaryPercentage) });
  return out;
}

export interface AdvanceOptions {
  /** Target stage; default the next one. */
  to?: Stage;
  force?: boolean;
  reason?: string;
  actor?: string;
  /** Date for the recorded note (YYYY-MM-DD). */
  date?: string;
}

const SKIP_NOTE_PREFIX = "rollout advance --force";

/** Who may be named in a note: no ":" or "#" (the note's own separators), no line break or control character. */
const ACTOR_RE = /^[\p{L}\p{M}\p{N} ._@+'()[\]<>-]{1,100}$/u;
const ACTOR_ALLOWED = "letters, digits, spaces and . _ @ + ' ( ) [ ] < > - (at most 100)";

/**
 * The comment `advance --force` writes above `canaryPercentage`. Everything
 * in it is checked, so no text (a reason, GIT_AUTHOR_NAME) can end the
 * comment line, forge a second note, or put a character into the file that
 * the YAML subset refuses: a RefusedError names the character and its position.
 * Runs of whitespace in the reason (a multi-line --reason) become one space.
 */
export function skipNote(from: Stage, to: Stage, reason: string, opts: { date?: string; actor?: string } = {}): string {
  const text = reason.trim().replace(/\s+/g, " ");
  const bad = firstBadCharacter(text);
  if (bad) {
    throw new RefusedError(
      `--reason has ${characterName(bad.codePoint)} at character ${bad.index + 1}: the reason is written into the stack file as a comment; allowed: printable characters`,
    );
  }
  if (opts.actor !== undefined && !ACTOR_RE.test(opts.actor)) {
    const c = firstBadCharacter(opts.actor) ?? [...opts.actor].map((ch, index) => ({ index, codePoint: ch.codePointAt(0) as number })).find((x) => !ACTOR_RE.test(String.fromCodePoint(x.codePoint)));
    throw new RefusedError(
      `the actor name ${shown(opts.actor)} (GIT_AUTHOR_NAME, else USER) ${c ? `has ${characterName(c.codePoint)} at character ${c.index + 1}` : "is empty or too long"}; ` +
        `it is written into the stack file's skip note; allowed: ${ACTOR_ALLOWED}`,
    );
  }
  if (opts.date !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(opts.date)) throw new RefusedError(`the note's date ${JSON.stringify(opts.date)} is not YYYY-MM-DD`);
  return `${SKIP_NOTE_PREFIX} ${from} -> ${to}${opts.date ? ` on ${opts.date}` : ""}${opts.actor ? ` by ${opts.actor}` : ""}: ${text}`;
}

const SKIP_NOTE_RE = /^\s*#\s*rollout advance --force (\d+) -> (\d+)(?: on \d{4}-\d{2}-\d{2})?(?: by [^:#]*?)?: (.+)$/;

/**
 * The reason recorded by the last `advance --force` that skipped to `stage`,
 * read back from a stack file's text (the program puts it into the rollout
 * record), or undefined when that stage was reached without a skip. Reads
 * LF and CRLF files.
 */
export function forcedSkipReason(text: string, stage: Stage): string | undefined {
  let found: string | undefined;
  for (const line of text.split(/\r?\n/)) {
    const m = SKIP_NOTE_RE.exec(line);
    if (m && Number(m[2]) === stage) found = `forced skip ${m[1]}% -> ${m[2]}%: ${m[3].trim()}`;
  }
  return found;
}

/**
 * The change `rollout advance` makes: the next stage after the effective one
 * (0 while a flag is off). Leaving stage 0 turns both flags on, as the guide's
 * week 2 does. Skipping a stage needs `force` and a `reason`, which is recorded.
 */
export function planAdvance(cfg: RolloutConfig, opts: AdvanceOptions = {}): EditPlan {
  const from = stateOf(cfg);
  const current = effectivePercentage(from) as Stage;
  const next = nextStage(current);
  if (next === undefined) throw new RefusedError(`already at the last stage (${current}%): nothing to advance`);
  const to = opts.to ?? next;
  if (stageIndex(to) <= stageIndex(current)) {
    throw new RefusedError(`--to ${to} is not after the current stage ${current}%; use "rollout rollback" to go back`);
  }
  let note: string | undefined;
  if (to !== next) {
    if (!opts.force || !opts.reason || opts.reason.trim() === "") {
      throw new RefusedError(
        `refusing to skip from ${current}% to ${to}%: the next stage is ${next}%. ` +
          `To skip anyway pass --force --reason "<why>" (the reason is recorded in the stack file)`,
      );
    }
    note = skipNote(current, to, opts.reason, opts);
  }
  const target: RolloutState = { enableStatelessOrchestration: true, enableSafeJsonParser: true, canaryPercentage: to };
  return {
    changes: diffStates(from, target),
    note,
    from,
    to: target,
    summary: `advance ${current}% -> ${to}%${flagsOn(from) ? "" : " (both flags on)"}`,
  };
}

/**
 * The change `rollout rollback` makes. Immediate (the guide's): both flags off,
 * percentage left as it was. Gradual: one stage back, down to 0.
 */
export function planRollback(cfg: RolloutConfig, immediate: boolean): EditPlan {
  const from = stateOf(cfg);
  if (immediate) {
    if (!from.enableStatelessOrchestration && !from.enableSafeJsonParser) {
      throw new RefusedError("both flags are already off: nothing to roll back");
    }
    const to = { ...from, enableStatelessOrchestration: false, enableSafeJsonParser: false };
    return { changes: diffStates(from, to), from, to, summary: `immediate rollback: both flags off (percentage stays ${from.canaryPercentage})` };
  }
  const current = effectivePercentage(from) as Stage;
  const prev = previousStage(current);
  if (prev === undefined) throw new RefusedError(`already at stage 0 (no traffic on the new path): nothing to roll back`);
  const to = { ...from, canaryPercentage: prev };
  return { changes: diffStates(from, to), from, to, summary: `gradual rollback ${current}% -> ${prev}%` };
}

// ---------------------------------------------------------------------------
// Text edit

function renderScalar(value: string, old: Scalar | undefined): string {
  if (old?.type === Scalar.PLAIN && /^[A-Za-z0-9._-]+$/.test(value)) return value;
  if (old?.type === Scalar.QUOTE_SINGLE) return `'${value.replace(/'/g, "''")}'`;
  return JSON.stringify(value);
}

/**
 * Apply `changes` to a stack file's text. Pure. Only the changed values'
 * characters differ (plus one line per added key, and the note).
 */
export function editStackText(file: string, text: string, changes: ConfigChange[], note?: string): string {
  let eol: string;
  try {
    eol = lineEndOf(text);
  } catch (e) {
    if (e instanceof YamlSubsetError) throw new StackFileError(`${file} line ${e.line}, column ${e.column}: ${e.reason}`);
    throw e;
  }
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length > 0) throw new StackFileError(`${file} is not valid YAML: ${doc.errors[0].message.split("\n")[0]}`);
  const cfg = doc.get("config", true);
  if (cfg !== undefined && cfg !== null && !(isMap(cfg) && !cfg.flow)) {
    throw new StackEditError(`${file}: "config:" is not a block mapping; edit it with "pulumi config set" instead`);
  }
  type Splice = { start: number; end: number; text: string };
  const splices: Splice[] = [];
  const added: string[] = [];
  const lineStart = (pos: number) => text.lastIndexOf("\n", pos - 1) + 1;
  const lineEnd = (pos: number) => {
    const i = text.indexOf("\n", pos);
    return i < 0 ? text.length : i + 1;
  };
  let indent = "  ";
  let insertAt = -1;
  if (isMap(cfg)) {
    for (const item of cfg.items) {
      if (isScalar(item.key) && item.key.range) {
        indent = text.slice(lineStart(item.key.range[0]), item.key.range[0]);
        if (String(item.key.value).startsWith(`${CONFIG_NAMESPACE}:`)) {
          const v = item.value as { range?: [number, number, number] | null } | null;
          insertAt = lineEnd(Math.max(item.key.range[1], v?.range ? v.range[1] - 1 : 0));
        }
      }
    }
    if (insertAt < 0 && cfg.range) insertAt = lineEnd(cfg.range[0]);
  }
  for (const ch of changes) {
    const key = `${CONFIG_NAMESPACE}:${ch.key}`;
    const pair = isMap(cfg) ? cfg.items.find((it) => isScalar(it.key) && it.key.value === key) : undefined;
    if (pair && isScalar(pair.value) && pair.value.range) {
      const [s, e] = pair.value.range;
      splices.push({ start: s, end: e, text: renderScalar(ch.value, pair.value) });
      if (ch.key === "canaryPercentage" && note !== undefined && isScalar(pair.key) && pair.key.range) {
        const ls = lineStart(pair.key.range[0]);
        splices.push({ start: ls, end: ls, text: `${indent}# ${note}${eol}` });
      }
    } else if (pair) {
      throw new StackEditError(`${file}: ${key} is not a plain value; edit it with "pulumi config set" instead`);
    } else {
      if (ch.key === "canaryPercentage" && note !== undefined) added.push(`${indent}# ${note}${eol}`);
      added.push(`${indent}${key}: ${JSON.stringify(ch.value)}${eol}`);
    }
  }
  let out = text;
  if (added.length > 0) {
    if (insertAt < 0) {
      const sep = out.length === 0 || out.endsWith("\n") ? "" : eol;
      splices.push({ start: out.length, end: out.length, text: `${sep}config:${eol}${added.join("")}` });
    } else {
      const needsNl = insertAt === text.length && !text.endsWith("\n") ? eol : "";
      splices.push({ start: insertAt, end: insertAt, text: needsNl + added.join("") });
    }
  }
  splices.sort((a, b) => b.start - a.start || b.end - a.end);
  for (const sp of splices) out = out.slice(0, sp.start) + sp.text + out.slice(sp.end);
  return out;
}

// ---------------------------------------------------------------------------
// Diff

/** Edits beyond this many lines are not shown line by line: the diff's cost stays bounded for any file size. */
export const MAX_DIFF_EDITS = 200;

/**
 * A unified-style line diff with one line of context (jsdiff's Myers diff:
 * time and memory grow with the file's length times the number of changed
 * lines, which `MAX_DIFF_EDITS` bounds). Line ends (LF, CRLF) are not shown.
 */
export function lineDiff(a: string, b: string, label: string): string {
  const out: string[] = [`--- a/${label}`, `+++ b/${label}`];
  const patch = structuredPatch(label, label, a, b, undefined, undefined, { context: 1, stripTrailingCr: true, maxEditLength: MAX_DIFF_EDITS });
  if (patch === undefined) {
    out.push(`(more than ${MAX_DIFF_EDITS} lines differ: not shown line by line; compare with git diff)`);
    return out.join("\n");
  }
  for (const h of patch.hunks) {
    out.push(`@@ line ${h.newStart} @@`);
    for (const l of h.lines) if (!l.startsWith("\\")) out.push(l);
  }
  return out.join("\n");
}

// ---------------------------------------------------------------------------
// Write

export interface EditResult {
  file: string;
  stack: string;
  before: string;
  after: string;
  diff: string;
  plan: EditPlan;
  /** False for a dry run. */
  written: boolean;
}

/**
 * Write `text` to `file` atomically with write-file-atomic (a temp file in the
 * same folder, fsync, rename; the file's mode kept). A symlinked file is
 * written through: its target is replaced, the link stays. A read-only file
 * is refused (StackEditError), never replaced. With `expectedBefore`, a file
 * changed meanwhile is refused too: checked once the temp file exists, the
 * last hook before the rename, and the temp file is removed.
 */
export function writeFileAtomic(file: string, text: string, expectedBefore?: string): void {
  const target = writableTarget(file);
  const mode = (fs.statSync(target, { throwIfNoEntry: false })?.mode ?? 0o644) & 0o777;
  writeFileAtomicLib.sync(target, text, {
    mode,
    fsync: true,
    tmpfileCreated: () => {
      if (expectedBefore !== undefined && fs.readFileSync(target, "utf8") !== expectedBefore) {
        throw new StackEditError(`${path.basename(file)} changed while it was being edited; nothing written, run the command again`);
      }
    },
  });
}

/** The file a write to `file` must replace (a symlink's target), after checking it may be written. */
export function writableTarget(file: string): string {
  let target: string;
  try {
    target = fs.realpathSync(file);
  } catch {
    return file; // a new file: nothing to follow
  }
  const st = fs.statSync(target);
  const shown = target === path.resolve(file) ? path.basename(file) : `${path.basename(file)} (a link to ${target})`;
  if (!st.isFile()) throw new StackEditError(`${shown} is not a regular file; nothing written`);
  let writable = (st.mode & 0o222) !== 0;
  try {
    fs.accessSync(target, fs.constants.W_OK);
  } catch {
    writable = false;
  }
  if (!writable) {
    throw new StackEditError(`${shown} is read-only (mode ${(st.mode & 0o777).toString(8).padStart(4, "0")}); nothing written. Make it writable (chmod u+w) if it should be edited`);
  }
  return target;
}

/** Defined with the stack reader (stack/stackFile.ts); re-exported for the callers that import it from here. */
export { stackConfigOf };

/** Read and validate `Pulumi.<stack>.yaml`: StackFileError or ConfigError on bad input. */
export function loadStack(projectDir: string, stack: string): { sc: StackConfig; cfg: RolloutConfig } {
  const sc = readStackFile(projectDir, stack);
  return { sc, cfg: stackConfigOf(sc) };
}

/**
 * Plan and apply an edit to `Pulumi.<stack>.yaml` in `projectDir`. The result
 * is checked (re-parsed, validated, exactly the intended values) before it is
 * written; any failure leaves the file untouched.
 */
export function editStack(
  projectDir: string,
  stack: string,
  planFor: (cfg: RolloutConfig) => EditPlan,
  opts: { dryRun?: boolean } = {},
): EditResult {
  const sc = readStackFile(projectDir, stack);
  const cfg = stackConfigOf(sc);
  const plan = planFor(cfg);
  const after = editStackText(sc.file, sc.text, plan.changes, plan.note);

  // The result must still be a valid stack file meaning exactly the intended change.
  const re = parseStackFile(stack, sc.file, after);
  const reCfg = stackConfigOf(re);
  const expected = structuredClone(sc.allConfig);
  for (const ch of plan.changes) expected[`${CONFIG_NAMESPACE}:${ch.key}`] = ch.value;
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  const normalise = (o: Record<string, unknown>) =>
    Object.fromEntries(Object.entries(o).map(([k, v]) => [k, typeof v === "number" || typeof v === "boolean" ? String(v) : v]).sort(([a], [b]) => String(a).localeCompare(String(b))));
  if (!same(normalise(re.allConfig), normalise(expected)) || !isStage(reCfg.canaryPercentage) || reCfg.canaryPercentage !== plan.to.canaryPercentage ||
    reCfg.enableStatelessOrchestration !== plan.to.enableStatelessOrchestration || reCfg.enableSafeJsonParser !== plan.to.enableSafeJsonParser) {
    throw new StackEditError(`${sc.file}: the edited file would not mean exactly "${plan.summary}"; nothing written`);
  }
  const file = stackFilePath(projectDir, stack);
  // Everything that can fail happens before the write: the diff, and whether the file may be written.
  const diff = lineDiff(sc.text, after, path.basename(file));
  if (!opts.dryRun) writableTarget(file);
  if (!opts.dryRun && after !== sc.text) writeFileAtomic(file, after, sc.text);
  return { file, stack, before: sc.text, after, diff, plan, written: !opts.dryRun };
}
