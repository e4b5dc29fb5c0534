/**
 * The reference app: an HTTP service that stands in for ValueCanvas with
 * exactly the behaviour the rollout relies on (docs/reference-app.md).
 *
 * - App port: the guide's `POST /api/agent/query` and the health path.
 * - Admin port (optional, never published): the fault knob and metrics.
 * - Listens only once the database has answered as the app role (ready).
 * - A database outage does not fail the health check: requests fail with 503
 *   and are counted, and the replica recovers by itself.
 * - SIGTERM: the health check fails at once, requests are served for
 *   SERVE_AFTER_SIGTERM_MS, then the listener closes and in-flight requests
 *   drain (contract.ts has the timings).
 */
import * as http from "node:http";
import * as os from "node:os";
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { DatabaseError, Pool, PoolClient } from "pg";
import { onNewPath } from "../../core/bucketing";
import { effectivePercentage } from "../../core/stages";
import type { AppConfig } from "./config";
import {
  AGENT_QUERY_PATH,
  DRAIN_TIMEOUT_MS,
  Fault,
  REPLICA_HEADER,
  ROLLOUT_HEADER,
  SERVE_AFTER_SIGTERM_MS,
  SESSION_ID_RE,
  ServedPath,
  formatRolloutHeader,
  parseFault,
  userFromAuthorization,
} from "./contract";

export type LogLevel = "info" | "warn" | "error";
export type Logger = (level: LogLevel, msg: string, fields?: Record<string, unknown>) => void;

/** JSON lines on stdout. */
export const jsonLogger: Logger = (level, msg, fields = {}) => {
  process.stdout.write(JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields }) + "\n");
};

export type Phase = "starting" | "ready" | "draining" | "stopped";

const MAX_BODY_BYTES = 64 * 1024;
/** The pool's size, and how many of its connections are opened before listening and kept open. */
const POOL_MAX = 10;
/**
 * A new replica takes its share of the traffic the moment it is healthy. With
 * an empty pool, each of its first concurrent requests would open a
 * connection (and authenticate) first; on a busy host that exceeded the 2 s
 * connect timeout and answered 503 during every rolling update (measured:
 * 6 to 24 of about 2,000 requests per stage change, bench:stage-change,
 * issue 15). With 6 warm connections 1 or 2 remained: while one task drains,
 * the others take more concurrent requests than that and the pool grew. So
 * the whole pool is opened before the app listens, and kept.
 */
export const WARM_CONNECTIONS = POOL_MAX;
/** The pool's connect and query timeouts: bounded, so that a request during an outage fails in seconds, well inside the proxy's read timeout. */
export const CONNECT_TIMEOUT_MS = 2_000;
export const QUERY_TIMEOUT_MS = 5_000;
/** How long the start may spend opening the warm connections (a partial pool is logged, not fatal). */
const WARM_BUDGET_MS = 10_000;
const MAX_QUERY_CHARS = 10_000;

/** The one write the app makes: a request's agent_sessions row, as the app role, with parameters. */
const INSERT_SESSION_ROW = `INSERT INTO public.agent_sessions
  (session_id, user_id, status, error_message, metadata, workflow_state, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, now() - make_interval(secs => $7::double precision), now())`;

/** Ready: the app role can reach the database and insert into agent_sessions. */
const READINESS_QUERY = `SELECT has_table_privilege(current_user, 'public.agent_sessions', 'INSERT') AS ok`;

type DbErrorKind = "unavailable" | "refused" | "conflict" | "other";

/** How a failed write answers the client, and how it is counted. */
export function classifyDbError(err: unknown): { kind: DbErrorKind; status: number; error: string } {
  const code = err instanceof DatabaseError ? err.code ?? "" : "";
  // Class 23, integrity constraint violation: the database refused the row
  // (the session-isolation trigger raises check_violation, 23514).
  if (code.startsWith("23")) return { kind: "conflict", status: 409, error: "session_conflict" };
  if (code === "42501") return { kind: "refused", status: 500, error: "database_refused" };
  // Connection exceptions, operator intervention (shutdown, crash recovery), too many connections.
  if (code.startsWith("08") || code.startsWith("57P") || code === "53300") {
    return { kind: "unavailable", status: 503, error: "database_unavailable" };
  }
  if (code !== "") return { kind: "other", status: 500, error: "database_error" };
  // No SQLSTATE: the connection failed or timed out (refused, reset, terminated, timeout).
  return { kind: "unavailable", status: 503, error: "database_unavailable" };
}

/** Counters for the admin port's /metrics (Prometheus text format). */
class Metrics {
  private readonly counters = new Map<string, number>();
  inc(name: string, labels: Record<string, string>): void {
    const key = `${name}{${Object.entries(labels).map(([k, v]) => `${k}="${v}"`).join(",")}}`;
    this.counters.set(key, (this.counters.get(key) ?? 0) + 1);
  }
  render(gauges: Record<string, number>): string {
    const lines: string[] = [];
    const names = new Set([...this.counters.keys()].map((k) => k.slice(0, k.indexOf("{"))));
    for (const n of [...names].sort()) {
      lines.push(`# TYPE ${n} counter`);
      for (const [k, v] of [...this.counters].sort()) if (k.startsWith(`${n}{`)) lines.push(`${k} ${v}`);
    }
    for (const [n, v] of Object.entries(gauges)) lines.push(`# TYPE ${n} gauge`, `${n} ${v}`);
    return lines.join("\n") + "\n";
  }
}

class HttpError extends Error {
  constructor(readonly status: number, readonly error: string, message: string) {
    super(message);
  }
}

async function readBody(req: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, "body_too_large", `request body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** The guide's request body: `{"query": "..."}`, with an optional `sessionId` to continue a session. */
function parseQueryBody(text: string): { query: string; sessionId: string | undefined } {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new HttpError(400, "bad_request", "body: expected JSON such as {\"query\": \"test query\"}");
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new HttpError(400, "bad_request", `body: ${JSON.stringify(body)}: expected a JSON object such as {"query": "test query"}`);
  }
  const { query, sessionId } = body as { query?: unknown; sessionId?: unknown };
  if (typeof query !== "string" || query.length === 0 || query.length > MAX_QUERY_CHARS) {
    throw new HttpError(400, "bad_request", `query=${JSON.stringify(query)}: expected a string of 1 to ${MAX_QUERY_CHARS} characters`);
  }
  if (sessionId !== undefined && (typeof sessionId !== "string" || !SESSION_ID_RE.test(sessionId))) {
    throw new HttpError(400, "bad_request", `sessionId=${JSON.stringify(sessionId)}: expected 1 to 200 printable ASCII characters, or no sessionId`);
  }
  return { query, sessionId };
}

/**
 * Waits at least `ms` by the monotonic clock that the row's duration is measured with. A timer may fire
 * slightly early by that clock (one row recorded 0.599953 s for a 600 ms fault), so this sleeps again for
 * whatever remains: a latency fault is then never recorded shorter than it was set.
 */
async function delayAtLeast(ms: number): Promise<void> {
  const until = process.hrtime.bigint() + BigInt(ms) * 1_000_000n;
  for (let left = ms; left > 0; left = Number(until - process.hrtime.bigint()) / 1e6) await sleep(Math.ceil(left));
}

export class ReferenceApp {
  private phase: Phase = "starting";
  private fault: Fault;
  private inFlight = 0;
  private dbReachable = false;
  /** While one agent query probes a database found unreachable (see agentQuery): resolves to whether it answered. */
  private probe: Promise<boolean> | undefined;
  private lastDbError: string | undefined;
  private stopRequested = false;
  private readonly metrics = new Metrics();
  private readonly pool: Pool;
  private readonly server: http.Server;
  private admin: http.Server | undefined;
  private readonly replica = os.hostname();
  private readonly effectivePct: number;
  private readonly healthPathname: string;

  constructor(private readonly cfg: AppConfig, private readonly log: Logger = jsonLogger) {
    this.fault = { ...cfg.fault };
    this.effectivePct = effectivePercentage(cfg);
    this.healthPathname = new URL(cfg.healthCheckPath, "http://app").pathname;
    this.pool = new Pool({
      connectionString: cfg.databaseUrl,
      max: POOL_MAX,
      min: WARM_CONNECTIONS,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      query_timeout: QUERY_TIMEOUT_MS,
      idleTimeoutMillis: 10_000,
      keepAlive: true,
      application_name: "valuecanvas-reference-app",
    });
    // An idle client whose connection drops (database restart, outage) emits
    // here; unhandled, it would kill the process.
    this.pool.on("error", (err) => this.noteDbError(err, "idle client"));
    this.server = http.createServer((req, res) => void this.handle(req, res));
  }

  get state(): Phase {
    return this.phase;
  }

  /**
   * Wait until the database answers as the app role, then listen. Resolves
   * false when a stop was requested first (nothing was listening).
   */
  async start(): Promise<boolean> {
    this.log("info", "starting: waiting for the database before listening", {
      canaryPercentage: this.cfg.canaryPercentage,
      enableStatelessOrchestration: this.cfg.enableStatelessOrchestration,
      enableSafeJsonParser: this.cfg.enableSafeJsonParser,
      effectivePercentage: this.effectivePct,
      fault: this.fault,
    });
    let delay = 250;
    for (let attempt = 1; ; attempt++) {
      if (this.stopRequested) return false;
      try {
        const r = await this.pool.query<{ ok: boolean }>(READINESS_QUERY);
        if (r.rows[0]?.ok) break;
        this.log("warn", "not ready: the database role cannot insert into public.agent_sessions", { attempt });
      } catch (err) {
        this.log("warn", "not ready: database unreachable", { attempt, error: (err as Error).message });
      }
      await sleep(delay);
      delay = Math.min(delay * 2, 2_000);
    }
    if (this.stopRequested) return false;
    this.dbReachable = true;
    const warm = await this.warmPool();
    if (this.stopRequested) return false;
    await listen(this.server, this.cfg.port, this.cfg.listenHost);
    if (this.cfg.adminPort !== undefined) {
      this.admin = http.createServer((req, res) => void this.handleAdmin(req, res));
      await listen(this.admin, this.cfg.adminPort, this.cfg.listenHost);
    }
    this.phase = "ready";
    this.log("info", "ready: listening", {
      host: this.cfg.listenHost,
      port: this.cfg.port,
      healthCheckPath: this.cfg.healthCheckPath,
      adminPort: this.cfg.adminPort ?? null,
      warmConnections: warm,
    });
    return true;
  }

  /** Open WARM_CONNECTIONS pool connections (within WARM_BUDGET_MS) and return them to the pool, which keeps them. */
  private async warmPool(): Promise<number> {
    const deadline = Date.now() + WARM_BUDGET_MS;
    const held: PoolClient[] = [];
    let lastError: string | undefined;
    while (held.length < WARM_CONNECTIONS && Date.now() < deadline && !this.stopRequested) {
      const batch = await Promise.allSettled(Array.from({ length: WARM_CONNECTIONS - held.length }, () => this.pool.connect()));
      for (const b of batch) {
        if (b.status === "fulfilled") held.push(b.value);
        else lastError = (b.reason as Error).message;
      }
    }
    for (const c of held) c.release();
    if (held.length < WARM_CONNECTIONS) this.log("warn", "pool only partly warmed", { warm: held.length, wanted: WARM_CONNECTIONS, error: lastError });
    return held.length;
  }

  /**
   * The graceful stop. Before ready: stop waiting, exit at once. After: fail
   * the health check, keep serving for SERVE_AFTER_SIGTERM_MS, close the
   * listener, drain in-flight requests for up to DRAIN_TIMEOUT_MS. Resolves
   * with the exit code: 0, or 1 when connections had to be cut.
   */
  async stop(): Promise<number> {
    if (this.stopRequested) return 0;
    this.stopRequested = true;
    if (this.phase === "starting") {
      this.log("info", "stop requested before ready: exiting");
      await this.pool.end().catch(() => undefined);
      this.phase = "stopped";
      return 0;
    }
    this.phase = "draining";
    this.log("info", "SIGTERM: health check failing; still serving", { serveMs: SERVE_AFTER_SIGTERM_MS });
    await sleep(SERVE_AFTER_SIGTERM_MS);
    this.log("info", "closing the listener; draining requests in flight", { inFlight: this.inFlight, drainTimeoutMs: DRAIN_TIMEOUT_MS });
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    const drained = await Promise.race([closed.then(() => true), sleep(DRAIN_TIMEOUT_MS).then(() => false)]);
    if (!drained) {
      this.log("warn", "drain timeout: closing the remaining connections", { inFlight: this.inFlight });
      this.server.closeAllConnections();
    }
    if (this.admin) {
      const a = this.admin;
      const adminClosed = new Promise<void>((resolve) => a.close(() => resolve()));
      a.closeAllConnections();
      await adminClosed;
    }
    await Promise.race([this.pool.end().catch(() => undefined), sleep(2_000)]);
    this.phase = "stopped";
    this.log("info", "stopped", { drained });
    return drained ? 0 : 1;
  }

  /** Whether the probe in flight found the database reachable, waiting at most `ms`. */
  private probeOutcome(ms: number): Promise<boolean> {
    const probe = this.probe;
    if (!probe) return Promise.resolve(this.dbReachable);
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), ms);
      void probe.then((reachable) => {
        clearTimeout(timer);
        resolve(reachable);
      });
    });
  }

  private noteDbReachable(): void {
    if (!this.dbReachable) this.log("info", "database reachable again: agent queries are no longer shed");
    this.dbReachable = true;
  }

  private noteDbError(err: unknown, during: string): void {
    const c = classifyDbError(err);
    if (c.kind === "unavailable" && this.dbReachable) {
      this.dbReachable = false;
      this.log("warn", "database unreachable: one agent query at a time probes it; the others wait for its outcome (at most the connect timeout), then get 503");
    }
    this.lastDbError = (err as Error).message;
    this.metrics.inc("refapp_db_errors_total", { kind: c.kind });
    this.log(c.kind === "conflict" ? "warn" : "error", "database error", {
      during,
      kind: c.kind,
      sqlstate: err instanceof DatabaseError ? err.code : undefined,
      error: (err as Error).message,
    });
  }

  private send(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    route: string,
    path: ServedPath,
    status: number,
    body: unknown,
  ): void {
    this.metrics.inc("refapp_requests_total", { route, path, code: String(status) });
    const text = JSON.stringify(body) + "\n";
    res.statusCode = status;
    res.setHeader("content-type", "application/json");
    res.setHeader("content-length", Buffer.byteLength(text));
    res.setHeader(ROLLOUT_HEADER, formatRolloutHeader({ ...this.cfg, path }));
    res.setHeader(REPLICA_HEADER, this.replica);
    // While draining, move keep-alive clients off this replica.
    if (this.phase !== "ready") res.setHeader("connection", "close");
    if (status === 503 && route === "agent_query") res.setHeader("retry-after", "1");
    res.end(req.method === "HEAD" ? undefined : text);
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    this.inFlight++;
    res.once("close", () => this.inFlight--);
    const pathname = new URL(req.url ?? "/", "http://app").pathname;
    try {
      if (pathname === AGENT_QUERY_PATH) {
        if (req.method !== "POST") return this.send(req, res, "agent_query", "none", 405, { error: "method_not_allowed", allowed: ["POST"] });
        return await this.agentQuery(req, res);
      }
      if (pathname === this.healthPathname) {
        if (req.method !== "GET" && req.method !== "HEAD") return this.send(req, res, "health", "none", 405, { error: "method_not_allowed", allowed: ["GET", "HEAD"] });
        if (this.fault.badRelease) return this.send(req, res, "health", "none", 500, { status: "failing", reason: "bad release (fault knob)" });
        if (this.phase !== "ready") return this.send(req, res, "health", "none", 503, { status: this.phase });
        // A database outage does not fail the health check (docs/reference-app.md).
        return this.send(req, res, "health", "none", 200, {
          status: "ok",
          database: this.dbReachable ? "ok" : "unreachable",
        });
      }
      if (this.fault.badRelease) return this.send(req, res, "other", "none", 500, { error: "bad_release" });
      return this.send(req, res, "other", "none", 404, { error: "not_found" });
    } catch (err) {
      this.log("error", "request failed", { error: (err as Error).message });
      if (!res.headersSent) this.send(req, res, "other", "none", 500, { error: "internal_error" });
      else res.destroy();
    }
  }

  private async agentQuery(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const started = process.hrtime.bigint();
    const userId = userFromAuthorization(req.headers.authorization);
    if (userId === undefined) {
      return this.send(req, res, "agent_query", "none", 401, { error: "unauthorized", message: "expected Authorization: Bearer <token>" });
    }
    let body: { query: string; sessionId: string | undefined };
    try {
      body = parseQueryBody(await readBody(req));
    } catch (err) {
      if (err instanceof HttpError) return this.send(req, res, "agent_query", "none", err.status, { error: err.error, message: err.message });
      throw err;
    }
    const isNew = onNewPath(userId, this.effectivePct);
    const path: ServedPath = isNew ? "new" : "legacy";
    const sessionId = body.sessionId ?? randomUUID();
    const fault = this.fault;

    let injected: string | undefined;
    if (fault.badRelease) injected = "injected fault: bad release";
    else if (isNew) {
      if (fault.newPathLatencyMs > 0) await delayAtLeast(fault.newPathLatencyMs);
      if (fault.newPathErrorRate > 0 && Math.random() < fault.newPathErrorRate) injected = "injected fault: new-path error";
    }

    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    // While the database is unreachable, one agent query at a time probes it. The others wait for the probe's
    // outcome, at most the connect timeout, and go on if it succeeded; otherwise they are shed with the same
    // 503. Without this, every waiting request made the pool open a connection, each abandoned after the
    // connect timeout: a paused database's listen queue filled with dead connections, which it then had to
    // accept and start a backend for on its return, while the live ones timed out behind them
    // (docs/reference-app.md, section 6).
    if (!this.dbReachable && this.probe) await this.probeOutcome(CONNECT_TIMEOUT_MS);
    if (!this.dbReachable && this.probe) {
      this.metrics.inc("refapp_requests_shed_total", { route: "agent_query" });
      return this.send(req, res, "agent_query", path, 503, { error: "database_unavailable", message: "the request could not be recorded", sessionId });
    }
    let settleProbe: ((reachable: boolean) => void) | undefined;
    if (!this.dbReachable) this.probe = new Promise<boolean>((resolve) => (settleProbe = resolve));
    try {
      await this.pool.query(INSERT_SESSION_ROW, [
        sessionId,
        userId,
        injected ? "error" : "completed",
        injected ?? null,
        JSON.stringify({
          useStateless: isNew,
          safeJsonParser: this.cfg.enableSafeJsonParser,
          canaryPercentage: this.cfg.canaryPercentage,
          replica: this.replica,
        }),
        JSON.stringify({ currentStage: injected ? "failed" : "answered" }),
        seconds,
      ]);
      this.noteDbReachable();
    } catch (err) {
      this.noteDbError(err, "agent query");
      const c = classifyDbError(err);
      const message =
        c.kind === "conflict"
          ? "the database refused this session for this user: a session belongs to one user; start a new session"
          : "the request could not be recorded";
      return this.send(req, res, "agent_query", path, c.status, { error: c.error, message, sessionId });
    } finally {
      if (settleProbe) {
        this.probe = undefined;
        settleProbe(this.dbReachable);
      }
    }
    if (injected) return this.send(req, res, "agent_query", path, 500, { error: "injected_fault", message: injected, sessionId });
    this.send(req, res, "agent_query", path, 200, {
      sessionId,
      userId,
      path,
      answer: `stand-in answer (${isNew ? "stateless orchestration" : "legacy orchestration"})`,
    });
  }

  private async handleAdmin(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const reply = (status: number, body: unknown, type = "application/json") => {
      const text = type === "application/json" ? JSON.stringify(body) + "\n" : String(body);
      res.writeHead(status, { "content-type": type, "content-length": Buffer.byteLength(text) });
      res.end(text);
    };
    const pathname = new URL(req.url ?? "/", "http://admin").pathname;
    try {
      if (pathname === "/metrics" && req.method === "GET") {
        return reply(
          200,
          this.metrics.render({
            refapp_in_flight: this.inFlight,
            refapp_draining: this.phase === "draining" ? 1 : 0,
            refapp_database_reachable: this.dbReachable ? 1 : 0,
          }),
          "text/plain; version=0.0.4",
        );
      }
      if (pathname === "/status" && req.method === "GET") {
        return reply(200, { phase: this.phase, inFlight: this.inFlight, databaseReachable: this.dbReachable, lastDatabaseError: this.lastDbError ?? null, fault: this.fault });
      }
      if (pathname === "/fault" && req.method === "GET") return reply(200, this.fault);
      if (pathname === "/fault" && req.method === "PUT") {
        let next: Fault;
        try {
          const text = await readBody(req);
          let input: unknown;
          try {
            input = JSON.parse(text);
          } catch {
            throw new HttpError(400, "bad_request", `body: ${JSON.stringify(text.slice(0, 200))}: not JSON`);
          }
          next = parseFault(input, "fault");
        } catch (err) {
          return reply(err instanceof HttpError ? err.status : 400, { error: "bad_request", message: (err as Error).message });
        }
        this.fault = next;
        this.log("warn", "fault set", { fault: next });
        return reply(200, next);
      }
      return reply(404, { error: "not_found", paths: ["GET /metrics", "GET /status", "GET /fault", "PUT /fault"] });
    } catch (err) {
      if (!res.headersSent) reply(500, { error: "internal_error", message: (err as Error).message });
    }
  }
}

function listen(server: http.Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(new Error(`cannot listen on ${host}:${port}: ${err.message}`));
    server.once("error", onError);
    server.listen({ port, host }, () => {
      server.off("error", onError);
      resolve();
    });
  });
}
