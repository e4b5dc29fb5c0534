/** The report's key metrics (core/report/model.ts, pure): the guide's lines come from one wording, guideLines. */
import { strict as assert } from "node:assert";
import { guideLines, keyMetrics } from "../../core/report/model";
import { GUIDE_THRESHOLDS } from "../../core/stages";

describe("rollout report model (pure)", () => {
  it("words a target, warning and critical level as the guide does", () => {
    assert.deepEqual(guideLines("%", 1, 2, 5), [
      { kind: "target", value: 1, label: "< 1%" },
      { kind: "warning", value: 2, label: "> 2%" },
      { kind: "critical", value: 5, label: "> 5%" },
    ]);
  });

  it("the error-rate and the P95 panels draw the lines guideLines gives for the stack's thresholds", () => {
    const t = { ...GUIDE_THRESHOLDS, targetErrorRatePct: 0.5, p95WarningSeconds: 2.5 };
    const panels = new Map(keyMetrics([], t).map((k) => [k.id, k]));
    assert.deepEqual(panels.get("errorRate")?.lines, guideLines("%", 0.5, t.errorRateWarningPct, t.errorRateCriticalPct));
    assert.deepEqual(panels.get("p95")?.lines, guideLines("s", t.targetP95Seconds, 2.5, t.p95CriticalSeconds));
    assert.equal(panels.get("p95")?.lines[1].label, "> 2.5s");
  });
});
