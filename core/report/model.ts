/**
 * The rollout report's data (what db/reportData.ts reads) and the guide's
 * four key metrics ("Monitoring Dashboard") with their target, warning and
 * critical lines, taken from the stack's thresholds (core/stages.ts) — the
 * report never states a number of its own.
 *
 * Pure: no I/O, no clock.
 */
import { PathMetrics, StageMetrics, errorRatePct } from "../gate";
import { Flags, GUIDE_CONCURRENT_SESSIONS_TARGET, Stage, Thresholds, flagsOn } from "../stages";

/** One version's concurrent sessions over a window (monitoring.stage_concurrent_sessions, sql/0020). */
export interface ConcurrencyFigures {
  /** Distinct session_ids with a request in the window. */
  sessions: number;
  /** Most sessions active at one instant. */
  peak: number;
  peakAt: Date | null;
  /** Sessions active on average over the window. */
  average: number;
}

export interface Concurrency {
  new: ConcurrencyFigures;
  legacy: ConcurrencyFigures;
  /** Every session once, whatever its path. */
  all: ConcurrencyFigures;
}

/** What the gate said about a stage: only its verdict and a printable summary of its evidence. */
export interface StageJudgement {
  verdict: string;
  /** Plain text, as `rollout gate` prints it. */
  evidence: string;
}

/** One stage of the rollout: from one rollout record to the next (or to now). */
export interface StageSegment {
  stage: Stage;
  flags: Flags;
  /** When the stage began (its rollout record), or null when there is no record. */
  start: Date | null;
  /** When the next record replaced it, or the report's time for the current stage. */
  end: Date;
  current: boolean;
  /** The window the metrics and the gate read: the stage's last soak hours. */
  windowStart: Date;
  windowEnd: Date;
  actor: string | null;
  gitCommit: string | null;
  reason: string | null;
  metrics: StageMetrics;
  concurrency: Concurrency;
  judgement: StageJudgement;
}

export interface RolloutReport {
  stack: string;
  generatedAt: Date;
  thresholds: Thresholds;
  soakHours: number;
  segments: StageSegment[];
  notes: string[];
}

export const emptyConcurrency = (): ConcurrencyFigures => ({ sessions: 0, peak: 0, peakAt: null, average: 0 });

export function segmentLabel(s: Pick<StageSegment, "stage" | "flags">, index: number): string {
  const flags = flagsOn(s.flags) ? "" : !s.flags.enableStatelessOrchestration && !s.flags.enableSafeJsonParser ? ", flags off" : ", flags mixed";
  return `#${index + 1} ${s.stage}%${flags}`;
}

// ---------------------------------------------------------------------------
// The guide's four key metrics

export type KeyMetricId = "errorRate" | "p95" | "sessionIsolation" | "concurrentSessions";
export type LineKind = "target" | "warning" | "critical";

export interface GuideLine {
  kind: LineKind;
  value: number;
  /** As the guide words it, e.g. "< 1%", "> 5s", "100+". */
  label: string;
}

export interface KeyMetricSeries {
  name: string;
  /** CSS class suffix: new, legacy, all. */
  key: "new" | "legacy" | "all";
  /** One value per segment; null when the path had no traffic there. */
  values: (number | null)[];
}

export interface KeyMetric {
  id: KeyMetricId;
  title: string;
  unit: string;
  /** The guide's levels; a level the guide gives as N/A is listed in `notApplicable`. */
  lines: GuideLine[];
  notApplicable: LineKind[];
  series: KeyMetricSeries[];
  /** How the value is measured. */
  note: string;
}

/** A target below which, and warning and critical levels above which, as the guide words them ("< 1%", "> 5s"). */
export function guideLines(unit: string, target: number, warning: number, critical: number): GuideLine[] {
  return [
    { kind: "target", value: target, label: `< ${target}${unit}` },
    { kind: "warning", value: warning, label: `> ${warning}${unit}` },
    { kind: "critical", value: critical, label: `> ${critical}${unit}` },
  ];
}

const errorRate = errorRatePct;
const p95 = (p: PathMetrics): number | null => (p.requests > 0 ? p.p95Seconds : null);

/** The four key metrics over the segments, with the guide's lines from `t`. */
export function keyMetrics(segments: readonly StageSegment[], t: Thresholds): KeyMetric[] {
  const per = (f: (s: StageSegment) => number | null) => segments.map(f);
  /** One series per path (new, legacy) of a per-path figure. */
  const pathSeries = (f: (p: PathMetrics) => number | null): KeyMetricSeries[] => [
    { name: "new", key: "new", values: per((s) => f(s.metrics.new)) },
    { name: "legacy", key: "legacy", values: per((s) => f(s.metrics.legacy)) },
  ];
  return [
    {
      id: "errorRate",
      title: "Error rate",
      unit: "%",
      lines: guideLines("%", t.targetErrorRatePct, t.errorRateWarningPct, t.errorRateCriticalPct),
      notApplicable: [],
      series: pathSeries(errorRate),
      note: "requests with status 'error' over requests, per version, in each stage's window",
    },
    {
      id: "p95",
      title: "Latency (P95)",
      unit: "s",
      lines: guideLines("s", t.targetP95Seconds, t.p95WarningSeconds, t.p95CriticalSeconds),
      notApplicable: [],
      series: pathSeries(p95),
      note: "95th percentile of updated_at - created_at, per version",
    },
    {
      id: "sessionIsolation",
      title: "Session isolation (cross-contamination)",
      unit: "",
      lines: [
        { kind: "target", value: t.contaminationMax, label: `${t.contaminationMax} cross-contamination` },
        { kind: "critical", value: t.contaminationMax, label: `> ${t.contaminationMax}` },
      ],
      notApplicable: ["warning"],
      series: [{ name: "all sessions", key: "all", values: per((s) => s.metrics.contaminationCount) }],
      note: "sessions with more than one user_id; a session belongs to users, not to a version, so one count for all",
    },
    {
      id: "concurrentSessions",
      title: "Concurrent sessions (peak)",
      unit: "",
      lines: [{ kind: "target", value: GUIDE_CONCURRENT_SESSIONS_TARGET, label: `${GUIDE_CONCURRENT_SESSIONS_TARGET}+` }],
      notApplicable: ["warning", "critical"],
      series: [
        { name: "new", key: "new", values: per((s) => s.concurrency.new.peak) },
        { name: "legacy", key: "legacy", values: per((s) => s.concurrency.legacy.peak) },
        { name: "all", key: "all", values: per((s) => s.concurrency.all.peak) },
      ],
      note: "most sessions active at one instant; a session is active from its first request's created_at to its last updated_at",
    },
  ];
}

/** Per-stage figures for the JSON output and the pull-request comment's chart. */
export interface StageSummary {
  label: string;
  stage: Stage;
  start: string | null;
  end: string;
  verdict: string;
  newErrorRatePct: number | null;
  legacyErrorRatePct: number | null;
  newP95Seconds: number | null;
  legacyP95Seconds: number | null;
  contaminationCount: number;
  peakConcurrentSessions: number;
}

export function stageSummaries(r: RolloutReport): StageSummary[] {
  return r.segments.map((s, i) => ({
    label: segmentLabel(s, i),
    stage: s.stage,
    start: s.start?.toISOString() ?? null,
    end: s.end.toISOString(),
    verdict: s.judgement.verdict,
    newErrorRatePct: errorRate(s.metrics.new),
    legacyErrorRatePct: errorRate(s.metrics.legacy),
    newP95Seconds: p95(s.metrics.new),
    legacyP95Seconds: p95(s.metrics.legacy),
    contaminationCount: s.metrics.contaminationCount,
    peakConcurrentSessions: s.concurrency.all.peak,
  }));
}
