/**
 * What a commit range means for the rollout: the changed stacks (in deploy
 * order), and for each whether its canary went up. Combines the pure
 * decisions (./changes) with git (./git).
 */
import { stackFilePath } from "../stack/stackFile";
import { PROJECT_FILE, checkProjectFile, checkPulumiFileNames, programEntry } from "../stack/projectFiles";
import { StackFileError } from "../stack/stackFileError";
import { CanaryChange, ChangedStack, canaryChange, changedStacks, isProgramPath, monitoringSecretName, programPaths, stackOfFile, testRunNeeded } from "./changes";
import { DeployMode, ReviewedState, deployMode, filesSha256, sha256 } from "./reviewedPlan";
import { deployRunnerVariable } from "./deployTarget";
import type { StageJump } from "./comment";
import { forcedSkipReason } from "../core/transitions";
import { nextStage } from "../core/stages";
import { ZERO_SHA, changedPaths, fileAt, filesAt, mergeBase, resolveCommit, topLevelFiles } from "./git";
import * as path from "node:path";

export interface StackDecision extends ChangedStack {
  canary: CanaryChange;
  /** The head's stage against the next stage after the base's, with the head's forced-skip note for it (ci/comment.ts jumpProblem). */
  jump: StageJump;
  /** How the merge deploys it: the reviewed plan, or (a change that only lowers a stage or turns flags off) a rollback without plan or preview. */
  deploy: DeployMode;
  /** Repository secret with this stack's monitoring database URL (read by the gate). */
  databaseSecret: string;
}

export interface Detection {
  /** The commit changes are measured from (merge base of base and head), or null when every stack counts as new. */
  base: string | null;
  head: string;
  stacks: StackDecision[];
  removed: string[];
  excluded: string[];
  programFiles: string[];
  /** Whether the change needs the test suite: not when it only sets, changes or removes holds, or rolls back (ci/changes.ts testRunNeeded). */
  tests: { needed: boolean; why: string };
}

export interface DetectOptions {
  /** Stacks CI never previews or deploys. */
  exclude?: readonly string[];
}

/**
 * Compare `base` and `head` in `repoDir`. `base` may be the all-zero SHA (a
 * new branch's first push): then every stack at head is changed and new.
 */
export function detectChanges(repoDir: string, base: string, head: string, opts: DetectOptions = {}): Detection {
  const headSha = resolveCommit(repoDir, head);
  const headNames = topLevelFiles(repoDir, headSha);
  // Every file Pulumi could read as the project or a stack file: only Pulumi.yaml and Pulumi.<stack>.yaml (stack/projectFiles.ts).
  checkPulumiFileNames(headNames, `the head commit ${headSha.slice(0, 12)}`);
  const stacksAtHead = headNames
    .map(stackOfFile)
    .filter((s): s is string => s !== undefined);
  let from: string | null = null;
  let paths: string[];
  if (base === ZERO_SHA || base === "") {
    paths = stacksAtHead.map((s) => path.basename(stackFilePath(".", s)));
  } else {
    from = mergeBase(repoDir, resolveCommit(repoDir, base), headSha);
    paths = changedPaths(repoDir, from, headSha);
  }
  // The project file can give stacks config too (or move their files, or load other code): refuse what the stack files would not show.
  const projectText = fileAt(repoDir, headSha, PROJECT_FILE);
  if (projectText === undefined) throw new StackFileError(`${PROJECT_FILE} is missing at ${headSha}: Pulumi would look for a project file elsewhere`);
  checkProjectFile(PROJECT_FILE, projectText);
  // Program code on either side, each from what its own project file's main: loads: a file the base's program loaded
  // counts even if the head's no longer does.
  const program = [headSha, ...(from === null ? [] : [from])].flatMap((ref) => programPaths(programTexts(repoDir, ref), entryAt(repoDir, ref)));
  const changed = changedStacks({ changedPaths: paths, stacksAtHead, exclude: opts.exclude, programPaths: [...new Set(program)] });
  const stacks = changed.stacks.map((c): StackDecision => {
    const file = path.basename(stackFilePath(".", c.stack));
    const headText = fileAt(repoDir, headSha, file);
    if (headText === undefined) throw new Error(`${file} is missing at ${headSha}`);
    const baseText = from === null ? undefined : fileAt(repoDir, from, file);
    const canary = canaryChange(c.stack, baseText, headText);
    const deploy = deployMode(c.stack, canary, changed.programFiles, baseText, headText);
    return { ...c, canary, jump: stageJump(canary, headText), deploy, databaseSecret: monitoringSecretName(c.stack) };
  });
  const tests = testRunNeeded(paths, stacks.map((s) => ({ stack: s.stack, holdOnly: s.canary.holdOnly, rollback: s.deploy === "rollback" })));
  return { base: from, head: headSha, stacks, removed: changed.removed, excluded: changed.excluded, programFiles: changed.programFiles, tests };
}

/** The stage the head moves to against the next stage after the base's; the forced-skip note counts only for this very skip (from the base's stage). */
export function stageJump(canary: CanaryChange, headText: string): StageJump {
  const from = canary.from.canaryPercentage;
  const to = canary.to.canaryPercentage;
  const note = forcedSkipReason(headText, to);
  const forcedSkip = note !== undefined && note.startsWith(`forced skip ${from}% -> ${to}%:`) ? note : undefined;
  return { from, to, nextStage: nextStage(from) ?? null, ...(forcedSkip ? { forcedSkip } : {}) };
}

/** The module the program at `ref` starts from (stack/projectFiles.ts programEntry). A base without a valid project file counts as index.ts. */
export function entryAt(repoDir: string, ref: string): string {
  const pkg = fileAt(repoDir, ref, "package.json");
  const project = fileAt(repoDir, ref, PROJECT_FILE);
  let info = { main: undefined as string | undefined };
  if (project !== undefined) {
    try {
      info = checkProjectFile(PROJECT_FILE, project);
    } catch (e) {
      if (!(e instanceof StackFileError)) throw e;
    }
  }
  return programEntry(info, pkg);
}

/** The hashes a reviewed plan's manifest records (ci/reviewedPlan.ts), of the commit `ref`: its stack file, and its program files (what its own project file's main: loads). */
export function reviewedState(repoDir: string, ref: string, stack: string): ReviewedState {
  const sha = resolveCommit(repoDir, ref);
  const file = path.basename(stackFilePath(".", stack));
  const text = fileAt(repoDir, sha, file);
  if (text === undefined) throw new StackFileError(`${file} is missing at ${sha}`);
  const program = programPaths(programTexts(repoDir, sha), entryAt(repoDir, sha));
  const files = filesAt(repoDir, sha, (p) => isProgramPath(p, program));
  return { stackFileSha256: sha256(text), programSha256: filesSha256(files) };
}

/** Every TypeScript text at `ref` (outside node_modules): what `programPaths` derives the program from. */
export function programTexts(repoDir: string, ref: string): Map<string, string> {
  return filesAt(repoDir, ref, (p) => p.endsWith(".ts") && !p.split("/").includes("node_modules"));
}

/** The GitHub Actions matrix for the changed stacks (`include` entries carry the decision). */
export function actionsMatrix(d: Detection): {
  include: Array<{ stack: string; raised: boolean; from: number; to: number; deploy: DeployMode; databaseSecret: string; runnerVar: string }>;
} {
  return {
    include: d.stacks.map((s) => ({
      stack: s.stack,
      raised: s.canary.raised,
      from: s.canary.from.canaryPercentage,
      to: s.canary.to.canaryPercentage,
      /** "plan": preview, save and apply the reviewed plan; "rollback": neither plan nor preview. */
      deploy: s.deploy,
      databaseSecret: s.databaseSecret,
      /** Repository variable with the label of the runner that deploys this stack (ci/deployTarget.ts). */
      runnerVar: deployRunnerVariable(s.stack),
    })),
  };
}
