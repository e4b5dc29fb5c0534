/**
 * The rollout gate: a verdict for the current stage from the stage's metrics,
 * the guide's criteria (core/stages.ts `criteriaFor`) and the stack's
 * `thresholds` and `gate` config (core/configSchema.ts). Method: docs/gate.md.
 *
 * Pure: no database, no Pulumi, no clock (the caller passes `asOf`).
 *
 * Verdicts, strongest first:
 * - ROLLBACK: a rollback criterion is shown hit (contamination, or a critical
 *   breach), or the contamination count is not a finite number;
 * - PAUSE: a pause criterion is shown hit, or a success criterion is shown to fail;
 * - WAIT: anything not yet shown — too little soak time, too few requests or
 *   users on a judged path, an observed exposure far from the configured
 *   percentage, or a success criterion whose bounds still straddle its line;
 * - PROCEED: every success criterion is shown to hold, after the soak time.
 *
 * "Shown" means by always-valid one-sided bounds (core/sequential.ts) that
 * hold however often the gate is read. α = 1 − `gate.confidence` bounds each
 * kind of error over the whole rollout — a false PAUSE/ROLLBACK (a lower
 * bound above the truth) and a false PROCEED (an upper bound below it) — as
 * `alphaPlan` spends it (docs/gate.md, "How α is spent"). Every rate is a proportion: an error rate, the
 * new − legacy difference of error rates (non-inferiority with margin
 * `gate.errorRateMarginPct`), or, for a p95 criterion, the share of requests
 * slower than the line ("p95 < 3 s" ⇔ "fewer than 5 % of requests take longer
 * than 3 s").
 *
 * Impossible metrics (non-finite, negative, errors > requests, …) never give
 * a verdict: `decideGate` throws a GateInputError naming each one (the CLI
 * exits 1). A non-finite contamination count gives ROLLBACK.
 *
 * This module decides: `decideGate` returns numbers and statuses only. Every
 * sentence about a decision (the criteria's statements, the reasons, what a
 * stage judges, the advice, the α plan) is core/gateText.ts's, whose
 * `evaluateGate` is the decision in words that the CLI, the PR comment and
 * the report all read.
 */
import type { GateConfig, HoldConfig } from "./configSchema";
import { Interval, betaBinomialCS, betaPriorFor, differenceBounds } from "./sequential";
import {
  Criterion,
  Flags,
  Metric,
  STAGES,
  Stage,
  StageCriteria,
  Thresholds,
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

/** Requests with a duration, and how many of them took longer than `thresholdSeconds`. */
export interface LatencyCount {
  thresholdSeconds: number;
  /** Requests with a duration (the denominator). */
  timed: number;
  /** Requests with a duration longer than the threshold. */
  over: number;
  /** Requests with a duration of the threshold or longer (defaults to `over`: the same for continuous durations). */
  atLeast?: number;
}

/** Metrics of one path (new = `metadata->>'useStateless' = 'true'`, legacy = the rest). */
export interface PathMetrics {
  requests: number;
  errors: number;
  /** Distinct user_id values. */
  users: number;
  avgSeconds: number | null;
  p95Seconds: number | null;
  /** Per-threshold latency counts (monitoring.stage_latency_counts); a p95 criterion needs its line's count. */
  latency?: readonly LatencyCount[];
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
  /** How many times this stage's gate has been read, this one included, when the caller counts; the bounds do not depend on it. */
  looks?: number;
  /** Why the looks are not counted, when the caller could not count them (shown instead of the count). */
  looksNote?: string;
  /**
   * A hold in the stack file (`rollout hold`, issue 25): the guide's pause on "critical bugs reported", which no
   * metric sees. While it is set the verdict is PAUSE (ROLLBACK still wins: a hold never hides one).
   */
  hold?: HoldConfig;
}

/** Impossible or non-finite metrics or settings: no verdict. */
export class GateInputError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`the gate cannot judge impossible metrics (no verdict; fix the data or the query): ${problems.join("; ")}`);
    this.name = "GateInputError";
    this.problems = problems;
  }
}

/**
 * - met: a success criterion shown to hold, or a pause/rollback criterion shown not hit;
 * - failed: a success criterion shown to fail, or a pause/rollback criterion shown hit;
 * - undecided: the bounds still straddle the line;
 * - insufficient-data: below the minimum volume, or no data for it.
 */
export type CriterionStatus = "met" | "failed" | "undecided" | "insufficient-data";

/** An always-valid confidence interval for one proportion or difference, in percent (or percentage points). */
export interface Bound {
  /** What is bounded, in words. */
  quantity: string;
  unit: "%" | "pp";
  estimate: number | null;
  lower: number;
  upper: number;
  /** The line the bounds are compared with (same unit). */
  line: number;
  /** 1 − (the α of both bounds): the confidence that the truth is inside both, valid at every look. */
  confidence: number;
  /** 1 − the α of the lower bound alone (a one-sided bound: P(the truth is ever below it) ≤ its α). */
  lowerConfidence: number;
  /** 1 − the α of the upper bound alone. */
  upperConfidence: number;
  method: string;
  /** Observations behind it (requests, or timed requests). */
  observations: number;
}

/** Why a criterion was not judged (its status is then "insufficient-data"). */
export type NotJudged =
  | { why: "impossible-metrics" }
  | { why: "below-volume"; path: "new" | "legacy" | "both" }
  | { why: "no-data"; path: "new" | "legacy"; slowerThanSeconds?: number };

/** One criterion as decided: numbers and a status (core/gateText.ts words it: CriterionResult). */
export interface CriterionFacts {
  id: string;
  kind: Criterion["kind"];
  description: string;
  metric: Metric;
  /** The metric's observed value (point estimate, for display), or null when the path has no traffic. */
  observed: number | null;
  op: Criterion["op"];
  /** The guide's line for the metric (for "≤ legacy": legacy's observed rate). */
  threshold: number | null;
  status: CriterionStatus;
  /** The always-valid bounds the status was decided on (none for contamination, or without data). */
  bound?: Bound;
  /** Why it was not judged, when its status is "insufficient-data". */
  notJudged?: NotJudged;
}

/** A decided criterion with its sentence (core/gateText.ts). */
export interface CriterionResult extends Omit<CriterionFacts, "notJudged"> {
  /** One sentence a reviewer can check. */
  statement: string;
}

/** New vs legacy error rate, non-inferiority with a margin (core/gateText.ts words it: Comparison). */
export interface ComparisonFacts {
  estimatePp: number;
  lowerPp: number;
  upperPp: number;
  marginPp: number;
  /** Of both bounds together; each one-sided bound's own confidence follows. */
  confidence: number;
  lowerConfidence: number;
  upperConfidence: number;
  method: string;
  newRequests: number;
  legacyRequests: number;
  /** within-margin: PROCEED side shown; worse-than-margin: PAUSE; undecided: WAIT. */
  decision: "within-margin" | "worse-than-margin" | "undecided";
}

export interface Comparison extends ComparisonFacts {
  statement: string;
}

export interface Shortfall {
  soakHours?: number;
  /** New-path requests / users still needed. */
  requests?: number;
  users?: number;
  legacyRequests?: number;
  legacyUsers?: number;
}

/**
 * How the rollout's α is spent at this stage (docs/gate.md, "How α is spent").
 * Each error type has the whole α = 1 − gate.confidence for the whole rollout:
 * - PAUSE side (a false PAUSE or ROLLBACK: a lower bound above the truth):
 *   COMPARISON_ALPHA_SHARE for the comparison, most of it at its first stage
 *   (FIRST_COMPARISON_ALPHA_SHARE), the rest over the later stages in proportion
 *   to the variance per request of the difference there; the remainder shared
 *   equally by every other (stage, proportion) lower bound of the rollout;
 * - PROCEED side (a false PROCEED: an upper bound below the truth): α/|STAGES|
 *   per stage, and every upper bound of the stage at that level (PROCEED needs
 *   every success criterion shown met: an intersection-union test).
 */
export interface AlphaSpend {
  /** α for the whole rollout, for each error type: 1 − gate.confidence. */
  rollout: number;
  /** Stages sharing it. */
  stages: number;
  /** The PROCEED side's α at this stage: the level of each upper bound. */
  stage: number;
  proceed: number;
  /** The α of the comparison's lower bound at this stage (null where there is no comparison). */
  comparison: number | null;
  /** Lower bounds of the guide's absolute lines over the whole rollout sharing the rest of α (1 − COMPARISON_ALPHA_SHARE). */
  questions: number;
  /** The α of each of them (a lower bound of an error rate or a slow share). */
  perQuestion: number;
}

/**
 * The guide's last steps at 100 % (issue 25): "Monitor for 48 hours" and the success metric "48 hours stable
 * operation". Time since 100 % began (the stage's rollout record) against the soak time (gate.soakHours, whose
 * default is the guide's GUIDE_SOAK_HOURS, core/stages.ts); met when the gate says PROCEED at 100 %: every
 * success criterion shown met after that time, no pause line crossed, no hold.
 */
export interface FullRolloutFacts {
  stableHoursRequired: number;
  /** Hours since 100 % took effect, or null when the stage has no rollout record. */
  stableHoursElapsed: number | null;
  /** When 100 % took effect, or null. */
  since: Date | null;
  /** When the required hours are reached (since + required), or null. */
  dueAt: Date | null;
  /** The guide's "48 hours stable operation" is met: the rollout is complete. */
  met: boolean;
}

/** The gate's decision: numbers and statuses only (decideGate); core/gateText.ts evaluateGate words it as a GateResult. */
export interface GateDecision {
  verdict: Verdict;
  /** What the metrics alone say: the verdict without the hold (equal to `verdict` when there is none). */
  metricVerdict: Verdict;
  /** The stack file's hold, when set: the verdict is then PAUSE unless the metrics say ROLLBACK. */
  hold: HoldConfig | null;
  /** At an effective 100 % only: the guide's "48 hours stable operation" (FullRolloutFacts); null at other stages. */
  fullRollout: FullRolloutFacts | null;
  exitCode: number;
  /** The stage whose criteria were applied (the effective stage: 0 while a flag is off). */
  stage: Stage;
  deployedStage: Stage;
  phase: StageCriteria["phase"];
  nextStage: Stage | null;
  /** The path the stage's own criteria are about (legacy at 0, new elsewhere). */
  judgedPath: "new" | "legacy";
  soakHoursRequired: number;
  soakHoursElapsed: number | null;
  metrics: StageMetrics;
  criteria: CriterionFacts[];
  /** New vs legacy error rate, at stages with both paths. */
  comparison?: ComparisonFacts;
  alpha: AlphaSpend;
  /** Looks at this stage so far (this one included), or null when the caller does not count. */
  looks: number | null;
  /** Why `looks` is null, when the caller said; null otherwise. */
  looksNote: string | null;
  exposure: ExposureFacts;
  /** What WAIT still needs. */
  needed: Shortfall;
  /**
   * The `rollout` command that acts on the verdict, one the CLI accepts in the
   * deployed state (core/transitions.ts): never `rollback --immediate` when both
   * flags are already off, never `rollback` at an effective 0%. Null when there
   * is nothing to run (see `advice`).
   */
  suggestedCommand: string | null;
  /** Why ROLLBACK or PAUSE has no command to run (the new path already serves nobody), or null. */
  nothingToRollBack: "flags-already-off" | "new-path-serves-nobody" | null;
  /** The non-inferiority margin (gate.errorRateMarginPct), in percentage points. */
  marginPct: number;
  /** The minimum volume on each judged path (the gate config). */
  minimums: { newRequests: number; newUsers: number; legacyRequests: number; legacyUsers: number };
  /** The impossible metrics beside a non-finite contamination count (the only case judged with any). */
  metricProblems: string[];
}

/** A decision in words (core/gateText.ts evaluateGate): what `rollout gate --json` prints and every reader shows. */
export interface GateResult extends Omit<GateDecision, "criteria" | "comparison" | "exposure" | "nothingToRollBack" | "marginPct" | "minimums" | "metricProblems"> {
  criteria: CriterionResult[];
  exposure: ExposureCheck;
  comparison?: Comparison;
  /** What this stage judges and what does not apply, in words. */
  applies: string;
  /** Plain-language reasons for the verdict, most important first. */
  reasons: string[];
  /** What to do instead when ROLLBACK or PAUSE has no command to run (the flags are already off). */
  advice: string | null;
}

/** The monitoring views (migrations; docs/RUNBOOK.md "Troubleshooting") to look at for a metric. */
export const INVESTIGATION_VIEWS: Readonly<Record<"errors" | "latency" | "contamination", readonly string[]>> = Object.freeze({
  errors: ["monitoring.error_rate_by_version", "monitoring.error_patterns"],
  latency: ["monitoring.latency_by_version", "monitoring.slow_sessions"],
  contamination: ["monitoring.session_isolation", "monitoring.contaminated_sessions"],
});

/** The monitoring views to look at for a metric. */
export function viewsFor(metric: Metric): readonly string[] {
  if (metric === "contaminationCount") return INVESTIGATION_VIEWS.contamination;
  return metric.endsWith("Seconds") ? INVESTIGATION_VIEWS.latency : INVESTIGATION_VIEWS.errors;
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

/** The share of requests a p95 criterion allows above its line: 5 %. */
export const P95_TAIL_PCT = 5;

/** One hour in milliseconds: the unit of `soakHours`, the one definition (the gate, the drill, the CLI). */
export const HOUR_MS = 3_600_000;

/**
 * The window the gate reads a stage's metrics over: the whole stage, from its
 * record, because the confidence sequences accumulate from the stage's start
 * (docs/gate.md). Without a record, the last `soakHours` before `asOf` (the
 * gate then waits: the start is unknown). The one definition: `rollout gate`,
 * `status`, the drill and the report all call it.
 */
export function gateWindow(stageStartedAt: Date | undefined, asOf: Date, soakHours: number): { since: Date; until: Date } {
  return { since: stageStartedAt ?? new Date(asOf.getTime() - soakHours * HOUR_MS), until: asOf };
}

/** The latency lines the gate needs counts for (the metrics layer asks the database for exactly these). */
export function latencyThresholds(t: Thresholds): number[] {
  return [...new Set([t.targetP95Seconds, t.p95WarningSeconds, t.p95CriticalSeconds])].sort((a, b) => a - b);
}

// ---------------------------------------------------------------------------
// Validation: fail closed

const isCount = (v: unknown): v is number => typeof v === "number" && Number.isInteger(v) && v >= 0;
const isDate = (d: unknown): d is Date => d instanceof Date && Number.isFinite(d.getTime());

/** Every impossible value in the metrics and settings, in words; empty when all are possible. */
export function metricProblems(input: GateInput): string[] {
  const out: string[] = [];
  const m = input.metrics;
  for (const name of ["new", "legacy"] as const) {
    const p = m[name];
    for (const k of ["requests", "errors", "users"] as const) {
      if (!isCount(p[k])) out.push(`${name}.${k} is ${String(p[k])}: must be a non-negative integer`);
    }
    if (isCount(p.errors) && isCount(p.requests) && p.errors > p.requests) out.push(`${name}.errors (${p.errors}) > ${name}.requests (${p.requests})`);
    if (isCount(p.users) && isCount(p.requests) && p.users > p.requests) out.push(`${name}.users (${p.users}) > ${name}.requests (${p.requests})`);
    if (isCount(p.users) && isCount(p.requests) && p.requests > 0 && p.users === 0) out.push(`${name}.requests is ${p.requests} but ${name}.users is 0`);
    for (const k of ["avgSeconds", "p95Seconds"] as const) {
      const v = p[k];
      if (v !== null && !(typeof v === "number" && Number.isFinite(v) && v >= 0)) out.push(`${name}.${k} is ${String(v)}: must be a finite number ≥ 0, or null`);
    }
    for (const l of p.latency ?? []) {
      const where = `${name}.latency[${String(l.thresholdSeconds)} s]`;
      if (!(typeof l.thresholdSeconds === "number" && Number.isFinite(l.thresholdSeconds) && l.thresholdSeconds > 0)) out.push(`${where}: the threshold must be a positive number`);
      if (!isCount(l.timed) || !isCount(l.over)) out.push(`${where}: timed (${String(l.timed)}) and over (${String(l.over)}) must be non-negative integers`);
      else {
        if (l.atLeast !== undefined && !(isCount(l.atLeast) && l.atLeast >= l.over && l.atLeast <= l.timed)) {
          out.push(`${where}: atLeast (${String(l.atLeast)}) must be an integer from over (${l.over}) to timed (${l.timed})`);
        }
        if (l.over > l.timed) out.push(`${where}: over (${l.over}) > timed (${l.timed})`);
        if (isCount(p.requests) && l.timed > p.requests) out.push(`${where}: timed (${l.timed}) > ${name}.requests (${p.requests})`);
      }
    }
  }
  const c = m.contaminationCount;
  if (typeof c === "number" && Number.isFinite(c) && !isCount(c)) out.push(`contaminationCount is ${c}: must be a non-negative integer`);
  if (typeof c !== "number") out.push(`contaminationCount is ${String(c)}: must be a number`);
  if (!isDate(input.asOf)) out.push(`asOf is not a valid time`);
  if (input.stageStartedAt !== undefined && !isDate(input.stageStartedAt)) out.push(`the stage's start is not a valid time`);
  if (input.looks !== undefined && !(Number.isInteger(input.looks) && input.looks >= 1)) out.push(`looks is ${input.looks}: must be a positive integer`);
  const g = input.gate;
  const positive = (k: keyof GateConfig) => {
    const v = g[k];
    if (!(typeof v === "number" && Number.isFinite(v) && v > 0)) out.push(`gate.${k} is ${String(v)}: must be a positive number`);
  };
  for (const k of ["soakHours", "minNewRequests", "minNewUsers", "minLegacyRequests", "minLegacyUsers", "errorRateMarginPct", "exposureTolerancePct"] as const) positive(k);
  if (!(g.confidence > 0 && g.confidence < 1)) out.push(`gate.confidence is ${String(g.confidence)}: must be in (0, 1)`);
  for (const [k, v] of Object.entries(input.thresholds)) {
    if (!(typeof v === "number" && Number.isFinite(v) && v >= 0)) out.push(`thresholds.${k} is ${String(v)}: must be a finite number ≥ 0`);
  }
  return out;
}

// ---------------------------------------------------------------------------
// The gate


/** The stage whose criteria apply: the effective one (0 while either flag is off). */
export function judgedStage(stage: Stage, flags: Flags): Stage {
  const eff = effectivePercentage({ canaryPercentage: stage, ...flags });
  return isStage(eff) ? eff : stage;
}

/** The α each stage may spend on the PROCEED side: the rollout's α shared equally by the stages. */
export function stageAlpha(confidence: number): number {
  return (1 - confidence) / STAGES.length;
}

/** The share of the PAUSE side's α the comparison gets (the rest goes to the guide's absolute lines). */
export const COMPARISON_ALPHA_SHARE = 0.8;

/**
 * The share of the comparison's α its first stage (10 %) gets. A regression is met first there, with the
 * fewest users exposed and the scarcest new-path data, so that is where α buys the most: the later stages
 * see the same new path with a larger share of the traffic, and share the rest.
 */
export const FIRST_COMPARISON_ALPHA_SHARE = 0.875;

/** The distinct proportions (not the comparison) a stage's criteria judge: one lower and one upper bound each. */
function questionsAt(stage: Stage, thresholds: Thresholds, marginPct: number): Map<string, Question> {
  const crit = criteriaFor(stage, thresholds);
  const out = new Map<string, Question>();
  for (const c of [...crit.rollback, ...crit.pause, ...crit.success]) {
    const q = questionOf(c, marginPct);
    if (q === null) continue;
    const had = out.get(q.key);
    // One sequence per proportion, whatever lines it is judged against; its prior is tuned to the lowest line.
    out.set(q.key, had === undefined || q.kind === "diff" ? q : { ...had, line: Math.min(had.line, q.line) });
  }
  return out;
}

/**
 * The α plan for a stage (see AlphaSpend). The comparison's first stage gets FIRST_COMPARISON_ALPHA_SHARE
 * of the comparison's α; the later stages share the rest in proportion to 1/(s(1 − s)) at new-path share s,
 * the variance per request of the difference (up to the error rates), so that the scarcer data get more
 * (weighted Bonferroni). Every lower bound of the rollout together spends at most 1 − confidence.
 */
export function alphaPlan(stage: Stage, thresholds: Thresholds, confidence: number, marginPct: number): AlphaSpend {
  const rollout = 1 - confidence;
  const weight = (s: Stage) => (s > 0 && s < 100 ? 1 / ((s / 100) * (1 - s / 100)) : 0);
  const compared: Stage[] = [];
  let others = 0;
  for (const s of STAGES) {
    const qs = questionsAt(s, thresholds, marginPct);
    if (qs.has("diff") && weight(s) > 0) compared.push(s);
    others += [...qs.keys()].filter((k) => k !== "diff").length;
  }
  const comparisonAlpha = rollout * COMPARISON_ALPHA_SHARE;
  const later = compared.slice(1);
  const laterWeight = later.reduce<number>((sum, s) => sum + weight(s), 0);
  const comparison = !compared.includes(stage)
    ? null
    : later.length === 0
      ? comparisonAlpha
      : stage === compared[0]
        ? comparisonAlpha * FIRST_COMPARISON_ALPHA_SHARE
        : (comparisonAlpha * (1 - FIRST_COMPARISON_ALPHA_SHARE) * weight(stage)) / laterWeight;
  const perQuestion = (rollout * (1 - COMPARISON_ALPHA_SHARE)) / Math.max(1, others);
  const proceed = stageAlpha(confidence);
  return { rollout, stages: STAGES.length, stage: proceed, proceed, comparison, questions: Math.max(1, others), perQuestion };
}

/**
 * The bound on one proportion k of n (an error rate, or the share of timed requests slower than a
 * threshold), in percent, from its beta-binomial interval (a fraction) and the confidences it was built at.
 * The one shape both kinds of proportion criterion report.
 */
export function proportionBound(
  quantity: string,
  k: number,
  n: number,
  interval: Interval,
  line: number,
  conf: Pick<Bound, "confidence" | "lowerConfidence" | "upperConfidence">,
): Bound {
  return {
    quantity,
    unit: "%",
    estimate: (100 * k) / n,
    lower: 100 * interval.lower,
    upper: 100 * interval.upper,
    line,
    confidence: conf.confidence,
    lowerConfidence: conf.lowerConfidence,
    upperConfidence: conf.upperConfidence,
    method: "beta-binomial mixture confidence sequence (Robbins 1970; Howard et al. 2021)",
    observations: n,
  };
}

/** The statistical question a criterion asks: a proportion against a line, or the comparison. */
interface Question {
  key: string;
  path: "new" | "legacy";
  /** "error": error rate; "slow": share of timed requests over `seconds`; "diff": new − legacy error rate. */
  kind: "error" | "slow" | "diff";
  seconds?: number;
  /** For "slow": count requests of `seconds` or longer (for "p95 < T", "p95 ≥ T") instead of longer than it. */
  inclusive?: boolean;
  /** The line, in percent (error / slow) or percentage points (diff: the margin). */
  line: number;
}

function questionOf(c: Criterion, marginPct: number): Question | null {
  const path = pathOf(c.metric);
  if (path === null) return null; // contamination: a count, judged as is
  if (typeof c.threshold === "string") return { key: "diff", path: "new", kind: "diff", line: marginPct };
  if (c.metric.endsWith("ErrorRatePct")) return { key: `${path}:error`, path, kind: "error", line: c.threshold };
  // "p95 < T" ⇔ fewer than 5 % take T or longer; "p95 > T" (and "≤ T") ⇔ more than (at most) 5 % take longer than T.
  const inclusive = c.op === "<" || c.op === ">=";
  return { key: `${path}:slow:${c.threshold}:${inclusive ? "ge" : "gt"}`, path, kind: "slow", seconds: c.threshold, inclusive, line: P95_TAIL_PCT };
}

/**
 * Decide a criterion "metric op line" from always-valid bounds [lo, hi] on the
 * metric: a success criterion is met when the whole interval satisfies it and
 * failed when none of it does; a pause/rollback criterion ("> line") is hit
 * when the whole interval is above the line and not hit when none of it is.
 */
export function decide(kind: Criterion["kind"], op: Criterion["op"], lo: number, hi: number, line: number): "met" | "failed" | "undecided" {
  const allTrue = op === "<" ? hi < line : op === "<=" ? hi <= line : op === ">" ? lo > line : lo >= line;
  const allFalse = op === "<" ? lo >= line : op === "<=" ? lo > line : op === ">" ? hi <= line : hi < line;
  if (kind === "success") return allTrue ? "met" : allFalse ? "failed" : "undecided";
  return allTrue ? "failed" : allFalse ? "met" : "undecided";
}

/** What decides the verdict: the judged criteria and the checks beside them. */
interface VerdictInput {
  results: CriterionFacts[];
  exposure: ExposureFacts;
  soakOk: boolean;
  volumeShort: boolean;
}

/**
 * The verdict, strongest first (ROLLBACK, PAUSE, WAIT, PROCEED: the header of this file), with the
 * criteria that were hit, for the next step. (A non-finite contamination count fails the contamination
 * criteria, so it is a ROLLBACK here too.) core/gateText.ts gives the reasons, in the same order.
 */
function verdictOf(v: VerdictInput): { verdict: Verdict; rollbackHits: CriterionFacts[]; pauseHits: CriterionFacts[]; successFails: CriterionFacts[] } {
  const { results, exposure, soakOk, volumeShort } = v;
  const hit = (kind: Criterion["kind"]) => results.filter((r) => r.kind === kind && r.status === "failed");
  const rollbackHits = hit("rollback");
  const pauseHits = hit("pause");
  const successFails = hit("success");
  const successOpen = results.filter((r) => r.kind === "success" && (r.status === "undecided" || r.status === "insufficient-data"));
  const verdict: Verdict =
    rollbackHits.length > 0
      ? "ROLLBACK"
      : pauseHits.length > 0 || successFails.length > 0
        ? "PAUSE"
        : volumeShort || successOpen.length > 0 || !soakOk || exposure.flagged
          ? "WAIT"
          : "PROCEED";
  return { verdict, rollbackHits, pauseHits, successFails };
}

/** Requests and users still missing on each judged path, and whether each path has its minimum volume. */
function volumeShortfall(m: StageMetrics, gate: GateConfig, needsNew: boolean, needsLegacy: boolean): { shortfall: Shortfall; volumeOk: { new: boolean; legacy: boolean } } {
  const shortfall: Shortfall = {};
  if (needsNew) {
    if (m.new.requests < gate.minNewRequests) shortfall.requests = gate.minNewRequests - m.new.requests;
    if (m.new.users < gate.minNewUsers) shortfall.users = gate.minNewUsers - m.new.users;
  }
  if (needsLegacy) {
    if (m.legacy.requests < gate.minLegacyRequests) shortfall.legacyRequests = gate.minLegacyRequests - m.legacy.requests;
    if (m.legacy.users < gate.minLegacyUsers) shortfall.legacyUsers = gate.minLegacyUsers - m.legacy.users;
  }
  const volumeOk = { new: shortfall.requests === undefined && shortfall.users === undefined, legacy: shortfall.legacyRequests === undefined && shortfall.legacyUsers === undefined };
  return { shortfall, volumeOk };
}

/**
 * The command a verdict suggests, or why there is nothing to run. What `rollout rollback` accepts
 * (core/transitions.ts planRollback): `--immediate` while a flag is on; plain `rollback` while the effective
 * percentage (the judged stage) is above 0.
 */
function nextStep(verdict: Verdict, input: Pick<GateInput, "stage" | "flags">, stage: Stage): Pick<GateDecision, "suggestedCommand" | "nothingToRollBack"> {
  const next = nextStage(stage) ?? null;
  const anyFlagOn = input.flags.enableStatelessOrchestration || input.flags.enableSafeJsonParser;
  const prev = previousStage(stage);
  if (verdict === "ROLLBACK") return anyFlagOn ? { suggestedCommand: "rollout rollback --immediate", nothingToRollBack: null } : { suggestedCommand: null, nothingToRollBack: "flags-already-off" };
  if (verdict === "PAUSE") return prev !== undefined ? { suggestedCommand: "rollout rollback", nothingToRollBack: null } : { suggestedCommand: null, nothingToRollBack: "new-path-serves-nobody" };
  return { suggestedCommand: verdict === "PROCEED" && next !== null ? "rollout advance" : null, nothingToRollBack: null };
}

/** The gate's decision on a stage's metrics: numbers and statuses (core/gateText.ts evaluateGate says it in words). */
export function decideGate(input: GateInput): GateDecision {
  const problems = metricProblems(input);
  const { metrics: m, thresholds, gate } = input;
  const contaminationNonFinite = typeof m.contaminationCount === "number" && !Number.isFinite(m.contaminationCount);
  if (problems.length > 0 && !contaminationNonFinite) throw new GateInputError(problems);

  const stage = judgedStage(input.stage, input.flags);
  const crit = criteriaFor(stage, thresholds);
  const phase = crit.phase;
  const judgedPath: "new" | "legacy" = phase === "baseline" ? "legacy" : "new";
  const needsNew = phase !== "baseline";
  const needsLegacy = phase !== "full";
  const marginPct = gate.errorRateMarginPct;
  const effPct = effectivePercentage({ canaryPercentage: input.stage, enableStatelessOrchestration: input.flags.enableStatelessOrchestration, enableSafeJsonParser: input.flags.enableSafeJsonParser });
  const exposure = exposureCheck(effPct, m, gate.exposureTolerancePct, gate.minNewUsers);

  const { shortfall, volumeOk } = volumeShortfall(m, gate, needsNew, needsLegacy);

  // α: fixed by the stages' criteria and the config, not by the data (alphaPlan).
  const all = [...crit.rollback, ...crit.pause, ...crit.success];
  const questions = questionsAt(stage, thresholds, marginPct);
  const alpha = alphaPlan(stage, thresholds, gate.confidence, marginPct);

  let comparison: ComparisonFacts | undefined;
  const boundCache = new Map<string, Bound | null>();
  const boundFor = (q: Question): Bound | null => {
    if (boundCache.has(q.key)) return boundCache.get(q.key) ?? null;
    let b: Bound | null = null;
    const p = m[q.path];
    const who = q.path === "new" ? "new-path" : "legacy";
    const aLower = q.kind === "diff" ? (alpha.comparison as number) : alpha.perQuestion;
    const aUpper = alpha.proceed;
    const conf = { confidence: 1 - aLower - aUpper, lowerConfidence: 1 - aLower, upperConfidence: 1 - aUpper };
    /** Lower and upper one-sided beta-binomial bounds: each the matching edge of the two-sided CS at its own α (conservative). */
    const proportion = (k: number, n: number) => {
      const prior = betaPriorFor((questions.get(q.key) ?? q).line / 100);
      const lo = betaBinomialCS(k, n, aLower, prior);
      const hi = aUpper === aLower ? lo : betaBinomialCS(k, n, aUpper, prior);
      return { lower: lo.lower, upper: hi.upper };
    };
    if (q.kind === "diff") {
      const cs = differenceBounds(m.new.errors, m.new.requests, m.legacy.errors, m.legacy.requests, aLower, aUpper, marginPct / 100);
      b = {
        quantity: "new − legacy error rate",
        unit: "pp",
        estimate: 100 * cs.estimate,
        lower: 100 * cs.lower,
        upper: 100 * cs.upper,
        line: marginPct,
        ...conf,
        method: "one-sided normal-mixture bounds on the difference, tuned to the margin (mixture SPRT, Johari et al. 2017; Howard et al. 2021)",
        observations: m.new.requests + m.legacy.requests,
      };
    } else if (q.kind === "error") {
      if (p.requests > 0) {
        b = proportionBound(`${who} error rate`, p.errors, p.requests, proportion(p.errors, p.requests), q.line, conf);
      }
    } else {
      const l = (p.latency ?? []).find((x) => x.thresholdSeconds === q.seconds);
      if (l && l.timed > 0) {
        const slow = q.inclusive ? (l.atLeast ?? l.over) : l.over;
        const quantity = `share of ${who} requests ${q.inclusive ? "taking" : "slower than"} ${q.seconds} s${q.inclusive ? " or longer" : ""}`;
        b = proportionBound(quantity, slow, l.timed, proportion(slow, l.timed), q.line, conf);
      }
    }
    boundCache.set(q.key, b);
    return b;
  };

  const results: CriterionFacts[] = [];
  for (const c of all) {
    const observed = contaminationNonFinite && c.metric === "contaminationCount" ? null : metricValue(m, c.metric);
    const q = questionOf(c, marginPct);
    const push = (description: string, threshold: number | null, status: CriterionStatus, more: { bound: Bound } | { notJudged: NotJudged } | Record<string, never> = {}) =>
      results.push({ id: c.id, kind: c.kind, description, metric: c.metric, observed, op: c.op, threshold, status, ...more });
    if (q === null) {
      // Contamination: a count, evidence at any volume. Not a finite number: treated as hit.
      const line = c.threshold as number;
      const hitNow = contaminationNonFinite || m.contaminationCount > line;
      const status: CriterionStatus = c.kind === "success" ? (hitNow ? "failed" : "met") : hitNow ? "failed" : "met";
      push(c.description, line, status);
      continue;
    }
    if (problems.length > 0) {
      // Only reached with a non-finite contamination count (ROLLBACK): nothing else is judged on impossible data.
      push(c.description, typeof c.threshold === "number" ? c.threshold : null, "insufficient-data", { notJudged: { why: "impossible-metrics" } });
      continue;
    }
    if (q.kind === "diff") {
      const description = `Error rate ≤ legacy error rate + ${marginPct} pp (non-inferiority)`;
      const threshold = metricValue(m, "legacyErrorRatePct");
      if (!volumeOk.new || !volumeOk.legacy || m.new.requests === 0 || m.legacy.requests === 0) {
        push(description, threshold, "insufficient-data", { notJudged: { why: "below-volume", path: "both" } });
        continue;
      }
      const b = boundFor(q) as Bound;
      const status = decide(c.kind, "<=", b.lower, b.upper, marginPct);
      const decision = status === "met" ? "within-margin" : status === "failed" ? "worse-than-margin" : "undecided";
      comparison = {
        estimatePp: b.estimate ?? 0,
        lowerPp: b.lower,
        upperPp: b.upper,
        marginPp: marginPct,
        confidence: b.confidence,
        lowerConfidence: b.lowerConfidence,
        upperConfidence: b.upperConfidence,
        method: b.method,
        newRequests: m.new.requests,
        legacyRequests: m.legacy.requests,
        decision,
      };
      push(description, threshold, status, { bound: b });
      continue;
    }
    const threshold = c.threshold as number;
    if (!volumeOk[q.path]) {
      push(c.description, threshold, "insufficient-data", { notJudged: { why: "below-volume", path: q.path } });
      continue;
    }
    const cached = boundFor(q);
    if (cached === null) {
      push(c.description, threshold, "insufficient-data", { notJudged: q.kind === "slow" ? { why: "no-data", path: q.path, slowerThanSeconds: q.seconds } : { why: "no-data", path: q.path } });
      continue;
    }
    // One sequence per proportion, shared by its lines (the error rate against 2 % and 5 %): this criterion's line.
    const b: Bound = { ...cached, line: q.line };
    // A p95 criterion "p95 op T" is the statement "share slower than T op 5 %".
    push(c.description, threshold, decide(c.kind, c.op, b.lower, b.upper, b.line), { bound: b });
  }

  const elapsed = input.stageStartedAt === undefined ? null : (input.asOf.getTime() - input.stageStartedAt.getTime()) / HOUR_MS;
  const soakOk = elapsed !== null && elapsed >= gate.soakHours;
  if (!soakOk) shortfall.soakHours = elapsed === null ? gate.soakHours : gate.soakHours - elapsed;

  const { verdict: metricVerdict } = verdictOf({ results, exposure, soakOk, volumeShort: (needsNew && !volumeOk.new) || (needsLegacy && !volumeOk.legacy) });
  const hold = input.hold ?? null;
  // A hold pauses whatever the metrics say, except a ROLLBACK, which it never hides.
  const verdict: Verdict = hold !== null && metricVerdict !== "ROLLBACK" ? "PAUSE" : metricVerdict;
  const next = nextStage(stage) ?? null;
  const fullRollout: FullRolloutFacts | null =
    stage === STAGES[STAGES.length - 1]
      ? {
          stableHoursRequired: gate.soakHours,
          stableHoursElapsed: elapsed,
          since: input.stageStartedAt ?? null,
          dueAt: input.stageStartedAt === undefined ? null : new Date(input.stageStartedAt.getTime() + gate.soakHours * HOUR_MS),
          met: verdict === "PROCEED",
        }
      : null;

  return {
    verdict,
    metricVerdict,
    hold,
    fullRollout,
    exitCode: VERDICT_EXIT_CODES[verdict],
    stage,
    deployedStage: input.stage,
    phase,
    nextStage: next,
    judgedPath,
    soakHoursRequired: gate.soakHours,
    soakHoursElapsed: elapsed,
    metrics: m,
    criteria: results,
    comparison,
    alpha,
    looks: input.looks ?? null,
    looksNote: input.looks === undefined ? (input.looksNote ?? null) : null,
    exposure,
    needed: shortfall,
    // A hold alone suggests no command: releasing it, or rolling back, is a person's decision (core/gateText.ts words the advice).
    ...(verdict === metricVerdict ? nextStep(verdict, input, stage) : { suggestedCommand: null, nothingToRollBack: null }),
    marginPct,
    minimums: { newRequests: gate.minNewRequests, newUsers: gate.minNewUsers, legacyRequests: gate.minLegacyRequests, legacyUsers: gate.minLegacyUsers },
    metricProblems: contaminationNonFinite ? problems : [],
  };
}

// ---------------------------------------------------------------------------
// Exposure

/** The exposure check's numbers (exposureCheck); core/gateText.ts wordExposure says them (ExposureCheck). */
export interface ExposureFacts {
  /** The configured share of users on the new path (0 while a flag is off). */
  expectedPct: number;
  /** Observed share of distinct users on the new path, or null without traffic. */
  observedPct: number | null;
  tolerancePct: number;
  /** True when observed and expected differ by more than the tolerance (judged from `minUsers` users on). */
  flagged: boolean;
  /** Distinct users in the window, both paths. */
  users: number;
  /** The share is judged from this many users on; below, it is reported, not judged. */
  minUsers: number;
}

/** The exposure check as every reader shows it (GateResult, `rollout gate --json`): the numbers and core/gateText.ts's sentence. */
export interface ExposureCheck extends Pick<ExposureFacts, "expectedPct" | "observedPct" | "tolerancePct" | "flagged"> {
  message: string;
}

/**
 * Observed share of distinct users on the new path against the configured
 * percentage. With fewer than `minUsers` users in the window the share is
 * reported, not judged.
 */
export function exposureCheck(expectedPct: number, m: StageMetrics, tolerancePct: number, minUsers = 1): ExposureFacts {
  const users = m.new.users + m.legacy.users;
  const observedPct = users > 0 ? (100 * m.new.users) / users : null;
  const flagged = users >= minUsers && observedPct !== null && Math.abs(observedPct - expectedPct) > tolerancePct;
  return { expectedPct, observedPct, tolerancePct, flagged, users, minUsers };
}
