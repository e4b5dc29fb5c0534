/**
 * CI decisions, pure: which stacks a change touches, and whether a change
 * raises a stack's canary. The workflows call these through thin scripts
 * (scripts/changed-stacks.ts); the git plumbing lives in lib/ci/git.ts.
 *
 * A stack is changed when its `Pulumi.<stack>.yaml` changed, or when program
 * code changed (then every stack is). A raise is judged on the parsed config
 * (lib/stackFile.ts + lib/config.ts), never on the text: a secret-only change
 * (a `secure:` value) or a comment is not a raise.
 */
import { PINNED_STACKS, namespaced, parseConfig } from "../config";
import { parseStackFile, programConfig } from "../stackFile";
import { RolloutState, Stage, effectivePercentage } from "../stages";

/**
 * Paths whose change affects every stack: the program, its SQL, its
 * dependencies and build settings. A trailing "/" means a directory.
 */
export const PROGRAM_PATHS: readonly string[] = [
  "index.ts",
  "components/",
  "lib/",
  "sql/",
  "package.json",
  "package-lock.json",
  "Pulumi.yaml",
  "tsconfig.json",
];

const STACK_FILE_RE = /^Pulumi\.([^/]+)\.yaml$/;

/** The stack a path is the stack file of, or undefined. */
export function stackOfFile(path: string): string | undefined {
  return STACK_FILE_RE.exec(path)?.[1];
}

/** True when a change to `path` affects every stack. */
export function isProgramPath(path: string): boolean {
  return PROGRAM_PATHS.some((p) => (p.endsWith("/") ? path.startsWith(p) : path === p));
}

/**
 * The order stacks are deployed in: the pinned (production) stacks last, the
 * others alphabetically before them, so staging is updated before prod.
 */
export function deployOrder(stacks: Iterable<string>): string[] {
  const pinned = (s: string) => (PINNED_STACKS.includes(s) ? 1 : 0);
  return [...new Set(stacks)].sort((a, b) => pinned(a) - pinned(b) || a.localeCompare(b));
}

export interface ChangedStack {
  stack: string;
  /** Why the stack is considered changed, in plain language. */
  reasons: string[];
}

export interface ChangedStacksInput {
  /** Paths that differ between base and head (either side). */
  changedPaths: readonly string[];
  /** Stacks that have a file at head. */
  stacksAtHead: readonly string[];
  /** Stacks CI never previews or deploys (e.g. `dev`, local Docker only). */
  exclude?: readonly string[];
}

export interface ChangedStacksResult {
  /** Changed stacks present at head, in deploy order. */
  stacks: ChangedStack[];
  /** Stack files deleted by the change (nothing to preview; destroying a stack is a manual step). */
  removed: string[];
  /** Changed stacks left out by `exclude`. */
  excluded: string[];
  /** The program paths that changed (empty when only stack files changed). */
  programFiles: string[];
}

export function changedStacks(input: ChangedStacksInput): ChangedStacksResult {
  const atHead = new Set(input.stacksAtHead);
  const exclude = new Set(input.exclude ?? []);
  const programFiles = input.changedPaths.filter(isProgramPath).sort();
  const reasons = new Map<string, string[]>();
  const add = (stack: string, reason: string) => reasons.set(stack, [...(reasons.get(stack) ?? []), reason]);
  const removed: string[] = [];

  for (const p of input.changedPaths) {
    const stack = stackOfFile(p);
    if (stack === undefined) continue;
    if (atHead.has(stack)) add(stack, `${p} changed`);
    else removed.push(stack);
  }
  if (programFiles.length > 0) {
    const shown = programFiles.slice(0, 5).join(", ") + (programFiles.length > 5 ? `, and ${programFiles.length - 5} more` : "");
    for (const stack of atHead) add(stack, `program code changed (${shown})`);
  }
  const excluded = deployOrder([...reasons.keys()].filter((s) => exclude.has(s)));
  const stacks = deployOrder([...reasons.keys()].filter((s) => !exclude.has(s))).map((stack) => ({
    stack,
    reasons: reasons.get(stack) ?? [],
  }));
  return { stacks, removed: deployOrder(removed), excluded, programFiles };
}

// ---------------------------------------------------------------------------
// Canary raise

/** The schema's defaults: what a stack without a file (or without the keys) runs. */
export const ABSENT_STATE: Readonly<RolloutState> = Object.freeze({
  canaryPercentage: 0 as Stage,
  enableStatelessOrchestration: false,
  enableSafeJsonParser: false,
});

/** A stack file's rollout state, through the one schema. Throws StackFileError / ConfigError. */
export function rolloutStateOf(stack: string, file: string, text: string): RolloutState {
  // Secrets left to `pulumi config set --secret` get placeholders, as in every offline evaluation.
  const cfg = parseConfig(namespaced(programConfig(parseStackFile(stack, file, text)).config), { stack });
  return {
    canaryPercentage: cfg.canaryPercentage,
    enableStatelessOrchestration: cfg.enableStatelessOrchestration,
    enableSafeJsonParser: cfg.enableSafeJsonParser,
  };
}

export interface CanaryChange {
  stack: string;
  /** The state at base; the defaults (0, flags off) when the stack file is new. */
  from: RolloutState;
  to: RolloutState;
  /** True when the stack file does not exist at base. */
  newStack: boolean;
  /** Set when the base file did not parse; `from` is then the defaults (so any percentage above 0 is gated). */
  baseInvalid?: string;
  /** canaryPercentage went up. */
  percentageRaised: boolean;
  /** The share actually routed to the new path went up (e.g. flags turned back on after an immediate rollback). */
  exposureRaised: boolean;
  /** Either of the above: the change needs the gate's evidence. */
  raised: boolean;
  /** One line for people. */
  summary: string;
}

function describe(s: RolloutState): string {
  const flags = s.enableStatelessOrchestration && s.enableSafeJsonParser
    ? "flags on"
    : !s.enableStatelessOrchestration && !s.enableSafeJsonParser
      ? "flags off"
      : `flags mixed (orchestration ${s.enableStatelessOrchestration}, parser ${s.enableSafeJsonParser})`;
  return `${s.canaryPercentage}% (${flags}, effective ${effectivePercentage(s)}%)`;
}

/**
 * Compare a stack's rollout state at base and head. `baseText` undefined means
 * the file is new. The head must parse (a broken head fails CI with the
 * schema's own message), which includes being in the YAML subset both
 * Pulumi and the project read alike (lib/yamlSubset.ts): a head Pulumi could
 * read differently fails CI, line and column given. A base that does not
 * parse (or is outside that subset) is never trusted: it counts as the
 * defaults, so any percentage above 0 at head needs the gate.
 */
export function canaryChange(stack: string, baseText: string | undefined, headText: string): CanaryChange {
  const file = `Pulumi.${stack}.yaml`;
  const to = rolloutStateOf(stack, file, headText);
  let from: RolloutState = { ...ABSENT_STATE };
  let baseInvalid: string | undefined;
  if (baseText !== undefined) {
    try {
      from = rolloutStateOf(stack, file, baseText);
    } catch (e) {
      baseInvalid = (e as Error).message.split("\n")[0];
    }
  }
  const percentageRaised = to.canaryPercentage > from.canaryPercentage;
  const exposureRaised = effectivePercentage(to) > effectivePercentage(from);
  const raised = percentageRaised || exposureRaised;
  const newStack = baseText === undefined;
  const same =
    from.canaryPercentage === to.canaryPercentage &&
    from.enableStatelessOrchestration === to.enableStatelessOrchestration &&
    from.enableSafeJsonParser === to.enableSafeJsonParser;
  const summary = newStack
    ? `new stack at ${describe(to)}${raised ? ": raised from the default 0%" : ""}`
    : same
      ? `rollout unchanged at ${describe(to)}`
      : `${describe(from)} → ${describe(to)}${raised ? ": raised" : ": not a raise"}`;
  return { stack, from, to, newStack, ...(baseInvalid ? { baseInvalid } : {}), percentageRaised, exposureRaised, raised, summary };
}

/** The repository secret holding a stack's monitoring database URL, e.g. MONITORING_DATABASE_URL_PROD. */
export function monitoringSecretName(stack: string): string {
  return `MONITORING_DATABASE_URL_${stack.toUpperCase().replace(/[^A-Z0-9]/g, "_")}`;
}
