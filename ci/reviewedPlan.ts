/**
 * What was reviewed is what gets applied (issue 21): the pull request's
 * preview saves a Pulumi update plan (`pulumi preview --refresh --save-plan`);
 * the trusted review job writes a manifest beside it (the reviewed head, the
 * stack file's and the program's hashes, computed by the base's code from
 * the head's git objects); the deploy of a change that raises a stage or
 * changes the program checks the manifest against the merged commit and
 * applies the plan with `pulumi up --plan`. A change that only lowers a stage
 * or turns flags off (an immediate rollback) needs neither plan nor preview:
 * `pulumi up --skip-preview --refresh`.
 *
 * Pure: texts and hashes in, decisions and argument vectors out. The git
 * reads are ci/detect.ts `reviewedState`; the script is cli/reviewed-plan.ts.
 */
import { createHash } from "node:crypto";
import { isDeepStrictEqual } from "node:util";
import { effectivePercentage } from "../core/stages";
import { agreedReading, parseStackFile } from "../stack/stackFile";
import type { CanaryChange } from "./changes";

export const MANIFEST_VERSION = 1;

/** How a stack is deployed. */
export type DeployMode = "plan" | "rollback";

/** The config keys a rollback may change; any other key changed makes the change need a reviewed plan. */
const ROLLOUT_KEYS = ["valuecanvas:canaryPercentage", "valuecanvas:enableStatelessOrchestration", "valuecanvas:enableSafeJsonParser"];

/**
 * `rollback` when the change only lowers the stage or turns flags off: no
 * program file changed, no config key but the three rollout keys changed,
 * and neither the percentage nor the exposure went up while at least one
 * went down. Anything else needs the reviewed plan (`plan`). A base that did
 * not parse is never a rollback.
 */
export function deployMode(stack: string, canary: CanaryChange, programFiles: readonly string[], baseText: string | undefined, headText: string): DeployMode {
  if (programFiles.length > 0 || baseText === undefined || canary.baseInvalid || canary.raised) return "plan";
  const lowered =
    canary.to.canaryPercentage < canary.from.canaryPercentage ||
    effectivePercentage(canary.to) < effectivePercentage(canary.from) ||
    (canary.from.enableStatelessOrchestration && !canary.to.enableStatelessOrchestration) ||
    (canary.from.enableSafeJsonParser && !canary.to.enableSafeJsonParser);
  const turnedOn = (!canary.from.enableStatelessOrchestration && canary.to.enableStatelessOrchestration) || (!canary.from.enableSafeJsonParser && canary.to.enableSafeJsonParser);
  if (!lowered || turnedOn) return "plan";
  const file = `Pulumi.${stack}.yaml`;
  // The whole file as both readers agree on it, ciphertexts and top-level keys (secretsprovider, encryptedkey…)
  // included, less the rollout keys: a rotated secret or a re-keyed file beside a rollback needs the reviewed plan.
  const others = (text: string) => {
    parseStackFile(stack, file, text);
    const { config, ...top } = agreedReading(file, text);
    const cfg = (config ?? {}) as Record<string, unknown>;
    return { config: Object.fromEntries(Object.entries(cfg).filter(([k]) => !ROLLOUT_KEYS.includes(k))), top };
  };
  return isDeepStrictEqual(others(baseText), others(headText)) ? "rollback" : "plan";
}

/** What the review saw, recorded beside the plan by the trusted job. */
export interface PlanManifest {
  version: number;
  stack: string;
  /** The pull request's head commit the preview ran. */
  headSha: string;
  /** sha256 of Pulumi.<stack>.yaml at that head. */
  stackFileSha256: string;
  /** sha256 over the program files (ci/changes.ts programPaths) at that head, path and content. */
  programSha256: string;
}

/** The state of a commit the manifest is compared with. */
export interface ReviewedState {
  stackFileSha256: string;
  programSha256: string;
}

export const sha256 = (text: string | Buffer): string => createHash("sha256").update(text).digest("hex");

/** One hash over a set of files: each path and its content, sorted by path, length-prefixed so no two sets collide by concatenation. */
export function filesSha256(files: ReadonlyMap<string, string>): string {
  const h = createHash("sha256");
  for (const p of [...files.keys()].sort()) {
    const body = Buffer.from(files.get(p) as string, "utf8");
    h.update(`${Buffer.byteLength(p)}:${p}\n${body.length}:`).update(body).update("\n");
  }
  return h.digest("hex");
}

export function planManifest(stack: string, headSha: string, state: ReviewedState): PlanManifest {
  return { version: MANIFEST_VERSION, stack, headSha, ...state };
}

const RERUN = "re-run the pull request's checks (its preview saves a new plan), then deploy again";

/**
 * Why a reviewed plan may not be applied to `current` (the merged commit's
 * state), or undefined when it may. Stale when the stack file or the program
 * differs from what the preview ran: main moved since the review (another
 * merge, a later push), or the manifest is for another stack.
 */
export function planProblem(stack: string, manifestText: string | undefined, current: ReviewedState): string | undefined {
  if (manifestText === undefined) return `${stack}: no reviewed plan was found for this change: ${RERUN}`;
  let m: Partial<PlanManifest>;
  try {
    m = JSON.parse(manifestText) as Partial<PlanManifest>;
  } catch {
    return `${stack}: the reviewed plan's manifest is not JSON: ${RERUN}`;
  }
  if (m.version !== MANIFEST_VERSION) return `${stack}: the reviewed plan's manifest has version ${JSON.stringify(m.version)}, expected ${MANIFEST_VERSION}: ${RERUN}`;
  if (m.stack !== stack) return `${stack}: the reviewed plan is for stack ${JSON.stringify(m.stack)}: ${RERUN}`;
  const short = (s: unknown) => String(s).slice(0, 12);
  if (m.stackFileSha256 !== current.stackFileSha256)
    return `${stack}: Pulumi.${stack}.yaml moved since the review (reviewed at ${short(m.headSha)}, sha256 ${short(m.stackFileSha256)}; now ${short(current.stackFileSha256)}): ${RERUN}`;
  if (m.programSha256 !== current.programSha256)
    return `${stack}: the program moved since the review (reviewed at ${short(m.headSha)}, sha256 ${short(m.programSha256)}; now ${short(current.programSha256)}): ${RERUN}`;
  return undefined;
}

/** `pulumi preview` as the pull request runs it: refreshed first, the plan saved. */
export function previewArgv(stack: string, planFile: string): string[] {
  return ["preview", "--stack", stack, "--refresh", "--diff", "--save-plan", planFile, "--non-interactive", "--color", "never"];
}

/**
 * `pulumi up` as the deploy runs it. `plan`: constrained to the reviewed plan
 * (refreshed, as the preview was). `rollback`: no preview and no plan, but
 * refreshed, so the update starts from the real state (issue 22).
 */
export function upArgv(stack: string, mode: DeployMode, planFile?: string): string[] {
  const common = ["up", "--stack", stack, "--yes", "--refresh", "--non-interactive", "--color", "never"];
  if (mode === "rollback") return [...common, "--skip-preview"];
  if (!planFile) throw new Error(`${stack}: a deploy that applies the reviewed plan needs the plan file`);
  return [...common, "--plan", planFile];
}
