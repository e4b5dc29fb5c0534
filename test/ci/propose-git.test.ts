/**
 * ci/proposeGit.ts on real git (a bare repository as the remote, a clone as the checkout): what
 * `rollout propose` fetches, that it edits in a worktree of its own, and that a push or a delete
 * never overwrites anybody's work: a branch with commits that are not on main is refused, a merged
 * one is replaced, a delete is leased on the commit the pull request had.
 */
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { GitError } from "../../ci/git";
import { ProposeGit, commitFile, deleteBranch, detachedWorktree, fetchForPropose, fileUnchangedSince, pushBranch, remoteBranch } from "../../ci/proposeGit";
import { GIT_ENV } from "./gitFixture";

const git = (dir: string, ...args: string[]) => execFileSync("git", args, { cwd: dir, env: GIT_ENV, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();

describe("rollout propose's git: fetch, worktree, push, delete (ci/proposeGit.ts)", function () {
  this.timeout(60_000);
  let tmp: string;
  let bare: string;
  let seed: string;
  let g: ProposeGit;
  const saved: Record<string, string | undefined> = {};

  /** Commit `text` as Pulumi.prod.yaml in the seed clone and push it to `ref`. */
  const pushSeed = (text: string, ref: string, from = "main") => {
    git(seed, "checkout", "-q", "-B", "work", `origin/${from}`);
    fs.writeFileSync(path.join(seed, "Pulumi.prod.yaml"), text);
    git(seed, "commit", "-q", "-am", `prod: ${text.trim()}`);
    git(seed, "push", "-q", "-f", "origin", `HEAD:refs/heads/${ref}`);
    git(seed, "fetch", "-q", "origin");
    return git(seed, "rev-parse", "HEAD");
  };

  before(() => {
    for (const k of ["GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", "HOME"]) saved[k] = process.env[k];
    Object.assign(process.env, { GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@example.invalid", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@example.invalid", HOME: os.tmpdir() });
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "propose-git-"));
    bare = path.join(tmp, "remote.git");
    git(tmp, "init", "-q", "--bare", "-b", "main", bare);
    seed = path.join(tmp, "seed");
    git(tmp, "clone", "-q", bare, seed);
    fs.writeFileSync(path.join(seed, "Pulumi.prod.yaml"), "10\n");
    git(seed, "add", "-A");
    git(seed, "commit", "-q", "-m", "base");
    git(seed, "push", "-q", "origin", "HEAD:refs/heads/main", "HEAD:refs/heads/rollout/staging-25", "HEAD:refs/heads/feature");
    git(seed, "fetch", "-q", "origin");
    const checkout = path.join(tmp, "checkout");
    git(tmp, "clone", "-q", bare, checkout);
    g = { dir: checkout, remote: "origin", base: "main" };
  });
  after(() => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it("fetches main and the stack's advance branches only, and prunes those gone", () => {
    const head = pushSeed("25\n", "rollout/prod-25");
    git(g.dir, "update-ref", "refs/remotes/origin/rollout/prod-50", "refs/remotes/origin/main"); // a branch deleted on the remote since
    for (const r of ["rollout/staging-25", "feature"]) git(g.dir, "update-ref", "-d", `refs/remotes/origin/${r}`);
    const main = fetchForPropose(g, "prod");
    assert.equal(main, git(bare, "rev-parse", "refs/heads/main"));
    const refs = git(g.dir, "for-each-ref", "--format=%(refname)", "refs/remotes/origin").split("\n");
    assert.ok(refs.includes("refs/remotes/origin/rollout/prod-25"));
    assert.ok(!refs.includes("refs/remotes/origin/rollout/prod-50"), "pruned");
    assert.ok(!refs.includes("refs/remotes/origin/rollout/staging-25") && !refs.includes("refs/remotes/origin/feature"), "other stacks' and other branches are not fetched");
    assert.equal(git(g.dir, "rev-parse", "refs/remotes/origin/rollout/prod-25"), head);
    assert.ok(fileUnchangedSince(g, main, head, "Pulumi.prod.yaml"));
  });

  it("edits and commits in a detached worktree of its own; the checkout's branch and files are untouched; the worktree goes away", () => {
    const before = git(g.dir, "rev-parse", "HEAD");
    const main = fetchForPropose(g, "prod");
    const wt = detachedWorktree(g, main);
    fs.writeFileSync(path.join(wt.dir, "Pulumi.prod.yaml"), "50\n");
    const c = commitFile(wt.dir, "Pulumi.prod.yaml", "rollout(prod): advance 25% -> 50%");
    assert.equal(git(wt.dir, "rev-parse", `${c}^`), main);
    wt.remove();
    assert.ok(!fs.existsSync(wt.dir));
    assert.equal(git(g.dir, "rev-parse", "HEAD"), before);
    assert.equal(git(g.dir, "status", "--porcelain"), "");
    assert.equal(git(g.dir, "worktree", "list", "--porcelain").split("\n").filter((l) => l.startsWith("worktree ")).length, 1);
  });

  it("a branch on the remote with commits not on main (someone's work, no pull request) is refused, and nothing is pushed", () => {
    const theirs = remoteBranch(g, "rollout/prod-25");
    const main = fetchForPropose(g, "prod");
    const wt = detachedWorktree(g, main);
    try {
      fs.writeFileSync(path.join(wt.dir, "Pulumi.prod.yaml"), "25 (proposed)\n");
      commitFile(wt.dir, "Pulumi.prod.yaml", "proposal");
      assert.throws(() => pushBranch(g, wt.dir, "rollout/prod-25", main), (e: Error) => e instanceof GitError && /the branch rollout\/prod-25 exists on origin with commits that are not on main .* nothing was pushed/.test(e.message));
      assert.equal(remoteBranch(g, "rollout/prod-25"), theirs);
    } finally {
      wt.remove();
    }
  });

  it("a branch already merged into main (a merged proposal's) is replaced; a new one is created", () => {
    // merge rollout/prod-25 into main on the remote
    git(seed, "checkout", "-q", "-B", "merge", "origin/main");
    git(seed, "merge", "-q", "--no-ff", "-m", "merge", "origin/rollout/prod-25");
    git(seed, "push", "-q", "origin", "HEAD:refs/heads/main");
    const main = fetchForPropose(g, "prod");
    const wt = detachedWorktree(g, main);
    try {
      fs.writeFileSync(path.join(wt.dir, "Pulumi.prod.yaml"), "25 again\n");
      const c = commitFile(wt.dir, "Pulumi.prod.yaml", "proposal again");
      const merged = remoteBranch(g, "rollout/prod-25");
      assert.deepEqual(pushBranch(g, wt.dir, "rollout/prod-25", main), { replaced: merged });
      assert.equal(remoteBranch(g, "rollout/prod-25"), c);
      assert.deepEqual(pushBranch(g, wt.dir, "rollout/prod-75", main), { replaced: null });
      assert.equal(remoteBranch(g, "rollout/prod-75"), c);
    } finally {
      wt.remove();
    }
  });

  it("a delete is leased on the pull request's head: a branch that moved since is kept", () => {
    const moved = remoteBranch(g, "rollout/prod-75");
    assert.ok(moved);
    assert.throws(() => deleteBranch(g, "rollout/prod-75", "0".repeat(40)), GitError);
    assert.equal(remoteBranch(g, "rollout/prod-75"), moved);
    deleteBranch(g, "rollout/prod-75", moved);
    assert.equal(remoteBranch(g, "rollout/prod-75"), undefined);
  });

  it("a head commit from GitHub reaches git only as a commit id (never as an option)", () => {
    const main = fetchForPropose(g, "prod");
    for (const bad of ["--output=pwned", "HEAD", "main", `${"a".repeat(39)}`]) {
      assert.throws(() => fileUnchangedSince(g, main, bad, "Pulumi.prod.yaml"), /is not a commit id/, bad);
      assert.throws(() => deleteBranch(g, "rollout/prod-25", bad), /is not a commit id/, bad);
    }
  });

  it("git gets no GITHUB_TOKEN from the environment", () => {
    const saved = process.env.GITHUB_TOKEN;
    process.env.GITHUB_TOKEN = "ghs_mustNotReachGit123";
    try {
      const wt = detachedWorktree(g, fetchForPropose(g, "prod"));
      try {
        fs.mkdirSync(path.join(g.dir, ".git", "hooks"), { recursive: true });
        const hook = path.join(g.dir, ".git", "hooks", "pre-commit");
        fs.writeFileSync(hook, `#!/bin/sh\nenv > "${path.join(tmp, "hook-env")}"\n`, { mode: 0o755 });
        fs.writeFileSync(path.join(wt.dir, "Pulumi.prod.yaml"), "x\n");
        // commitFile passes --no-verify, so run a commit that runs hooks through the same runner
        execFileSync("git", ["commit", "-q", "-am", "hooked"], { cwd: wt.dir, env: { ...process.env }, stdio: "ignore" });
        assert.match(fs.readFileSync(path.join(tmp, "hook-env"), "utf8"), /GITHUB_TOKEN=ghs_mustNotReachGit123/, "the check itself sees a token git is given");
        fs.rmSync(path.join(tmp, "hook-env"));
        const { runGit } = require("../../ci/git") as typeof import("../../ci/git");
        runGit(wt.dir, ["commit", "-q", "--allow-empty", "-m", "through runGit"]);
        assert.doesNotMatch(fs.readFileSync(path.join(tmp, "hook-env"), "utf8"), /GITHUB_TOKEN/);
        fs.rmSync(hook);
      } finally {
        wt.remove();
      }
    } finally {
      if (saved === undefined) delete process.env.GITHUB_TOKEN;
      else process.env.GITHUB_TOKEN = saved;
    }
  });
});
