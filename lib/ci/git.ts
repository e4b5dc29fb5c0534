/**
 * The little git plumbing CI needs: what changed between two commits and a
 * file's text at a commit. Read-only; runs the real `git`.
 */
import { execFileSync } from "node:child_process";

/** The all-zero SHA GitHub sends as `before` for a new branch's first push. */
export const ZERO_SHA = "0000000000000000000000000000000000000000";

export class GitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "GitError";
  }
}

function git(repoDir: string, args: string[]): string {
  try {
    return execFileSync("git", args, { cwd: repoDir, encoding: "utf8", maxBuffer: 64 * 1024 * 1024, stdio: ["ignore", "pipe", "pipe"] });
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new GitError(`git ${args.join(" ")} failed in ${repoDir}: ${(err.stderr || err.message).trim()}`);
  }
}

/** Resolve a ref to a full SHA; a clear error when the commit is not in the clone (shallow checkout). */
export function resolveCommit(repoDir: string, ref: string): string {
  try {
    return git(repoDir, ["rev-parse", "--verify", "--quiet", `${ref}^{commit}`]).trim();
  } catch {
    throw new GitError(
      `commit "${ref}" is not in the repository at ${repoDir}; in GitHub Actions check out with fetch-depth: 0`,
    );
  }
}

/** The commit that `head`'s changes are measured from: the merge base of base and head. */
export function mergeBase(repoDir: string, base: string, head: string): string {
  return git(repoDir, ["merge-base", base, head]).trim();
}

/** Paths added, modified or deleted between two commits (renames as delete + add). */
export function changedPaths(repoDir: string, from: string, to: string): string[] {
  return git(repoDir, ["diff", "--name-only", "--no-renames", "-z", from, to])
    .split("\0")
    .filter(Boolean);
}

/** Top-level file names at a commit. */
export function topLevelFiles(repoDir: string, ref: string): string[] {
  return git(repoDir, ["ls-tree", "--name-only", "-z", ref])
    .split("\0")
    .filter(Boolean);
}

/** A file's text at a commit, or undefined when the file does not exist there. */
export function fileAt(repoDir: string, ref: string, path: string): string | undefined {
  const listed = git(repoDir, ["ls-tree", "--name-only", "-z", ref, "--", path]).split("\0").filter(Boolean);
  if (!listed.includes(path)) return undefined;
  return git(repoDir, ["show", `${ref}:${path}`]);
}
