/**
 * The PR comment's two stage charts come from one builder and a table of what
 * each chart plots (ci/stageChart.ts STAGE_CHARTS), not two same-shape calls:
 * each chart equals xyChart over its row's fields, and the y axis reaches the
 * row's critical level.
 */
import { strict as assert } from "node:assert";
import { STAGE_CHARTS, ReportJson, stageCharts, xyChart } from "../../ci/stageChart";

const REPORT: ReportJson = {
  stages: [
    { label: "10%", verdict: "PROCEED", newErrorRatePct: 0.5, legacyErrorRatePct: 0.4, newP95Seconds: 1.2, legacyP95Seconds: null },
    { label: "25%", verdict: "WAIT", newErrorRatePct: null, legacyErrorRatePct: 3, newP95Seconds: 7, legacyP95Seconds: 2 },
  ],
  thresholds: { errorRateWarningPct: 2, errorRateCriticalPct: 5, p95WarningSeconds: 5, p95CriticalSeconds: 10 },
};

describe("stage charts: one builder, one table", () => {
  it("draws one chart per table row, each through xyChart with the row's metrics and critical level", () => {
    const charts = stageCharts(REPORT) as Record<string, string>;
    assert.deepEqual(Object.keys(charts).sort(), STAGE_CHARTS.map((c) => c.key).sort());
    for (const c of STAGE_CHARTS) {
      const want = xyChart(c.title, c.axis, ["10%", "25%"], REPORT.stages.map(c.bar), REPORT.stages.map(c.line), c.floor(REPORT.thresholds!));
      assert.equal(charts[c.key], want, c.key);
    }
    assert.match(charts.errorRate, /y-axis "error rate \(%\)" 0 --> 6$/m);
    assert.match(charts.p95, /y-axis "p95 \(s\)" 0 --> 20$/m);
    assert.match(charts.p95, /^ {2}bar \[1\.2, 7\]$/m);
    assert.match(charts.p95, /^ {2}line \[0, 2\]$/m);
  });

  it("without thresholds the axis follows the data alone; without stages there is no chart", () => {
    const charts = stageCharts({ ...REPORT, thresholds: undefined }) as Record<string, string>;
    assert.match(charts.errorRate, /0 --> 4$/m);
    assert.equal(stageCharts({ stages: [] }), undefined);
  });
});
