import { strict as assert } from "node:assert";
import { parseConfig } from "../../lib/config";
import { GateInput, PathMetrics, StageMetrics, evaluateGate, exposureCheck, normalUpperTail, twoProportionTest } from "../../lib/gate";
import { RefusedError, planRollback } from "../../lib/stackEdit";
import { Flags, GUIDE_THRESHOLDS, STAGES, Stage, nextStage } from "../../lib/stages";

const cfg = parseConfig({ appImage: "example/app:1" }, { stack: "test" });
const gate = cfg.gate;
const t = cfg.thresholds;
const HOUR = 3_600_000;
const asOf = new Date("2026-01-10T12:00:00Z");
const ON = { enableStatelessOrchestration: true, enableSafeJsonParser: true };
const OFF = { enableStatelessOrchestration: false, enableSafeJsonParser: false };

function path(requests: number, errors: number, users: number, p95: number | null): PathMetrics {
  return { requests, errors, users, avgSeconds: p95 === null ? null : p95 / 2, p95Seconds: p95 };
}

/** Healthy traffic with enough volume: the gate's minimums times two. */
function healthy(): StageMetrics {
  return {
    windowStart: new Date(asOf.getTime() - gate.soakHours * HOUR),
    windowEnd: asOf,
    new: path(gate.minNewRequests * 2, 0, gate.minNewUsers * 2, t.targetP95Seconds / 2),
    legacy: path(gate.minNewRequests * 8, 8, gate.minNewUsers * 8, t.p95WarningSeconds / 2),
    contaminationCount: 0,
  };
}

function input(stage: Stage, m: StageMetrics, soakHours = gate.soakHours, flags = stage === 0 ? OFF : ON): GateInput {
  return { stage, flags, stageStartedAt: new Date(asOf.getTime() - soakHours * HOUR), asOf, metrics: m, thresholds: t, gate };
}

describe("rollout gate (pure)", () => {
  it("uses the config's thresholds and gate settings (the guide's numbers by default)", () => {
    assert.deepEqual(t, { ...GUIDE_THRESHOLDS });
    assert.ok(gate.soakHours > 0 && gate.confidence > 0.5);
  });

  it("PROCEEDs at every stage with healthy traffic over the full soak time", () => {
    for (const s of STAGES) {
      const r = evaluateGate(input(s, healthy()));
      assert.equal(r.verdict, "PROCEED", `${s}%: ${r.reasons.join("; ")}`);
      assert.equal(r.exitCode, 0);
      assert.equal(r.nextStage, nextStage(s) ?? null);
    }
  });

  it("soak time: exactly the soak time proceeds, a minute less waits and says how much is left", () => {
    assert.equal(evaluateGate(input(10, healthy(), gate.soakHours)).verdict, "PROCEED");
    const r = evaluateGate(input(10, healthy(), gate.soakHours - 1 / 60));
    assert.equal(r.verdict, "WAIT");
    assert.equal(r.exitCode, 3);
    assert.ok(Math.abs((r.needed.soakHours ?? 0) - 1 / 60) < 1e-9);
    assert.match(r.reasons.join("\n"), /need 0\.0 h more|soaked/);
  });

  it("an unknown stage start (no rollout record) waits", () => {
    const r = evaluateGate({ ...input(10, healthy()), stageStartedAt: undefined });
    assert.equal(r.verdict, "WAIT");
    assert.match(r.reasons.join("\n"), /no rollout record/);
  });

  it("too few requests or users on the new path waits and says how many more", () => {
    const m = healthy();
    m.new = path(gate.minNewRequests - 1, 0, gate.minNewUsers, 1);
    let r = evaluateGate(input(25, m));
    assert.equal(r.verdict, "WAIT");
    assert.equal(r.needed.requests, 1);
    m.new = path(gate.minNewRequests, 0, gate.minNewUsers - 1, 1);
    r = evaluateGate(input(25, m));
    assert.equal(r.verdict, "WAIT");
    assert.equal(r.needed.users, 1);
    m.new = path(gate.minNewRequests, 0, gate.minNewUsers, 1);
    assert.equal(evaluateGate(input(25, m)).verdict, "PROCEED");
  });

  it("legacy-only traffic at a canary stage waits (nothing on the new path to judge)", () => {
    const m = healthy();
    m.new = path(0, 0, 0, null);
    const r = evaluateGate(input(10, m));
    assert.equal(r.verdict, "WAIT");
    assert.equal(r.needed.requests, gate.minNewRequests);
  });

  it("stage 0 (flags off) judges the legacy path against the baseline criteria", () => {
    const m = healthy();
    m.new = path(0, 0, 0, null);
    assert.equal(evaluateGate(input(0, m)).verdict, "PROCEED");
    m.legacy = path(1000, 1000 * (t.errorRateWarningPct / 100) + 1, 100, 1);
    const r = evaluateGate(input(0, m));
    assert.equal(r.verdict, "PAUSE");
    assert.equal(r.judgedPath, "legacy");
  });

  it("the immediate-rollback state (flags off, percentage kept) is judged as stage 0", () => {
    const m = healthy();
    const r = evaluateGate({ ...input(50, m), flags: OFF });
    assert.equal(r.stage, 0);
    assert.equal(r.deployedStage, 50);
  });

  describe("boundaries (strict > and < as the guide writes them)", () => {
    const n = 1000;
    const withNew = (errors: number, p95: number) => {
      const m = healthy();
      m.new = path(n, errors, 100, p95);
      m.legacy = path(n * 9, n * 9 * 0.019, 900, 1); // legacy at 1.9 %: the z-test does not block below 2 %
      return m;
    };
    it(`error rate exactly ${t.errorRateWarningPct}% does not pause; just above does`, () => {
      assert.notEqual(evaluateGate(input(25, withNew((n * t.errorRateWarningPct) / 100, 1))).verdict, "PAUSE");
      const r = evaluateGate(input(25, withNew((n * t.errorRateWarningPct) / 100 + 1, 1)));
      assert.equal(r.verdict, "PAUSE");
      assert.ok(r.criteria.some((c) => c.id === "error-rate-pause" && c.status === "failed"));
    });
    it(`error rate exactly ${t.errorRateCriticalPct}% pauses; just above rolls back`, () => {
      assert.equal(evaluateGate(input(25, withNew((n * t.errorRateCriticalPct) / 100, 1))).verdict, "PAUSE");
      const r = evaluateGate(input(25, withNew((n * t.errorRateCriticalPct) / 100 + 1, 1)));
      assert.equal(r.verdict, "ROLLBACK");
      assert.equal(r.exitCode, 5);
      assert.equal(r.suggestedCommand, "rollout rollback --immediate");
    });
    it(`p95 just below ${t.p95WarningSeconds}s proceeds; exactly ${t.p95WarningSeconds}s does not (week 2: P95 < ${t.p95WarningSeconds}s)`, () => {
      assert.equal(evaluateGate(input(10, withNew(0, t.p95WarningSeconds - 0.01))).verdict, "PROCEED");
      const r = evaluateGate(input(10, withNew(0, t.p95WarningSeconds)));
      assert.equal(r.verdict, "PAUSE");
      assert.ok(r.criteria.some((c) => c.id === "p95-below-warning" && c.status === "failed"));
    });
    it(`p95 exactly ${t.p95CriticalSeconds}s is not critical; just above rolls back`, () => {
      assert.equal(evaluateGate(input(50, withNew(0, t.p95CriticalSeconds))).verdict, "PAUSE");
      assert.equal(evaluateGate(input(50, withNew(0, t.p95CriticalSeconds + 0.01))).verdict, "ROLLBACK");
    });
    it(`100%: error rate exactly ${t.targetErrorRatePct}% and p95 exactly ${t.targetP95Seconds}s miss the targets`, () => {
      const m = healthy();
      m.legacy = path(0, 0, 0, null);
      m.new = path(n, (n * t.targetErrorRatePct) / 100, 100, 1);
      assert.equal(evaluateGate(input(100, m)).verdict, "PAUSE");
      m.new = path(n, (n * t.targetErrorRatePct) / 100 - 1, 100, t.targetP95Seconds);
      assert.equal(evaluateGate(input(100, m)).verdict, "PAUSE");
      m.new = path(n, (n * t.targetErrorRatePct) / 100 - 1, 100, t.targetP95Seconds - 0.01);
      assert.equal(evaluateGate(input(100, m)).verdict, "PROCEED");
    });
  });

  it("any contamination rolls back, at any stage and any volume", () => {
    for (const s of STAGES) {
      const m = healthy();
      m.contaminationCount = 1;
      m.new = s === 0 ? path(0, 0, 0, null) : path(3, 0, 1, 1);
      const r = evaluateGate(input(s, m, 0));
      assert.equal(r.verdict, "ROLLBACK", `${s}%`);
      assert.ok(r.criteria.some((c) => c.id === "contamination" && c.status === "failed"));
    }
  });

  describe("new error rate ≤ legacy: the two-proportion test", () => {
    it("a higher new rate that is noise does not block", () => {
      const m = healthy();
      m.new = path(1000, 15, 100, 1); // 1.5 %
      m.legacy = path(1000, 10, 100, 1); // 1.0 %
      const r = evaluateGate(input(10, m));
      assert.equal(r.verdict, "PROCEED");
      assert.ok(r.test);
      assert.match(r.test.test, /two-proportion z-test/);
      assert.ok(r.test.pValue > 1 - gate.confidence, `p = ${r.test.pValue}`);
      assert.equal(r.test.requiredConfidence, gate.confidence);
    });
    it("a significantly higher new rate below the pause level blocks the stage", () => {
      const m = healthy();
      m.new = path(1000, 19, 100, 1); // 1.9 %
      m.legacy = path(9000, 45, 900, 1); // 0.5 %
      const r = evaluateGate(input(10, m));
      assert.equal(r.verdict, "PAUSE");
      const c = r.criteria.find((x) => x.id === "error-rate-vs-legacy");
      assert.equal(c?.status, "failed");
      assert.ok((r.test?.confidenceNewWorse ?? 0) > gate.confidence);
      assert.match(r.reasons.join("\n"), /confidence new is worse/);
    });
    it("is the textbook statistic", () => {
      // 30/1000 vs 20/1000: pooled p = 0.025, se = sqrt(0.025·0.975·0.002) = 0.006982, z = 1.4322
      const r = twoProportionTest(30, 1000, 20, 1000, 0.95);
      assert.ok(Math.abs(r.z - 1.4322) < 1e-3, String(r.z));
      assert.ok(Math.abs(r.pValue - 0.07604) < 1e-3, String(r.pValue));
      assert.equal(r.newSignificantlyWorse, false);
      assert.ok(Math.abs(normalUpperTail(1.6448536) - 0.05) < 1e-6);
      assert.ok(Math.abs(normalUpperTail(-1.959964) - 0.975) < 1e-6);
      assert.equal(twoProportionTest(0, 1000, 0, 1000, 0.95).pValue, 1);
    });
    it("no legacy traffic to compare with waits", () => {
      const m = healthy();
      m.legacy = path(0, 0, 0, null);
      const r = evaluateGate(input(75, m));
      assert.equal(r.verdict, "WAIT");
      assert.equal(r.needed.legacyRequests, 1);
    });
  });

  describe("the suggested command is one `rollout rollback` accepts in that state", () => {
    /** The stack file saying what is deployed, as `rollout rollback` would read it. */
    const stackCfg = (stage: Stage, flags: Flags) =>
      parseConfig(
        {
          appImage: "example/app:1",
          canaryPercentage: String(stage),
          enableStatelessOrchestration: String(flags.enableStatelessOrchestration),
          enableSafeJsonParser: String(flags.enableSafeJsonParser),
        },
        { stack: "test" },
      );
    /** Run the suggested command's plan; a refusal fails the test with the CLI's own message. */
    const accepted = (command: string, stage: Stage, flags: Flags) => {
      assert.match(command, /^rollout rollback( --immediate)?$/);
      planRollback(stackCfg(stage, flags), command.endsWith("--immediate"));
    };
    const contaminated = () => ({ ...healthy(), contaminationCount: 1 });
    const legacyErrors = () => {
      const m = healthy();
      m.legacy = path(1000, 1000 * (t.errorRateWarningPct / 100) + 1, 100, 1);
      return m;
    };

    it("ROLLBACK with a flag on suggests the immediate rollback, which the CLI accepts", () => {
      for (const flags of [ON, { ...ON, enableSafeJsonParser: false }]) {
        const r = evaluateGate({ ...input(25, contaminated()), flags });
        assert.equal(r.verdict, "ROLLBACK");
        assert.equal(r.suggestedCommand, "rollout rollback --immediate");
        assert.equal(r.advice, null);
        accepted(r.suggestedCommand, 25, flags);
      }
    });

    it("ROLLBACK in the immediate-rollback state (flags off at 50%): no command, advice to investigate; the CLI would refuse --immediate", () => {
      const r = evaluateGate({ ...input(50, contaminated()), flags: OFF });
      assert.equal(r.verdict, "ROLLBACK");
      assert.equal(r.suggestedCommand, null);
      assert.match(r.advice ?? "", /^both flags are already off \(deployed 50%, effective 0%\): nothing to roll back/);
      assert.match(r.advice ?? "", /psql "\$ROLLOUT_DATABASE_URL" -c 'SELECT \* FROM monitoring\.contaminated_sessions'/);
      assert.throws(() => planRollback(stackCfg(50, OFF), true), RefusedError);
    });

    it("ROLLBACK at staging's week 1 (0%, flags off): no command, advice to investigate", () => {
      const r = evaluateGate(input(0, contaminated()));
      assert.equal(r.verdict, "ROLLBACK");
      assert.equal(r.suggestedCommand, null);
      assert.match(r.advice ?? "", /both flags are already off \(deployed 0%, effective 0%\): nothing to roll back/);
      assert.match(r.advice ?? "", /monitoring\.session_isolation/);
      assert.throws(() => planRollback(stackCfg(0, OFF), true), RefusedError);
    });

    it("PAUSE at an effective 0% (week 1, or flags off at 50%): no `rollout rollback`, advice names the error views", () => {
      for (const stage of [0, 50] as const) {
        const r = evaluateGate({ ...input(stage, legacyErrors()), flags: OFF });
        assert.equal(r.verdict, "PAUSE", `${stage}%: ${r.reasons.join("; ")}`);
        assert.equal(r.suggestedCommand, null, `${stage}%`);
        assert.match(r.advice ?? "", /the new path already serves nobody .*: nothing to roll back/);
        assert.match(r.advice ?? "", /monitoring\.error_rate_by_version/);
        assert.throws(() => planRollback(stackCfg(stage, OFF), false), RefusedError);
      }
    });

    it("PAUSE with the flags on suggests one stage back, which the CLI accepts (10% -> 0% included)", () => {
      for (const stage of [10, 25, 100] as const) {
        const m = healthy();
        m.new = path(1000, 1000 * (t.errorRateWarningPct / 100) + 1, 100, 1);
        const r = evaluateGate(input(stage, m));
        assert.equal(r.verdict, "PAUSE", `${stage}%`);
        assert.equal(r.suggestedCommand, "rollout rollback");
        assert.equal(r.advice, null);
        accepted(r.suggestedCommand, stage, ON);
      }
    });
  });

  it("the exposure check flags a share of users far from the configured percentage", () => {
    const m = healthy();
    m.new = path(1000, 0, 100, 1);
    m.legacy = path(9000, 0, 900, 1);
    assert.equal(exposureCheck(10, m, gate.exposureTolerancePct).flagged, false);
    const far = exposureCheck(50, m, gate.exposureTolerancePct);
    assert.equal(far.flagged, true);
    assert.match(far.message, /10\.0% of 1000 distinct users.*configured 50%/);
    assert.equal(exposureCheck(10, { ...m, new: path(0, 0, 0, null), legacy: path(0, 0, 0, null) }, 10).observedPct, null);
  });
});
