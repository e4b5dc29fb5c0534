/**
 * The rollout's stage model: the one definition of the stages, the flags, the
 * environment the app receives, and the guide's success / pause / rollback
 * criteria for each stage.
 *
 * Pure: no Pulumi import. The program, the `rollout` CLI, the gate, the alert
 * rules and the docs all read this module.
 */

/** The guide's canary stages, in order: 0 → 10 → 25 → 50 → 75 → 100. */
export const STAGES = [0, 10, 25, 50, 75, 100] as const;
export type Stage = (typeof STAGES)[number];

/** The guide's environment variable names, exactly as the app reads them. */
export const ENV_NAMES = {
  statelessOrchestration: "ENABLE_STATELESS_ORCHESTRATION",
  safeJsonParser: "ENABLE_SAFE_JSON_PARSER",
  canaryPercentage: "CANARY_PERCENTAGE",
  databaseUrl: "DATABASE_URL",
} as const;

/**
 * Env names the program also passes the app (not from the guide): the port it
 * listens on and the path its health check asks (config appPort and
 * appHealthCheckPath), so that the app serves exactly what the program checks.
 */
export const APP_ENV_NAMES = {
  port: "APP_PORT",
  healthCheckPath: "APP_HEALTH_CHECK_PATH",
  /** The file the app reads DATABASE_URL from (a Docker secret; the `*_FILE` convention): the deploy never puts the URL in the env. */
  databaseUrlFile: "DATABASE_URL_FILE",
} as const;

/** Env names the program owns; a stack's extra environment may not override them. */
export const MANAGED_ENV_NAMES: readonly string[] = [...Object.values(ENV_NAMES), ...Object.values(APP_ENV_NAMES)];

export interface Flags {
  enableStatelessOrchestration: boolean;
  enableSafeJsonParser: boolean;
}

export interface RolloutState extends Flags {
  canaryPercentage: Stage;
}

/** The rollout state a parsed stack config declares (only the three keys; the config has many more). */
export function rolloutState(cfg: RolloutState): RolloutState {
  return {
    canaryPercentage: cfg.canaryPercentage,
    enableStatelessOrchestration: cfg.enableStatelessOrchestration,
    enableSafeJsonParser: cfg.enableSafeJsonParser,
  };
}

/** The same percentage and the same two flags. */
export function sameState(a: RolloutState, b: RolloutState): boolean {
  return (
    a.canaryPercentage === b.canaryPercentage &&
    a.enableStatelessOrchestration === b.enableStatelessOrchestration &&
    a.enableSafeJsonParser === b.enableSafeJsonParser
  );
}

/** The flags in words, the one wording (status, the PR comment, the CI's change summary). */
export function flagText(f: Flags): string {
  if (f.enableStatelessOrchestration && f.enableSafeJsonParser) return "flags on";
  if (!f.enableStatelessOrchestration && !f.enableSafeJsonParser) return "flags off";
  return `flags mixed (stateless ${f.enableStatelessOrchestration}, safe JSON ${f.enableSafeJsonParser})`;
}

/**
 * Alert and gate thresholds. Defaults are the guide's "Monitoring Dashboard"
 * numbers; stacks may override them (see the config schema).
 */
export interface Thresholds {
  /** Warning: error rate above this percentage (guide: > 2 %); also the week-3 pause criterion. */
  errorRateWarningPct: number;
  /** Critical: error rate above this percentage (guide: > 5 %). */
  errorRateCriticalPct: number;
  /** Warning: p95 latency above this many seconds (guide: > 3 s); week 2 requires p95 below it. */
  p95WarningSeconds: number;
  /** Critical: p95 latency above this many seconds (guide: > 5 s); also the week-3 pause criterion. */
  p95CriticalSeconds: number;
  /** Cross-user session contamination: critical when the count exceeds this (guide: > 0). */
  contaminationMax: number;
  /** Full-rollout target: error rate below this percentage (guide: < 1 %). */
  targetErrorRatePct: number;
  /** Full-rollout target: p95 latency below this many seconds (guide: < 2 s). */
  targetP95Seconds: number;
}

export const GUIDE_THRESHOLDS: Readonly<Thresholds> = Object.freeze({
  errorRateWarningPct: 2,
  errorRateCriticalPct: 5,
  p95WarningSeconds: 3,
  p95CriticalSeconds: 5,
  contaminationMax: 0,
  targetErrorRatePct: 1,
  targetP95Seconds: 2,
});

/**
 * The guide's key metric 4, "Concurrent Sessions — Target: 100+" (no warning
 * or critical level, so no alert): the peak number of sessions active at one
 * instant (sql/0020_concurrent_sessions.sql, docs/report.md).
 */
export const GUIDE_CONCURRENT_SESSIONS_TARGET = 100;

/**
 * The guide's soak time at each stage ("Monitor for 48 hours"), and at 100 % its success metric "48 hours
 * stable operation" (the gate's fullRollout, core/gate.ts): the default of the stack's gate.soakHours.
 */
export const GUIDE_SOAK_HOURS = 48;

export type Phase = "baseline" | "canary" | "gradual" | "full";

export interface StageInfo {
  percentage: Stage;
  phase: Phase;
  /** The guide's section for this stage. */
  guideSection: string;
}

const PHASE_BY_STAGE: Record<Stage, { phase: Phase; guideSection: string }> = {
  0: { phase: "baseline", guideSection: "Week 1: Staging Deployment (Flags OFF)" },
  10: { phase: "canary", guideSection: "Week 2: Canary Deployment (10% Traffic)" },
  25: { phase: "gradual", guideSection: "Week 3: Gradual Rollout, Day 1-2: 25% Traffic" },
  50: { phase: "gradual", guideSection: "Week 3: Gradual Rollout, Day 3-4: 50% Traffic" },
  75: { phase: "gradual", guideSection: "Week 3: Gradual Rollout, Day 5-6: 75% Traffic" },
  100: { phase: "full", guideSection: "Week 4: Full Production (100%)" },
};

export function isStage(value: number): value is Stage {
  return (STAGES as readonly number[]).includes(value);
}

export function stageInfo(stage: Stage): StageInfo {
  return { percentage: stage, ...PHASE_BY_STAGE[stage] };
}

export function stageIndex(stage: Stage): number {
  return STAGES.indexOf(stage);
}

/** The stage after `stage`, or undefined at 100. */
export function nextStage(stage: Stage): Stage | undefined {
  return STAGES[stageIndex(stage) + 1];
}

/** The stage before `stage` (the guide's gradual rollback), or undefined at 0. */
export function previousStage(stage: Stage): Stage | undefined {
  const i = stageIndex(stage);
  return i > 0 ? STAGES[i - 1] : undefined;
}

/** True when both flags are on: the only state in which the percentage routes anyone. */
export function flagsOn(flags: Flags): boolean {
  return flags.enableStatelessOrchestration && flags.enableSafeJsonParser;
}

/** The share of users the new path actually serves: 0 while either flag is off. */
export function effectivePercentage(state: RolloutState): number {
  return flagsOn(state) ? state.canaryPercentage : 0;
}

/**
 * The guide's immediate rollback: both flags off, percentage left as it was.
 * A valid state; the percentage then has no effect.
 */
export function isImmediateRollbackState(state: RolloutState): boolean {
  return !state.enableStatelessOrchestration && !state.enableSafeJsonParser && state.canaryPercentage > 0;
}

/** The state the guide's immediate rollback produces from `state`. */
export function immediateRollback(state: RolloutState): RolloutState {
  return { ...state, enableStatelessOrchestration: false, enableSafeJsonParser: false };
}

/**
 * The rollout env the app containers receive, with the guide's exact names and
 * values ("true"/"false", the percentage as a decimal string).
 */
export function appEnv(state: RolloutState): Record<string, string> {
  return {
    [ENV_NAMES.statelessOrchestration]: String(state.enableStatelessOrchestration),
    [ENV_NAMES.safeJsonParser]: String(state.enableSafeJsonParser),
    [ENV_NAMES.canaryPercentage]: String(state.canaryPercentage),
  };
}

// ---------------------------------------------------------------------------
// Criteria

/**
 * Metrics the criteria are stated over. Per-version metrics come from the
 * `monitoring` views (the guide's queries); "new" is `metadata->>'useStateless' = 'true'`.
 */
export type Metric =
  | "newErrorRatePct"
  | "legacyErrorRatePct"
  | "newP95Seconds"
  | "legacyP95Seconds"
  | "contaminationCount";

export type Comparator = "<" | "<=" | ">" | ">=";

export type CriterionKind = "success" | "pause" | "rollback";

export interface Criterion {
  /** Stable identifier, used by the gate's output and tests. */
  id: string;
  kind: CriterionKind;
  metric: Metric;
  op: Comparator;
  /** A number, or another metric (week 2: new error rate ≤ legacy error rate). */
  threshold: number | Metric;
  /** The guide's wording. */
  description: string;
}

export interface StageCriteria {
  stage: Stage;
  phase: Phase;
  /** All must hold over the soak time to proceed. */
  success: Criterion[];
  /** Any one pauses the rollout. */
  pause: Criterion[];
  /** Any one calls for the guide's immediate rollback. */
  rollback: Criterion[];
}

/** Evaluate `value op threshold`. */
export function compare(value: number, op: Comparator, threshold: number): boolean {
  switch (op) {
    case "<":
      return value < threshold;
    case "<=":
      return value <= threshold;
    case ">":
      return value > threshold;
    case ">=":
      return value >= threshold;
  }
}

function rollbackCriteria(t: Thresholds): Criterion[] {
  return [
    {
      id: "contamination",
      kind: "rollback",
      metric: "contaminationCount",
      op: ">",
      threshold: t.contaminationMax,
      description: `Cross-user session contamination > ${t.contaminationMax} (critical: immediate rollback)`,
    },
    {
      id: "error-rate-critical",
      kind: "rollback",
      metric: "newErrorRatePct",
      op: ">",
      threshold: t.errorRateCriticalPct,
      description: `New-path error rate > ${t.errorRateCriticalPct}% (critical)`,
    },
    {
      id: "p95-critical",
      kind: "rollback",
      metric: "newP95Seconds",
      op: ">",
      threshold: t.p95CriticalSeconds,
      description: `New-path P95 latency > ${t.p95CriticalSeconds}s (critical)`,
    },
  ];
}

/**
 * The guide's week-3 pause criteria; they apply at every stage with traffic on
 * the new path. The guide's pause level for p95 (> 5 s) is also its critical
 * level, and a critical breach calls for rollback, the stronger verdict: so a
 * p95 above it is reported as ROLLBACK, and this pause criterion is listed for
 * completeness (and for reports), never the deciding one.
 */
function pauseCriteria(t: Thresholds): Criterion[] {
  return [
    {
      id: "error-rate-pause",
      kind: "pause",
      metric: "newErrorRatePct",
      op: ">",
      threshold: t.errorRateWarningPct,
      description: `Error rate > ${t.errorRateWarningPct}%`,
    },
    {
      id: "p95-pause",
      kind: "pause",
      metric: "newP95Seconds",
      op: ">",
      threshold: t.p95CriticalSeconds,
      description: `P95 latency > ${t.p95CriticalSeconds} seconds`,
    },
    {
      id: "contamination-pause",
      kind: "pause",
      metric: "contaminationCount",
      op: ">",
      threshold: t.contaminationMax,
      description: "Any cross-contamination detected",
    },
  ];
}

const zeroContamination = (t: Thresholds): Criterion => ({
  id: "zero-contamination",
  kind: "success",
  metric: "contaminationCount",
  op: "<=",
  threshold: t.contaminationMax,
  description: "Zero cross-contamination",
});

/**
 * The guide's criteria for a stage, with the stack's thresholds.
 *
 * - 0 (week 1, flags off): no regression on the legacy path — its error rate
 *   and p95 stay within the warning levels (the guide's "unchanged from
 *   baseline"), zero contamination.
 * - 10 (week 2): new error rate ≤ legacy error rate, P95 < 3 s, zero contamination.
 * - 25/50/75 (week 3): week 2's criteria hold; pause on error > 2 %, P95 > 5 s,
 *   any contamination.
 * - 100 (week 4): error < 1 %, P95 < 2 s, zero contamination.
 */
export function criteriaFor(stage: Stage, t: Thresholds = GUIDE_THRESHOLDS): StageCriteria {
  const { phase } = PHASE_BY_STAGE[stage];
  const week2: Criterion[] = [
    {
      id: "error-rate-vs-legacy",
      kind: "success",
      metric: "newErrorRatePct",
      op: "<=",
      threshold: "legacyErrorRatePct",
      description: "Error rate ≤ legacy error rate",
    },
    {
      id: "p95-below-warning",
      kind: "success",
      metric: "newP95Seconds",
      op: "<",
      threshold: t.p95WarningSeconds,
      description: `P95 latency < ${t.p95WarningSeconds} seconds`,
    },
    zeroContamination(t),
  ];
  switch (phase) {
    case "baseline":
      return {
        stage,
        phase,
        success: [
          {
            id: "legacy-error-rate-baseline",
            kind: "success",
            metric: "legacyErrorRatePct",
            op: "<=",
            threshold: t.errorRateWarningPct,
            description: `Legacy error rate unchanged: ≤ ${t.errorRateWarningPct}%`,
          },
          {
            id: "legacy-p95-baseline",
            kind: "success",
            metric: "legacyP95Seconds",
            op: "<=",
            threshold: t.p95WarningSeconds,
            description: `Legacy P95 latency unchanged: ≤ ${t.p95WarningSeconds} seconds`,
          },
          zeroContamination(t),
        ],
        pause: pauseCriteria(t).filter((c) => c.metric === "contaminationCount"),
        rollback: rollbackCriteria(t).filter((c) => c.metric === "contaminationCount"),
      };
    case "canary":
    case "gradual":
      return { stage, phase, success: week2, pause: pauseCriteria(t), rollback: rollbackCriteria(t) };
    case "full":
      return {
        stage,
        phase,
        success: [
          {
            id: "error-rate-target",
            kind: "success",
            metric: "newErrorRatePct",
            op: "<",
            threshold: t.targetErrorRatePct,
            description: `Error rate < ${t.targetErrorRatePct}%`,
          },
          {
            id: "p95-target",
            kind: "success",
            metric: "newP95Seconds",
            op: "<",
            threshold: t.targetP95Seconds,
            description: `P95 latency < ${t.targetP95Seconds}s`,
          },
          zeroContamination(t),
        ],
        pause: pauseCriteria(t),
        rollback: rollbackCriteria(t),
      };
  }
}
