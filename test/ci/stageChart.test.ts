/**
 * The pull-request comment's per-stage charts (ci/stageChart.ts): built
 * from `rollout report --json`, and accepted by the real Mermaid parser in
 * Debian's chromium (test/support/browser.ts), which also rejects a broken
 * chart, so the check can fail.
 */
import { strict as assert } from "node:assert";
import { buildStackReview } from "../../ci/comment";
import { readReportJson, reportSection, stageCharts } from "../../ci/stageChart";
import { GUIDE_THRESHOLDS } from "../../core/stages";
import { closeSharedBrowser, requireChromium, validateMermaid } from "../support/browser";

const REPORT = {
  ok: true,
  command: "report",
  thresholds: GUIDE_THRESHOLDS,
  stages: [
    { label: "#1 0%, flags off", stage: 0, verdict: "PROCEED", newErrorRatePct: null, legacyErrorRatePct: 1.37, newP95Seconds: null, legacyP95Seconds: 2.44 },
    { label: "#2 10%", stage: 10, verdict: "PROCEED", newErrorRatePct: 0.4567, legacyErrorRatePct: 1.28, newP95Seconds: 1.45, legacyP95Seconds: 2.52 },
    { label: `#3 "25%" %% <b>`, stage: 25, verdict: "WAIT", newErrorRatePct: 7.5, legacyErrorRatePct: 0.96, newP95Seconds: 6.2, legacyP95Seconds: 2.52 },
  ],
};
const URL = "https://github.example/o/r/actions/runs/1/artifacts/2";

const mermaidBlocks = (lines: string[]): string[] => [...lines.join("\n").matchAll(/```mermaid\n([\s\S]*?)\n```/g)].map((m) => m[1]);

describe("PR comment: the rollout report's charts", () => {
  it("two xychart-beta charts, one value per stage, no-traffic as 0, the axis up to the critical level at least, and the link", () => {
    const lines = reportSection(JSON.stringify(REPORT), URL);
    assert.match(lines[0], /\[rollout report \(HTML, workflow artifact\)\]\(https:\/\/github\.example\/o\/r\/actions\/runs\/1\/artifacts\/2\)/);
    const [err, p95] = mermaidBlocks(lines);
    assert.match(err, /^xychart-beta\n/);
    assert.match(err, /x-axis \["#1 0%, flags off", "#2 10%", "#3 25% % b"\]/);
    assert.match(err, /bar \[0, 0.457, 7.5\]/);
    assert.match(err, /line \[1.37, 1.28, 0.96\]/);
    assert.match(err, /y-axis "error rate \(%\)" 0 --> 9\b/);
    assert.match(p95, /bar \[0, 1.45, 6.2\]/);
    const low = stageCharts({ ...REPORT, stages: REPORT.stages.slice(0, 2) });
    assert.match(low?.errorRate ?? "", /0 --> 6\b/, "the critical level (5%) fits on the axis");
  });

  it("bad or missing JSON is said plainly; no stage, no chart", () => {
    assert.deepEqual(readReportJson("not json"), { ok: false, problem: "rollout report printed no JSON" });
    assert.match(reportSection(`{"stages": [{"label": 1}]}`, undefined)[0], /rollout report's JSON is not a report \(stages\.0\.label/);
    assert.deepEqual(
      reportSection(JSON.stringify({ ok: false, exitCode: 2, command: "report", error: { type: "UsageError", message: "no database: pass --database-url" } }), undefined),
      ["**Rollout report:** rollout report failed: no database: pass --database-url"],
    );
    assert.deepEqual(reportSection(undefined, undefined), []);
    assert.deepEqual(reportSection("", URL), [`**Rollout report:** [rollout report (HTML, workflow artifact)](${URL})`]);
    assert.deepEqual(mermaidBlocks(reportSection(JSON.stringify({ stages: [] }), undefined)), []);
  });

  it("the stack's comment carries the section, scrubbed like the rest", () => {
    const review = buildStackReview({
      stack: "prod",
      reasons: ["canary 10 -> 25"],
      canarySummary: "10% -> 25%",
      raised: false,
      secrets: ["s3cr3t-value"],
      report: { json: JSON.stringify({ ...REPORT, stages: [{ ...REPORT.stages[1], label: "s3cr3t-value" }] }), url: URL },
    });
    assert.match(review.markdown, /```mermaid\nxychart-beta/);
    assert.doesNotMatch(review.markdown, /s3cr3t-value/);
  });

  describe("with the real Mermaid parser (chromium)", function () {
    this.timeout(120_000);
    before(function () {
      requireChromium(this);
    });
    after(closeSharedBrowser);

    it("accepts both charts, even with quotes, %% and markup in a stage label", async () => {
      const blocks = mermaidBlocks(reportSection(JSON.stringify(REPORT), URL));
      assert.equal(blocks.length, 2);
      for (const b of blocks) assert.deepEqual(await validateMermaid(b), { ok: true, diagramType: "xychart" });
    });

    it("rejects a broken chart, so the check can fail", async () => {
      const [err] = mermaidBlocks(reportSection(JSON.stringify(REPORT), URL));
      const broken = await validateMermaid(err.replace(/\]\n/, "\n"));
      assert.equal(broken.ok, false);
      assert.match(broken.ok ? "" : broken.error, /Parse error/);
      assert.equal((await validateMermaid("xychart-beta\n  bar [1, two]")).ok, false);
    });
  });
});
