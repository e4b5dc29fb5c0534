/**
 * The docs' revert instructions are true for how stage pull requests are
 * merged (a merge commit, as GitHub's "Create a merge commit" makes with
 * `git merge --no-ff`): every `git revert` in docs/RUNBOOK.md and README.md
 * reverts against the first parent, and the runbook's own lines, run on real
 * git history, find the newest stage's merge commit and restore the previous
 * percentage. A revert without `-m` is what git refuses.
 */
import { strict as assert } from "node:assert";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { shellTokens } from "../../tools/docCommands";
import { GIT_ENV, gateStackFile } from "./gitFixture";

const ROOT = path.resolve(__dirname, "../..");
const DOCS = ["README.md", ...fs.readdirSync(path.join(__dirname, "../../docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)];

/** Every line of a doc (code or prose) that contains a git command `cmd`, trimmed of inline-code backticks. */
function gitLines(file: string, cmd: string): string[] {
  const out: string[] = [];
  for (const line of fs.readFileSync(path.join(ROOT, file), "utf8").split("\n")) {
    for (const m of line.matchAll(/`([^`]*git [^`]*)`|^(git .*)$/g)) {
      const text = (m[1] ?? m[2]).trim();
      if (text.startsWith(`git ${cmd}`)) out.push(text);
    }
  }
  return out;
}

/** The words of a doc line before its comment, placeholders (<...>) as one word each. */
function words(line: string): string[] {
  const joined = line.replace(/<[^>]*>/g, (p) => p.replace(/\s+/g, "_"));
  return shellTokens(joined).flatMap((t) => ("word" in t ? [t.word] : []));
}

describe("docs: reverting a stage's pull request", () => {
  let dir: string;
  const git = (...args: string[]) => execFileSync("git", args, { cwd: dir, env: GIT_ENV, encoding: "utf8" }).trim();
  const pct = () => /canaryPercentage: "(\d+)"/.exec(fs.readFileSync(path.join(dir, "Pulumi.prod.yaml"), "utf8"))?.[1];

  /** A stage pull request: a branch with one commit, merged into main with a merge commit. */
  const stagePr = (to: number) => {
    git("switch", "-q", "-c", `rollout/prod-${to}`, "main");
    fs.writeFileSync(path.join(dir, "Pulumi.prod.yaml"), gateStackFile(to));
    git("commit", "-q", "-am", `rollout(prod): -> ${to}%`);
    git("switch", "-q", "main");
    git("merge", "-q", "--no-ff", "-m", `Merge pull request: rollout/prod-${to}`, `rollout/prod-${to}`);
    return git("rev-parse", "HEAD");
  };

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "docs-revert-"));
    git("init", "-q", "-b", "main");
    fs.writeFileSync(path.join(dir, "Pulumi.prod.yaml"), gateStackFile(10));
    fs.writeFileSync(path.join(dir, "README.md"), "# app\n");
    git("add", "-A");
    git("commit", "-q", "-m", "prod at 10%");
    stagePr(25);
    // an unrelated pull request in between
    git("switch", "-q", "-c", "docs", "main");
    fs.writeFileSync(path.join(dir, "README.md"), "# app, edited\n");
    git("commit", "-q", "-am", "docs");
    git("switch", "-q", "main");
    git("merge", "-q", "--no-ff", "-m", "Merge pull request: docs", "docs");
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("every git revert in the runbook and the README reverts a merge commit against its first parent", () => {
    const lines = DOCS.flatMap((f) => gitLines(f, "revert").map((l) => ({ f, l })));
    assert.ok(lines.some((x) => x.f === "docs/RUNBOOK.md"), "the runbook has a revert instruction");
    for (const { f, l } of lines) assert.match(l, /^git revert -m 1\b/, `${f}: ${l}`);
  });

  it("the runbook's lines, run on real history, find the newest stage's merge commit and restore the previous percentage", () => {
    const merge50 = stagePr(50);
    assert.equal(pct(), "50");
    const [log] = gitLines("docs/RUNBOOK.md", "log --first-parent --merges");
    assert.ok(log, "the runbook shows how to find the merge commit");
    const found = git(...words(log).slice(1)).split("\n");
    assert.equal(found.length, 2);
    assert.ok(merge50.startsWith(found[0].split(" ")[0]), "newest first");
    assert.match(found[0], /rollout\/prod-50/);
    assert.match(found[1], /rollout\/prod-25/, "the unrelated merge is not listed");
    const revert = gitLines("docs/RUNBOOK.md", "revert").find((l) => l.includes("<merge commit"));
    assert.ok(revert, "the runbook's revert command names the merge commit");
    const args = words(revert).slice(1).map((w) => (w.startsWith("<") ? merge50 : w));
    git(...args);
    assert.equal(pct(), "25");
    assert.match(git("log", "-1", "--format=%s"), /^Revert "Merge pull request: rollout\/prod-50"$/);
  });

  it("without -m, git refuses to revert a merge commit (what the runbook used to say)", () => {
    const merge25 = git("log", "--first-parent", "--merges", "--format=%H", "--", "Pulumi.prod.yaml");
    const r = spawnSync("git", ["revert", "--no-edit", merge25], { cwd: dir, env: GIT_ENV, encoding: "utf8" });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /is a merge but no -m option was given/);
    assert.equal(pct(), "25");
  });
});
