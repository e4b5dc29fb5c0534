/**
 * What the rollout report reads from PostgreSQL: the stack's rollout records
 * (one stage per record, up to the next one or now), and per stage the gate's
 * metrics (db/rolloutStore.ts readGateMetrics) and the concurrent sessions
 * (monitoring.stage_concurrent_sessions, sql/0020) over the stage's last soak
 * hours — the window `rollout gate` reads. The verdict comes from the caller's
 * `judge` (cli/rollout.ts passes the gate `rollout gate` runs).
 *
 * Each stage over time: at most MAX_POINTS_PER_STAGE points (core/report/model.ts pointTimes: hourly,
 * or every few hours for a long stage). The intervals' own metrics are one statement per stage
 * (readIntervalMetrics, sql/0033); each point but the last also reads the window the gate would have
 * read at that moment (readGateMetrics), judged by the same `judge`. So a report reads at most
 * MAX_POINTS_PER_STAGE + 2 statements per stage, however long the stage.
 */
import type { ClientBase } from "pg";
import type { StageMetrics } from "../core/gate";
import type { HoldConfig } from "../core/configSchema";
import { databaseNow, query, readHistory, readGateMetrics, readIntervalMetrics } from "./rolloutStore";
import { Concurrency, ConcurrencyFigures, MAX_POINTS_PER_STAGE, RolloutReport, StageJudgement, StagePoint, StageSegment, emptyConcurrency, pointTimes } from "../core/report/model";
import type { Flags, Stage, Thresholds } from "../core/stages";

interface ConcurrencyRow {
  version: "New" | "Legacy" | "All";
  sessions: string;
  peak_concurrent: string;
  peak_at: Date | null;
  avg_concurrent: number | null;
}

/** Concurrent sessions per version for created_at in (since, until]. */
export async function readConcurrentSessions(c: ClientBase, since: Date, until: Date): Promise<Concurrency> {
  const rows = await query<ConcurrencyRow>(c, "select * from monitoring.stage_concurrent_sessions($1, $2)", [since, until]);
  const out: Concurrency = { new: emptyConcurrency(), legacy: emptyConcurrency(), all: emptyConcurrency() };
  for (const r of rows) {
    const f: ConcurrencyFigures = { sessions: Number(r.sessions), peak: Number(r.peak_concurrent), peakAt: r.peak_at, average: r.avg_concurrent ?? 0 };
    if (r.version === "New") out.new = f;
    else if (r.version === "Legacy") out.legacy = f;
    else out.all = f;
  }
  return out;
}

/** What the gate is asked about one stage. */
export interface JudgeInput {
  stage: Stage;
  flags: Flags;
  stageStartedAt: Date | undefined;
  asOf: Date;
  metrics: StageMetrics;
  /** The looks so far at the stage (this one included), when counted (sql/0030); or why not. */
  looks?: number;
  looksNote?: string;
  /** The stack file's hold (rollout hold): judged with the current stage only, as `rollout gate` judges it now. */
  hold?: HoldConfig;
}

export interface ReportOptions {
  stack: string;
  thresholds: Thresholds;
  soakHours: number;
  /** The deployed state to assume when the stack has no rollout record. */
  configured: { stage: Stage; flags: Flags };
  judge: (input: JudgeInput) => StageJudgement;
  /** Most records to read (newest first). */
  maxStages?: number;
  /** Report as of this time (default: the database's now()). */
  asOf?: Date;
  /** Most points per stage over time (default MAX_POINTS_PER_STAGE; 0: none). */
  maxPoints?: number;
  /** The stack file's hold, when set: the current stage is judged with it (the past stages' holds are not recorded). */
  hold?: HoldConfig;
}


/** The report's data for a stack, as of `o.asOf` or the database's now(). */
export async function readRolloutReport(c: ClientBase, o: ReportOptions): Promise<RolloutReport> {
  const asOf = o.asOf ?? (await databaseNow(c));
  const max = o.maxStages ?? 50;
  const history = await readHistory(c, o.stack, asOf, max);
  const events = [...history.events].reverse();
  const notes: string[] = [];
  if (events.length === 0) {
    notes.push(`no rollout record for stack "${o.stack}" yet: one stage is shown, the configured one, over the last ${o.soakHours} h`);
  } else if (events.length === max) {
    notes.push(`only the last ${max} rollout records are shown`);
  }
  const stages =
    events.length === 0
      ? [{ stage: o.configured.stage, flags: o.configured.flags, start: null as Date | null, actor: null, gitCommit: null, reason: null }]
      : events.map((ev) => ({ stage: ev.toStage, flags: ev.flags, start: ev.createdAt as Date | null, actor: ev.actor, gitCommit: ev.gitCommit, reason: ev.reason }));
  const segments: StageSegment[] = [];
  for (let i = 0; i < stages.length; i++) {
    const s = stages[i];
    const end = stages[i + 1]?.start ?? asOf;
    const windowEnd = end;
    // Measured exactly as `rollout gate` measures it, as of the stage's end.
    const metrics = await readGateMetrics(c, s.start ?? undefined, windowEnd, { thresholds: o.thresholds, soakHours: o.soakHours });
    const windowStart = metrics.windowStart;
    const concurrency = await readConcurrentSessions(c, windowStart, windowEnd);
    const current = i === stages.length - 1;
    const judgement = o.judge({ stage: s.stage, flags: s.flags, stageStartedAt: s.start ?? undefined, asOf: windowEnd, metrics, ...(current && o.hold ? { hold: o.hold } : {}) });
    // The stage over time: each interval's own figures, and the gate's judgement as of the interval's end.
    const points: StagePoint[] = [];
    const first = s.start ?? windowStart;
    const times = pointTimes(first, windowEnd, o.maxPoints ?? MAX_POINTS_PER_STAGE);
    const bounds = times.length === 0 ? [] : [first, ...times];
    const intervals = await readIntervalMetrics(c, bounds);
    for (const [k, at] of times.entries()) {
      const upTo = at.getTime() === windowEnd.getTime() ? metrics : await readGateMetrics(c, s.start ?? undefined, at, { thresholds: o.thresholds, soakHours: o.soakHours });
      const j = upTo === metrics ? judgement : o.judge({ stage: s.stage, flags: s.flags, stageStartedAt: s.start ?? undefined, asOf: at, metrics: upTo });
      points.push({ from: bounds[k], at, interval: intervals[k], judgement: j });
    }
    segments.push({
      stage: s.stage,
      flags: s.flags,
      start: s.start,
      end,
      current,
      windowStart,
      windowEnd,
      actor: s.actor,
      gitCommit: s.gitCommit,
      reason: s.reason,
      metrics,
      concurrency,
      judgement,
      points,
    });
  }
  return { stack: o.stack, asOf, lastRecordAt: history.events[0]?.createdAt ?? null, thresholds: o.thresholds, soakHours: o.soakHours, segments, notes, hold: o.hold ?? null };
}
