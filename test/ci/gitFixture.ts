/**
 * Real git history for the CI tests: a temporary repository with a base
 * commit on main and a head commit on a branch, and stack files like the
 * repository's.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: "Test",
  GIT_AUTHOR_EMAIL: "test@example.invalid",
  GIT_COMMITTER_NAME: "Test",
  GIT_COMMITTER_EMAIL: "test@example.invalid",
  GIT_CONFIG_NOSYSTEM: "1",
  HOME: os.tmpdir(),
};

/** A stack file like the repo's; `extra` lines go under `config:` (e.g. a loosened gate group). */
export function gateStackFile(pct: number, extra: string[] = []): string {
  return [
    "# prod",
    "config:",
    `  valuecanvas:appImage: ghcr.io/valuecanvas/app@sha256:${"a".repeat(64)}`,
    '  valuecanvas:enableStatelessOrchestration: "true"',
    '  valuecanvas:enableSafeJsonParser: "true"',
    `  valuecanvas:canaryPercentage: "${pct}"`,
    ...extra,
  ].join("\n") + "\n";
}

/** The loosening a pull request might sneak in beside its raise. */
export const LOOSENED = ["  valuecanvas:gate:", '    soakHours: "1"', "  valuecanvas:thresholds:", '    errorRateWarningPct: "4"'];

function git(dir: string, ...args: string[]): string {
  return execFileSync("git", args, { cwd: dir, env: GIT_ENV, encoding: "utf8" }).trim();
}

/** A repository with `files` committed as base, then `headFiles` as head. */
export function twoCommits(base: Record<string, string>, head: Record<string, string | null>): { dir: string; base: string; head: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ci-gate-config-"));
  git(dir, "init", "-q", "-b", "main");
  const commit = (files: Record<string, string | null>, message: string) => {
    for (const [f, text] of Object.entries(files)) {
      if (text === null) fs.rmSync(path.join(dir, f), { force: true });
      else {
        fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
        fs.writeFileSync(path.join(dir, f), text);
      }
    }
    git(dir, "add", "-A");
    git(dir, "commit", "-q", "--allow-empty", "-m", message);
    return git(dir, "rev-parse", "HEAD");
  };
  const b = commit({ "Pulumi.yaml": "name: valuecanvas\nruntime: nodejs\n", ...base }, "base");
  git(dir, "switch", "-q", "-c", "rollout/prod-25");
  const h = commit(head, "head");
  return { dir, base: b, head: h };
}
