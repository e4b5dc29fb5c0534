/**
 * The pull-request comment builder and the check's decision, on a sample
 * `pulumi preview --diff` output (test/ci/fixtures) and gate verdicts produced
 * by the real gate (core/gate.ts evaluateGate), serialised as
 * `rollout gate --json` prints them.
 */
import { strict as assert } from "node:assert";
import { overrideStatus } from "../../ci/override";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { GUIDE_THRESHOLDS } from "../../core/stages";
import { GateResult, latencyThresholds } from "../../core/gate";
import { criterionEvidence, criterionWord, evaluateGate } from "../../core/gateText";
import { parseConfig } from "../../core/config";
import {
  MAX_PREVIEW_CHARS,
  OVERRIDE_LABEL,
  buildStackReview,
  commentMarker,
  gateDecision,
  gateJsonSchema,
  previewSummary,
  readGateRun,
  redact,
} from "../../ci/comment";

const ROOT = path.resolve(__dirname, "../..");
const PREVIEW = fs.readFileSync(path.join(__dirname, "fixtures/preview-prod-10-to-25.txt"), "utf8");
const GATE_CONFIG = parseConfig({ appImage: "app:1" }, { stack: "staging" }).gate;
const HOUR = 3_600_000;
const ASOF = new Date("2026-01-10T12:00:00Z");

const slow = (n: number) => latencyThresholds(GUIDE_THRESHOLDS).map((t) => ({ thresholdSeconds: t, timed: n, over: Math.round(n / 100), atLeast: Math.round(n / 100) }));

/** A gate verdict from the real gate on seeded figures. */
function gate(opts: { hours: number; newReq: number; newErr: number; newUsers?: number; p95?: number; contamination?: number }): GateResult {
  return evaluateGate({
    stage: 10,
    flags: { enableStatelessOrchestration: true, enableSafeJsonParser: true },
    stageStartedAt: new Date(ASOF.getTime() - opts.hours * HOUR),
    asOf: ASOF,
    metrics: {
      windowStart: new Date(ASOF.getTime() - 24 * HOUR),
      windowEnd: ASOF,
      // Per-threshold latency counts (monitoring.stage_latency_counts): 1 % of requests slower than each line.
      new: { requests: opts.newReq, errors: opts.newErr, users: opts.newUsers ?? 1200, avgSeconds: 0.8, p95Seconds: opts.p95 ?? 1.4, latency: slow(opts.newReq) },
      legacy: { requests: 180000, errors: 1800, users: 11000, avgSeconds: 0.9, p95Seconds: 1.6, latency: slow(180000) },
      contaminationCount: opts.contamination ?? 0,
    },
    thresholds: GUIDE_THRESHOLDS,
    gate: GATE_CONFIG,
  });
}

/** As `rollout gate --stack prod --json` prints it (cli/rollout.ts: the CLI's envelope around the gate's result). */
const gateRun = (g: GateResult, exitCode = g.exitCode, notes: string[] = []) => ({
  exitCode,
  stdout: JSON.stringify(
    {
      ok: g.exitCode === 0,
      exitCode: g.exitCode,
      command: "gate",
      stack: "prod",
      verdict: g.verdict,
      configured: { canaryPercentage: 25, enableStatelessOrchestration: true, enableSafeJsonParser: true },
      deployed: { canaryPercentage: 10, enableStatelessOrchestration: true, enableSafeJsonParser: true },
      deployedSince: new Date(ASOF.getTime() - 49 * HOUR).toISOString(),
      notes,
      gate: g,
    },
    null,
    2,
  ),
});

const PROCEED = gate({ hours: 49, newReq: 20000, newErr: 180 });
const WAIT = gate({ hours: 12, newReq: 20000, newErr: 180 });
const ROLLBACK = gate({ hours: 49, newReq: 20000, newErr: 180, contamination: 2 });
/** The ROLLBACK gate's input, to re-judge it in another state. */
const ROLLBACK_INPUT = () => ({
  stage: 10 as const,
  flags: { enableStatelessOrchestration: true, enableSafeJsonParser: true },
  stageStartedAt: new Date(ASOF.getTime() - 49 * HOUR),
  asOf: ASOF,
  metrics: ROLLBACK.metrics,
  thresholds: GUIDE_THRESHOLDS,
  gate: GATE_CONFIG,
});

const base = {
  stack: "prod",
  reasons: ["Pulumi.prod.yaml changed"],
  canarySummary: "10% (flags on, effective 10%) → 25% (flags on, effective 25%): raised",
  raised: true,
  preview: { outcome: "success", output: PREVIEW },
};
const TIMELINE_OTHER = fs.readFileSync(path.join(__dirname, "fixtures/timeline-labeled.json"), "utf8");
const TIMELINE_SELF = fs.readFileSync(path.join(__dirname, "fixtures/timeline-self-labeled.json"), "utf8");

describe("CI pull-request comment", () => {
  it("the sample verdicts are what the gate says (the fixtures are honest)", () => {
    assert.deepEqual([PROCEED.verdict, WAIT.verdict, ROLLBACK.verdict], ["PROCEED", "WAIT", "ROLLBACK"]);
  });

  it("PROCEED: the check passes; the comment shows the preview diff and the gate's figures side by side", () => {
    const r = buildStackReview({ ...base, gate: gateRun(PROCEED) });
    assert.equal(r.decision.status, "pass");
    assert.equal(r.decision.verdict, "PROCEED");
    const md = r.markdown;
    assert.ok(md.startsWith(commentMarker("prod")));
    assert.match(md, /### Rollout review: stack `prod`/);
    assert.match(md, /\*\*Preview\*\* \(`pulumi preview --diff`\): succeeded — \+-3 to replace; 14 unchanged/);
    assert.match(md, /"CANARY_PERCENTAGE=10" => "CANARY_PERCENTAGE=25"/);
    assert.match(md, /\*\*Gate\*\* \(`rollout gate`\): ✅ \*\*PROCEED\*\* at the deployed stage 10%, soaked 49\.0 h of 48 h/);
    assert.match(md, /\| new \| 20000 \| 180 \| 0\.90% \| 1200 \| 1\.40s \|/);
    assert.match(md, /\| legacy \| 180000 \| 1800 \| 1\.00% \| 11000 \| 1\.60s \|/);
    // The always-valid gate's output (docs/gate.md): bounds against the line, the margin, α's spending, the looks.
    // The criteria in the gate's own words (core/gateText.ts criterionWord, criterionEvidence), as `rollout gate` and the report say them.
    assert.match(md, /\| status \| kind \| criterion \| evidence \(always-valid bound\) \|/);
    assert.match(md, /\| met \| success \| P95 latency < 3 seconds \| share ≥ 3 s: upper bound \d+\.\d\d%, line 5% \(est\. \d+\.\d\d%\) \|/);
    assert.match(md, /\| met \| rollback \| New-path error rate > 5% \(critical\) \| upper bound \d+\.\d\d% \(est\. 0\.90%\) \|/);
    const g = gateJsonSchema.parse(JSON.parse(JSON.stringify(PROCEED)));
    for (const c of g.criteria ?? []) {
      const row = md.split("\n").find((l) => l.includes(`| ${c.description} |`));
      assert.equal(row, `| ${criterionWord(c)} | ${c.kind} | ${c.description} | ${criterionEvidence(c, g.metrics?.contaminationCount ?? Number.NaN)} |`);
    }
    assert.match(md, /New vs legacy: the new path's error rate is at most 0\.\d\d pp above legacy's, within the 0\.50 pp margin .*confidence that holds however often this is checked/);
    assert.match(
      md,
      /Confidence 95\.0% over the whole rollout for each kind of error \(α 0\.05\d*\); against a false PAUSE\/ROLLBACK: the comparison's lower bound spends 0\.0\d+ here; the guide's \d+ absolute lower bounds over the rollout 0\.00\d+ each; against a false PROCEED: α shared by 6 stages, every upper bound of the stage at 0\.00833/,
    );
    assert.match(md, /Judged: stage 10%: new vs legacy error rate \(non-inferiority, margin 0\.50 pp\)/);
    assert.match(md, /Suggested next command: `npx rollout advance --stack prod`/);
    assert.match(md, /Cross-user session contamination: \*\*0\*\*/);
  });

  it("WAIT without the override label: the check fails and says what would let it pass", () => {
    const r = buildStackReview({ ...base, gate: gateRun(WAIT) });
    assert.equal(r.decision.status, "blocked");
    assert.match(r.decision.message, /prod: gate says WAIT; the check fails\. Wait for PROCEED, or have a reviewer other than the author add the "rollout-override" label/);
    assert.match(r.markdown, /⏳ \*\*WAIT\*\*/);
    assert.match(r.markdown, /soaked 12\.0 h of 48 h \(need 36\.0 h more\)/);
  });

  it("WAIT with the override label applied by someone other than the author: passes, and the comment says who", () => {
    const override = overrideStatus(TIMELINE_OTHER, "pr-author", OVERRIDE_LABEL);
    assert.equal(override.appliedBy, "reviewer-b");
    const r = buildStackReview({ ...base, gate: gateRun(WAIT), override });
    assert.equal(r.decision.status, "overridden");
    assert.match(r.markdown, /⚠️ prod: gate says WAIT; passing because the "rollout-override" label was applied by reviewer-b \(not the author, pr-author\)/);
  });

  it("finding 4: a self-applied override label does not count (any case of the login), and the comment says why", () => {
    const override = overrideStatus(TIMELINE_SELF, "pr-author", OVERRIDE_LABEL);
    assert.deepEqual([override.present, override.counts, override.appliedBy], [true, false, "PR-Author"]);
    const r = buildStackReview({ ...base, gate: gateRun(WAIT), override });
    assert.equal(r.decision.status, "blocked");
    assert.match(r.decision.message, /applied by the pull request's author \(PR-Author\), so it does not count: someone else must apply it/);
  });

  it("finding 4: no override covers ROLLBACK, whoever applied the label", () => {
    const override = overrideStatus(TIMELINE_OTHER, "pr-author", OVERRIDE_LABEL);
    const r = buildStackReview({ ...base, gate: gateRun(ROLLBACK), override });
    assert.equal(r.decision.status, "blocked");
    assert.match(r.decision.message, /gate says ROLLBACK; the check fails: roll back, never forward\. The "rollout-override" label does not cover ROLLBACK/);
  });

  it("the timeline: a label removed later does not count; pages (array of arrays) are read; malformed label events are a clear error", () => {
    const removed = JSON.stringify([...JSON.parse(TIMELINE_OTHER), { event: "unlabeled", actor: { login: "x" }, label: { name: OVERRIDE_LABEL } }]);
    assert.equal(overrideStatus(removed, "pr-author", OVERRIDE_LABEL).present, false);
    assert.equal(overrideStatus(JSON.stringify([JSON.parse(TIMELINE_OTHER)]), "pr-author", OVERRIDE_LABEL).counts, true);
    assert.throws(() => overrideStatus('[{"event":"labeled","label":{"name":1}}]', "a", OVERRIDE_LABEL), /label event 0 of the timeline is malformed: label\.name/);
    assert.throws(() => overrideStatus("{}", "a", OVERRIDE_LABEL), /must be a JSON array/);
  });

  it("finding 3: a head two stages above the next stage is blocked even on PROCEED, unless the head records the forced skip", () => {
    // The PROCEED fixture is prod at 10 %: the gate's next stage is 25 %.
    const jump = { from: 10, to: 100, nextStage: 25 };
    const blocked = buildStackReview({ ...base, gate: gateRun(PROCEED), jump, override: overrideStatus(TIMELINE_OTHER, "pr-author", OVERRIDE_LABEL) });
    assert.equal(blocked.decision.status, "blocked");
    assert.match(blocked.decision.message, /prod: the head sets 100% but the next stage is 25% \(the stack file says 10%\): one stage at a time\. To skip stages, run `npx rollout advance --stack prod --to 100 --force --reason "<why>"`/);
    const forced = buildStackReview({ ...base, gate: gateRun(PROCEED), jump: { ...jump, forcedSkip: "forced skip 10% -> 100%: incident 42" } });
    assert.equal(forced.decision.status, "pass");
    assert.match(forced.decision.message, /stages skipped with a recorded reason: forced skip 10% -> 100%: incident 42/);
    assert.equal(buildStackReview({ ...base, gate: gateRun(PROCEED), jump: { from: 10, to: 25, nextStage: 25 } }).decision.status, "pass");
  });

  it("ROLLBACK shows the criterion hit and the immediate-rollback command", () => {
    const r = buildStackReview({ ...base, gate: gateRun(ROLLBACK) });
    assert.equal(r.decision.status, "blocked");
    assert.match(r.markdown, /🛑 \*\*ROLLBACK\*\*/);
    assert.match(r.markdown, /rollback criterion hit: Cross-user session contamination > 0/);
    assert.match(r.markdown, /\| breached \| rollback \| Cross-user session contamination > 0 \(critical: immediate rollback\) \| 2 contaminated session\(s\) \|/);
    assert.match(r.markdown, /`npx rollout rollback --immediate --stack prod`/);
  });

  it("ROLLBACK with both flags already off: no rollback command (the CLI would refuse it), the advice instead", () => {
    const off = evaluateGate({ ...ROLLBACK_INPUT(), flags: { enableStatelessOrchestration: false, enableSafeJsonParser: false } });
    assert.equal(off.verdict, "ROLLBACK");
    const md = buildStackReview({ ...base, gate: gateRun(off) }).markdown;
    assert.doesNotMatch(md, /Suggested next command/);
    assert.match(md, /Next: both flags are already off \(deployed 10%, effective 0%\): nothing to roll back\. Investigate the legacy path: psql/);
  });

  it("says which stack file the gate's thresholds came from (the base branch's)", () => {
    const note = "Thresholds and gate settings are judged from the base branch (0123456789ab)'s Pulumi.prod.yaml, not this pull request's.";
    const md = buildStackReview({ ...base, gate: gateRun(PROCEED), gateConfigNote: note }).markdown;
    assert.ok(md.includes(`> **Gate config:** ${note}`), md);
    assert.doesNotMatch(buildStackReview({ ...base, raised: false }).markdown, /Gate config/);
  });

  it("a canary that is not raised is not gated and passes", () => {
    const r = buildStackReview({ ...base, raised: false, canarySummary: "rollout unchanged at 10%" });
    assert.equal(r.decision.status, "pass");
    assert.doesNotMatch(r.markdown, /\*\*Gate\*\*/);
  });

  it("a raise whose gate did not run blocks (a broken workflow never passes silently)", () => {
    const r = buildStackReview({ ...base });
    assert.equal(r.decision.status, "blocked");
    assert.match(r.markdown, /the canary went up but the gate did not run/);
  });

  it("a gate that failed (exit 1) blocks, quotes its error, and never the database URL's password", () => {
    const url = "postgres://monitor:s3cr3t-pw@db-replica.internal:5432/postgres";
    const r = buildStackReview({
      ...base,
      gate: { exitCode: 1, stdout: "", stderr: `rollout gate: cannot reach the monitoring database at ${url}: ECONNREFUSED` },
      secrets: [url],
    });
    assert.equal(r.decision.status, "blocked");
    assert.match(r.markdown, /rollout gate failed \(exit 1\): rollout gate: cannot reach the monitoring database at \[secret\]: ECONNREFUSED/);
    assert.ok(!r.markdown.includes("s3cr3t-pw"));
  });

  it("a verdict that disagrees with the exit code, or JSON without a verdict, is a problem, not a pass", () => {
    const mismatch = readGateRun(gateRun(PROCEED, 3));
    assert.equal(mismatch.ok, false);
    assert.match(!mismatch.ok ? mismatch.problem : "", /said PROCEED but exited 3 \(expected 0\)/);
    const noVerdict = readGateRun({ exitCode: 0, stdout: JSON.stringify({ verdict: "GO" }) });
    assert.match(!noVerdict.ok ? noVerdict.problem : "", /no valid verdict \(verdict:/);
    assert.equal(gateDecision("prod", noVerdict, undefined).status, "blocked");
    const usage = readGateRun({ exitCode: 2, stdout: "", stderr: "error: required option '--stack <stack>' not specified" });
    assert.match(!usage.ok ? usage.problem : "", /called wrongly \(exit 2, usage\): error: required option/);
  });

  it("accepts the gate's bare result too, and shows the CLI's notes", () => {
    const r = readGateRun({ exitCode: 3, stdout: JSON.stringify(WAIT) });
    assert.equal(r.ok && r.gate.verdict, "WAIT");
    const md = buildStackReview({ ...base, gate: gateRun(WAIT, 3, ["Pulumi.prod.yaml says 25% but the deployed stage is 10%"]) }).markdown;
    assert.match(md, /> \*\*Note:\*\* Pulumi\.prod\.yaml says 25% but the deployed stage is 10%/);
  });

  it("a gate error printed as the CLI's JSON envelope is quoted, with the password scrubbed", () => {
    const stdout = JSON.stringify({ ok: false, exitCode: 1, command: "gate", error: { type: "DatabaseError", message: "cannot connect to postgres://mon:pw-xyz-123@replica:5432/postgres: ECONNREFUSED" } });
    const r = readGateRun({ exitCode: 1, stdout });
    assert.equal(r.ok, false);
    assert.equal(!r.ok && r.problem, "rollout gate failed (exit 1): cannot connect to postgres://mon:[secret]@replica:5432/postgres: ECONNREFUSED");
  });

  it("never echoes secrets: given values, URL passwords and terminal escapes are scrubbed from the preview", () => {
    const output = `${PREVIEW}\n\u001b[31m  ~ slackWebhookUrl: "https://hooks.slack.example/T000/B000/XyZsecretToken"\u001b[0m\n  dsn: postgresql://app:hunter2hunter2@db:5432/app\n`;
    const r = buildStackReview({ ...base, raised: false, preview: { outcome: "success", output }, secrets: ["https://hooks.slack.example/T000/B000/XyZsecretToken"] });
    assert.ok(!r.markdown.includes("XyZsecretToken"));
    assert.ok(!r.markdown.includes("hunter2hunter2"));
    assert.ok(!r.markdown.includes("\u001b"));
    assert.match(r.markdown, /postgresql:\/\/app:\[secret\]@db:5432\/app/);
  });

  it("redacts URL-encoded forms and ignores empty or trivially short values", () => {
    assert.equal(redact("k=p%40ss%2Fword!", ["p@ss/word!"]), "k=[secret]");
    assert.equal(redact("abc", ["", "a"]), "abc");
  });

  it("quoted output cannot close the code fence; a failed preview is shown open", () => {
    const r = buildStackReview({ ...base, raised: false, preview: { outcome: "failure", output: "error: ```` weird\n" } });
    assert.match(r.markdown, /\*\*failure\*\*/);
    assert.match(r.markdown, /<details open>/);
    assert.match(r.markdown, /`````diff\nerror: ```` weird\n`````/);
  });

  it("a huge preview is truncated below GitHub's comment limit, with a link to the run", () => {
    const huge = "x".repeat(MAX_PREVIEW_CHARS * 3);
    const r = buildStackReview({ ...base, raised: false, preview: { outcome: "success", output: huge }, runUrl: "https://github.com/o/r/actions/runs/1" });
    assert.ok(r.markdown.length < 65_536, `comment is ${r.markdown.length} characters`);
    assert.match(r.markdown, /Output truncated at 40000 of 120000 characters; the full output is in the \[workflow run\]/);
  });

  it("previewSummary reads Pulumi's closing Resources block", () => {
    assert.deepEqual(previewSummary(PREVIEW), ["+-3 to replace", "14 unchanged"]);
    assert.deepEqual(previewSummary("no summary here"), []);
  });

  describe("cli/pr-comment.ts", () => {
    let dir: string;
    before(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), "pr-comment-"));
      const changes = {
        base: "a".repeat(40),
        head: "b".repeat(40),
        stacks: [
          {
            stack: "prod",
            reasons: ["Pulumi.prod.yaml changed"],
            canary: { raised: true, summary: base.canarySummary },
            databaseSecret: "ROLLOUT_DATABASE_URL_PROD",
          },
        ],
        removed: [],
        excluded: [],
        programFiles: [],
      };
      fs.writeFileSync(path.join(dir, "changes.json"), JSON.stringify(changes));
      fs.writeFileSync(path.join(dir, "gate.json"), gateRun(WAIT).stdout);
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    const run = (args: string[], env: Record<string, string>, more: string[] = []) =>
      execFileSync(path.join(ROOT, "node_modules/.bin/ts-node"), ["--transpile-only", path.join(ROOT, "cli/pr-comment.ts"), ...args, ...more], {
        cwd: dir,
        env: { ...process.env, ...env },
        encoding: "utf8",
        stdio: ["ignore", "pipe", "pipe"],
      });

    it("writes the comment and the decision outputs, scrubbing secrets named by environment variable", function () {
      this.timeout(60_000);
      const out = run(
        ["--stack", "prod", "--changes", "changes.json", "--preview-outcome", "success", "--gate-json", "gate.json", "--gate-exit", "3",
          "--secret-env", "ROLLOUT_DATABASE_URL", "--out", "comment.md", "--github-output", "gh.txt"],
        { PREVIEW_OUTPUT: PREVIEW + "\nurl=postgres://u:pw-in-preview@h/db\n", PR_AUTHOR: "pr-author", ROLLOUT_DATABASE_URL: "postgres://u:pw-in-preview@h/db" },
        ["--timeline", path.join(__dirname, "fixtures/timeline-labeled.json")],
      );
      assert.match(out, /gate says WAIT; passing because the "rollout-override" label was applied by reviewer-b/);
      const md = fs.readFileSync(path.join(dir, "comment.md"), "utf8");
      assert.ok(!md.includes("pw-in-preview"));
      assert.match(md, /CANARY_PERCENTAGE=25/);
      const gh = fs.readFileSync(path.join(dir, "gh.txt"), "utf8");
      assert.match(gh, /^status=overridden$/m);
      assert.match(gh, /^verdict=WAIT$/m);
    });

    it("rejects a stack that is not in the change, and a timeline without the author, with a clear message", function () {
      this.timeout(60_000);
      assert.throws(
        () => run(["--stack", "staging", "--changes", "changes.json", "--out", "c.md"], {}),
        (e: { status?: number; stderr?: string }) => e.status === 1 && /stack "staging" is not among the changed stacks in changes\.json: prod/.test(e.stderr ?? ""),
      );
      assert.throws(
        () => run(["--stack", "prod", "--changes", "changes.json", "--out", "c.md", "--timeline", path.join(__dirname, "fixtures/timeline-labeled.json")], { PR_AUTHOR: "" }),
        (e: { status?: number; stderr?: string }) => e.status === 1 && /--timeline needs the pull request's author in PR_AUTHOR/.test(e.stderr ?? ""),
      );
      assert.throws(
        () => run(["--stack", "prod", "--changes", "changes.json", "--gate-exit", "x", "--out", "c.md"], {}),
        // A bad option argument is a usage error: exit 2, like every entry point (cli/convention.ts).
        (e: { status?: number; stderr?: string }) => e.status === 2 && /"x" is not a process exit code/.test(e.stderr ?? ""),
      );
    });
  });
});
