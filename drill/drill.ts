/**
 * `rollout drill`: rehearse the whole rollout locally, with no setup.
 *
 * 1. Start an embedded PostgreSQL (or use a given server: a fresh database on
 *    it) and apply the migrations with the project's runner (db/migrate.ts).
 * 2. For each stage, on a simulated clock: record the stage change in
 *    monitoring.rollout_events, then write one soak time of simulated agent
 *    traffic (sticky users bucketed by the percentage; legacy and new error
 *    and latency profiles). The drill's history ends at the database's now():
 *    stage k covers [now − (n − k)·soak, now − (n − k − 1)·soak).
 * 3. Run the gate on each stage exactly as `rollout gate` does (same metrics
 *    functions, same criteria, same config), and stop at the first verdict
 *    that is not PROCEED.
 * 4. A clean drill ends at 100 %. `inject` makes one stage misbehave and shows
 *    the verdict and the command that fixes it.
 */
import { Client } from "pg";
import type { GateConfig } from "../core/configSchema";
import { connect, databaseNow, insertEvent, readHistory, readGateMetrics, redactUrl } from "../db/rolloutStore";
import { GateResult, Verdict } from "../core/gate";
import { judgeStage } from "../db/assessment";
import { HOUR_MS } from "../core/gate";
import { DEFAULT_MIGRATIONS_DIR, migrate } from "../db/migrate";
import { startEmbeddedPostgres } from "../db/embeddedPostgres";
import { ConfigChange, planAdvance } from "../core/transitions";
import { editStackText } from "../stack/splice";
import { parseStackFile, stackConfigOf } from "../stack/stackFile";
import { Flags, STAGES, Stage, Thresholds, effectivePercentage, nextStage } from "../core/stages";
import {
  LEGACY_PROFILE,
  NEW_PROFILE,
  PathProfile,
  generateTraffic,
  insertSessions,
  onNewPath,
  seededRandom,
} from "./traffic";
import { DEFAULT_INJECT_STAGE, EXPECTED_VERDICT, Inject } from "../core/injects";


export interface DrillOptions {
  thresholds: Thresholds;
  gate: GateConfig;
  /** Stack name written into the rollout records and shown in commands. */
  stack: string;
  inject?: Inject;
  injectAt?: Stage;
  /** Use this server (a fresh database is created on it and dropped after) instead of an embedded one. */
  databaseUrl?: string;
  /**
   * Use this database as it is and leave it, with its records and traffic, when
   * the drill ends (`rollout sandbox`): the migrations are applied to it, nothing
   * is created, dropped or stopped. `description` is what the result calls it.
   */
  database?: { url: string; description: string };
  /**
   * Stop after this stage's gate, without advancing: the drill's history then
   * ends at the database's now() with this stage, soaked (`rollout sandbox`).
   * Default: the last stage.
   */
  stopAt?: Stage;
  seed?: number;
  /** Progress lines for steps that take more than a second. */
  progress?: (line: string) => void;
  /**
   * The stack file's text: the drill then rehearses `rollout advance` on an
   * in-memory copy (from stage 0, flags off) and reports what each advance
   * would write. Nothing is written to disk.
   */
  stackFile?: { file: string; text: string };
  /**
   * Called with the drill's database once the stages have run, before the
   * database is dropped (`rollout drill --report` writes the report there),
   * and the end of the last stage's window (the drill's simulated "now").
   */
  onFinished?: (c: Client, asOf: Date) => Promise<void>;
}

export interface DrillStage {
  stage: Stage;
  flags: Flags;
  effectivePct: number;
  window: { start: string; end: string };
  sessions: number;
  newRequests: number;
  legacyRequests: number;
  newUsers: number;
  legacyUsers: number;
  newErrorRatePct: number | null;
  legacyErrorRatePct: number | null;
  newP95Seconds: number | null;
  legacyP95Seconds: number | null;
  contaminationCount: number;
  injected: Inject | null;
  verdict: Verdict;
  gate: GateResult;
  /** What `rollout advance` writes into the stack file after this stage's PROCEED (with `stackFile`). */
  advanceWrites: ConfigChange[] | null;
}

export interface DrillResult {
  database: string;
  stack: string;
  inject: Inject | null;
  injectAt: Stage | null;
  stages: DrillStage[];
  /** The last stage the drill reached. */
  finalStage: Stage;
  /** What the drill had to show: a clean run ends at 100 % with PROCEED; an inject ends with its expected verdict. */
  expected: string;
  /** True when the drill showed what it had to. */
  ok: boolean;
  /** The command that fixes the stopping verdict (inject runs). */
  fixCommand: string | null;
  /** The stack file's text as of the last stage (with `stackFile`): what a stack file at that stage reads. */
  finalStackText: string | null;
  /** The database's refusal of a contaminating write (contamination inject). */
  refusal: string | null;
  notes: string[];
  seconds: number;
}


/** Run a step; print its label if it is still running after a second, and its time when it ends. */
async function step<T>(label: string, progress: ((l: string) => void) | undefined, fn: () => Promise<T>): Promise<T> {
  const t0 = Date.now();
  let shown = false;
  const timer = progress ? setTimeout(() => ((shown = true), progress(`${label} ...`)), 1000) : undefined;
  try {
    return await fn();
  } finally {
    if (timer) clearTimeout(timer);
    if (shown && progress) progress(`${label}: done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
}

function faultyProfile(inject: Inject, t: Thresholds): PathProfile {
  switch (inject) {
    case "error-spike":
      // Between the pause and the critical error rate: the stage must pause, not roll back.
      return { ...NEW_PROFILE, errorRate: (t.errorRateWarningPct + t.errorRateCriticalPct) / 2 / 100 };
    case "latency": {
      // p95 between the week-2 success bound and the pause bound: the stage must not proceed.
      const p95 = (t.p95WarningSeconds + t.p95CriticalSeconds) / 2;
      const sigma = 0.35;
      return { ...NEW_PROFILE, sigma, medianSeconds: p95 / Math.exp(1.645 * sigma) };
    }
    case "contamination":
      return NEW_PROFILE;
  }
}

/**
 * Volume per stage: enough that the first canary stage clears the gate's
 * minimums twice over, and that the always-valid bounds (core/sequential.ts)
 * can show the drill's healthy profiles within the margin at one look: about
 * 2,400 new-path requests at 10 % (12,000 sessions of 2 requests on average).
 */
export function drillVolume(gate: GateConfig): { sessions: number; users: number } {
  const firstCanary = STAGES.find((s) => s > 0) ?? STAGES[STAGES.length - 1];
  const share = firstCanary / 100;
  // Sessions average 2 requests.
  return {
    sessions: Math.max(12_000, Math.ceil((2 * gate.minNewRequests) / (2 * share)), Math.ceil((2 * gate.minLegacyRequests) / (2 * (1 - share)))),
    users: Math.max(1000, Math.ceil((2 * gate.minNewUsers) / share), Math.ceil((2 * gate.minLegacyUsers) / (1 - share))),
  };
}

export async function runDrill(opts: DrillOptions): Promise<DrillResult> {
  const started = Date.now();
  const progress = opts.progress;
  const notes: string[] = [];
  let stopServer: (() => Promise<void>) | undefined;
  let dropDatabase: (() => Promise<void>) | undefined;
  let url: string;
  let database: string;

  if (opts.database) {
    url = opts.database.url;
    database = opts.database.description;
  } else if (opts.databaseUrl) {
    const admin = await connect(opts.databaseUrl);
    const name = `rollout_drill_${process.pid}_${Date.now().toString(36)}`;
    try {
      await admin.query(`create database "${name}"`);
    } finally {
      await admin.end();
    }
    const u = new URL(opts.databaseUrl);
    u.pathname = `/${name}`;
    url = u.toString();
    database = `database ${name} on ${redactUrl(opts.databaseUrl).replace(/\/[^/]*$/, "")}`;
    dropDatabase = async () => {
      const a = await connect(opts.databaseUrl as string);
      try {
        await a.query(`drop database if exists "${name}" with (force)`);
      } finally {
        await a.end();
      }
    };
  } else {
    const pg = await step("starting embedded PostgreSQL", progress, () => startEmbeddedPostgres());
    url = pg.url;
    database = `embedded PostgreSQL on 127.0.0.1:${pg.port}`;
    stopServer = () => pg.stop();
  }

  let client: Client | undefined;
  try {
    const applied = await step("applying migrations", progress, () => migrate({ databaseUrl: url, dir: DEFAULT_MIGRATIONS_DIR }));
    notes.push(`migrations applied: ${applied.applied.length}`);
    client = await connect(url);
    const c = client;
    const version = (await c.query<{ v: string }>("select current_setting('server_version') as v")).rows[0].v;
    database += ` (PostgreSQL ${version})`;

    const now = await databaseNow(c);
    const soakMs = opts.gate.soakHours * HOUR_MS;
    const stopAt = opts.stopAt ?? STAGES[STAGES.length - 1];
    const t0 = now.getTime() - (STAGES.indexOf(stopAt) + 1) * soakMs;
    const rng = seededRandom(opts.seed ?? 20241123);
    const volume = drillVolume(opts.gate);
    const users = Array.from({ length: volume.users }, (_, i) => `user-${String(i + 1).padStart(5, "0")}`);
    const injectAt = opts.inject ? (opts.injectAt ?? DEFAULT_INJECT_STAGE) : null;

    const stages: DrillStage[] = [];
    let refusal: string | null = null;
    let state = { canaryPercentage: STAGES[0] as Stage, enableStatelessOrchestration: false, enableSafeJsonParser: false };
    let from: Stage | null = null;
    let fixCommand: string | null = null;
    let stackText = opts.stackFile ? baselineText(opts.stack, opts.stackFile) : undefined;

    for (let k = 0; k < STAGES.length; k++) {
      const start = new Date(t0 + k * soakMs);
      const end = new Date(t0 + (k + 1) * soakMs);
      const stage = state.canaryPercentage;
      const eff = effectivePercentage(state);
      const flags: Flags = { enableStatelessOrchestration: state.enableStatelessOrchestration, enableSafeJsonParser: state.enableSafeJsonParser };
      await insertEvent(c, { stack: opts.stack, fromStage: from, toStage: stage, flags, actor: "rollout drill", reason: "drill", createdAt: start });

      const injected = opts.inject && injectAt === stage ? opts.inject : null;
      const rows = generateTraffic({
        rng,
        users,
        sessions: volume.sessions,
        start: new Date(start.getTime() + 1),
        end,
        effectivePct: eff,
        legacy: LEGACY_PROFILE,
        new: injected ? faultyProfile(injected, opts.thresholds) : NEW_PROFILE,
        sessionPrefix: `drill-s${stage}`,
      });
      await step(`stage ${stage}%: writing ${rows.length} requests of simulated traffic`, progress, () => insertSessions(c, rows));

      if (injected === "contamination") {
        refusal = await injectContamination(c, rows.find((r) => onNewPath(r.user_id, eff))?.session_id ?? rows[0].session_id, users, end, notes);
      }

      // The gate, exactly as `rollout gate` runs it: stage start from the records, metrics over the soak window.
      const asOf = end;
      const history = await readHistory(c, opts.stack, asOf, 1);
      const startedAt = history.current?.createdAt;
      const metrics = await step(`stage ${stage}%: reading the stage's metrics`, progress, () => readGateMetrics(c, startedAt, asOf, { thresholds: opts.thresholds, soakHours: opts.gate.soakHours }));
      const since = metrics.windowStart;
      const gate = judgeStage(opts, { stage, flags, stageStartedAt: startedAt, asOf, metrics, looks: 1 });
      const pct = (e: number, n: number) => (n > 0 ? (100 * e) / n : null);
      stages.push({
        stage,
        flags,
        effectivePct: eff,
        window: { start: since.toISOString(), end: asOf.toISOString() },
        sessions: volume.sessions,
        newRequests: metrics.new.requests,
        legacyRequests: metrics.legacy.requests,
        newUsers: metrics.new.users,
        legacyUsers: metrics.legacy.users,
        newErrorRatePct: pct(metrics.new.errors, metrics.new.requests),
        legacyErrorRatePct: pct(metrics.legacy.errors, metrics.legacy.requests),
        newP95Seconds: metrics.new.requests > 0 ? metrics.new.p95Seconds : null,
        legacyP95Seconds: metrics.legacy.requests > 0 ? metrics.legacy.p95Seconds : null,
        contaminationCount: metrics.contaminationCount,
        injected,
        verdict: gate.verdict,
        gate,
        advanceWrites: null,
      });

      if (gate.verdict !== "PROCEED") {
        fixCommand = gate.suggestedCommand ? `npx ${gate.suggestedCommand} --stack ${opts.stack}` : gate.advice;
        break;
      }
      const next = nextStage(stage);
      if (next === undefined || stage === stopAt) break;
      if (stackText !== undefined && opts.stackFile) {
        // Rehearse `rollout advance` on the in-memory stack file: the same planning and edit code.
        const plan = planAdvance(stackConfigOf(parseStackFile(opts.stack, opts.stackFile.file, stackText)));
        stackText = editStackText(opts.stackFile.file, stackText, plan.changes);
        stages[stages.length - 1].advanceWrites = plan.changes;
      }
      from = stage;
      // rollout advance: the next stage; leaving 0 turns both flags on (the guide's week 2).
      state = { canaryPercentage: next, enableStatelessOrchestration: true, enableSafeJsonParser: true };
    }

    const onFinished = opts.onFinished;
    if (onFinished) await step("writing the report", progress, () => onFinished(c, new Date(stages[stages.length - 1].window.end)));

    const last = stages[stages.length - 1];
    const finalStage = last.stage;
    let expected: string;
    let ok: boolean;
    if (opts.inject) {
      const want = EXPECTED_VERDICT[opts.inject];
      expected = `${opts.inject} at ${injectAt}% gives ${want}`;
      ok = last.injected === opts.inject && last.verdict === want;
    } else {
      expected = `every stage PROCEEDs and the rollout ends at ${stopAt}%`;
      ok = finalStage === stopAt && stages.every((s) => s.verdict === "PROCEED");
    }
    return {
      database,
      stack: opts.stack,
      inject: opts.inject ?? null,
      injectAt,
      stages,
      finalStage,
      expected,
      ok,
      fixCommand,
      finalStackText: stackText ?? null,
      refusal,
      notes,
      seconds: (Date.now() - started) / 1000,
    };
  } finally {
    await client?.end().catch(() => undefined);
    if (dropDatabase) await dropDatabase().catch(() => undefined);
    if (stopServer) await step("stopping embedded PostgreSQL", progress, stopServer);
  }
}

/** The stack file's text moved to stage 0 with both flags off (where the drill starts). */
function baselineText(stack: string, f: { file: string; text: string }): string {
  const cfg = stackConfigOf(parseStackFile(stack, f.file, f.text));
  const changes: ConfigChange[] = [];
  if (cfg.enableStatelessOrchestration) changes.push({ key: "enableStatelessOrchestration", value: "false" });
  if (cfg.enableSafeJsonParser) changes.push({ key: "enableSafeJsonParser", value: "false" });
  if (cfg.canaryPercentage !== STAGES[0]) changes.push({ key: "canaryPercentage", value: String(STAGES[0]) });
  return editStackText(f.file, f.text, changes);
}

/**
 * The contamination fault. First the app's way: a write that gives a session
 * a second user, which the database refuses (0004's trigger) — nothing is
 * written. Then the way contamination still gets in: a write that bypasses
 * triggers (a restore or logical replication runs with
 * session_replication_role = replica). The gate's count reads agent_sessions
 * itself, so it sees that row.
 */
async function injectContamination(c: Client, sessionId: string, users: readonly string[], end: Date, notes: string[]): Promise<string | null> {
  const owner = (await c.query<{ user_id: string }>("select user_id from public.agent_sessions where session_id = $1 limit 1", [sessionId])).rows[0].user_id;
  const intruder = users.find((u) => u !== owner) ?? "user-intruder";
  const at = new Date(end.getTime() - HOUR_MS);
  const insert = `insert into public.agent_sessions (session_id, user_id, status, metadata, created_at, updated_at)
                  values ($1, $2, 'completed', '{"useStateless": "true"}', $3, $3)`;
  let refusal: string | null = null;
  try {
    await c.query(insert, [sessionId, intruder, at]);
    notes.push("the database accepted a contaminating write: session isolation is not enforced");
  } catch (err) {
    refusal = (err as Error).message;
    notes.push(`the app's contaminating write was refused by the database: ${refusal}`);
  }
  try {
    await c.query("begin");
    await c.query("set local session_replication_role = replica");
    await c.query(insert, [sessionId, intruder, at]);
    await c.query("commit");
    notes.push(`a write that bypassed the isolation trigger (session_replication_role = replica, as a restore or replication does) gave session ${sessionId} a second user`);
  } catch (err) {
    await c.query("rollback").catch(() => undefined);
    notes.push(`could not simulate a trigger-bypassing write (needs a superuser): ${(err as Error).message}`);
  }
  return refusal;
}
