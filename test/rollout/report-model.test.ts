/** The report's key metrics (core/report/model.ts, pure): the guide's lines come from one wording, guideLines. */
import { strict as assert } from "node:assert";
import { PathMetrics } from "../../core/gate";
import { KeyMetricId, StageSegment, emptyConcurrency, guideLines, keyMetrics } from "../../core/report/model";
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

  it("the error-rate and the P95 panels have one series per path, from each segment's metrics; a path with no requests has no value", () => {
    const path = (requests: number, errors: number, p95Seconds: number | null): PathMetrics => ({ requests, errors, users: requests, avgSeconds: p95Seconds, p95Seconds });
    const at = new Date("2026-01-10T12:00:00Z");
    const segment = (stage: StageSegment["stage"], n: PathMetrics, l: PathMetrics): StageSegment => ({
      stage,
      flags: { enableStatelessOrchestration: true, enableSafeJsonParser: true },
      start: at,
      end: at,
      current: false,
      windowStart: at,
      windowEnd: at,
      actor: null,
      gitCommit: null,
      reason: null,
      metrics: { windowStart: at, windowEnd: at, new: n, legacy: l, contaminationCount: 0 },
      concurrency: { new: emptyConcurrency(), legacy: emptyConcurrency(), all: emptyConcurrency() },
      judgement: { verdict: "PROCEED", evidence: "" },
    });
    const panels = new Map(keyMetrics([segment(10, path(200, 3, 1.5), path(1800, 18, 1.2)), segment(25, path(0, 0, null), path(1000, 40, 2.5))], GUIDE_THRESHOLDS).map((k) => [k.id, k]));
    const series = (id: KeyMetricId) => panels.get(id)?.series.map((x) => [x.key, x.values]);
    assert.deepEqual(series("errorRate"), [["new", [1.5, null]], ["legacy", [1, 4]]]);
    assert.deepEqual(series("p95"), [["new", [1.5, null]], ["legacy", [1.2, 2.5]]]);
  });
});
