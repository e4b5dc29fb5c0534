/**
 * Hostile pull requests (issue 21), each kept as a fixture and run through
 * the real decision path: the trusted job's commands (changed-stacks, then
 * the review's decision, ci/comment.ts) of THIS tree, the base's code, on a
 * git repository with a base and a head commit. Every one is blocked or
 * harmless, and the test says which, and why.
 *
 * What only GitHub shows (that pull_request_target runs the base's workflow
 * file, that an environment's secrets reach only its jobs) is pinned on the
 * workflow files in test/ci/workflows.test.ts and argued in docs/ci.md.
 */
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { GateRun, OVERRIDE_LABEL, buildStackReview } from "../../ci/comment";
import { detectChanges } from "../../ci/detect";
import { overrideStatus } from "../../ci/override";
import { VERDICT_EXIT_CODES, Verdict } from "../../core/gate";
import { StackFileError } from "../../stack/stackFileError";
import { gateStackFile, twoCommits } from "./gitFixture";

const ROOT = path.resolve(__dirname, "../..");
const REAL = (f: string) => fs.readFileSync(path.join(ROOT, f), "utf8");

/** A gate run as `rollout gate --json` prints it (only what the decision reads). */
const gate = (verdict: Verdict, nextStage: number | null): GateRun => ({ exitCode: VERDICT_EXIT_CODES[verdict], stdout: JSON.stringify({ verdict, nextStage }) });
const labeledBy = (login: string) => JSON.stringify([{ event: "labeled", actor: { login }, label: { name: OVERRIDE_LABEL } }]);

/** The trusted review's decision for prod, as the review job reaches it: changed-stacks on the repository, then the comment's decision. */
function decide(files: { base: Record<string, string>; head: Record<string, string | null> }, g?: GateRun, timeline = "[]") {
  const r = twoCommits({ "Pulumi.yaml": REAL("Pulumi.yaml"), ...files.base }, files.head);
  try {
    const d = detectChanges(r.dir, r.base, r.head, { exclude: ["dev"] });
    const prod = d.stacks.find((s) => s.stack === "prod");
    if (!prod) return { detection: d, status: "no stack changed" as const };
    const review = buildStackReview({
      stack: "prod",
      reasons: prod.reasons,
      canarySummary: prod.canary.summary,
      raised: prod.canary.raised,
      gate: g,
      jump: prod.jump,
      credentialRotation: prod.canary.credentialRotation,
      override: overrideStatus(timeline, "pr-author", OVERRIDE_LABEL),
    });
    return { detection: d, prod, status: review.decision.status, message: review.decision.message };
  } finally {
    fs.rmSync(r.dir, { recursive: true, force: true });
  }
}

describe("hostile pull requests through the trusted decision path: each blocked or harmless", function () {
  this.timeout(600_000);
  it("BLOCKED: Pulumi.json + Pulumi.prod.json at 100 % (finding 1): changed-stacks refuses the head, naming the files", () => {
    assert.throws(
      () => decide({ base: { "Pulumi.prod.yaml": gateStackFile(0) }, head: { "Pulumi.json": '{"name":"valuecanvas","runtime":"nodejs"}', "Pulumi.prod.json": '{"config":{"valuecanvas:canaryPercentage":"100"}}' } }),
      (e: Error) => e instanceof StackFileError && /Pulumi\.json is not allowed/.test(e.message),
    );
  });

  it("BLOCKED: Pulumi.yaml re-pointing main: outside, or adding runtime options that load other code", () => {
    const real = REAL("Pulumi.yaml");
    const variants = [
      real.replace(/^main: .*$/m, "main: ../x.ts"),
      real.replace(/^main: .*$/m, "main: bin/other.cjs"),
      real.replace(/typescript: (true|false)/, "typescript: $1\n    nodeargs: --require ./x.js"),
    ];
    for (const v of variants) assert.notEqual(v, real, "each variant edits the real project file");
    for (const project of variants) {
      assert.throws(() => decide({ base: { "Pulumi.prod.yaml": gateStackFile(0) }, head: { "Pulumi.yaml": project } }), StackFileError);
    }
  });

  it("BLOCKED: prod 10 → 25 with ci/changes.ts neutered in the head (finding 2): the base's code decides, the head's tooling never runs", () => {
    // The head's ci/changes.ts would throw if anything loaded it; the decision still says "raised", so the gate is required.
    const head = { "Pulumi.prod.yaml": gateStackFile(25), "ci/changes.ts": "throw new Error('the head\\'s tooling ran');\nexport const raised = false;\n" };
    const r = decide({ base: { "Pulumi.prod.yaml": gateStackFile(10) }, head }, gate("WAIT", 25));
    assert.equal(r.prod?.canary.raised, true);
    assert.equal(r.status, "blocked");
    assert.match(r.message ?? "", /gate says WAIT; the check fails/);
    // Nor is ci/ program code: the tooling change alone previews nothing, so it cannot be used to skip or force a preview.
    assert.deepEqual(r.detection.programFiles, []);
  });

  it("BLOCKED: a head that raises prod and edits the workflows (finding 2): the decision ignores the head's workflows; GitHub runs the base's rollout-review.yml", () => {
    const evil = REAL(".github/workflows/rollout-review.yml").replace(/if: matrix\.raised/g, "if: false");
    const r = decide({ base: { "Pulumi.prod.yaml": gateStackFile(10) }, head: { "Pulumi.prod.yaml": gateStackFile(25), ".github/workflows/rollout-review.yml": evil } }, undefined);
    // The base's review: a raise without a gate run blocks.
    assert.equal(r.status, "blocked");
    assert.match(r.message ?? "", /the canary went up but the gate did not run/);
    // And the workflow that runs is pull_request_target's, from the base branch (what only GitHub shows; pinned here on the file).
    assert.ok("pull_request_target" in (parse(REAL(".github/workflows/rollout-review.yml")) as { on: Record<string, unknown> }).on);
    assert.match(REAL(".github/CODEOWNERS"), /^\/\.github\/\s+@/m);
  });

  it("BLOCKED: a jump of several stages, 25 → 100, on PROCEED (finding 3); passes only with the forced-skip note for exactly that skip", () => {
    const blocked = decide({ base: { "Pulumi.prod.yaml": gateStackFile(25) }, head: { "Pulumi.prod.yaml": gateStackFile(100) } }, gate("PROCEED", 50));
    assert.equal(blocked.status, "blocked");
    assert.match(blocked.message ?? "", /the head sets 100% but the next stage is 50%/);
    const note = (from: number) => gateStackFile(100).replace('  valuecanvas:canaryPercentage: "100"', `  # rollout advance --force ${from} -> 100 on 2026-12-01 by ops: incident 42\n  valuecanvas:canaryPercentage: "100"`);
    assert.equal(decide({ base: { "Pulumi.prod.yaml": gateStackFile(25) }, head: { "Pulumi.prod.yaml": note(25) } }, gate("PROCEED", 50)).status, "pass");
    // A note copied from another skip (10 -> 100) does not cover 25 -> 100.
    assert.equal(decide({ base: { "Pulumi.prod.yaml": gateStackFile(25) }, head: { "Pulumi.prod.yaml": note(10) } }, gate("PROCEED", 50)).status, "blocked");
  });

  it("BLOCKED: the app's password rotated by two at once (appCredentialRotation 1 → 3) or back (1 → 0), even with a reviewer's override label; +1 passes", () => {
    const rot = (n: number) => gateStackFile(25, [`  valuecanvas:appCredentialRotation: "${n}"`]);
    const twice = decide({ base: { "Pulumi.prod.yaml": rot(1) }, head: { "Pulumi.prod.yaml": rot(3) } }, undefined, labeledBy("reviewer"));
    assert.equal(twice.status, "blocked");
    assert.match(twice.message ?? "", /prod: appCredentialRotation 1 → 3: it gives valuecanvas_app_b, the role the running tasks use, a new password before they are replaced; raise it by exactly 1 per pulumi up \(docs\/database\.md\); the override label does not cover it/);
    assert.match(twice.prod?.canary.summary ?? "", /app database password rotation 1 → 3/);
    assert.equal(decide({ base: { "Pulumi.prod.yaml": rot(1) }, head: { "Pulumi.prod.yaml": rot(0) } }).status, "blocked");
    const once = decide({ base: { "Pulumi.prod.yaml": rot(1) }, head: { "Pulumi.prod.yaml": rot(2) } });
    assert.equal(once.status, "pass");
    assert.equal(once.prod?.deploy, "plan", "a rotation is deployed from the reviewed plan, like any change but a rollback");
    // From a stack file without the key (today's stacks): 0 → 1 is the first rotation.
    assert.equal(decide({ base: { "Pulumi.prod.yaml": gateStackFile(25) }, head: { "Pulumi.prod.yaml": rot(1) } }).status, "pass");
    assert.equal(decide({ base: { "Pulumi.prod.yaml": gateStackFile(25) }, head: { "Pulumi.prod.yaml": rot(2) } }).status, "blocked");
  });

  it("BLOCKED: the author applies the override label to their own WAIT (finding 4); a reviewer's label passes, never for ROLLBACK", () => {
    const files = { base: { "Pulumi.prod.yaml": gateStackFile(10) }, head: { "Pulumi.prod.yaml": gateStackFile(25) } };
    assert.equal(decide(files, gate("WAIT", 25), labeledBy("pr-author")).status, "blocked");
    assert.equal(decide(files, gate("WAIT", 25), labeledBy("reviewer-b")).status, "overridden");
    assert.equal(decide(files, gate("ROLLBACK", 25), labeledBy("reviewer-b")).status, "blocked");
  });

  it("HARMLESS: a head program that prints a secret in base64 in its preview: the only secret its job holds is the preview token it already has; no database secret or deploy token is in any job that runs head code", () => {
    const w = parse(REAL(".github/workflows/rollout-review.yml")) as { jobs: Record<string, unknown> };
    const preview = JSON.stringify(w.jobs.preview);
    assert.deepEqual(preview.match(/secrets[.[][^ }"]*/g), ["secrets.PULUMI_PREVIEW_TOKEN"]);
    const prWorkflow = REAL(".github/workflows/pull-request.yml").replace(/^\s*#.*$/gm, "");
    assert.doesNotMatch(prWorkflow, /secrets[.[]/, "the PR's test workflow holds no secret to print");
    // The deploy token lives only in the deploy workflow, whose code is the merged, reviewed main.
    assert.doesNotMatch(REAL(".github/workflows/rollout-review.yml"), /secrets\.PULUMI_ACCESS_TOKEN/);
  });

  it("the script refuses a hostile head with exit 1 and no outputs, so no later job can read 'no stack changed'", function () {
    const r = twoCommits({ "Pulumi.prod.yaml": gateStackFile(0) }, { "Pulumi.json": "{}", "Pulumi.prod.json": "{}" });
    const out = path.join(r.dir, ".out");
    fs.writeFileSync(out, "");
    try {
      const p = spawnSync(path.join(ROOT, "node_modules/.bin/ts-node"), ["--transpile-only", path.join(ROOT, "cli/changed-stacks.ts"), "--repo", r.dir, "--base", r.base, "--head", r.head, "--github-output", out], { cwd: ROOT, encoding: "utf8" });
      assert.equal(p.status, 1);
      assert.match(p.stderr, /Pulumi\.json is not allowed/);
      assert.equal(fs.readFileSync(out, "utf8"), "");
    } finally {
      fs.rmSync(r.dir, { recursive: true, force: true });
    }
  });
});
