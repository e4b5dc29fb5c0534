import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { parseConfig } from "../core/config";
import {
  flagText,
  rolloutState,
  sameState,
  GUIDE_THRESHOLDS,
  STAGES,
  appEnv,
  compare,
  criteriaFor,
  effectivePercentage,
  immediateRollback,
  isImmediateRollbackState,
  nextStage,
  previousStage,
  stageInfo,
} from "../core/stages";

describe("stage model", () => {
  it("has the guide's stages in order", () => {
    assert.deepEqual([...STAGES], [0, 10, 25, 50, 75, 100]);
  });

  it("steps forward and back one stage at a time, stopping at the ends", () => {
    assert.equal(nextStage(0), 10);
    assert.equal(nextStage(75), 100);
    assert.equal(nextStage(100), undefined);
    assert.equal(previousStage(75), 50, "the guide's gradual rollback: 75 → 50");
    assert.equal(previousStage(25), 10);
    assert.equal(previousStage(0), undefined);
  });

  it("gives the app the guide's env names and values", () => {
    assert.deepEqual(appEnv({ canaryPercentage: 25, enableStatelessOrchestration: true, enableSafeJsonParser: true }), {
      ENABLE_STATELESS_ORCHESTRATION: "true",
      ENABLE_SAFE_JSON_PARSER: "true",
      CANARY_PERCENTAGE: "25",
    });
  });

  it("models the immediate rollback: flags off, percentage kept, nobody on the new path", () => {
    const s = immediateRollback({ canaryPercentage: 50, enableStatelessOrchestration: true, enableSafeJsonParser: true });
    assert.deepEqual(s, { canaryPercentage: 50, enableStatelessOrchestration: false, enableSafeJsonParser: false });
    assert.equal(isImmediateRollbackState(s), true);
    assert.equal(effectivePercentage(s), 0);
    assert.equal(effectivePercentage({ ...s, enableStatelessOrchestration: true, enableSafeJsonParser: true }), 50);
  });

  it("maps stages to the guide's weeks", () => {
    assert.equal(stageInfo(0).phase, "baseline");
    assert.equal(stageInfo(10).phase, "canary");
    for (const s of [25, 50, 75] as const) assert.equal(stageInfo(s).phase, "gradual");
    assert.equal(stageInfo(100).phase, "full");
  });

  it("week 2: new error rate ≤ legacy, p95 < 3 s, zero contamination", () => {
    const c = criteriaFor(10);
    const byId = Object.fromEntries(c.success.map((x) => [x.id, x]));
    assert.deepEqual([byId["error-rate-vs-legacy"].op, byId["error-rate-vs-legacy"].threshold], ["<=", "legacyErrorRatePct"]);
    assert.deepEqual([byId["p95-below-warning"].op, byId["p95-below-warning"].threshold], ["<", GUIDE_THRESHOLDS.p95WarningSeconds]);
    assert.deepEqual([byId["zero-contamination"].op, byId["zero-contamination"].threshold], ["<=", 0]);
  });

  it("week 3 pauses on error > 2 %, p95 > 5 s, any contamination", () => {
    for (const s of [25, 50, 75] as const) {
      const p = criteriaFor(s).pause.map((x) => [x.metric, x.op, x.threshold]);
      assert.deepEqual(p, [
        ["newErrorRatePct", ">", 2],
        ["newP95Seconds", ">", 5],
        ["contaminationCount", ">", 0],
      ]);
    }
  });

  it("full rollout targets error < 1 % and p95 < 2 s", () => {
    const s = criteriaFor(100).success.map((x) => [x.metric, x.op, x.threshold]);
    assert.deepEqual(s.slice(0, 2), [
      ["newErrorRatePct", "<", 1],
      ["newP95Seconds", "<", 2],
    ]);
  });

  it("reads the stack's thresholds instead of the guide's when overridden", () => {
    const c = criteriaFor(50, { ...GUIDE_THRESHOLDS, errorRateWarningPct: 3 });
    assert.equal(c.pause.find((x) => x.id === "error-rate-pause")?.threshold, 3);
  });

  it("compares at the boundary as the guide words it", () => {
    assert.equal(compare(2, ">", 2), false, "2 % is not > 2 %");
    assert.equal(compare(2.01, ">", 2), true);
    assert.equal(compare(3, "<", 3), false, "p95 of exactly 3 s is not < 3 s");
    assert.equal(compare(1, "<=", 1), true);
  });

  describe("rollout state and its wording: one home (issue 14)", () => {
    const cfg = parseConfig({ appImage: "example/app:1", canaryPercentage: "25", enableStatelessOrchestration: "true", enableSafeJsonParser: "false" }, { stack: "test" });

    it("rolloutState takes exactly the three keys of a parsed config; sameState compares all three", () => {
      const st = rolloutState(cfg);
      assert.deepEqual(st, { canaryPercentage: 25, enableStatelessOrchestration: true, enableSafeJsonParser: false });
      assert.ok(sameState(st, { ...st }));
      for (const k of ["canaryPercentage", "enableStatelessOrchestration", "enableSafeJsonParser"] as const) {
        const other = { ...st, [k]: k === "canaryPercentage" ? 50 : !st[k] };
        assert.equal(sameState(st, other), false, k);
      }
    });

    it("flagText words the flags one way: on, off, or mixed naming each", () => {
      assert.equal(flagText({ enableStatelessOrchestration: true, enableSafeJsonParser: true }), "flags on");
      assert.equal(flagText({ enableStatelessOrchestration: false, enableSafeJsonParser: false }), "flags off");
      assert.equal(flagText(rolloutState(cfg)), "flags mixed (stateless true, safe JSON false)");
    });

    it("the CLI, the advance/rollback policy and CI's change summary convert and word the state only through them", () => {
      const root = path.resolve(__dirname, "..");
      for (const f of ["cli/rollout.ts", "cli/rolloutText.ts", "core/transitions.ts", "ci/changes.ts"]) {
        const src = fs.readFileSync(path.join(root, f), "utf8");
        assert.doesNotMatch(src, /canaryPercentage: \w+\.canaryPercentage,/, `${f} builds no RolloutState of its own`);
        assert.doesNotMatch(src, /"flags (on|off)"/, `${f} words no flags of its own`);
      }
    });
  });
});
