/**
 * What was reviewed is what gets applied (issue 21): the pulumi commands as
 * called (argv), the deploy mode the base's code decides (a rollback skips
 * plan and preview), the manifest's hand-off from the review to the deploy
 * and the detection of a stale plan, on real git history. No Pulumi CLI runs
 * here: what `pulumi up --plan` itself refuses is the engine's (docs/ci.md).
 */
import { strict as assert } from "node:assert";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { detectChanges, reviewedState } from "../../ci/detect";
import { planManifest, planProblem, previewArgv, upArgv } from "../../ci/reviewedPlan";
import { GIT_ENV, gateStackFile, twoCommits } from "./gitFixture";

const ROOT = path.resolve(__dirname, "../..");
const git = (dir: string, ...args: string[]) => execFileSync("git", args, { cwd: dir, env: GIT_ENV, encoding: "utf8" }).trim();
const flagsOff = (pct: number) => gateStackFile(pct).replace(/"true"/g, '"false"');

describe("the reviewed plan: argv, deploy mode, hand-off and stale detection", () => {
  it("preview refreshes and saves the plan; up applies it refreshed, or (a rollback) skips preview and plan", () => {
    assert.deepEqual(previewArgv("acme/prod", "/t/plan.json"), ["preview", "--stack", "acme/prod", "--refresh", "--diff", "--save-plan", "/t/plan.json", "--non-interactive", "--color", "never"]);
    assert.deepEqual(upArgv("prod", "plan", "/t/plan.json"), ["up", "--stack", "prod", "--yes", "--refresh", "--non-interactive", "--color", "never", "--plan", "/t/plan.json"]);
    assert.deepEqual(upArgv("prod", "rollback"), ["up", "--stack", "prod", "--yes", "--refresh", "--non-interactive", "--color", "never", "--skip-preview"]);
    assert.throws(() => upArgv("prod", "plan"), /needs the plan file/);
  });

  it("deploy mode, decided by the base's code: only lowering a stage or turning flags off is a rollback", function () {
    this.timeout(600_000);
    const cases: Array<[string, string, string, string[], "plan" | "rollback"]> = [
      ["lower 25 → 10", gateStackFile(25), gateStackFile(10), [], "rollback"],
      ["flags off (immediate rollback)", gateStackFile(25), flagsOff(25), [], "rollback"],
      ["raise 10 → 25", gateStackFile(10), gateStackFile(25), [], "plan"],
      ["lower, and the image changes too", gateStackFile(25), gateStackFile(10).replace("a".repeat(64), "b".repeat(64)), [], "plan"],
      ["lower, and the gate loosened too", gateStackFile(25), gateStackFile(10, ['  valuecanvas:gate:', '    soakHours: "1"']), [], "plan"],
      ["lower, with a program change", gateStackFile(25), gateStackFile(10), ["index.ts"], "plan"],
      ["a comment only", gateStackFile(25), "# note\n" + gateStackFile(25), [], "plan"],
      // A secret's ciphertext and the file's top-level keys are compared too (they once were not).
      ["lower, and a secret rotated too", gateStackFile(25, ["  valuecanvas:pagerdutyRoutingKey:", "    secure: v1:AAAAfirst=="]), gateStackFile(10, ["  valuecanvas:pagerdutyRoutingKey:", "    secure: v1:BBBBrotated=="]), [], "plan"],
      ["lower, and the file re-keyed (encryptedkey)", gateStackFile(25) + "encryptedkey: AAAAkey==\n", gateStackFile(10) + "encryptedkey: BBBBkey==\n", [], "plan"],
      ["lower, secret and key unchanged", gateStackFile(25, ["  valuecanvas:pagerdutyRoutingKey:", "    secure: v1:AAAAfirst=="]) + "encryptedkey: AAAAkey==\n", gateStackFile(10, ["  valuecanvas:pagerdutyRoutingKey:", "    secure: v1:AAAAfirst=="]) + "encryptedkey: AAAAkey==\n", [], "rollback"],
    ];
    for (const [name, base, head, program, want] of cases) {
      const r = twoCommits({ "Pulumi.prod.yaml": base }, { "Pulumi.prod.yaml": head, ...(program.length ? { "index.ts": "export {};\n" } : {}) });
      try {
        const d = detectChanges(r.dir, r.base, r.head);
        assert.equal(d.stacks.find((s) => s.stack === "prod")?.deploy, want, name);
      } finally {
        fs.rmSync(r.dir, { recursive: true, force: true });
      }
    }
  });

  it("hand-off: the manifest the review writes matches the merge of that head; a later stack or program change makes it stale, and the message says to re-run", function () {
    this.timeout(600_000);
    const r = twoCommits({ "Pulumi.prod.yaml": gateStackFile(10), "index.ts": "import './a';\n", "a.ts": "export const a = 1;\n" }, { "Pulumi.prod.yaml": gateStackFile(25) });
    try {
      const manifest = JSON.stringify(planManifest("prod", r.head, reviewedState(r.dir, r.head, "prod")));
      // The merge of exactly the reviewed head.
      git(r.dir, "switch", "-q", "main");
      git(r.dir, "merge", "-q", "--no-ff", "-m", "merge", r.head);
      assert.equal(planProblem("prod", manifest, reviewedState(r.dir, "HEAD", "prod")), undefined);
      // main moves: a program change merged after the review.
      fs.writeFileSync(path.join(r.dir, "a.ts"), "export const a = 2;\n");
      git(r.dir, "commit", "-qam", "program moved");
      assert.match(planProblem("prod", manifest, reviewedState(r.dir, "HEAD", "prod")) ?? "", /^prod: the program moved since the review \(reviewed at [0-9a-f]{12}.*\): re-run the pull request's checks/);
      // the stack file moves.
      fs.writeFileSync(path.join(r.dir, "Pulumi.prod.yaml"), gateStackFile(50));
      git(r.dir, "commit", "-qam", "stack moved");
      assert.match(planProblem("prod", manifest, reviewedState(r.dir, "HEAD", "prod")) ?? "", /^prod: Pulumi\.prod\.yaml moved since the review .*: re-run the pull request's checks/);
      // no plan, a broken one, another stack's.
      assert.match(planProblem("prod", undefined, reviewedState(r.dir, "HEAD", "prod")) ?? "", /no reviewed plan was found .*re-run the pull request's checks/);
      assert.match(planProblem("prod", "{", reviewedState(r.dir, "HEAD", "prod")) ?? "", /not JSON/);
      assert.match(planProblem("staging", manifest, reviewedState(r.dir, "HEAD", "prod")) ?? "", /is for stack "prod"/);
    } finally {
      fs.rmSync(r.dir, { recursive: true, force: true });
    }
  });

  it("the script: manifest, then check exits 1 with the fix when stale; argv prints one argument a line and refuses a bad stack", function () {
    this.timeout(600_000);
    const r = twoCommits({ "Pulumi.prod.yaml": gateStackFile(10) }, { "Pulumi.prod.yaml": gateStackFile(25) });
    const cli = (...args: string[]) => spawnSync(path.join(ROOT, "node_modules/.bin/ts-node"), ["--transpile-only", path.join(ROOT, "cli/reviewed-plan.ts"), ...args], { cwd: ROOT, encoding: "utf8" });
    try {
      const m = path.join(r.dir, ".manifest.json");
      assert.equal(cli("manifest", "--repo", r.dir, "--head", r.head, "--stack", "prod", "--out", m).status, 0);
      assert.equal(cli("check", "--repo", r.dir, "--ref", r.head, "--stack", "prod", "--manifest", m).status, 0);
      const stale = cli("check", "--repo", r.dir, "--ref", r.base, "--stack", "prod", "--manifest", m);
      assert.equal(stale.status, 1);
      assert.match(stale.stderr, /Pulumi\.prod\.yaml moved since the review.*re-run the pull request's checks/);
      const argv = cli("argv", "up", "--stack", "acme/prod", "--mode", "rollback");
      assert.deepEqual(argv.stdout.trimEnd().split("\n"), upArgv("acme/prod", "rollback"));
      const bad = cli("argv", "up", "--stack", "prod; rm -rf /", "--mode", "plan");
      assert.notEqual(bad.status, 0);
      assert.match(bad.stderr, /is not a stack name/);
    } finally {
      fs.rmSync(r.dir, { recursive: true, force: true });
    }
  });
});
