/**
 * The rollout gate: a verdict for the current stage from the stage's metrics,
 * the guide's criteria (lib/stages.ts `criteriaFor`) and the stack's
 * `thresholds` and `gate` config (lib/config.ts).
 *
 * Pure: no database, no Pulumi, no clock (the caller passes `asOf`).
 *
 * Verdicts, strongest first:
 * - ROLLBACK: a rollback criterion hit (contamination, or a critical breach);
 * - PAUSE: a pause criterion hit, or a success criterion clearly fails;
 * - WAIT: too little soak time, or too few requests / users on the judged path;
 * - PROCEED: every success criterion holds over the soak time.
 *
 * "New error rate ≤ legacy" is judged with a one-sided two-proportion z-test
 * (pooled variance): the criterion fails only when the data show, at the
 * configured confidence (`gate.confidence`, default 0.95), that the new path's
 * error rate is higher than legacy's. Noise therefore cannot block a stage;
 * and it cannot pass one on its own either, because no criterion is judged
 * before the minimum request and user counts (`gate.minNewRequests`,
 * `gate.minNewUsers`) are reached.
 */
import type { GateConfig } from "./config";
import {
  Criterion,
  Flags,
  Metric,
  Stage,
  StageCriteria,
  Thresholds,
  compare,
  criteriaFor,
  effectivePercentage,
  isStage,
  nextStage,
  previousStage,
} from "./stages";

export const VERDICTS = ["PROCEED", "WAIT", "PAUSE", "ROLLBACK"] as const;
export type Verdict = (typeof VERDICTS)[number];

/** Process exit code of each verdict (README: "rollout → exit codes"). */
export const VERDICT_EXIT_CODES: Readonly<Record<Verdict, number>> = Object.freeze({
  PROCEED: 0,
  WAIT: 3,
  PAUSE: 4,
  ROLLBACK: 5,
});

/** Metrics of one path (new = `metadata->>'useStateless' = 'true'`, legacy = the rest). */
export interface PathMetrics {
  requests: number;
  errors: number;
  /** Distinct user_id values. */
  users: number;
  avgSeconds: number | null;
  p95Seconds: number | null;
}

/** What the gate reads: both paths over a window, and the contamination count. */
export interface StageMetrics {
  windowStart: Date;
  windowEnd: Date;
  new: PathMetrics;
  legacy: PathMetrics;
  /** Sessions with more than one user_id in the window. */
  contaminationCount: number;
}

export interface GateInput {
  /** The deployed stage and flags (what the app runs). */
  stage: Stage;
  flags: Flags;
  /** When the deployed stage (or flags) took effect; undefined when unknown. */
  stageStartedAt: Date | undefined;
  asOf: Date;
  metrics: StageMetrics;
  thresholds: Thresholds;
  gate: GateConfig;
}

export interface ProportionTest {
  test: string;
  hypothesis: string;
  newErrors: number;
  newRequests: number;
  legacyErrors: number;
  legacyRequests: number;
  z: number;
  pValue: number;
  /** 1 − p: how confident the data make us that the new path's error rate is higher. */
  confidenceNewWorse: number;
  /** The configured confidence level a difference must reach to count. */
  requiredConfidence: number;
  /** True when the new path is worse at the required confidence. */
  newSignificantlyWorse: boolean;
  /** Set when an expected count is below 5: the normal approximation is rough. */
  note?: string;
}

export type CriterionStatus = "met" | "failed" | "insufficient-data";

export interface CriterionResult {
  id: string;
  kind: Criterion["kind"];
  description: string;
  metric: Metric;
  /** The metric's observed value, or null when the path has no traffic. */
  observed: number | null;
  op: Criterion["op"];
  threshold: number;
  /** For `success`: met/failed; for `pause`/`rollback`: failed = the criterion was hit. */
  status: CriterionStatus;
  /** The statistical test, for "error rate ≤ legacy". */
  test?: ProportionTest;
}

export interface Shortfall {
  soakHours?: number;
  requests?: number;
  users?: number;
  legacyRequests?: number;
}

export interface GateResult {
  verdict: Verdict;
  exitCode: number;
  /** The stage whose criteria were applied (the effective stage: 0 while a flag is off). */
  stage: Stage;
  deployedStage: Stage;
  phase: StageCriteria["phase"];
  nextStage: Stage | null;
  /** Which path the volume minimums were applied to. */
  judgedPath: "new" | "legacy";
  soakHoursRequired: number;
  soakHoursElapsed: number | null;
  metrics: StageMetrics;
  criteria: CriterionResult[];
  /** The statistical test used for "error rate ≤ legacy", when the stage has that criterion. */
  test?: ProportionTest;
  /** What WAIT still needs. */
  needed: Shortfall;
  /** Plain-language reasons for the verdict, most important first. */
  reasons: string[];
  /**
   * The `rollout` command that acts on the verdict, one the CLI accepts in the
   * deployed state (lib/stackEdit.ts): never `rollback --immediate` when both
   * flags are already off, never `rollback` at an effective 0%. Null when there
   * is nothing to run (see `advice`).
   */
  suggestedCommand: string | null;
  /** What to do instead when ROLLBACK or PAUSE has no command to run (the flags are already off). */
  advice: string | null;
}

/** The monitoring views (migrations; docs/RUNBOOK.md "Troubleshooting") to look at for a metric. */
export const INVESTIGATION_VIEWS: Readonly<Record<"errors" | "latency" | "contamination", readonly string[]>> = Object.freeze({
  errors: ["monitoring.error_rate_by_version", "monitoring.error_patterns"],
  latency: ["monitoring.latency_by_version", "monitoring.slow_sessions"],
  contamination: ["monitoring.session_isolation", "monitoring.contaminated_sessions"],
});

function viewsFor(metric: Metric): readonly string[] {
  if (metric === "contaminationCount") return INVESTIGATION_VIEWS.contamination;
  return metric.endsWith("Seconds") ? INVESTIGATION_VIEWS.latency : INVESTIGATION_VIEWS.errors;
}

/**
 * Advice for a ROLLBACK or PAUSE verdict when the flags are already off (the
 * new path serves nobody): there is nothing to roll back, so say where to look.
 */
export function nothingToRollBackAdvice(why: string, hit: readonly CriterionResult[]): string {
  const views = [...new Set(hit.flatMap((r) => viewsFor(r.metric)))];
  const shown = views.length > 0 ? views : [...INVESTIGATION_VIEWS.errors];
  const psql = shown.map((v) => `psql "$ROLLOUT_DATABASE_URL" -c 'SELECT * FROM ${v}'`).join("; ");
  return `${why}: nothing to roll back. Investigate the legacy path: ${psql}`;
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
export function twoProportionTest(
  newErrors: number,
  newRequests: number,
  legacyErrors: number,
  legacyRequests: number,
  confidence: number,
): ProportionTest {
  const pNew = newErrors / newRequests;
  const pLegacy = legacyErrors / legacyRequests;
  const pooled = (newErrors + legacyErrors) / (newRequests + legacyRequests);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / newRequests + 1 / legacyRequests));
  // No variance (no errors anywhere, or all errors): the rates are equal.
  const z = se > 0 ? (pNew - pLegacy) / se : 0;
  const pValue = se > 0 ? normalUpperTail(z) : 1;
  const minExpected = Math.min(
    newRequests * pooled,
    newRequests * (1 - pooled),
    legacyRequests * pooled,
    legacyRequests * (1 - pooled),
  );
  return {
    test: "one-sided two-proportion z-test (pooled variance)",
    hypothesis: "H0: new error rate ≤ legacy error rate; H1: new error rate > legacy error rate",
    newErrors,
    newRequests,
    legacyErrors,
    legacyRequests,
    z,
    pValue,
    confidenceNewWorse: 1 - pValue,
    requiredConfidence: confidence,
    newSignificantlyWorse: pValue < 1 - confidence,
    note:
      se > 0 && minExpected < 5
        ? `an expected count is ${minExpected.toFixed(1)} (< 5): the normal approximation is rough`
        : undefined,
  };
}

// ---------------------------------------------------------------------------
// Metric values

export function errorRatePct(p: PathMetrics): number | null {
  return p.requests > 0 ? (100 * p.errors) / p.requests : null;
}

export function metricValue(m: StageMetrics, metric: Metric): number | null {
  switch (metric) {
    case "newErrorRatePct":
      return errorRatePct(m.new);
    case "legacyErrorRatePct":
      return errorRatePct(m.legacy);
    case "newP95Seconds":
      return m.new.requests > 0 ? m.new.p95Seconds : null;
    case "legacyP95Seconds":
      return m.legacy.requests > 0 ? m.legacy.p95Seconds : null;
    case "contaminationCount":
      return m.contaminationCount;
  }
}

function pathOf(metric: Metric): "new" | "legacy" | null {
  if (metric.startsWith("new")) return "new";
  if (metric.startsWith("legacy")) return "legacy";
  return null;
}

const fmt = (v: number | null, metric: Metric): string => {
  if (v === null) return "n/a";
  if (metric.endsWith("Pct")) return `${v.toFixed(2)}%`;
  if (metric.endsWith("Seconds")) return `${v.toFixed(2)}s`;
  return String(v);
};

// ---------------------------------------------------------------------------
// The gate

const HOUR_MS = 3_600_000;

/** The stage whose criteria apply: the effective one (0 while either flag is off). */
export function judgedStage(stage: Stage, flags: Flags): Stage {
  const eff = effectivePercentage({ canaryPercentage: stage, ...flags });
  return isStage(eff) ? eff : stage;
}

export function evaluateGate(input: GateInput): GateResult {
  const { metrics: m, thresholds, gate } = input;
  const stage = judgedStage(input.stage, input.flags);
  const crit = criteriaFor(stage, thresholds);
  const judgedPath: "new" | "legacy" = crit.phase === "baseline" ? "legacy" : "new";
  const judged = m[judgedPath];

  const shortfall: Shortfall = {};
  if (judged.requests < gate.minNewRequests) shortfall.requests = gate.minNewRequests - judged.requests;
  if (judged.users < gate.minNewUsers) shortfall.users = gate.minNewUsers - judged.users;
  const enoughVolume = shortfall.requests === undefined && shortfall.users === undefined;

  let test: ProportionTest | undefined;
  const results: CriterionResult[] = [];
  const all = [...crit.rollback, ...crit.pause, ...crit.success];
  for (const c of all) {
    const observed = metricValue(m, c.metric);
    const base = { id: c.id, kind: c.kind, description: c.description, metric: c.metric, observed, op: c.op };
    const path = pathOf(c.metric);
    // Contamination is evidence at any volume; rates and percentiles need the minimum volume.
    const volumeOk = path === null || enoughVolume;
    if (typeof c.threshold === "string") {
      // "new error rate ≤ legacy error rate": the statistical test.
      const thresholdValue = metricValue(m, c.threshold);
      if (!volumeOk || observed === null || thresholdValue === null || m.legacy.requests === 0) {
        if (m.legacy.requests === 0) shortfall.legacyRequests = 1;
        results.push({ ...base, threshold: thresholdValue ?? NaN, status: "insufficient-data" });
        continue;
      }
      test = twoProportionTest(m.new.errors, m.new.requests, m.legacy.errors, m.legacy.requests, gate.confidence);
      results.push({ ...base, threshold: thresholdValue, status: test.newSignificantlyWorse ? "failed" : "met", test });
      continue;
    }
    if (!volumeOk || observed === null) {
      results.push({ ...base, threshold: c.threshold, status: "insufficient-data" });
      continue;
    }
    const holds = compare(observed, c.op, c.threshold);
    // success: holds = met; pause/rollback: holds = hit (reported as "failed").
    const status: CriterionStatus = c.kind === "success" ? (holds ? "met" : "failed") : holds ? "failed" : "met";
    results.push({ ...base, threshold: c.threshold, status });
  }

  const elapsed =
    input.stageStartedAt === undefined ? null : (input.asOf.getTime() - input.stageStartedAt.getTime()) / HOUR_MS;
  const soakOk = elapsed !== null && elapsed >= gate.soakHours;
  if (!soakOk) shortfall.soakHours = elapsed === null ? gate.soakHours : gate.soakHours - elapsed;

  const describe = (r: CriterionResult) =>
    `${r.description}: observed ${fmt(r.observed, r.metric)}` +
    (r.test
      ? ` vs legacy ${fmt(r.threshold, "legacyErrorRatePct")} (${r.test.test}: p = ${r.test.pValue.toPrecision(3)}, ` +
        `confidence new is worse ${(100 * r.test.confidenceNewWorse).toFixed(1)}% vs required ${(100 * r.test.requiredConfidence).toFixed(1)}%)`
      : "");
  const hit = (kind: Criterion["kind"]) => results.filter((r) => r.kind === kind && r.status === "failed");
  const reasons: string[] = [];
  let verdict: Verdict;
  const rollbackHits = hit("rollback");
  const pauseHits = hit("pause");
  const successFails = hit("success");
  const successUnknown = results.filter((r) => r.kind === "success" && r.status === "insufficient-data");

  if (rollbackHits.length > 0) {
    verdict = "ROLLBACK";
    reasons.push(...rollbackHits.map((r) => `rollback criterion hit: ${describe(r)}`));
  } else if (pauseHits.length > 0 || (successFails.length > 0 && successUnknown.length === 0)) {
    verdict = "PAUSE";
    reasons.push(...pauseHits.map((r) => `pause criterion hit: ${describe(r)}`));
    reasons.push(...successFails.map((r) => `success criterion not met: ${describe(r)}`));
  } else if (!enoughVolume || successUnknown.length > 0 || !soakOk) {
    verdict = "WAIT";
    if (shortfall.requests !== undefined)
      reasons.push(`too few requests on the ${judgedPath} path: ${judged.requests} of ${gate.minNewRequests} (need ${shortfall.requests} more)`);
    if (shortfall.users !== undefined)
      reasons.push(`too few users on the ${judgedPath} path: ${judged.users} of ${gate.minNewUsers} (need ${shortfall.users} more)`);
    if (shortfall.legacyRequests !== undefined)
      reasons.push(`no legacy traffic to compare the new path's error rate with`);
    if (!soakOk) {
      reasons.push(
        elapsed === null
          ? `the stage's start is unknown (no rollout record for it); soak time needed: ${gate.soakHours} h`
          : `soaked ${elapsed.toFixed(1)} h of ${gate.soakHours} h (need ${(gate.soakHours - elapsed).toFixed(1)} h more)`,
      );
    }
    reasons.push(...successFails.map((r) => `success criterion not met so far: ${describe(r)}`));
  } else {
    verdict = "PROCEED";
    reasons.push(...results.filter((r) => r.kind === "success").map((r) => `met: ${describe(r)}`));
    reasons.push(`soaked ${elapsed?.toFixed(1)} h of ${gate.soakHours} h`);
  }

  const next = nextStage(stage) ?? null;
  // What `rollout rollback` accepts (lib/stackEdit.ts planRollback): `--immediate` while a flag is on;
  // plain `rollback` while the effective percentage (the judged stage) is above 0.
  const anyFlagOn = input.flags.enableStatelessOrchestration || input.flags.enableSafeJsonParser;
  const prev = previousStage(stage);
  let suggestedCommand: string | null = null;
  let advice: string | null = null;
  if (verdict === "ROLLBACK") {
    if (anyFlagOn) suggestedCommand = "rollout rollback --immediate";
    else advice = nothingToRollBackAdvice(`both flags are already off (deployed ${input.stage}%, effective 0%)`, rollbackHits);
  } else if (verdict === "PAUSE") {
    if (prev !== undefined) suggestedCommand = "rollout rollback";
    else advice = nothingToRollBackAdvice(`the new path already serves nobody (deployed ${input.stage}%, effective 0%)`, [...pauseHits, ...successFails]);
  } else if (verdict === "PROCEED" && next !== null) suggestedCommand = "rollout advance";

  return {
    verdict,
    exitCode: VERDICT_EXIT_CODES[verdict],
    stage,
    deployedStage: input.stage,
    phase: crit.phase,
    nextStage: next,
    judgedPath,
    soakHoursRequired: gate.soakHours,
    soakHoursElapsed: elapsed,
    metrics: m,
    criteria: results,
    test,
    needed: shortfall,
    reasons,
    suggestedCommand,
    advice,
  };
}

// ---------------------------------------------------------------------------
// Exposure

export interface ExposureCheck {
  /** The configured share of users on the new path (0 while a flag is off). */
  expectedPct: number;
  /** Observed share of distinct users on the new path, or null without traffic. */
  observedPct: number | null;
  tolerancePct: number;
  /** True when observed and expected differ by more than the tolerance. */
  flagged: boolean;
  message: string;
}

/** Observed share of distinct users on the new path against the configured percentage. */
export function exposureCheck(expectedPct: number, m: StageMetrics, tolerancePct: number): ExposureCheck {
  const total = m.new.users + m.legacy.users;
  const observedPct = total > 0 ? (100 * m.new.users) / total : null;
  const flagged = observedPct !== null && Math.abs(observedPct - expectedPct) > tolerancePct;
  const message =
    observedPct === null
      ? "no users in the window"
      : `${observedPct.toFixed(1)}% of ${total} distinct users on the new path, configured ${expectedPct}%` +
        (flagged ? ` — off by more than ${tolerancePct} points: check the bucketing and the deployed flags` : "");
  return { expectedPct, observedPct, tolerancePct, flagged, message };
}
