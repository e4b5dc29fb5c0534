/**
 * What the `rollout` command reads from PostgreSQL: the rollout records
 * (`monitoring.rollout_events`), the gate's metrics over a window
 * (`monitoring.stage_metrics` / `monitoring.stage_contamination`), and the
 * live monitoring views (the guide's queries, 24 h / 1 h windows).
 *
 * Every failure becomes a `DatabaseError` with a plain-language message: an
 * unreachable server, a refused login, a missing records table.
 */
import type { Client, ClientBase } from "pg";
import { gateWindow, latencyThresholds, type LatencyCount, type StageMetrics, type PathMetrics } from "../core/gate";
import { redact } from "../core/redact";
import { ROLLOUT_EVENTS_TABLE, RolloutEventRow, insertRolloutEvent } from "./rolloutEvent";
import { Flags, Stage, Thresholds, isStage } from "../core/stages";

export class DatabaseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DatabaseError";
  }
}

/** A URL as shown to people: every credential in it masked (core/redact.ts: userinfo, password parameters). */
export function redactUrl(url: string): string {
  try {
    new URL(url);
  } catch {
    return "(unparseable URL)"; // not shown at all: it may be a password pasted in the wrong place
  }
  return redact(url);
}

function describePgError(err: unknown, url: string): string {
  const e = err as { code?: string; message?: string };
  const where = redactUrl(url);
  switch (e.code) {
    case "ECONNREFUSED":
      return `cannot reach the database at ${where}: connection refused (is PostgreSQL running and listening there?)`;
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return `cannot reach the database at ${where}: the host name does not resolve`;
    case "ETIMEDOUT":
      return `cannot reach the database at ${where}: the connection timed out`;
    case "28P01":
    case "28000":
      return `the database at ${where} refused the login: ${e.message}`;
    case "3D000":
      return `the database in ${where} does not exist: ${e.message}`;
    default:
      return `database error at ${where}: ${e.message ?? String(err)}`;
  }
}

/**
 * The pg module, loaded when a command first connects. pg 8 asks at load whether it runs in a Cloudflare
 * Worker: without a global `navigator` (Node 20; Node 21 and later define one) it constructs a fetch
 * `Response`, which loads Node's whole fetch stack (undici, http, http2) that nothing here uses: about a
 * fifth of `rollout status`'s start (bench/cli.ts). A `navigator` that says Node, as Node 21+ has it, answers
 * the question instead; it exists only while pg loads, and an existing one is left alone.
 */
function loadPg(): typeof import("pg") {
  const g = globalThis as { navigator?: unknown };
  if (g.navigator !== undefined) return require("pg") as typeof import("pg");
  Object.defineProperty(globalThis, "navigator", { value: { userAgent: `Node.js/${process.versions.node}` }, configurable: true, writable: true });
  try {
    return require("pg") as typeof import("pg");
  } finally {
    delete g.navigator;
  }
}

/** Connect, or throw a DatabaseError that says why not. */
export async function connect(url: string, timeoutMs = 5000): Promise<Client> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new DatabaseError(`--database-url is not a URL: expected postgres://user:password@host:port/database`);
  }
  if (!/^postgres(ql)?:$/.test(parsed.protocol)) {
    throw new DatabaseError(`--database-url must start with postgres:// or postgresql://, got ${parsed.protocol}//`);
  }
  const client = new (loadPg().Client)({ connectionString: url, connectionTimeoutMillis: timeoutMs, application_name: "rollout" });
  client.on("error", () => undefined); // a dropped connection surfaces on the next query
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => undefined);
    throw new DatabaseError(describePgError(err, url));
  }
  return client;
}

/** Run a query; every failure becomes a DatabaseError that says what to do. */
export async function query<R extends object>(c: ClientBase, sql: string, params: unknown[] = []): Promise<R[]> {
  try {
    return (await c.query<R>(sql, params)).rows;
  } catch (err) {
    throw databaseErrorOf(err);
  }
}

/** A failed query as a DatabaseError that says what to do. */
function databaseErrorOf(err: unknown): DatabaseError {
  const e = err as { code?: string; message?: string };
  if (e.code === "42501") {
    return new DatabaseError(
      `${e.message}: the database user lacks a privilege the rollout command needs ` +
        `(the monitoring role needs USAGE on schema monitoring; run the migrations so the rollout functions exist)`,
    );
  }
  if (e.code === "42P01" || e.code === "3F000" || e.code === "42883") {
    return new DatabaseError(
      `${e.message}: the rollout records table (${ROLLOUT_EVENTS_TABLE}) or its functions are missing. Apply the migrations first ` +
        `(npm run migrate with DATABASE_URL set; a deploy, the merge's pulumi up, applies them too), then run the command again`,
    );
  }
  return new DatabaseError(`query failed: ${e.message ?? String(err)}`);
}

/** The database's clock: every window is relative to it, never to this machine's. */
export async function databaseNow(c: ClientBase): Promise<Date> {
  const rows = await query<{ now: Date }>(c, "select now() as now");
  return rows[0].now;
}

// ---------------------------------------------------------------------------
// Rollout records

export interface RolloutEvent {
  id: number;
  stack: string;
  fromStage: Stage | null;
  toStage: Stage;
  flags: Flags;
  imageDigest: string | null;
  gitCommit: string | null;
  actor: string | null;
  reason: string | null;
  createdAt: Date;
}

interface EventRow {
  id: string;
  stack: string;
  /** bigint columns: pg returns them as strings. */
  from_stage: string | null;
  to_stage: string;
  enable_stateless_orchestration: boolean;
  enable_safe_json_parser: boolean;
  image_digest: string | null;
  git_commit: string | null;
  actor: string | null;
  reason: string | null;
  created_at: Date;
}

function toEvent(r: EventRow): RolloutEvent {
  const stage = (v: string): Stage => {
    const n = Number(v);
    if (!isStage(n)) throw new DatabaseError(`${ROLLOUT_EVENTS_TABLE} row ${r.id} has stage ${n}, which is not a stage`);
    return n;
  };
  return {
    id: Number(r.id),
    stack: r.stack,
    fromStage: r.from_stage === null ? null : stage(r.from_stage),
    toStage: stage(r.to_stage),
    flags: { enableStatelessOrchestration: r.enable_stateless_orchestration, enableSafeJsonParser: r.enable_safe_json_parser },
    imageDigest: r.image_digest,
    gitCommit: r.git_commit,
    actor: r.actor,
    reason: r.reason,
    createdAt: r.created_at,
  };
}

export interface RolloutHistory {
  /** Newest first, at or before `asOf`. */
  events: RolloutEvent[];
  /** The deployed state: the newest event, if any. */
  current?: RolloutEvent;
}

/** The stack's rollout records up to `asOf` (newest first, at most `limit`). */
export async function readHistory(c: ClientBase, stack: string, asOf: Date, limit = 20): Promise<RolloutHistory> {
  const rows = await query<EventRow>(
    c,
    // Through a SECURITY DEFINER function (migration 0009): the monitoring role can call it.
    "select * from monitoring.rollout_history($1, $2, $3)",
    [stack, asOf, limit],
  );
  const events = rows.map(toEvent);
  return { events, current: events[0] };
}

/** A rollout record as the drill and the tests write it: db/rolloutEvent.ts's row, with stages typed and the flags as one value. */
export type NewRolloutEvent = Omit<RolloutEventRow, "fromStage" | "toStage" | "enableStatelessOrchestration" | "enableSafeJsonParser"> & {
  fromStage: Stage | null;
  toStage: Stage;
  flags: Flags;
};

/** Insert one rollout record for the drill and the tests: db/rolloutEvent.ts writes it (the program's provider calls that too). */
export async function insertEvent(c: ClientBase, e: NewRolloutEvent): Promise<void> {
  const { flags, ...row } = e;
  try {
    await insertRolloutEvent(c, { ...row, ...flags });
  } catch (err) {
    throw databaseErrorOf(err);
  }
}

// ---------------------------------------------------------------------------
// Looks at the gate (sql/0030_gate_looks.sql)

/** The looks so far at a recorded stage, this one included; or why they are not counted. */
export type GateLooks = { looks: number; note?: undefined } | { looks: null; note: string };

/**
 * Record one look at the gate for the stage whose rollout record is `eventId`
 * and return the stage's looks so far (monitoring.record_gate_look, the one
 * write the monitoring role may make). A read-only replica, or a database
 * without migration 0030, does not stop the gate: the looks are then "not
 * counted", with the reason. Any other failure is a DatabaseError.
 */
export async function recordGateLook(c: ClientBase, eventId: number): Promise<GateLooks> {
  try {
    const rows = (await c.query<{ n: string }>("select monitoring.record_gate_look($1) as n", [eventId])).rows;
    return { looks: Number(rows[0].n) };
  } catch (err) {
    const e = err as { code?: string; message?: string };
    if (e.code === "25006") return { looks: null, note: "not counted: the database is read-only (a replica); the bounds do not depend on the count" };
    if (e.code === "42883") return { looks: null, note: "not counted: monitoring.record_gate_look is missing (apply migration 0030); the bounds do not depend on the count" };
    throw new DatabaseError(`recording the gate look failed: ${e.message ?? String(err)}`);
  }
}

// ---------------------------------------------------------------------------
// Gate metrics over a window

/** A row of monitoring.stage_metrics as json: counts are numbers; a non-finite double is a string ("NaN", "Infinity"). */
interface StageRow {
  version: "New" | "Legacy";
  total_requests: number;
  errors: number;
  users: number;
  avg_duration_seconds: number | string | null;
  p95_duration_seconds: number | string | null;
}

const seconds = (v: number | string | null): number | null => (v === null ? null : Number(v));

const emptyPath = (): PathMetrics => ({ requests: 0, errors: 0, users: 0, avgSeconds: null, p95Seconds: null });

interface LatencyRow {
  version: "New" | "Legacy";
  threshold_seconds: number;
  timed: number;
  over: number;
  at_least: number;
}

/** One read of a window: each part as the row set its function returns (json), all from one snapshot. */
interface WindowRow {
  paths: StageRow[];
  latency: LatencyRow[];
  contamination: string;
}

/** A window's metrics from monitoring.stage_metrics's rows (as json) and its contamination count: a path without a row had no requests. */
function windowMetrics(since: Date, until: Date, paths: readonly StageRow[], contamination: string | number): StageMetrics {
  const out: StageMetrics = { windowStart: since, windowEnd: until, new: emptyPath(), legacy: emptyPath(), contaminationCount: Number(contamination) };
  for (const r of paths) {
    const p: PathMetrics = {
      requests: Number(r.total_requests),
      errors: Number(r.errors),
      users: Number(r.users),
      avgSeconds: seconds(r.avg_duration_seconds),
      p95Seconds: seconds(r.p95_duration_seconds),
    };
    if (r.version === "New") out.new = p;
    else out.legacy = p;
  }
  return out;
}

/**
 * Both paths' metrics and the contamination count for created_at in (since,
 * until]; with `latencyThresholds` (seconds; core/gate.ts latencyThresholds),
 * also each path's count of requests slower than each threshold
 * (monitoring.stage_latency_counts, migration 0015), which the gate's p95
 * criteria are judged on.
 *
 * The three functions run in ONE statement, so they read one snapshot
 * (they are STABLE: a STABLE function sees its calling statement's snapshot)
 * at any isolation level and inside or outside a caller's transaction. Read
 * as three statements under READ COMMITTED, the requests committed between
 * them made the parts disagree (e.g. more timed requests than requests),
 * which the gate rightly refuses to judge.
 */
export async function readStageMetrics(c: ClientBase, since: Date, until: Date, latencyThresholds: readonly number[] = []): Promise<StageMetrics> {
  const [row] = await query<WindowRow>(
    c,
    `select (select coalesce(json_agg(m), '[]'::json) from monitoring.stage_metrics($1, $2) as m) as paths,
            (select coalesce(json_agg(l), '[]'::json) from monitoring.stage_latency_counts($1, $2, $3::double precision[]) as l) as latency,
            monitoring.stage_contamination($1, $2) as contamination`,
    [since, until, [...latencyThresholds]],
  );
  const out = windowMetrics(since, until, row.paths, row.contamination);
  if (latencyThresholds.length > 0) {
    const byPath: Record<"new" | "legacy", LatencyCount[]> = { new: [], legacy: [] };
    for (const r of row.latency) {
      byPath[r.version === "New" ? "new" : "legacy"].push({ thresholdSeconds: Number(r.threshold_seconds), timed: Number(r.timed), over: Number(r.over), atLeast: Number(r.at_least) });
    }
    // A path without rows has no requests: zero counts at every threshold.
    for (const k of ["new", "legacy"] as const) {
      out[k].latency = latencyThresholds.map((t) => byPath[k].find((x) => x.thresholdSeconds === t) ?? { thresholdSeconds: t, timed: 0, over: 0, atLeast: 0 });
    }
  }
  return out;
}

/**
 * The display intervals' metrics of a stage over time (the rollout report's points: each interval's own
 * error rate, P95, requests per version and contamination), for the intervals (bounds[k], bounds[k+1]] of
 * consecutive times, in ONE statement (monitoring.stage_interval_metrics, sql/0033): one round trip and one
 * snapshot for all of them, each interval exactly what readStageMetrics without latency counts reads for it.
 * Not a gate input: what the gate judges is read by readGateMetrics alone, over the window gateWindow gives.
 */
export async function readIntervalMetrics(c: ClientBase, bounds: readonly Date[]): Promise<StageMetrics[]> {
  if (bounds.length < 2) return [];
  const rows = await query<{ interval_index: number; paths: StageRow[]; contamination: string }>(
    c,
    "select interval_index, paths, contamination from monitoring.stage_interval_metrics($1::timestamptz[]) order by interval_index",
    [[...bounds]],
  );
  if (rows.length !== bounds.length - 1 || rows.some((r, i) => r.interval_index !== i + 1)) {
    throw new DatabaseError(`monitoring.stage_interval_metrics returned ${rows.length} intervals for ${bounds.length - 1}`);
  }
  return rows.map((r, i) => windowMetrics(bounds[i], bounds[i + 1], r.paths, r.contamination));
}

/**
 * What the gate judges a stage on, read one way for every caller (`rollout gate`/`status`/`advance`,
 * the drill, the rollout report): the stage's window (core/gate.ts gateWindow: from its rollout
 * record, or the last soak period when there is none, up to `asOf`) and its metrics with the
 * per-threshold latency counts the stack's p95 criteria need.
 */
export function readGateMetrics(c: ClientBase, stageStartedAt: Date | undefined, asOf: Date, settings: { thresholds: Thresholds; soakHours: number }): Promise<StageMetrics> {
  const { since, until } = gateWindow(stageStartedAt, asOf, settings.soakHours);
  return readStageMetrics(c, since, until, latencyThresholds(settings.thresholds));
}

// ---------------------------------------------------------------------------
// Live monitoring views (the guide's queries)

export type ViewRow = Record<string, string | number | null>;

export interface LiveViews {
  errorRateByVersion: ViewRow[];
  latencyByVersion: ViewRow[];
  sessionIsolation: ViewRow[];
}

function plain(rows: Record<string, unknown>[]): ViewRow[] {
  return rows.map((r) =>
    Object.fromEntries(
      Object.entries(r).map(([k, v]) => [k, v === null || typeof v === "number" ? v : typeof v === "string" ? v : String(v)]),
    ),
  );
}

/** The guide's three rollout queries, as the monitoring views return them. */
export async function readLiveViews(c: ClientBase): Promise<LiveViews> {
  return {
    errorRateByVersion: plain(await query(c, "select * from monitoring.error_rate_by_version order by 1")),
    latencyByVersion: plain(await query(c, "select * from monitoring.latency_by_version order by 1")),
    sessionIsolation: plain(await query(c, "select * from monitoring.session_isolation")),
  };
}

/** Rows of the window whose timestamps give no duration (infinite, reversed, over 7 days), by kind (sql/0012). */
export interface DataProblem {
  problem: string;
  rows: number;
}

/** The data problems of created_at in (since, until]: each kind with its row count; empty when the data is sound. */
export async function readDataProblems(c: ClientBase, since: Date, until: Date): Promise<DataProblem[]> {
  const rows = await query<{ problem: string; row_count: string }>(c, "select * from monitoring.stage_data_problems($1, $2) order by 1", [since, until]);
  return rows.map((r) => ({ problem: r.problem, rows: Number(r.row_count) }));
}
