/**
 * The advance/rollback policy: which stage `rollout advance` and
 * `rollout rollback` move a stack to, what they refuse (a skip without
 * --force and a reason, nothing to roll back), and the config keys each
 * change sets. Also the note a forced skip records in the stack file, and
 * its reading back (the program puts the reason into the rollout record).
 * Pure: config in, a plan out; stack/stackEdit.ts applies the plan to the file.
 */
import { NamedError } from "./namedError";
import { RolloutConfig } from "./configSchema";
import {
  RolloutState,
  Stage,
  effectivePercentage,
  flagsOn,
  nextStage,
  previousStage,
  rolloutState,
  stageIndex,
} from "./stages";
import { characterName, firstBadCharacter, shown } from "./yamlSubset";

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
  const from = rolloutState(cfg);
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
  const from = rolloutState(cfg);
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
