/**
 * The rollout-review workflow's gate and review steps (the trusted review
 * job), run for real: their `run:` scripts, read from
 * .github/workflows/rollout-review.yml, executed by
 * bash with the environment GitHub would give them, against a real migrated
 * PostgreSQL seeded with a rollout record and traffic. This is the contract
 * between `npx rollout gate --json` (cli/rollout.ts) and the comment builder,
 * checked end to end: PROCEED passes, WAIT blocks (and the enforce step
 * fails), an override label applied by a reviewer passes (read from the
 * pull request's timeline) and one the author applied does not, a missing secret and an unreachable
 * database block with a clear message, and no password reaches the comment.
 */
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse } from "yaml";
import { canaryChange, monitoringSecretName } from "../../ci/changes";
import { freeLoopbackPort } from "../../db/embeddedPostgres";
import { migratedDatabase, seedPath, seedRecord, withClient } from "../rollout/support";
import { LOOSENED, gateStackFile, twoCommits } from "./gitFixture";

const ROOT = path.resolve(__dirname, "../..");
const PREVIEW = fs.readFileSync(path.join(__dirname, "fixtures/preview-prod-10-to-25.txt"), "utf8");

interface Step {
  id?: string;
  name?: string;
  run?: string;
}
const workflow = parse(fs.readFileSync(path.join(ROOT, ".github/workflows/rollout-review.yml"), "utf8")) as {
  jobs: { review: { steps: Step[] } };
};
const stepRun = (pick: (s: Step) => boolean): string => {
  const s = workflow.jobs.review.steps.find(pick);
  assert.ok(s?.run, "step not found");
  assert.doesNotMatch(s.run, /\$\{\{/, "a run block with ${{ }} could not be run as is");
  return s.run;
};
const GATE_CONFIG = stepRun((s) => s.id === "gate-config");
const GATE = stepRun((s) => s.id === "gate");
const REVIEW = stepRun((s) => s.id === "review");
const ENFORCE = stepRun((s) => s.name === "Enforce the gate");

function outputs(file: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!fs.existsSync(file)) return out;
  for (const line of fs.readFileSync(file, "utf8").split("\n")) {
    const i = line.indexOf("=");
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

/**
 * A fresh runner: temp dir, GITHUB_OUTPUT, the decision file for prod 10% → 25%, and the checkout
 * (GITHUB_WORKSPACE): real git history where the pull request raises prod 10% → 25% and also tries
 * to loosen its own gate (gate.soakHours 1, a higher warning level).
 */
function runner(): { temp: string; env: NodeJS.ProcessEnv; dirs: string[] } {
  const temp = fs.mkdtempSync(path.join(os.tmpdir(), "runner-"));
  const checkout = twoCommits({ "Pulumi.prod.yaml": gateStackFile(10) }, { "Pulumi.prod.yaml": gateStackFile(25, LOOSENED) });
  const stackFile = (pct: number) =>
    `config:\n  valuecanvas:appImage: ghcr.io/valuecanvas/app@sha256:${"a".repeat(64)}\n  valuecanvas:enableStatelessOrchestration: "true"\n  valuecanvas:enableSafeJsonParser: "true"\n  valuecanvas:canaryPercentage: "${pct}"\n`;
  const canary = canaryChange("prod", stackFile(10), stackFile(25));
  const changes = {
    base: "a".repeat(40),
    head: "b".repeat(40),
    stacks: [{ stack: "prod", reasons: ["Pulumi.prod.yaml changed"], canary, databaseSecret: monitoringSecretName("prod") }],
    removed: [],
    excluded: [],
    programFiles: [],
  };
  fs.writeFileSync(path.join(temp, "changes.json"), JSON.stringify(changes));
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    CI: "true",
    STACK: "prod",
    RUNNER_TEMP: temp,
    GITHUB_OUTPUT: path.join(temp, "github-output"),
    PULUMI_ACCESS_TOKEN: "pul-test-token-not-real-0123456789",
    SECRET_NAME: monitoringSecretName("prod"),
    GITHUB_WORKSPACE: checkout.dir,
    BASE: checkout.base,
    HEAD: checkout.head,
  };
  return { temp, env, dirs: [temp, checkout.dir] };
}

function bash(script: string, env: NodeJS.ProcessEnv) {
  // GitHub runs `run:` blocks with `bash -e {0}`.
  return spawnSync("bash", ["-e", "-c", script], { cwd: ROOT, env, encoding: "utf8" });
}

/** A timeline where `login` applied the override label (GitHub's `labeled` event shape). */
function timeline(login: string | undefined): string {
  return JSON.stringify(login ? [{ id: 1, event: "labeled", actor: { login, type: "User" }, label: { name: "rollout-override" }, created_at: "2026-12-01T10:00:00Z" }] : []);
}

/** Gate-config step, gate step, then review step, as the workflow runs them. `labeledBy`: who applied the override label. */
function gateAndReview(env: NodeJS.ProcessEnv, labeledBy?: string) {
  fs.mkdirSync(path.join(env.RUNNER_TEMP!, "plan"), { recursive: true });
  fs.writeFileSync(path.join(env.RUNNER_TEMP!, "plan", "preview.txt"), PREVIEW);
  fs.writeFileSync(path.join(env.RUNNER_TEMP!, "timeline.json"), timeline(labeledBy));
  const config = bash(GATE_CONFIG, env);
  assert.equal(config.status, 0, `gate-config step failed: ${config.stderr}`);
  const gateConfigNote = outputs(env.GITHUB_OUTPUT!).note;
  const gate = bash(GATE, env);
  assert.equal(gate.status, 0, `gate step failed: ${gate.stderr}`);
  const gateExit = outputs(env.GITHUB_OUTPUT!).exit;
  const review = bash(REVIEW, {
    ...env,
    PREVIEW_OUTCOME: "success",
    GATE_EXIT: gateExit,
    GATE_CONFIG_NOTE: gateConfigNote,
    PR_AUTHOR: "pr-author",
    RUN_URL: "https://github.com/acme/valuecanvas/actions/runs/1",
  });
  assert.equal(review.status, 0, `review step failed: ${review.stderr}`);
  const out = outputs(env.GITHUB_OUTPUT!);
  const comment = fs.readFileSync(path.join(env.RUNNER_TEMP!, "comment.md"), "utf8");
  return { gateExit, out, comment };
}

describe("[pg] rollout-review workflow: gate and review steps run for real", function () {
  this.timeout(600_000);
  let proceedUrl: string;
  let waitUrl: string;
  const temps: string[] = [];

  before(async () => {
    proceedUrl = await migratedDatabase();
    waitUrl = await migratedDatabase();
    // prod has run 10% (both flags on) for 49 hours (PROCEED) / 12 hours (WAIT), healthy on both paths.
    for (const [url, hours] of [[proceedUrl, 49], [waitUrl, 12]] as const) {
      await withClient(url, async (c) => {
        await seedRecord(c, "prod", 10, true, hours, 0);
        // Volumes at which the always-valid gate (docs/gate.md) can show 0.5 % vs 1.2 % within the margin.
        await seedPath(c, { isNew: true, requests: 9000, errors: 45, users: 100, seconds: 1.0, fromHours: 10, prefix: "n" });
        await seedPath(c, { isNew: false, requests: 9000, errors: 108, users: 900, seconds: 1.2, fromHours: 10, prefix: "l" });
      });
    }
  });
  after(() => {
    for (const t of temps) fs.rmSync(t, { recursive: true, force: true });
  });
  const fresh = () => {
    const r = runner();
    temps.push(...r.dirs);
    return r;
  };

  it("PROCEED: the check passes; the comment has the preview and the gate's figures; no secret in it", () => {
    const { env } = fresh();
    const { gateExit, out, comment } = gateAndReview({ ...env, ROLLOUT_DATABASE_URL: proceedUrl });
    assert.equal(gateExit, "0");
    assert.equal(out.status, "pass");
    assert.equal(out.verdict, "PROCEED");
    assert.match(comment, /✅ \*\*PROCEED\*\* at the deployed stage 10%, soaked 49\.\d h of 48 h/);
    assert.match(comment, /"CANARY_PERCENTAGE=10" => "CANARY_PERCENTAGE=25"/);
    assert.match(comment, /\| new \| 9000 \| 45 \| 0\.50% \| 100 \| 1\.00s \|/);
    // The gate read the base branch's stack file, which says what is deployed: no disagreement to note.
    assert.doesNotMatch(comment, /> \*\*Note:\*\* Pulumi\.prod\.yaml says/);
    assert.match(comment, /> \*\*Gate config:\*\* Thresholds and gate settings are judged from the base branch \([0-9a-f]{12}\)'s Pulumi\.prod\.yaml, not this pull request's\. This pull request changes `thresholds` and `gate`/);
    const password = new URL(proceedUrl).password;
    if (password) assert.ok(!comment.includes(password));
    assert.ok(!comment.includes("pul-test-token-not-real"));
    // nothing to enforce
    assert.notEqual(out.status, "blocked");
  });

  it("WAIT although the pull request lowers gate.soakHours to 1: the base branch's 48 h apply; the check is blocked and the enforce step fails with the reason; the override label lets it pass only when a reviewer applied it", () => {
    const { env } = fresh();
    const { gateExit, out, comment } = gateAndReview({ ...env, ROLLOUT_DATABASE_URL: waitUrl });
    assert.equal(gateExit, "3");
    assert.equal(out.status, "blocked");
    assert.match(comment, /⏳ \*\*WAIT\*\*/);
    assert.match(comment, /need 3\d\.\d h more/); // 36 h less the seconds a loaded machine took since the seeding
    const enforce = bash(ENFORCE, { ...env, MESSAGE: out.message });
    assert.equal(enforce.status, 1);
    assert.match(enforce.stdout, /::error title=rollout gate::prod: gate says WAIT; the check fails/);

    const second = fresh();
    const overridden = gateAndReview({ ...second.env, ROLLOUT_DATABASE_URL: waitUrl }, "reviewer-b");
    assert.equal(overridden.out.status, "overridden");
    assert.match(overridden.comment, /applied by reviewer-b \(not the author, pr-author\)/);

    const third = fresh();
    const self = gateAndReview({ ...third.env, ROLLOUT_DATABASE_URL: waitUrl }, "pr-author");
    assert.equal(self.out.status, "blocked");
    assert.match(self.out.message, /applied by the pull request's author \(pr-author\), so it does not count/);
  });

  it("a missing repository secret blocks with the secret's name", () => {
    const { env } = fresh();
    const { gateExit, out, comment } = gateAndReview({ ...env, ROLLOUT_DATABASE_URL: "" });
    assert.equal(gateExit, "1");
    assert.equal(out.status, "blocked");
    assert.match(comment, /repository secret MONITORING_DATABASE_URL_PROD is not set/);
  });

  it("an unreachable database blocks with rollout's message, and the URL's password is scrubbed", async () => {
    const { env } = fresh();
    const url = `postgres://monitor:pw-do-not-print-42@127.0.0.1:${await freeLoopbackPort()}/postgres`;
    const { gateExit, out, comment } = gateAndReview({ ...env, ROLLOUT_DATABASE_URL: url });
    assert.equal(gateExit, "1");
    assert.equal(out.status, "blocked");
    assert.match(comment, /rollout gate failed \(exit 1\): /);
    assert.ok(!comment.includes("pw-do-not-print-42"), comment);
    assert.ok(!out.message.includes("pw-do-not-print-42"));
  });
});
