/**
 * The little git plumbing CI needs: what changed between two commits and a
 * file's text at a commit (read-only), and `runGit`, the one way the CI code
 * runs the real `git` (ci/proposeGit.ts writes through it). Arguments are an
 * array, never a shell string; git gets no GITHUB_TOKEN from the environment,
 * and an error's text is redacted (a remote URL can carry a credential).
 */
import { execFileSync } from "node:child_process";
import { redact } from "../core/redact";

/** The all-zero SHA GitHub sends as `before` for a new branch's first push. */
export const ZERO_SHA = "0000000000000000000000000000000000000000";

export class GitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "GitError";
  }
}

/** The environment git runs with: this process's, without the GitHub token (git needs none of it: a checkout's own credentials push). */
function gitEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.GITHUB_TOKEN;
  return env;
}

/** Run git with `args` in `repoDir`; its stdout, or a GitError with its stderr (redacted, with `secrets` masked too). */
export function runGit(repoDir: string, args: string[], secrets: readonly string[] = []): string {
  try {
    return execFileSync("git", args, { cwd: repoDir, encoding: "utf8", maxBuffer: 64 * 1024 * 1024, stdio: ["ignore", "pipe", "pipe"], env: gitEnv() });
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new GitError(redact(`git ${args.join(" ")} failed in ${repoDir}: ${(err.stderr || err.message).trim()}`, secrets));
  }
}
const git = (repoDir: string, args: string[]) => runGit(repoDir, args);

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

/**
 * The texts of the files at a commit whose paths pass `keep`, by path: one
 * `git ls-tree` and one `git cat-file --batch` for all of them, whatever
 * their number.
 */
export function filesAt(repoDir: string, ref: string, keep: (path: string) => boolean): Map<string, string> {
  const paths = git(repoDir, ["ls-tree", "-r", "--name-only", "-z", ref])
    .split("\0")
    .filter((p) => p !== "" && keep(p));
  const out = new Map<string, string>();
  if (paths.length === 0) return out;
  let raw: Buffer;
  try {
    raw = execFileSync("git", ["cat-file", "--batch"], {
      cwd: repoDir,
      input: paths.map((p) => `${ref}:${p}\n`).join(""),
      maxBuffer: 256 * 1024 * 1024,
      stdio: ["pipe", "pipe", "pipe"],
    });
  } catch (e) {
    const err = e as { stderr?: Buffer; message: string };
    throw new GitError(`git cat-file --batch failed in ${repoDir}: ${(err.stderr?.toString() || err.message).trim()}`);
  }
  // Each object: "<sha> <type> <size>\n", <size> bytes, "\n" (in the order asked).
  let at = 0;
  for (const p of paths) {
    const eol = raw.indexOf(0x0a, at);
    const header = raw.subarray(at, eol).toString("utf8");
    const m = /^[0-9a-f]+ blob (\d+)$/.exec(header);
    if (!m) throw new GitError(`git cat-file --batch: unexpected "${header}" for ${ref}:${p}`);
    const size = Number(m[1]);
    out.set(p, raw.subarray(eol + 1, eol + 1 + size).toString("utf8"));
    at = eol + 1 + size + 1;
  }
  return out;
}
