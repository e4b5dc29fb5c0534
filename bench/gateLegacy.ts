/**
 * Today's gate, before the always-valid gate (issue 12), kept callable so that
 * the benchmark (`npm run bench:gate`) runs it side by side with the new one
 * (core/gate.ts). Not used by the CLI, the drill or CI.
 *
 * "New error rate ≤ legacy" is a one-sided pooled two-proportion z-test at
 * the configured confidence, re-run at every look; the guide's absolute
 * criteria compare point estimates (the error rate, the p95) with the lines.
 *
 * Pure: no database, no Pulumi, no clock.
 */
import type { GateConfig } from "../core/configSchema";
import type { GateInput, PathMetrics, StageMetrics, Verdict } from "../core/gate";
import { HOUR_MS, judgedStage, metricValue } from "../core/gate";
import { Criterion, compare, criteriaFor } from "../core/stages";

/** The z-test's figures. */
export interface ProportionTest {
  z: number;
  pValue: number;
  newSignificantlyWorse: boolean;
}

type CriterionStatus = "met" | "failed" | "insufficient-data";
interface CriterionResult {
  id: string;
  kind: Criterion["kind"];
  status: CriterionStatus;
}

export interface LegacyGateResult {
  verdict: Verdict;
  criteria: CriterionResult[];
  test?: ProportionTest;
}

// ---------------------------------------------------------------------------
// Statistics

/**
 * The standard normal upper tail P(Z > z), via the complementary error
 * function (Abramowitz & Stegun 7.1.26 rational approximation, absolute error
 * below 1.5e-7: far finer than any confidence level the config allows).
 * A one-line formula; a statistics package would add a dependency for it.
 */
export function normalUpperTail(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erfc = poly * Math.exp(-x * x);
  return z >= 0 ? erfc / 2 : 1 - erfc / 2;
}

/**
 * One-sided two-proportion z-test with pooled variance.
 * H0: p_new ≤ p_legacy; H1: p_new > p_legacy.
 */
export function twoProportionTest(newErrors: number, newRequests: number, legacyErrors: number, legacyRequests: number, confidence: number): ProportionTest {
  const pNew = newErrors / newRequests;
  const pLegacy = legacyErrors / legacyRequests;
  const pooled = (newErrors + legacyErrors) / (newRequests + legacyRequests);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / newRequests + 1 / legacyRequests));
  const z = se > 0 ? (pNew - pLegacy) / se : 0;
  const pValue = se > 0 ? normalUpperTail(z) : 1;
  return { z, pValue, newSignificantlyWorse: pValue < 1 - confidence };
}

/** A path's p95 as today's gate reads it (a point estimate). */
export type LegacyPathMetrics = Pick<PathMetrics, "requests" | "errors" | "users" | "p95Seconds">;

/**
 * Today's verdict (main before issue 12), logic unchanged: volume minimums on
 * the judged path only, soak time, point estimates against the lines, and the
 * z-test for "error rate ≤ legacy".
 */
export function evaluateLegacyGate(input: Omit<GateInput, "gate" | "metrics"> & { gate: Pick<GateConfig, "minNewRequests" | "minNewUsers" | "confidence" | "soakHours">; metrics: StageMetrics }): LegacyGateResult {
  const { metrics: m, thresholds, gate } = input;
  const stage = judgedStage(input.stage, input.flags);
  const crit = criteriaFor(stage, thresholds);
  const judged = m[crit.phase === "baseline" ? "legacy" : "new"];
  const enoughVolume = judged.requests >= gate.minNewRequests && judged.users >= gate.minNewUsers;
  let test: ProportionTest | undefined;
  const results: CriterionResult[] = [];
  for (const c of [...crit.rollback, ...crit.pause, ...crit.success]) {
    const observed = metricValue(m, c.metric);
    const volumeOk = c.metric === "contaminationCount" || enoughVolume;
    if (typeof c.threshold === "string") {
      const other = metricValue(m, c.threshold);
      if (!volumeOk || observed === null || other === null || m.legacy.requests === 0) {
        results.push({ id: c.id, kind: c.kind, status: "insufficient-data" });
        continue;
      }
      test = twoProportionTest(m.new.errors, m.new.requests, m.legacy.errors, m.legacy.requests, gate.confidence);
      results.push({ id: c.id, kind: c.kind, status: test.newSignificantlyWorse ? "failed" : "met" });
      continue;
    }
    if (!volumeOk || observed === null) {
      results.push({ id: c.id, kind: c.kind, status: "insufficient-data" });
      continue;
    }
    const holds = compare(observed, c.op, c.threshold);
    results.push({ id: c.id, kind: c.kind, status: c.kind === "success" ? (holds ? "met" : "failed") : holds ? "failed" : "met" });
  }
  const elapsed = input.stageStartedAt === undefined ? null : (input.asOf.getTime() - input.stageStartedAt.getTime()) / HOUR_MS;
  const soakOk = elapsed !== null && elapsed >= gate.soakHours;
  const hit = (kind: Criterion["kind"]) => results.some((r) => r.kind === kind && r.status === "failed");
  const successUnknown = results.some((r) => r.kind === "success" && r.status === "insufficient-data");
  let verdict: Verdict;
  if (hit("rollback")) verdict = "ROLLBACK";
  else if (hit("pause") || (hit("success") && !successUnknown)) verdict = "PAUSE";
  else if (!enoughVolume || successUnknown || !soakOk) verdict = "WAIT";
  else verdict = "PROCEED";
  return { verdict, criteria: results, test };
}
