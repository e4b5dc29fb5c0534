/**
 * The rollout report's data (what db/reportData.ts reads) and the guide's
 * four key metrics ("Monitoring Dashboard") with their target, warning and
 * critical lines, taken from the stack's thresholds (core/stages.ts) — the
 * report never states a number of its own.
 *
 * Pure: no I/O, no clock.
 */
import { CriterionResult, GateResult, HOUR_MS, PathMetrics, StageMetrics, errorRatePct } from "../gate";
import type { HoldConfig } from "../configSchema";
import { Flags, GUIDE_CONCURRENT_SESSIONS_TARGET, Metric, Stage, Thresholds, flagsOn } from "../stages";

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

/** What the gate said about a stage: its verdict, its full text, and the result it was worded from. */
export interface StageJudgement {
  verdict: string;
  /** Plain text, as `rollout gate --verbose` prints it. */
  evidence: string;
  /** The gate's result (core/gateText.ts evaluateGate), from which the evidence table is built. */
  gate?: GateResult;
}

/**
 * One point of a stage over time: the metrics of the interval (from, at] alone (the hourly figures),
 * and the gate's judgement of the stage's window up to `at` (core/gate.ts gateWindow(start, at)): what
 * `rollout gate` would have said at that moment. The bounds are always-valid (docs/gate.md), so judging
 * at every point is legitimate: the confidence holds however often the gate is read.
 */
export interface StagePoint {
  from: Date;
  at: Date;
  interval: StageMetrics;
  judgement: StageJudgement;
}

/** At most this many points per stage (each costs two reads: the interval's metrics and the gate's window). */
export const MAX_POINTS_PER_STAGE = 24;

/**
 * The ends of a stage's points: every `step` hours from `start` (step = 1 h, or more so that there are at
 * most `maxPoints`: a whole number of hours), the last one at `end`. None when end is not after start.
 */
export function pointTimes(start: Date, end: Date, maxPoints = MAX_POINTS_PER_STAGE): Date[] {
  const span = end.getTime() - start.getTime();
  if (!(span > 0) || maxPoints < 1) return [];
  const step = Math.max(1, Math.ceil(span / HOUR_MS / maxPoints)) * HOUR_MS;
  const out: Date[] = [];
  for (let t = start.getTime() + step; t < end.getTime(); t += step) out.push(new Date(t));
  out.push(end);
  return out;
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
  /** The stage over time (pointTimes from its start to its end); empty when not read. */
  points: StagePoint[];
}

export interface RolloutReport {
  stack: string;
  /** The time the data is read up to: the end of the last stage (the caller's asOf, e.g. the drill's last window, or the database's now()). */
  asOf: Date;
  /** The newest rollout record's time, or null without any. */
  lastRecordAt: Date | null;
  thresholds: Thresholds;
  soakHours: number;
  segments: StageSegment[];
  notes: string[];
  /** The stack file's hold when the report was read (rollout hold), or null; the current stage's verdict includes it. */
  hold?: HoldConfig | null;
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
  /** Per segment: the gate's breached criterion on this metric and path (its guide description), or null. */
  breaches?: (string | null)[];
}

/** Where a metric of the gate is drawn: its key-metric panel and series. */
const METRIC_PANEL: Readonly<Record<Metric, { id: KeyMetricId; key: KeyMetricSeries["key"] }>> = {
  newErrorRatePct: { id: "errorRate", key: "new" },
  legacyErrorRatePct: { id: "errorRate", key: "legacy" },
  newP95Seconds: { id: "p95", key: "new" },
  legacyP95Seconds: { id: "p95", key: "legacy" },
  contaminationCount: { id: "sessionIsolation", key: "all" },
};

/** The criteria the gate found breached in a judgement (status "failed": a success criterion shown not met, a pause or rollback line crossed). */
export function breachedCriteria(j: StageJudgement): CriterionResult[] {
  return j.gate?.criteria.filter((c) => c.status === "failed") ?? [];
}

/** A stage's breaches on a panel's series: the breached criteria's descriptions, joined, or null. */
function breachOn(s: StageSegment, id: KeyMetricId, key: KeyMetricSeries["key"]): string | null {
  const hit = breachedCriteria(s.judgement).filter((c) => METRIC_PANEL[c.metric].id === id && METRIC_PANEL[c.metric].key === key);
  return hit.length === 0 ? null : hit.map((c) => c.description).join("; ");
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

/** The guide's levels for session isolation: target `max` (0) contaminated sessions, critical above it (no warning). */
export function contaminationLines(max: number): GuideLine[] {
  return [
    { kind: "target", value: max, label: `${max} cross-contamination` },
    { kind: "critical", value: max, label: `> ${max}` },
  ];
}

const errorRate = errorRatePct;
const p95 = (p: PathMetrics): number | null => (p.requests > 0 ? p.p95Seconds : null);

/** The four key metrics over the segments, with the guide's lines from `t`. */
export function keyMetrics(segments: readonly StageSegment[], t: Thresholds): KeyMetric[] {
  const per = (f: (s: StageSegment) => number | null) => segments.map(f);
  /** One series per path (new, legacy) of a per-path figure. */
  const pathSeries = (id: KeyMetricId, f: (p: PathMetrics) => number | null): KeyMetricSeries[] => [
    { name: "new", key: "new", values: per((s) => f(s.metrics.new)), breaches: segments.map((s) => breachOn(s, id, "new")) },
    { name: "legacy", key: "legacy", values: per((s) => f(s.metrics.legacy)), breaches: segments.map((s) => breachOn(s, id, "legacy")) },
  ];
  return [
    {
      id: "errorRate",
      title: "Error rate",
      unit: "%",
      lines: guideLines("%", t.targetErrorRatePct, t.errorRateWarningPct, t.errorRateCriticalPct),
      notApplicable: [],
      series: pathSeries("errorRate", errorRate),
      note: "requests with status 'error' over requests, per version, in each stage's window",
    },
    {
      id: "p95",
      title: "Latency (P95)",
      unit: "s",
      lines: guideLines("s", t.targetP95Seconds, t.p95WarningSeconds, t.p95CriticalSeconds),
      notApplicable: [],
      series: pathSeries("p95", p95),
      note: "95th percentile of updated_at - created_at, per version",
    },
    {
      id: "sessionIsolation",
      title: "Session isolation (cross-contamination)",
      unit: "",
      lines: contaminationLines(t.contaminationMax),
      notApplicable: ["warning"],
      series: [{ name: "all sessions", key: "all", values: per((s) => s.metrics.contaminationCount), breaches: segments.map((s) => breachOn(s, "sessionIsolation", "all")) }],
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

// ---------------------------------------------------------------------------
// A stage over time

/** One criterion's always-valid bounds at each point of a stage, against its line. */
export interface BoundSeries {
  /** The criterion's id and guide description. */
  id: string;
  criterion: string;
  /** What is bounded (core/gate.ts Bound.quantity) and its unit. */
  quantity: string;
  unit: "%" | "pp";
  line: number;
  lower: (number | null)[];
  upper: (number | null)[];
  estimate: (number | null)[];
}

export interface StageOverTime {
  /** Hours from the stage's start (or its window's start) to each point's end. */
  hours: number[];
  errorRate: KeyMetricSeries[];
  p95: KeyMetricSeries[];
  /** Requests per version in each point's interval. */
  requests: KeyMetricSeries[];
  /** Sessions found contaminated in each interval (contaminationOverTime), a breach where the stage's count exceeds the stack's contaminationMax. */
  contamination: KeyMetricSeries[];
  /** The gate's verdict on the window up to each point. */
  verdicts: string[];
  /** The criterion that decided the stage's verdict, over time; null when no criterion had bounds. */
  bound: BoundSeries | null;
}

/**
 * The criterion a reader should watch over a stage: the first one breached at its end, else the first
 * success criterion not yet shown (why the gate waits), else the first success criterion (why it
 * proceeded) — among those with bounds.
 */
export function decidingCriterion(j: StageJudgement): CriterionResult | null {
  const withBound = (j.gate?.criteria ?? []).filter((c) => c.bound !== undefined);
  return (
    withBound.find((c) => c.status === "failed") ??
    withBound.find((c) => c.kind === "success" && c.status !== "met") ??
    withBound.find((c) => c.kind === "success") ??
    withBound[0] ??
    null
  );
}

/**
 * What an interval's contamination above the line breaches: the stage's rollback criterion on contamination
 * as the gate names it (its guide description), or, without a judgement, the line itself.
 */
export function contaminationCriterion(j: StageJudgement, max: number): string {
  const c = j.gate?.criteria.find((x) => x.metric === "contaminationCount" && x.kind === "rollback");
  return c?.description ?? `Cross-user session contamination > ${max}`;
}

/**
 * Contamination over a stage, one value per point: the sessions found contaminated in that interval, and
 * whether the stage's count is then above `max` (a breach). A session is contaminated once it has a second
 * user; its users' requests may fall in different intervals, so the interval's own count (the guide's
 * isolation query over the interval) would miss it. For a stage with a rollout record the gate's window at
 * each point runs from the record to the point, and a contaminated session stays contaminated: the gate's
 * count at a point minus its count at the previous one is the sessions that became contaminated in the
 * interval, and the series sums to the stage's count. Without a record the gate's window slides (its last
 * soak hours): then each interval's own count, a breach above `max`. A point without a finite count: null.
 */
export function contaminationOverTime(s: Pick<StageSegment, "start" | "points">, max: number): { values: (number | null)[]; breached: boolean[] } {
  if (s.start === null) {
    const own = s.points.map((p) => (Number.isFinite(p.interval.contaminationCount) ? p.interval.contaminationCount : null));
    return { values: own, breached: own.map((v) => v !== null && v > max) };
  }
  const upTo = s.points.map((p) => p.judgement.gate?.metrics.contaminationCount);
  const values = upTo.map((c, k) => {
    const before = k === 0 ? 0 : upTo[k - 1];
    return typeof c === "number" && Number.isFinite(c) && typeof before === "number" && Number.isFinite(before) ? c - before : null;
  });
  return { values, breached: values.map((v, k) => v !== null && v > 0 && (upTo[k] as number) > max) };
}

/**
 * The stage's points as series: figures per interval and version (error rate, P95, requests), the
 * sessions found contaminated per interval with its breaches (contaminationOverTime), the verdict and the
 * deciding criterion's bounds at each point.
 */
export function stageOverTime(s: StageSegment, t: Pick<Thresholds, "contaminationMax">): StageOverTime {
  const origin = (s.start ?? s.windowStart).getTime();
  const pts = s.points;
  const pathSeries = (f: (p: PathMetrics) => number | null): KeyMetricSeries[] => [
    { name: "new", key: "new", values: pts.map((p) => f(p.interval.new)) },
    { name: "legacy", key: "legacy", values: pts.map((p) => f(p.interval.legacy)) },
  ];
  const decider = decidingCriterion(s.judgement);
  const contamination = contaminationOverTime(s, t.contaminationMax);
  let bound: BoundSeries | null = null;
  if (decider?.bound) {
    const at = pts.map((p) => p.judgement.gate?.criteria.find((c) => c.id === decider.id)?.bound ?? null);
    bound = {
      id: decider.id,
      criterion: decider.description,
      quantity: decider.bound.quantity,
      unit: decider.bound.unit,
      line: decider.bound.line,
      lower: at.map((b) => (b && Number.isFinite(b.lower) ? b.lower : null)),
      upper: at.map((b) => (b && Number.isFinite(b.upper) ? b.upper : null)),
      estimate: at.map((b) => b?.estimate ?? null),
    };
  }
  return {
    hours: pts.map((p) => (p.at.getTime() - origin) / HOUR_MS),
    errorRate: pathSeries(errorRate),
    p95: pathSeries(p95),
    requests: pathSeries((p) => p.requests),
    contamination: [
      {
        name: "sessions found contaminated",
        key: "all",
        values: contamination.values,
        breaches: contamination.breached.map((b) => (b ? contaminationCriterion(s.judgement, t.contaminationMax) : null)),
      },
    ],
    verdicts: pts.map((p) => p.judgement.verdict),
    bound,
  };
}
