/**
 * The git side of `rollout propose`: fetch the base branch and the stack's advance branches, edit in
 * a worktree of its own (detached at the remote's base, so the caller's checkout and branches are
 * never touched), commit the stack file, push the branch. A push never overwrites work: a branch that
 * exists on the remote is replaced only when it is already merged into the base (a proposal's branch
 * left after its merge), through --force-with-lease on the commit just seen; otherwise the run
 * refuses. Every command goes through ci/git.ts runGit (argument arrays, no token in git's env).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { GitError, fileAt, mergeBase, resolveCommit, runGit } from "./git";
import { changeBranch } from "../core/workflow";

export interface ProposeGit {
  dir: string;
  remote: string;
  base: string;
}

/** The remote-tracking ref of `branch`. */
export const tracking = (g: ProposeGit, branch: string) => `refs/remotes/${g.remote}/${branch}`;

/** The stack's advance branches' pattern (`rollout/prod-*`), from core/workflow.ts changeBranch. */
function advancePattern(stack: string): string {
  return changeBranch(stack, { kind: "advance", to: 0 }).replace(/0$/, "*");
}

/** Fetch the base branch and the stack's advance branches (pruning those gone); returns the base's commit. */
export function fetchForPropose(g: ProposeGit, stack: string): string {
  const pattern = advancePattern(stack);
  runGit(g.dir, ["fetch", "--quiet", "--no-tags", "--prune", g.remote, `+refs/heads/${g.base}:${tracking(g, g.base)}`, `+refs/heads/${pattern}:${tracking(g, pattern)}`]);
  return resolveCommit(g.dir, tracking(g, g.base));
}

/** A worktree of its own, detached at `commit`, in the system's temporary folder; `remove` deletes it. */
export function detachedWorktree(g: ProposeGit, commit: string): { dir: string; remove: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rollout-propose-"));
  runGit(g.dir, ["worktree", "add", "--quiet", "--detach", dir, commit]);
  return {
    dir,
    remove: () => {
      try {
        runGit(g.dir, ["worktree", "remove", "--force", dir]);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/** A commit id as GitHub sends it: hex only, so it can never reach git as an option. */
function commitId(sha: string): string {
  if (!/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(sha)) throw new GitError(`"${sha.slice(0, 80)}" is not a commit id`);
  return sha;
}

/** True when main's `file` is the one `head` branched from (compared at their merge base). */
export function fileUnchangedSince(g: ProposeGit, baseCommit: string, head: string, file: string): boolean {
  const mb = mergeBase(g.dir, baseCommit, commitId(head));
  return fileAt(g.dir, mb, file) === fileAt(g.dir, baseCommit, file);
}

/** The commit a branch points at on the remote, or undefined when it has none. */
export function remoteBranch(g: ProposeGit, branch: string): string | undefined {
  const out = runGit(g.dir, ["ls-remote", "--heads", g.remote, `refs/heads/${branch}`]).trim();
  const line = out.split("\n").find((l) => l.endsWith(`\trefs/heads/${branch}`));
  return line?.split("\t")[0];
}

/** Commit `file` in the worktree (detached), with `message`; returns the new commit. */
export function commitFile(worktree: string, file: string, message: string): string {
  runGit(worktree, ["add", "--", file]);
  runGit(worktree, ["commit", "--quiet", "--no-verify", "-m", message, "--", file]);
  return runGit(worktree, ["rev-parse", "HEAD"]).trim();
}

/**
 * Push the worktree's HEAD to `branch`. A branch that exists on the remote must be merged into the
 * base already (then it is replaced, leased on the commit seen); any other is refused.
 */
export function pushBranch(g: ProposeGit, worktree: string, branch: string, baseCommit: string): { replaced: string | null } {
  const existing = remoteBranch(g, branch);
  if (existing !== undefined) {
    runGit(g.dir, ["fetch", "--quiet", "--no-tags", g.remote, `+refs/heads/${branch}:${tracking(g, branch)}`]);
    if (mergeBase(g.dir, existing, baseCommit) !== existing) {
      throw new GitError(`the branch ${branch} exists on ${g.remote} with commits that are not on ${g.base} (${existing.slice(0, 12)}) and no open pull request: open its pull request, or delete the branch, then run again; nothing was pushed`);
    }
  }
  runGit(worktree, ["push", "--quiet", "--porcelain", `--force-with-lease=refs/heads/${branch}:${existing ?? ""}`, g.remote, `HEAD:refs/heads/${branch}`]);
  return { replaced: existing ?? null };
}

/** Delete a closed proposal's branch, only if it still points at `expected` (its pull request's head). */
export function deleteBranch(g: ProposeGit, branch: string, expected: string): void {
  runGit(g.dir, ["push", "--quiet", "--porcelain", `--force-with-lease=refs/heads/${branch}:${commitId(expected)}`, g.remote, `:refs/heads/${branch}`]);
}
