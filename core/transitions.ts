/**
 * The advance/rollback policy: which stage `rollout advance` and
 * `rollout rollback` move a stack to, what they refuse (a skip without
 * --force and a reason, nothing to roll back), and the config keys each
 * change sets. Also the note a forced skip records in the stack file, and
 * its reading back (the program puts the reason into the rollout record).
 * Pure: config in, a plan out; stack/stackEdit.ts applies the plan to the file.
 */
import { NamedError } from "./namedError";
import { ACTOR_ALLOWED, ACTOR_RE, HOLD_REASON_MAX, HoldConfig, RolloutConfig, holdReasonOk, holdTime } from "./configSchema";
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
import { holdText } from "./gateText";

/** A refused request (skipping a stage without --force, nothing to roll back, ...): a usage problem. */
export class RefusedError extends NamedError {}

/** One config key to set, without namespace, to a string value (as `pulumi config set` stores it). */
export interface ConfigChange {
  key: "canaryPercentage" | "enableStatelessOrchestration" | "enableSafeJsonParser";
  value: string;
}

/** The config key of a hold (`valuecanvas:hold`): the one name `rollout hold`, `release`, the schema's reader and CI use. */
export const HOLD_KEY = "hold";

/** What `rollout hold` (set) and `rollout release` do to the stack file's hold. */
export type HoldEdit = { kind: "set"; hold: HoldConfig } | { kind: "release" };

export interface EditPlan {
  changes: ConfigChange[];
  /** A hold to set or remove (rollout hold / release); the rollout state is then unchanged. */
  hold?: HoldEdit;
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
      `the actor name ${shown(opts.actor)} (GIT_AUTHOR_NAME, else git's user.name, else USER) ${c ? `has ${characterName(c.codePoint)} at character ${c.index + 1}` : "is empty or too long"}; ` +
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
  if (next === undefined) {
    throw new RefusedError(
      `already at the last stage (${current}%): nothing to advance. Keep the stack file at ${current}% with both flags on until the app no longer reads the flags ` +
        `(the guide's last steps, in the app: remove the legacy code path, then, once that ships, the flags); the defaults (0%, flags off) would send every user back to the legacy path`,
    );
  }
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

// ---------------------------------------------------------------------------
// Hold and release (issue 25)

/**
 * The change `rollout hold` makes: the hold written into the stack file, with who, when (`at`: the caller's
 * clock, ISO 8601 UTC) and why. Every run of whitespace in the reason (a multi-line --reason) becomes one space;
 * the result must be what the schema accepts, else a RefusedError names the character, or the length. A stack
 * that is already held is refused: release it first, so no reason is lost without review.
 */
export function planHold(cfg: RolloutConfig, opts: { reason: string; by: string; at: string }): EditPlan {
  const state = rolloutState(cfg);
  if (cfg.hold) throw new RefusedError(`the stack is already ${holdText(cfg.hold)}. Release it first (rollout release), then hold again with the new reason`);
  const reason = opts.reason.trim().replace(/\s+/g, " ");
  if (reason === "") throw new RefusedError(`--reason is empty: a hold says why (the guide's "critical bugs reported": which bug)`);
  const bad = firstBadCharacter(reason);
  if (bad) throw new RefusedError(`--reason has ${characterName(bad.codePoint)} at character ${bad.index + 1}: the reason is written into the stack file; allowed: printable characters`);
  if ([...reason].length > HOLD_REASON_MAX) throw new RefusedError(`--reason has ${[...reason].length} characters; at most ${HOLD_REASON_MAX}: say what and link the bug report`);
  if (!holdReasonOk(reason)) throw new RefusedError(`--reason ${shown(reason)} is not a valid hold reason`);
  if (!ACTOR_RE.test(opts.by)) {
    throw new RefusedError(`the hold's author ${shown(opts.by)} (--by, else GIT_AUTHOR_NAME, else git's user.name, else USER) is not a name the stack file takes; allowed: ${ACTOR_ALLOWED}`);
  }
  if (holdTime(opts.at) === undefined) throw new RefusedError(`the hold's time ${JSON.stringify(opts.at)} is not an ISO 8601 UTC time`);
  const hold: HoldConfig = { reason, by: opts.by, at: opts.at };
  return { changes: [], hold: { kind: "set", hold }, from: state, to: state, summary: `hold the rollout at ${effectivePercentage(state)}%: ${holdText(hold)}` };
}

/** The change `rollout release` makes: the hold removed. Undefined when there is no hold (nothing to release: not an error). */
export function planRelease(cfg: RolloutConfig): EditPlan | undefined {
  if (!cfg.hold) return undefined;
  const state = rolloutState(cfg);
  return { changes: [], hold: { kind: "release" }, from: state, to: state, summary: `release the hold (was ${holdText(cfg.hold)})` };
}
