/**
 * CI decisions, pure: which stacks a change touches, and whether a change
 * raises a stack's canary. The workflows call these through thin scripts
 * (cli/changed-stacks.ts); the git plumbing lives in ci/git.ts.
 *
 * A stack is changed when its `Pulumi.<stack>.yaml` changed, or when program
 * code changed (then every stack is): what index.ts loads, found from the
 * tree's own imports (`programPaths`), so a change to CI tooling is not one.
 * A raise is judged on the parsed config
 * (stack/stackFile.ts + core/config.ts), never on the text: a secret-only change
 * (a `secure:` value) or a comment is not a raise. A change that only sets,
 * changes or removes the hold (`rollout hold` / `release`, issue 25) is
 * "hold-only": it configures no resource, so it needs no test run.
 */
import { CONFIG_NAMESPACE, HoldConfig, PINNED_STACKS } from "../core/configSchema";
import { parseStackFile, stackConfigOf } from "../stack/stackFile";
import { editStackText } from "../stack/splice";
import { RolloutState, Stage, effectivePercentage, flagText, rolloutState } from "../core/stages";
import { FileTexts, importGraph, reachable } from "./imports";
import { stackOfFileName } from "../stack/projectFiles";

/** The program's entry module when the project file and package.json name none (stack/projectFiles.ts `programEntry`). */
export const PROGRAM_ENTRY = "index.ts";

/**
 * What the program reads or bundles at run time besides the modules it
 * imports: the migrations (components/database.ts hashes and applies sql/),
 * the project file, the dependencies and the build settings. A trailing "/"
 * means a directory. Stack files are per stack and handled apart.
 */
export const PROGRAM_DATA: readonly string[] = [
  "sql/",
  "Pulumi.yaml",
  "package.json",
  "package-lock.json",
  "tsconfig.json",
  // The compiled program's shim and its build (stack/projectFiles.ts COMPILED_MAIN): what runs is built by these.
  "bin/program.cjs",
  "bin/load.cjs",
  "tools/build.cjs",
  "tsconfig.build.json",
];

/**
 * The paths whose change affects every stack, derived from the tree's own
 * TypeScript texts (`files`: every `.ts` file of the tree, by repository
 * path), so the list never goes stale: `entry` (what Pulumi.yaml's `main:`
 * names, `index.ts` by default) and every module it loads,
 * transitively (the components, the stack reader, the migration runner the
 * dynamic provider bundles, ...), plus PROGRAM_DATA. CI tooling, docs, tests,
 * benchmarks and scripts are not loaded by `index.ts`, so they do not count.
 *
 * Type-only imports count too: Pulumi's TypeScript runtime type-checks the
 * program before it runs, so a type change can fail (or change) a deploy;
 * counting them is the simple and safe side. A relative import that matches
 * no `.ts` file (a `.json`, say) counts as the path it names.
 */
export function programPaths(files: FileTexts, entry: string = PROGRAM_ENTRY): string[] {
  const graph = importGraph(files);
  const modules = reachable(graph, [entry]);
  const other = modules.flatMap((m) => graph.unresolved.get(m) ?? []);
  return [...new Set([...modules, ...other, ...PROGRAM_DATA])].sort();
}

/** The stack a path is the stack file of (a top-level `Pulumi.<stack>.yaml`), or undefined. */
export function stackOfFile(path: string): string | undefined {
  return stackOfFileName(path);
}

/** True when a change to `path` affects every stack, given `programPaths(…)` (a trailing "/" means a directory). */
export function isProgramPath(path: string, program: readonly string[]): boolean {
  return program.some((p) => (p.endsWith("/") ? path.startsWith(p) : path === p));
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
  /** The paths that are program code (`programPaths` of the trees compared). */
  programPaths: readonly string[];
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
  const programFiles = input.changedPaths.filter((p) => isProgramPath(p, input.programPaths)).sort();
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
  return rolloutState(stackConfigOf(parseStackFile(stack, file, text)));
}

/** The rollout keys whose absence means the defaults (ABSENT_STATE): deleting them rolls the stack back. */
const ROLLOUT_STATE_KEYS = ["canaryPercentage", "enableStatelessOrchestration", "enableSafeJsonParser"] as const;

/** A stack file read for CI: its rollout state, its hold, the rollout keys it sets, and its text without the hold. */
function readForCi(stack: string, file: string, text: string): { state: RolloutState; hold: HoldConfig | null; keys: string[]; withoutHold: string; rotation: number } {
  const sc = parseStackFile(stack, file, text);
  const cfg = stackConfigOf(sc);
  // `rollout release`'s own splice: what the file says besides the hold, byte for byte (comments, forced-skip notes included).
  const withoutHold = editStackText(file, text, [], undefined, { kind: "release" });
  return { state: rolloutState(cfg), hold: cfg.hold ?? null, keys: ROLLOUT_STATE_KEYS.filter((k) => sc.raw[k] !== undefined), withoutHold, rotation: cfg.appCredentialRotation };
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
  /** The hold (rollout hold) at base and head; null where there is none (and at a base that did not parse). */
  hold: { from: HoldConfig | null; to: HoldConfig | null };
  /**
   * The change sets, changes or removes the hold and nothing else: the file without its hold is byte-identical
   * at base and head (so no other key, value, secret or comment changed). It configures no resource: no test run.
   */
  holdOnly: boolean;
  /** Rollout keys the base sets and the head no longer does: their defaults (0 %, flags off) apply. */
  keysRemoved: string[];
  /**
   * valuecanvas:appCredentialRotation at base and head (core/appCredentials.ts): only +1 per up is safe
   * (ci/comment.ts gateDecision blocks anything else). `from` is null when the base was not read (new or invalid).
   */
  credentialRotation: { from: number | null; to: number };
  /** One line for people. */
  summary: string;
}

function describe(s: RolloutState): string {
  return `${s.canaryPercentage}% (${flagText(s)}, effective ${effectivePercentage(s)}%)`;
}

/**
 * Compare a stack's rollout state at base and head. `baseText` undefined means
 * the file is new. The head must parse (a broken head fails CI with the
 * schema's own message), which includes being in the YAML subset both
 * Pulumi and the project read alike (core/yamlSubset.ts): a head Pulumi could
 * read differently fails CI, line and column given. A base that does not
 * parse (or is outside that subset) is never trusted: it counts as the
 * defaults, so any percentage above 0 at head needs the gate.
 */
export function canaryChange(stack: string, baseText: string | undefined, headText: string): CanaryChange {
  const file = `Pulumi.${stack}.yaml`;
  const head = readForCi(stack, file, headText);
  const to = head.state;
  let from: RolloutState = { ...ABSENT_STATE };
  let baseInvalid: string | undefined;
  let baseRead: ReturnType<typeof readForCi> | undefined;
  if (baseText !== undefined) {
    try {
      baseRead = readForCi(stack, file, baseText);
      from = baseRead.state;
    } catch (e) {
      baseInvalid = (e as Error).message.split("\n")[0];
    }
  }
  const hold = { from: baseRead?.hold ?? null, to: head.hold };
  const holdChanged = JSON.stringify(hold.from) !== JSON.stringify(hold.to);
  const holdOnly = baseRead !== undefined && holdChanged && baseRead.withoutHold === head.withoutHold;
  const keysRemoved = baseRead === undefined ? [] : baseRead.keys.filter((k) => !head.keys.includes(k)).map((k) => `${CONFIG_NAMESPACE}:${k}`);
  const percentageRaised = to.canaryPercentage > from.canaryPercentage;
  const exposureRaised = effectivePercentage(to) > effectivePercentage(from);
  const raised = percentageRaised || exposureRaised;
  const newStack = baseText === undefined;
  const same =
    from.canaryPercentage === to.canaryPercentage &&
    from.enableStatelessOrchestration === to.enableStatelessOrchestration &&
    from.enableSafeJsonParser === to.enableSafeJsonParser;
  const rolloutSummary = newStack
    ? `new stack at ${describe(to)}${raised ? ": raised from the default 0%" : ""}`
    : same
      ? `rollout unchanged at ${describe(to)}`
      : `${describe(from)} → ${describe(to)}${raised ? ": raised" : ": not a raise"}`;
  const removed = keysRemoved.length === 0 ? "" : `; ${keysRemoved.join(", ")} removed from the stack file: the defaults (0%, flags off) apply, which sends every user back to the legacy path`;
  // The hold's own text (a person's words) is not in the summary: the PR comment quotes it apart (ci/comment.ts holdLine).
  const holdSummary = !holdChanged ? (hold.to === null ? "" : "; held (unchanged)") : hold.to === null ? "; hold released" : hold.from === null ? "; hold set" : "; hold changed";
  const credentialRotation = { from: baseRead?.rotation ?? null, to: head.rotation };
  const rotated =
    credentialRotation.from !== null && credentialRotation.from !== credentialRotation.to
      ? `; app database password rotation ${credentialRotation.from} → ${credentialRotation.to}`
      : "";
  const summary = `${rolloutSummary}${removed}${holdSummary}${rotated}${holdOnly ? " (hold-only: no resource changes, no test run needed)" : ""}`;
  return { stack, from, to, newStack, ...(baseInvalid ? { baseInvalid } : {}), percentageRaised, exposureRaised, raised, hold, holdOnly, keysRemoved, credentialRotation, summary };
}

/** What testRunNeeded reads of a changed stack: its hold-only verdict, and whether it deploys as a rollback (ci/reviewedPlan.ts deployMode). */
export interface TestScope {
  stack: string;
  holdOnly: boolean;
  rollback: boolean;
}

/**
 * Whether a change needs the test suite (issue 25): not when every changed path is a stack file whose change is
 * hold-only (canaryChange's `holdOnly`) or a rollback (deployMode's `rollback`: it only lowers the stage or turns
 * flags off, no program file and no other key changed, so it returns to a state the tests already passed). A
 * rollback must not wait 40 minutes for the test jobs. Anything else — program code, docs, tests, tooling, a
 * stack file with any other change, a removed or excluded stack file — needs it. Returns the decision and why,
 * for the log.
 */
export function testRunNeeded(changedPaths: readonly string[], stacks: readonly TestScope[]): { needed: boolean; why: string } {
  if (changedPaths.length === 0) return { needed: true, why: "no changed path was found: tests run" };
  const kind = new Map(stacks.filter((s) => s.holdOnly || s.rollback).map((s) => [s.stack, s.rollback ? "rollback" : "hold"] as const));
  const other = changedPaths.filter((p) => {
    const stack = stackOfFile(p);
    return stack === undefined || !kind.has(stack);
  });
  if (other.length === 0) {
    const of = (k: string) => [...kind].filter(([, v]) => v === k).map(([s]) => s).sort();
    const [rollbacks, holds] = [of("rollback"), of("hold")];
    if (rollbacks.length === 0) return { needed: false, why: `only holds changed (${holds.join(", ")}): no resource changes, nothing for the tests to check` };
    const andHolds = holds.length > 0 ? ` and holds (${holds.join(", ")})` : "";
    return { needed: false, why: `only rollbacks (${rollbacks.join(", ")})${andHolds} changed: a return to a state the tests already passed, nothing for them to check` };
  }
  return { needed: true, why: `${other.slice(0, 5).join(", ")}${other.length > 5 ? `, and ${other.length - 5} more` : ""} changed beyond a hold or a rollback` };
}

/** The repository secret holding a stack's monitoring database URL, e.g. MONITORING_DATABASE_URL_PROD. */
export function monitoringSecretName(stack: string): string {
  return `MONITORING_DATABASE_URL_${stack.toUpperCase().replace(/[^A-Z0-9]/g, "_")}`;
}
