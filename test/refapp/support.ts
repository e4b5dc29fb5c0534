/**
 * Helpers for the reference-app suites: the app built once per mocha run (by
 * the same function that builds the image's copy), run as a real node
 * process on loopback against the shared test PostgreSQL, as the app role
 * that core/grants.ts defines; a TCP relay in front of PostgreSQL that a test
 * can cut to stage a database outage; and a plain HTTP client.
 */
import { ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { Client } from "pg";
import { ROLE_SETTINGS, quoteIdent, roleGrantStatements } from "../../core/grants";
import { migrate } from "../../db/migrate";
import { freePort, sharedPostgres } from "../support/postgres";
import { buildReferenceApp } from "../../reference-app/build";
import { REFAPP_ENV_NAMES } from "../../reference-app/src/config";
import { APP_ENV_NAMES, ENV_NAMES } from "../../core/stages";

// ---------------------------------------------------------------------------
// The built app

let built: Promise<string> | undefined;
let buildDir: string | undefined;

/** main.js of the app, built once per run into a temporary directory (removed at exit). */
export function builtApp(): Promise<string> {
  if (!built) {
    buildDir = fs.mkdtempSync(path.join(os.tmpdir(), "vc-refapp-"));
    const dir = buildDir;
    process.once("exit", () => fs.rmSync(dir, { recursive: true, force: true }));
    built = buildReferenceApp(dir).then((r) => r.main);
  }
  return built;
}

// ---------------------------------------------------------------------------
// Database: a migrated database and the app role

export interface AppDatabase {
  /** Superuser URL of the database. */
  adminUrl: string;
  /** The app role's URL of the same database (what the program passes as DATABASE_URL). */
  appUrl: string;
  appRole: string;
  /** Superuser client (closed by the suite). */
  admin: Client;
  port: number;
}

/**
 * A fresh database with every migration (db/migrate.ts) and a login role with
 * exactly the app role's attributes and grants (core/grants.ts), as
 * components/database.ts creates them.
 */
export async function appDatabase(): Promise<AppDatabase> {
  const pg = await sharedPostgres();
  const adminUrl = await pg.createDatabase();
  await migrate({ databaseUrl: adminUrl });
  const admin = await pg.connect(adminUrl);
  const appRole = `vc_app_${randomBytes(4).toString("hex")}`;
  const password = randomBytes(12).toString("hex");
  const s = ROLE_SETTINGS.app;
  const create = await admin.query<{ sql: string }>("SELECT format('CREATE ROLE %I LOGIN PASSWORD %L CONNECTION LIMIT %s', $1::text, $2::text, $3::int) AS sql", [
    appRole,
    password,
    s.connectionLimit,
  ]);
  await admin.query(create.rows[0].sql);
  if (s.statementTimeoutMs > 0) await admin.query(`ALTER ROLE ${quoteIdent(appRole)} SET statement_timeout = ${Number(s.statementTimeoutMs)}`);
  for (const stmt of roleGrantStatements("app", appRole)) await admin.query(stmt);
  const u = new URL(adminUrl);
  u.username = appRole;
  u.password = password;
  return { adminUrl, appUrl: u.toString(), appRole, admin, port: pg.port };
}

/** The same URL with another port (to reach the database through a relay). */
export function viaPort(url: string, port: number): string {
  const u = new URL(url);
  u.port = String(port);
  return u.toString();
}

// ---------------------------------------------------------------------------
// A relay in front of PostgreSQL that a test can cut

export type OutageMode = "refuse" | "blackhole" | "freeze";

/**
 * A TCP relay on 127.0.0.1 to the database. `cut("refuse")` drops every open
 * connection and resets new ones at once (the database is down);
 * `cut("blackhole")` drops them and holds new ones without an answer (a
 * network partition). `cut("freeze")` is `docker pause`: open connections
 * stay open and nothing they send is answered; new ones are accepted (the
 * kernel's listen queue) and held. `restore()` relays again: after a freeze,
 * what the held connections sent is delivered, as a resumed server reads it.
 * `accepted` counts the connections the relay has accepted.
 */
export class DbRelay {
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  /** Each relayed client and its upstream connection. */
  private readonly pairs = new Map<net.Socket, net.Socket>();
  /** Clients accepted during a freeze, relayed on restore. */
  private readonly held: net.Socket[] = [];
  private mode: OutageMode | undefined;
  port = 0;
  accepted = 0;
  constructor(private readonly targetPort: number) {}

  async start(): Promise<this> {
    this.port = await freePort();
    this.server = net.createServer((client) => {
      this.accepted++;
      this.sockets.add(client);
      client.on("close", () => this.sockets.delete(client));
      client.on("error", () => undefined);
      if (this.mode === "refuse") return void client.resetAndDestroy();
      if (this.mode === "blackhole") return;
      if (this.mode === "freeze") {
        client.pause();
        this.held.push(client);
        return;
      }
      this.relay(client);
    });
    await new Promise<void>((resolve) => this.server?.listen(this.port, "127.0.0.1", resolve));
    return this;
  }

  private relay(client: net.Socket): void {
    if (client.destroyed) return;
    const upstream = net.connect(this.targetPort, "127.0.0.1");
    this.sockets.add(upstream);
    this.pairs.set(client, upstream);
    upstream.on("close", () => {
      this.sockets.delete(upstream);
      this.pairs.delete(client);
      client.destroy();
    });
    upstream.on("error", () => client.destroy());
    client.on("close", () => upstream.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  }

  cut(mode: OutageMode): void {
    this.mode = mode;
    if (mode === "freeze") {
      for (const [client, upstream] of this.pairs) {
        client.unpipe(upstream);
        upstream.unpipe(client);
        client.pause();
        upstream.pause();
      }
      return;
    }
    for (const s of this.sockets) s.resetAndDestroy();
  }

  restore(): void {
    if (this.mode === "freeze") {
      this.mode = undefined;
      for (const [client, upstream] of this.pairs) {
        client.pipe(upstream);
        upstream.pipe(client);
      }
      for (const client of this.held.splice(0)) this.relay(client);
      return;
    }
    for (const s of this.sockets) s.destroy();
    this.mode = undefined;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

// ---------------------------------------------------------------------------
// The app process

export interface AppEnv {
  stateless: boolean;
  safeJson: boolean;
  pct: number;
  databaseUrl: string;
  healthCheckPath?: string;
  fault?: object;
  /** Raw overrides (undefined deletes a variable). */
  extra?: Record<string, string | undefined>;
}

export interface AppProcess {
  proc: ChildProcess;
  port: number;
  adminPort: number;
  base: string;
  admin: string;
  healthCheckPath: string;
  /** Every line the app logged, parsed. */
  logs: Array<Record<string, unknown>>;
  /** Raw stdout and stderr. */
  output(): string;
  /** Resolves when the process exits. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  /** Resolves when the app logged that it is ready (rejects if it exits first). */
  ready(timeoutMs?: number): Promise<void>;
  /** SIGKILL if still running (after-hook cleanup). */
  kill(): void;
}

const running = new Set<ChildProcess>();
process.once("exit", () => {
  for (const p of running) p.kill("SIGKILL");
});

/** The environment the program passes (components/app.ts), plus the reference app's own knobs. */
export async function appEnvironment(e: AppEnv, port: number, adminPort: number): Promise<NodeJS.ProcessEnv> {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    [ENV_NAMES.statelessOrchestration]: String(e.stateless),
    [ENV_NAMES.safeJsonParser]: String(e.safeJson),
    [ENV_NAMES.canaryPercentage]: String(e.pct),
    [ENV_NAMES.databaseUrl]: e.databaseUrl,
    [APP_ENV_NAMES.port]: String(port),
    [APP_ENV_NAMES.healthCheckPath]: e.healthCheckPath ?? "/health",
    [REFAPP_ENV_NAMES.listenHost]: "127.0.0.1",
    [REFAPP_ENV_NAMES.adminPort]: String(adminPort),
  };
  if (e.fault) env[REFAPP_ENV_NAMES.fault] = JSON.stringify(e.fault);
  for (const [k, v] of Object.entries(e.extra ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

/** Spawn the built app. Call `ready()` to wait for it. */
export async function spawnApp(e: AppEnv): Promise<AppProcess> {
  const main = await builtApp();
  const port = await freePort();
  let adminPort = await freePort();
  while (adminPort === port) adminPort = await freePort();
  const env = await appEnvironment(e, port, adminPort);
  const proc = spawn(process.execPath, [main], { env, stdio: ["ignore", "pipe", "pipe"] });
  running.add(proc);
  let out = "";
  const logs: Array<Record<string, unknown>> = [];
  const waiters: Array<() => void> = [];
  let buffered = "";
  proc.stdout?.on("data", (d: Buffer) => {
    out += d.toString();
    buffered += d.toString();
    let nl: number;
    while ((nl = buffered.indexOf("\n")) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        logs.push({ unparsed: line });
      }
      for (const w of waiters.splice(0)) w();
    }
  });
  proc.stderr?.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    proc.once("exit", (code, signal) => {
      running.delete(proc);
      for (const w of waiters.splice(0)) w();
      resolve({ code, signal, at: Date.now() });
    }),
  );
  const healthCheckPath = env[APP_ENV_NAMES.healthCheckPath] ?? "/health";
  return {
    proc,
    port,
    adminPort,
    base: `http://127.0.0.1:${port}`,
    admin: `http://127.0.0.1:${adminPort}`,
    healthCheckPath,
    logs,
    output: () => out,
    exited,
    ready(timeoutMs = 30_000) {
      return new Promise<void>((resolve, reject) => {
        const deadline = setTimeout(() => reject(new Error(`app not ready within ${timeoutMs} ms:\n${out}`)), timeoutMs);
        const check = () => {
          if (logs.some((l) => l.msg === "ready: listening")) {
            clearTimeout(deadline);
            return resolve();
          }
          if (proc.exitCode !== null || proc.signalCode !== null) {
            clearTimeout(deadline);
            return reject(new Error(`app exited (${proc.exitCode ?? proc.signalCode}) before ready:\n${out}`));
          }
          waiters.push(check);
        };
        check();
      });
    },
    kill() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL");
    },
  };
}

/** Spawn the app and wait until it is ready. */
export async function startApp(e: AppEnv): Promise<AppProcess> {
  const app = await spawnApp(e);
  await app.ready();
  return app;
}

// ---------------------------------------------------------------------------
// HTTP

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json: unknown;
}

/** One request on a new connection (as the proxy sends them: no keep-alive). */
export function request(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string; timeoutMs?: number } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: opts.method ?? "GET", headers: opts.headers, agent: false, timeout: opts.timeoutMs ?? 30_000 }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (text += d));
      res.on("end", () => {
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`timeout: ${url}`)));
    req.on("error", reject);
    req.end(opts.body);
  });
}

/** The guide's verification request, as `user`. */
export function agentQuery(app: { base: string }, user: string, body: object = { query: "test query" }): Promise<Reply> {
  return request(`${app.base}/api/agent/query`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${user}` },
    body: JSON.stringify(body),
  });
}

export function health(app: { base: string; healthCheckPath: string }): Promise<Reply> {
  return request(`${app.base}${app.healthCheckPath}`);
}

/** Whether a TCP connection to the port is accepted. */
export function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1");
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

/** A counter from the admin port's /metrics, summed over the series whose labels include `labels`. */
export async function metric(app: AppProcess, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = (await request(`${app.admin}/metrics`)).text;
  let sum = 0;
  for (const line of text.split("\n")) {
    const m = /^([a-z_]+)(?:\{([^}]*)\})? (\d+(?:\.\d+)?)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries((m[2] ?? "").split(",").filter(Boolean).map((kv) => kv.split("=").map((x) => x.replace(/"/g, "")) as [string, string]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) sum += Number(m[3]);
  }
  return sum;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
