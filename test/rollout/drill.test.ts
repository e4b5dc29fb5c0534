import { strict as assert } from "node:assert";
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { runDrill } from "../../drill/drill";
import { DEFAULT_INJECT_STAGE, EXPECTED_VERDICT, INJECTS } from "../../core/injects";
import { loadStack, readStackFile } from "../../stack/stackFile";
import { STAGES } from "../../core/stages";
import { sharedPostgres } from "../support/postgres";

const run = promisify(execFile);
const PROJECT_DIR = path.join(__dirname, "..", "..");
const prod = loadStack(PROJECT_DIR, "prod").cfg;

describe("[pg] rollout drill", function () {
  this.timeout(180_000);

  it("clean: every stage PROCEEDs and the rollout ends at 100 %", async () => {
    const pg = await sharedPostgres();
    const sc = readStackFile(PROJECT_DIR, "prod");
    const r = await runDrill({ thresholds: prod.thresholds, gate: prod.gate, stack: "prod", databaseUrl: pg.adminUrl, stackFile: { file: sc.file, text: sc.text } });
    assert.equal(r.ok, true, r.expected);
    // Each PROCEED is followed by the edit rollout advance makes: flags on with 10 %, then the percentage alone.
    assert.deepEqual(
      r.stages.map((s) => s.advanceWrites?.map((c) => `${c.key}=${c.value}`).join(" ") ?? null),
      [
        `enableStatelessOrchestration=true enableSafeJsonParser=true canaryPercentage=${STAGES[1]}`,
        ...STAGES.slice(2).map((s) => `canaryPercentage=${s}`),
        null,
      ],
    );
    assert.equal(readStackFile(PROJECT_DIR, "prod").text, sc.text, "the drill writes no file");
    assert.deepEqual(r.stages.map((s) => s.stage), [...STAGES]);
    assert.deepEqual(r.stages.map((s) => s.verdict), STAGES.map(() => "PROCEED"));
    assert.equal(r.finalStage, STAGES[STAGES.length - 1]);
    // Sticky bucketing: the share of users on the new path follows the percentage.
    for (const s of r.stages) {
      const share = (100 * s.newUsers) / (s.newUsers + s.legacyUsers);
      assert.ok(Math.abs(share - s.effectivePct) <= prod.gate.exposureTolerancePct, `${s.stage}%: ${share.toFixed(1)}% of users on the new path`);
      if (s.stage > 0 && s.stage < 100) assert.equal(s.gate.comparison?.decision, "within-margin", "the non-inferiority comparison ran and held");
      if (s.stage === 0 || s.stage === 100) assert.equal(s.gate.comparison, undefined, `${s.stage}%: no comparison applies`);
    }
    assert.equal(r.stages[0].newRequests, 0, "stage 0: flags off, no new-path traffic");
    assert.equal(r.stages[r.stages.length - 1].legacyRequests, 0, "100 %: no legacy traffic");
  });

  for (const inject of INJECTS) {
    it(`--inject ${inject}: the stage ${EXPECTED_VERDICT[inject] === "PAUSE" ? "pauses" : "rolls back"} and the fix is printed`, async () => {
      const pg = await sharedPostgres();
      const r = await runDrill({ thresholds: prod.thresholds, gate: prod.gate, stack: "prod", inject, databaseUrl: pg.adminUrl });
      assert.equal(r.ok, true, `${r.expected}: ${JSON.stringify(r.stages.map((s) => [s.stage, s.verdict, s.gate.reasons]))}`);
      const last = r.stages[r.stages.length - 1];
      assert.equal(last.stage, DEFAULT_INJECT_STAGE);
      assert.equal(last.verdict, EXPECTED_VERDICT[inject]);
      assert.ok(r.stages.slice(0, -1).every((s) => s.verdict === "PROCEED"), "the stages before the fault proceed");
      assert.equal(r.fixCommand, EXPECTED_VERDICT[inject] === "ROLLBACK" ? "npx rollout rollback --immediate --stack prod" : "npx rollout rollback --stack prod");
      const failed = last.gate.criteria.filter((c) => c.status === "failed").map((c) => c.id);
      if (inject === "error-spike") assert.ok(failed.includes("error-rate-pause") && !failed.includes("error-rate-critical"), failed.join());
      if (inject === "latency") assert.ok(failed.includes("p95-below-warning") && !failed.includes("p95-critical"), failed.join());
      if (inject === "contamination") {
        assert.ok(failed.includes("contamination"), failed.join());
        // The app's contaminating write is refused by the database; the count comes from a trigger-bypassing write.
        assert.match(r.refusal ?? "", /session isolation: session_id .* already belongs to user_id/);
        assert.equal(last.contaminationCount, 1);
      }
    });
  }

  it("npx rollout drill --json --report: the bin starts its own embedded PostgreSQL, prints one JSON object, and writes the rehearsal's report", async () => {
    const reportFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "drill-report-")), "drill.html");
    const { stdout, stderr } = await run(process.execPath, [path.join(PROJECT_DIR, "bin", "rollout.cjs"), "drill", "--json", "--inject", "error-spike", "--inject-at", "50", "--report", reportFile], {
      cwd: PROJECT_DIR,
      maxBuffer: 64 * 1024 * 1024,
    });
    const j = JSON.parse(stdout) as { ok: boolean; exitCode: number; finalStage: number; database: string; stages: Array<{ verdict: string }> };
    assert.equal(j.ok, true, stderr);
    assert.equal(j.exitCode, 0);
    assert.equal(j.finalStage, 50);
    assert.match(j.database, /^embedded PostgreSQL on 127\.0\.0\.1:\d+/);
    assert.deepEqual(j.stages.map((s) => s.verdict), ["PROCEED", "PROCEED", "PROCEED", "PAUSE"]);
    // The report judges each recorded stage as the drill's gate did, as of the drill's clock.
    const report = (j as unknown as { report: { out: string; stages: Array<{ stage: number; verdict: string }> } }).report;
    assert.equal(report.out, reportFile);
    assert.deepEqual(report.stages.map((s) => [s.stage, s.verdict]), [[0, "PROCEED"], [10, "PROCEED"], [25, "PROCEED"], [50, "PAUSE"]]);
    const html = fs.readFileSync(reportFile, "utf8");
    assert.equal(html.match(/<tr class="stage"/g)?.length, 4);
    assert.match(html, /verdict-PAUSE/);
  });
});
