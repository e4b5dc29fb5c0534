import { strict as assert } from "node:assert";
import { parseConfig } from "../../core/config";
import { COMPARISON_ALPHA_SHARE, FIRST_COMPARISON_ALPHA_SHARE, GateInput, GateInputError, LatencyCount, P95_TAIL_PCT, PathMetrics, StageMetrics, exposureCheck, latencyThresholds, proportionBound } from "../../core/gate";
import { evaluateGate } from "../../core/gateText";
import { betaBinomialCS, betaPriorFor } from "../../core/sequential";
import { evaluateLegacyGate } from "../../bench/gateLegacy";
import { RefusedError, planRollback } from "../../core/transitions";
import { Flags, GUIDE_THRESHOLDS, STAGES, Stage, nextStage } from "../../core/stages";

const cfg = parseConfig({ appImage: "example/app:1" }, { stack: "test" });
const gate = cfg.gate;
const t = cfg.thresholds;
const HOUR = 3_600_000;
const asOf = new Date("2026-01-10T12:00:00Z");
const ON = { enableStatelessOrchestration: true, enableSafeJsonParser: true };
const OFF = { enableStatelessOrchestration: false, enableSafeJsonParser: false };
const LINES = latencyThresholds(t);

/** A path with `slowShare[i]` of its requests slower than LINES[i] (default 1 % at every line). */
function path(requests: number, errors: number, users: number, slowShare: number | readonly number[] = 0.01): PathMetrics {
  const shares = typeof slowShare === "number" ? LINES.map(() => slowShare) : slowShare;
  const latency: LatencyCount[] = LINES.map((s, i) => ({ thresholdSeconds: s, timed: requests, over: Math.round(requests * shares[i]) }));
  return { requests, errors, users, avgSeconds: requests > 0 ? 1 : null, p95Seconds: requests > 0 ? 1.5 : null, latency };
}
const none = (): PathMetrics => path(0, 0, 0);

/** Healthy traffic with volume enough to decide: new 0.5 %, legacy 1.2 % (the drill's profiles). */
function healthy(stage: Stage = 10): StageMetrics {
  const total = 200_000;
  const share = stage / 100;
  const n = Math.round(total * share);
  const l = total - n;
  return {
    windowStart: new Date(asOf.getTime() - gate.soakHours * HOUR),
    windowEnd: asOf,
    new: n > 0 ? path(n, Math.round(n * 0.005), Math.max(1, Math.round(n / 20))) : none(),
    legacy: l > 0 ? path(l, Math.round(l * 0.012), Math.max(1, Math.round(l / 20))) : none(),
    contaminationCount: 0,
  };
}

function input(stage: Stage, m: StageMetrics = healthy(stage), soakHours = gate.soakHours, flags = stage === 0 ? OFF : ON): GateInput {
  return { stage, flags, stageStartedAt: new Date(asOf.getTime() - soakHours * HOUR), asOf, metrics: m, thresholds: t, gate };
}

describe("rollout gate (pure)", () => {
  it("uses the config's thresholds and gate settings (the guide's numbers by default)", () => {
    assert.deepEqual(t, { ...GUIDE_THRESHOLDS });
    assert.equal(gate.errorRateMarginPct, 0.5);
    assert.equal(gate.minLegacyRequests, 500);
    assert.equal(gate.minLegacyUsers, 30);
  });

  it("PROCEEDs at every stage with healthy, decisive traffic over the full soak time", () => {
    for (const s of STAGES) {
      const r = evaluateGate(input(s));
      assert.equal(r.verdict, "PROCEED", `${s}%: ${r.reasons.join("; ")}`);
      assert.equal(r.exitCode, 0);
      assert.equal(r.nextStage, nextStage(s) ?? null);
    }
  });

  it("spends α over the whole rollout, once for each kind of error: the PAUSE side's lower bounds and the PROCEED side's upper bounds", () => {
    const alpha = 1 - gate.confidence;
    let comparisons = 0;
    for (const s of STAGES) {
      const r = evaluateGate(input(s));
      assert.ok(Math.abs(r.alpha.rollout - alpha) < 1e-12);
      assert.equal(r.alpha.stages, STAGES.length);
      // PAUSE side: COMPARISON_ALPHA_SHARE for the comparison (over its stages), the rest for the absolute lines' lower bounds.
      assert.ok(Math.abs(r.alpha.perQuestion * r.alpha.questions - alpha * (1 - COMPARISON_ALPHA_SHARE)) < 1e-12, `${s}%`);
      comparisons += r.alpha.comparison ?? 0;
      assert.equal(r.alpha.comparison === null, s === 0 || s === 100, `${s}%: a comparison only where both paths run`);
      // PROCEED side: α/|stages| per stage, every upper bound at that level.
      assert.ok(Math.abs(r.alpha.proceed * r.alpha.stages - alpha) < 1e-12);
      for (const c of r.criteria) {
        if (!c.bound) continue;
        const lowerAlpha = c.metric === "newErrorRatePct" && c.id === "error-rate-vs-legacy" ? (r.alpha.comparison as number) : r.alpha.perQuestion;
        assert.ok(Math.abs(c.bound.lowerConfidence - (1 - lowerAlpha)) < 1e-12, `${s}% ${c.id}`);
        assert.ok(Math.abs(c.bound.upperConfidence - (1 - r.alpha.proceed)) < 1e-12, `${s}% ${c.id}`);
        assert.ok(Math.abs(c.bound.confidence - (1 - lowerAlpha - r.alpha.proceed)) < 1e-12, `${s}% ${c.id}`);
      }
    }
    assert.ok(Math.abs(comparisons - alpha * COMPARISON_ALPHA_SHARE) < 1e-12, `the comparisons spend ${comparisons}`);
    // The first comparison stage gets its share; the later ones share the rest by the variance per request (75 % as 25 %, both above 50 %).
    const at = (s: Stage) => evaluateGate(input(s)).alpha.comparison as number;
    assert.ok(Math.abs(at(10) - alpha * COMPARISON_ALPHA_SHARE * FIRST_COMPARISON_ALPHA_SHARE) < 1e-12, `10%: ${at(10)}`);
    assert.ok(at(10) > at(25) && at(25) > at(50) && Math.abs(at(25) - at(75)) < 1e-15);
  });

  it("both kinds of proportion criterion, the error rate and the latency share, report the bound proportionBound builds", () => {
    const s = 25;
    const m = healthy(s);
    const errors = Math.round(m.new.requests * 0.015);
    const r = evaluateGate(input(s, { ...m, new: { ...m.new, errors } }));
    // The interval the gate builds: lower bound at the PAUSE side's α, upper at the PROCEED side's, prior tuned to the lowest line.
    const interval = (k: number, n: number, lowestLinePct: number) => {
      const prior = betaPriorFor(lowestLinePct / 100);
      return { lower: betaBinomialCS(k, n, r.alpha.perQuestion, prior).lower, upper: betaBinomialCS(k, n, r.alpha.proceed, prior).upper };
    };
    const errorCriteria = r.criteria.filter((c) => c.metric === "newErrorRatePct" && c.bound?.unit === "%");
    const lowestErrorLine = Math.min(...errorCriteria.map((c) => c.threshold as number));
    const err = errorCriteria.find((c) => c.id === "error-rate-pause");
    assert.ok(err?.bound, "the error-rate pause criterion has a bound");
    assert.equal(err.bound.quantity, "new-path error rate");
    assert.deepStrictEqual(err.bound, proportionBound("new-path error rate", errors, m.new.requests, interval(errors, m.new.requests, lowestErrorLine), t.errorRateWarningPct, err.bound));
    // "p95 < 3 s": the share of new-path requests taking 3 s or longer, against 5 %.
    const slow = r.criteria.find((c) => c.id === "p95-below-warning");
    assert.ok(slow?.bound, "the p95 success criterion has a bound");
    const count = m.new.latency?.find((l) => l.thresholdSeconds === slow.threshold);
    assert.ok(count);
    const k = count.atLeast ?? count.over;
    assert.equal(slow.bound.quantity, `share of new-path requests taking ${slow.threshold} s or longer`);
    assert.deepStrictEqual(slow.bound, proportionBound(slow.bound.quantity, k, count.timed, interval(k, count.timed, P95_TAIL_PCT), P95_TAIL_PCT, slow.bound));
  });

  it("one lower bound per proportion: the error rate's 2 % and 5 % lines are judged on the same sequence", () => {
    for (const s of [10, 25, 50, 75, 100] as const) {
      const m = healthy(s);
      const r = evaluateGate(input(s, { ...m, new: { ...m.new, errors: Math.round(m.new.requests * 0.035) } }));
      const err = r.criteria.filter((c) => c.metric === "newErrorRatePct" && c.bound && c.bound.unit === "%");
      assert.ok(err.length >= 2, `${s}%`);
      for (const c of err) {
        assert.equal(c.bound?.lower, err[0].bound?.lower);
        assert.equal(c.bound?.upper, err[0].bound?.upper);
      }
      assert.deepEqual(new Set(err.map((c) => c.bound?.line)).size, err.length, "each criterion keeps its own line");
    }
  });

  it("soak time: exactly the soak time proceeds, a minute less waits and says how much is left", () => {
    assert.equal(evaluateGate(input(10, healthy(), gate.soakHours)).verdict, "PROCEED");
    const r = evaluateGate(input(10, healthy(), gate.soakHours - 1 / 60));
    assert.equal(r.verdict, "WAIT");
    assert.equal(r.exitCode, 3);
    assert.ok(Math.abs((r.needed.soakHours ?? 0) - 1 / 60) < 1e-9);
  });

  it("an unknown stage start (no rollout record) waits", () => {
    const r = evaluateGate({ ...input(10), stageStartedAt: undefined });
    assert.equal(r.verdict, "WAIT");
    assert.match(r.reasons.join("\n"), /no rollout record/);
  });

  describe("minimum volumes (issue 10 item 4)", () => {
    it("too few requests or users on the new path waits and says how many more", () => {
      const m = healthy();
      m.new = path(gate.minNewRequests - 1, 0, gate.minNewUsers);
      let r = evaluateGate(input(25, m));
      assert.equal(r.verdict, "WAIT");
      assert.equal(r.needed.requests, 1);
      m.new = path(gate.minNewRequests, 0, gate.minNewUsers - 1);
      r = evaluateGate(input(25, m));
      assert.equal(r.verdict, "WAIT");
      assert.equal(r.needed.users, 1);
    });

    it("500 new-path requests (30 users, 10 errors) against one legacy request: WAIT, never PROCEED (today's gate said PROCEED)", () => {
      const m = healthy();
      m.new = path(500, 10, 30, 0);
      m.legacy = path(1, 0, 1, 0);
      const old = evaluateLegacyGate(input(10, m));
      assert.equal(old.verdict, "PROCEED", "the defect as it was");
      const r = evaluateGate(input(10, m));
      assert.equal(r.verdict, "WAIT");
      assert.equal(r.needed.legacyRequests, gate.minLegacyRequests - 1);
      assert.equal(r.needed.legacyUsers, gate.minLegacyUsers - 1);
      assert.match(r.reasons.join("\n"), /too few requests on the legacy path: 1 of 500/);
      assert.equal(r.criteria.find((c) => c.id === "error-rate-vs-legacy")?.status, "insufficient-data");
    });

    it("the legacy minimums are config keys, and each one alone holds the comparison back", () => {
      for (const [requests, users] of [[gate.minLegacyRequests - 1, 400], [100_000, gate.minLegacyUsers - 1]]) {
        const m = healthy();
        m.legacy = path(requests, Math.round(requests * 0.012), users);
        assert.equal(evaluateGate(input(50, m)).verdict, "WAIT", `${requests} requests, ${users} users`);
      }
      const loose = parseConfig({ appImage: "example/app:1", gate: { minLegacyRequests: "10", minLegacyUsers: "5" } }, { stack: "test" }).gate;
      const m = healthy();
      m.legacy = path(500, 5, 20);
      assert.notEqual(evaluateGate({ ...input(50, m), gate: loose }).needed.legacyRequests, 1);
      assert.equal(evaluateGate({ ...input(50, m), gate: loose }).needed.legacyUsers, undefined);
    });

    it("legacy-only traffic at a canary stage waits (nothing on the new path to judge)", () => {
      const m = healthy();
      m.new = none();
      const r = evaluateGate(input(10, m));
      assert.equal(r.verdict, "WAIT");
      assert.equal(r.needed.requests, gate.minNewRequests);
    });
  });

  describe("exposure is part of the verdict (issue 10 item 4): far from the configured percentage waits", () => {
    it("at 10% with half the users on the new path: WAIT, with the reason", () => {
      const m = healthy(50); // traffic shaped like 50 %
      const r = evaluateGate(input(10, m));
      assert.equal(r.exposure.flagged, true);
      assert.equal(r.verdict, "WAIT");
      assert.match(r.reasons.join("\n"), /exposure: 50\.0% of .* distinct users on the new path, configured 10%/);
    });
    it("new-path users while the flags are off (stage 0): WAIT", () => {
      const m = healthy(0);
      m.new = path(20_000, 100, 5000);
      const r = evaluateGate(input(0, m));
      assert.equal(r.verdict, "WAIT");
      assert.ok(r.exposure.flagged);
    });
    it("a stronger verdict is never hidden by it", () => {
      const m = { ...healthy(50), contaminationCount: 1 };
      assert.equal(evaluateGate(input(10, m)).verdict, "ROLLBACK");
    });
    it("within the tolerance, or with too few users to judge, it does not hold the stage", () => {
      assert.equal(evaluateGate(input(25)).exposure.flagged, false);
      const m = healthy();
      m.new = path(10, 0, 10);
      m.legacy = path(10, 0, 10);
      assert.equal(exposureCheck(10, m, gate.exposureTolerancePct, gate.minNewUsers).flagged, false);
      assert.equal(exposureCheck(10, m, gate.exposureTolerancePct, 1).flagged, true);
    });
  });

  describe("stage 0 and 100 judge only what applies, and say so", () => {
    it("stage 0 (flags off) judges the legacy baseline; the comparison does not apply", () => {
      const r = evaluateGate(input(0));
      assert.equal(r.verdict, "PROCEED", r.reasons.join("; "));
      assert.equal(r.judgedPath, "legacy");
      assert.equal(r.comparison, undefined);
      assert.match(r.applies, /no new-path traffic.*legacy baseline.*comparison does not apply/);
      const m = healthy(0);
      m.legacy = path(100_000, 4000, 5000); // 4 %: clearly above the 2 % baseline line
      assert.equal(evaluateGate(input(0, m)).verdict, "PAUSE");
    });
    it("stage 100 judges the absolute targets; legacy minimums do not apply", () => {
      const r = evaluateGate(input(100));
      assert.equal(r.verdict, "PROCEED", r.reasons.join("; "));
      assert.equal(r.needed.legacyRequests, undefined);
      assert.match(r.applies, /no legacy traffic.*absolute targets.*comparison with legacy does not apply/);
    });
    it("the immediate-rollback state (flags off, percentage kept) is judged as stage 0", () => {
      const r = evaluateGate({ ...input(50, healthy(0)), flags: OFF });
      assert.equal(r.stage, 0);
      assert.equal(r.deployedStage, 50);
    });
  });

  describe("new vs legacy: non-inferiority with the margin", () => {
    const big = 400_000;
    const at = (newRate: number, legacyRate: number, n = big, share = 0.5) => {
      const m = healthy(50);
      const nn = Math.round(n * share);
      m.new = path(nn, Math.round(nn * newRate), Math.round(nn / 20));
      m.legacy = path(n - nn, Math.round((n - nn) * legacyRate), Math.round((n - nn) / 20));
      return evaluateGate(input(50, m));
    };
    it("PROCEED needs the upper bound of new − legacy within the margin; it says so in plain words", () => {
      const r = at(0.012, 0.01); // +0.2 pp, inside the 0.5 pp margin
      assert.equal(r.verdict, "PROCEED", r.reasons.join("; "));
      assert.ok(r.comparison && r.comparison.upperPp <= gate.errorRateMarginPct && r.comparison.decision === "within-margin");
      assert.match(r.comparison.statement, /the new path's error rate is at most 0\.\d\d pp above legacy's, within the 0\.50 pp margin .*confidence that holds however often this is checked/);
      assert.ok(r.comparison.estimatePp > 0, "a new path worse by less than the margin may proceed");
    });
    it("a new path shown better than legacy says so, not a negative 'above'", () => {
      const r = evaluateGate(input(10));
      assert.ok(r.comparison && r.comparison.upperPp < 0);
      assert.match(r.comparison.statement, /the new path's error rate is at least 0\.\d\d pp below legacy's, within the 0\.50 pp margin/);
    });
    it("PAUSE when the lower bound is above the margin", () => {
      const r = at(0.018, 0.01); // +0.8 pp
      assert.equal(r.verdict, "PAUSE");
      assert.ok(r.comparison && r.comparison.lowerPp > gate.errorRateMarginPct);
      assert.match(r.reasons.join("\n"), /at least 0\.\d\d pp above legacy's, more than the 0\.50 pp margin allows/);
      assert.equal(r.suggestedCommand, "rollout rollback");
    });
    it("WAIT while the bounds straddle the margin (small samples never PROCEED on their own)", () => {
      const r = at(0.015, 0.01, 20_000); // +0.5 pp: on the margin
      assert.equal(r.verdict, "WAIT");
      assert.equal(r.comparison?.decision, "undecided");
      // Today's gate: the z-test finds no significance at this volume and says PROCEED.
      const m = healthy(10);
      m.new = path(600, 10, 60); // 1.67 % vs 1 %
      m.legacy = path(5400, 54, 540);
      assert.equal(evaluateLegacyGate(input(10, m)).verdict, "PROCEED");
      assert.equal(evaluateGate(input(10, m)).verdict, "WAIT");
    });
  });

  describe("absolute criteria with the same always-valid bounds", () => {
    const withNew = (errors: number, n = 20_000, slow: number | readonly number[] = 0.01) => {
      const m = healthy(25);
      m.new = path(n, Math.round(errors), 2000, slow);
      m.legacy = path(3 * n, Math.round(3 * n * 0.03), 6000); // legacy at 3 %: the comparison does not block
      return evaluateGate(input(25, m));
    };
    it("an error rate clearly above 2 % pauses, one clearly above 5 % rolls back", () => {
      let r = withNew(20_000 * 0.035);
      assert.equal(r.verdict, "PAUSE");
      assert.equal(r.criteria.find((c) => c.id === "error-rate-pause")?.status, "failed");
      assert.equal(r.criteria.find((c) => c.id === "error-rate-critical")?.status, "met");
      r = withNew(20_000 * 0.08);
      assert.equal(r.verdict, "ROLLBACK");
      assert.equal(r.suggestedCommand, "rollout rollback --immediate");
    });
    it("a point estimate just above a line is not enough: the bounds must clear it", () => {
      const r = withNew(20_000 * 0.021);
      assert.equal(r.criteria.find((c) => c.id === "error-rate-pause")?.status, "undecided");
      assert.notEqual(r.verdict, "PAUSE");
    });
    it("p95 < 3 s is judged as fewer than 5 % of requests taking 3 s or longer", () => {
      const idx3 = LINES.indexOf(t.p95WarningSeconds);
      const slow = LINES.map((_, i) => (i <= idx3 ? 0.09 : 0.01)); // 9 % slower than 3 s
      const r = withNew(100, 20_000, slow);
      assert.equal(r.verdict, "PAUSE");
      const c = r.criteria.find((x) => x.id === "p95-below-warning");
      assert.equal(c?.status, "failed");
      assert.match(c?.statement ?? "", /share of new-path requests taking 3 s or longer is between/);
      assert.equal(r.criteria.find((x) => x.id === "p95-critical")?.status, "met");
    });
    it("without per-threshold counts a p95 criterion cannot be met: WAIT", () => {
      const m = healthy(25);
      m.new = { ...m.new, latency: undefined };
      const r = evaluateGate(input(25, m));
      assert.equal(r.verdict, "WAIT");
      assert.equal(r.criteria.find((x) => x.id === "p95-below-warning")?.status, "insufficient-data");
    });
  });

  it("any contamination rolls back, at any stage and any volume", () => {
    for (const s of STAGES) {
      const m = healthy(s);
      m.contaminationCount = 1;
      if (s > 0) m.new = path(3, 0, 1);
      const r = evaluateGate(input(s, m, 0));
      assert.equal(r.verdict, "ROLLBACK", `${s}%`);
      assert.ok(r.criteria.some((c) => c.id === "contamination" && c.status === "failed"));
    }
  });

  describe("fails closed on non-finite or impossible metrics (issue 10 item 14)", () => {
    type Corrupt = [string, (m: StageMetrics) => void];
    const corruptions: Corrupt[] = [
      ["NaN new errors", (m) => (m.new.errors = NaN)],
      ["NaN legacy requests", (m) => (m.legacy.requests = NaN)],
      ["Infinity new requests", (m) => (m.new.requests = Infinity)],
      ["negative new errors", (m) => (m.new.errors = -1)],
      ["fractional users", (m) => (m.new.users = 2.5)],
      ["errors > requests", (m) => (m.new.errors = m.new.requests + 1)],
      ["users > requests", (m) => (m.legacy.users = m.legacy.requests + 1)],
      ["requests without users", (m) => (m[m.new.requests > 0 ? "new" : "legacy"].users = 0)],
      ["negative p95", (m) => (m.new.p95Seconds = -0.5)],
      ["NaN p95", (m) => (m.new.p95Seconds = NaN)],
      ["infinite p95 (an 'infinity' timestamp on PostgreSQL 17)", (m) => (m.new.p95Seconds = Infinity)],
      ["negative average", (m) => (m.legacy.avgSeconds = -1)],
      ["slow count above timed", (m) => (m.new.latency = [{ thresholdSeconds: 3, timed: 10, over: 11 }])],
      ["timed above requests", (m) => (m.new.latency = [{ thresholdSeconds: 3, timed: m.new.requests + 1, over: 0 }])],
      ["NaN slow count", (m) => (m.new.latency = [{ thresholdSeconds: 3, timed: 10, over: NaN }])],
      ["negative contamination", (m) => (m.contaminationCount = -1)],
    ];
    for (const [name, corrupt] of corruptions) {
      it(`${name}: no verdict, an error naming the value`, () => {
        for (const s of STAGES) {
          const m = healthy(s);
          corrupt(m);
          assert.throws(() => evaluateGate(input(s, m)), (e: unknown) => e instanceof GateInputError && e.problems.length > 0, `${s}%`);
        }
      });
    }
    it("the message names the metric and the value", () => {
      const m = healthy();
      m.new.errors = m.new.requests + 1;
      assert.throws(() => evaluateGate(input(10, m)), /new\.errors \(\d+\) > new\.requests \(\d+\)/);
    });
    for (const v of [NaN, Infinity, -Infinity]) {
      it(`contamination ${v}: ROLLBACK with the reason, at every stage`, () => {
        for (const s of STAGES) {
          const m = healthy(s);
          m.contaminationCount = v;
          const r = evaluateGate(input(s, m));
          assert.equal(r.verdict, "ROLLBACK", `${s}%`);
          assert.match(r.reasons[0], /contamination count is .*not a finite number/);
        }
      });
    }
    it("non-finite contamination with other impossible metrics still rolls back, listing them", () => {
      const m = healthy();
      m.contaminationCount = NaN;
      m.new.errors = -3;
      const r = evaluateGate(input(10, m));
      assert.ok(r.criteria.filter((c) => c.metric !== "contaminationCount").every((c) => c.status === "insufficient-data"));
      assert.equal(r.verdict, "ROLLBACK");
      assert.match(r.reasons.join("\n"), /impossible metric: new\.errors is -3/);
    });
    it("bad gate settings passed directly are refused too", () => {
      assert.throws(() => evaluateGate({ ...input(10), gate: { ...gate, errorRateMarginPct: NaN } }), /gate\.errorRateMarginPct is NaN/);
      assert.throws(() => evaluateGate({ ...input(10), gate: { ...gate, confidence: 1 } }), /gate\.confidence/);
      assert.throws(() => evaluateGate({ ...input(10), thresholds: { ...t, errorRateWarningPct: NaN } }), /thresholds\.errorRateWarningPct/);
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
    const accepted = (command: string, stage: Stage, flags: Flags) => {
      assert.match(command, /^rollout rollback( --immediate)?$/);
      planRollback(stackCfg(stage, flags), command.endsWith("--immediate"));
    };
    const contaminated = (s: Stage) => ({ ...healthy(s), contaminationCount: 1 });
    const legacyErrors = () => {
      const m = healthy(0);
      m.legacy = path(100_000, 4000, 5000);
      return m;
    };

    it("ROLLBACK with a flag on suggests the immediate rollback, which the CLI accepts", () => {
      for (const flags of [ON, { ...ON, enableSafeJsonParser: false }]) {
        const r = evaluateGate({ ...input(25, contaminated(25)), flags });
        assert.equal(r.verdict, "ROLLBACK");
        assert.equal(r.suggestedCommand, "rollout rollback --immediate");
        assert.equal(r.advice, null);
        accepted(r.suggestedCommand, 25, flags);
      }
    });

    it("ROLLBACK in the immediate-rollback state (flags off at 50%): no command, advice to investigate", () => {
      const r = evaluateGate({ ...input(50, contaminated(0)), flags: OFF });
      assert.equal(r.verdict, "ROLLBACK");
      assert.equal(r.suggestedCommand, null);
      assert.match(r.advice ?? "", /^both flags are already off \(deployed 50%, effective 0%\): nothing to roll back/);
      assert.match(r.advice ?? "", /psql "\$ROLLOUT_DATABASE_URL" -c 'SELECT \* FROM monitoring\.contaminated_sessions'/);
      assert.throws(() => planRollback(stackCfg(50, OFF), true), RefusedError);
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
        const m = healthy(stage);
        m.new = path(m.new.requests, Math.round(m.new.requests * 0.035), m.new.users);
        const r = evaluateGate(input(stage, m));
        assert.equal(r.verdict, "PAUSE", `${stage}%: ${r.reasons.join("; ")}`);
        assert.equal(r.suggestedCommand, "rollout rollback");
        accepted(r.suggestedCommand, stage, ON);
      }
    });
  });

  it("looks so far are reported when the caller counts them, and never change the bounds", () => {
    const a = evaluateGate(input(10));
    const b = evaluateGate({ ...input(10), looks: 37 });
    assert.equal(a.looks, null);
    assert.equal(b.looks, 37);
    assert.deepEqual(a.comparison, b.comparison);
  });
});
