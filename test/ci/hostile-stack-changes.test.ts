/**
 * changed-stacks (ci/changes.ts, ci/detect.ts, cli/changed-stacks.ts)
 * on real git history with every hostile stack file of the table
 * (test/support/hostileStacks.ts): a hostile head is refused (the job fails
 * with the line, column and reason, and writes no outputs that could skip the
 * gate); a hostile base is never trusted, so the head is compared against the
 * defaults and any percentage above 0 requires the gate.
 */
import { strict as assert } from "node:assert";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { detectChanges } from "../../ci/detect";
import { StackFileError } from "../../stack/stackFileError";
import { CLEAN, HOSTILE_PROJECT_FILES, HOSTILE_STACKS } from "../support/hostileStacks";
import { GIT_ENV } from "./gitFixture";

const ROOT = path.resolve(__dirname, "../..");

describe("changed-stacks refuses hostile stack files; the gate is required, never skipped", () => {
  let dir: string;
  const git = (...args: string[]) => execFileSync("git", args, { cwd: dir, env: GIT_ENV, encoding: "utf8" }).trim();
  const commit = (prod: string, message: string) => {
    fs.writeFileSync(path.join(dir, "Pulumi.prod.yaml"), prod);
    git("add", "-A");
    git("commit", "-q", "--allow-empty", "-m", message);
    return git("rev-parse", "HEAD");
  };
  let cleanBase: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "ci-hostile-"));
    git("init", "-q", "-b", "main");
    git("config", "core.autocrlf", "false");
    fs.writeFileSync(path.join(dir, "Pulumi.yaml"), "name: valuecanvas\nruntime: nodejs\n");
    cleanBase = commit(CLEAN.replace('canaryPercentage: "10"', 'canaryPercentage: "0"'), "base at 0 %");
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  for (const h of HOSTILE_STACKS) {
    it(`${h.name}: refused at head, distrusted at base`, () => {
      const head = commit(h.text, `hostile: ${h.name}`);
      assert.equal(fs.readFileSync(path.join(dir, "Pulumi.prod.yaml"), "utf8"), h.text, "git keeps the bytes");
      assert.throws(() => detectChanges(dir, cleanBase, head), (e: Error) => e instanceof StackFileError && h.error.test(e.message));
      // The hostile file as the base: the head at a visible 10 % is a raise from the defaults.
      const next = commit(CLEAN, "clean at 10 %");
      const d = detectChanges(dir, head, next);
      const prod = d.stacks.find((s) => s.stack === "prod");
      assert.ok(prod, "prod changed");
      assert.equal(prod.canary.raised, true, "the gate is required");
      assert.equal(prod.canary.from.canaryPercentage, 0);
      assert.match(prod.canary.baseInvalid ?? "", /^Pulumi\.prod\.yaml/);
    });
  }

  for (const h of HOSTILE_PROJECT_FILES) {
    it(`a Pulumi.yaml with ${h.name} at head is refused`, () => {
      const base = commit(CLEAN, "clean");
      fs.writeFileSync(path.join(dir, "Pulumi.yaml"), h.text);
      const head = commit(CLEAN.replace("# prod", "# prod, project file changed"), `hostile project file: ${h.name}`);
      try {
        assert.throws(() => detectChanges(dir, base, head), (e: Error) => e instanceof StackFileError && h.error.test(e.message));
      } finally {
        fs.writeFileSync(path.join(dir, "Pulumi.yaml"), "name: valuecanvas\nruntime: nodejs\n");
        commit(CLEAN, "project file restored");
      }
    });
  }

  it("the script exits 1 with the reason and writes no GitHub outputs (nothing can read any=false)", function () {
    this.timeout(60_000);
    const head = commit(HOSTILE_STACKS[0].text, "hostile head");
    const out = path.join(dir, "..", `${path.basename(dir)}-github-output`);
    fs.writeFileSync(out, "");
    try {
      const r = spawnSync(
        path.join(ROOT, "node_modules/.bin/ts-node"),
        ["--transpile-only", path.join(ROOT, "cli/changed-stacks.ts"), "--repo", dir, "--base", cleanBase, "--head", head, "--github-output", out],
        { cwd: ROOT, encoding: "utf8" },
      );
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr, /^changed-stacks: Pulumi\.prod\.yaml line 6, column 19: U\+0085 NEXT LINE \(NEL\)/);
      assert.equal(fs.readFileSync(out, "utf8"), "");
    } finally {
      fs.rmSync(out, { force: true });
    }
  });
});
