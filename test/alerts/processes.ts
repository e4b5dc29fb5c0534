/**
 * The loopback processes of the alert tests (exporter, Prometheus, Alertmanager as child processes),
 * waiting on them, and the database writes they watch: shared by the alerts' end-to-end test and the
 * responder's (test/responder/endToEnd.test.ts).
 */
import { strict as assert } from "node:assert";
import { ChildProcess, spawn } from "node:child_process";
import { roleGrantStatements } from "../../core/grants";
import type { TestPostgres } from "../support/postgres";

export interface Proc {
  name: string;
  child: ChildProcess;
  log: string[];
}

const procs: Proc[] = [];

const WAIT_MS = 60_000;

export function start(name: string, cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Proc {
  const child = spawn(cmd, args, { env: { PATH: process.env.PATH, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  const p: Proc = { name, child, log: [] };
  const keep = (d: Buffer) => {
    p.log.push(d.toString());
    if (p.log.length > 200) p.log.shift();
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  procs.push(p);
  return p;
}

export async function stopAll(): Promise<void> {
  await Promise.all(
    procs.splice(0).map(
      (p) =>
        new Promise<void>((resolve) => {
          if (p.child.exitCode !== null || p.child.signalCode !== null) return resolve();
          const timer = setTimeout(() => p.child.kill("SIGKILL"), 5_000);
          p.child.once("exit", () => {
            clearTimeout(timer);
            resolve();
          });
          p.child.kill("SIGTERM");
        }),
    ),
  );
}

const logsOf = (ps: Proc[]) => ps.map((p) => `--- ${p.name} (exit ${p.child.exitCode ?? "running"}):\n${p.log.join("").slice(-3000)}`).join("\n");

/** Poll `check` until it returns a value; bounded by WAIT_MS; fails with the processes' logs. */
export async function until<T>(what: string, ps: Proc[], check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + WAIT_MS;
  let last: unknown;
  for (;;) {
    for (const p of ps) {
      if (p.child.exitCode !== null) throw new Error(`${p.name} exited while waiting for ${what}\n${logsOf(ps)}`);
    }
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what} after ${WAIT_MS / 1000}s (last error: ${String(last)})\n${logsOf(ps)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  const body = (await res.json()) as { status: string; data: T };
  if (body.status !== "success") throw new Error(`${url}: ${JSON.stringify(body)}`);
  return body.data;
}

/**
 * One session that served two users, written as the superuser with
 * session_replication_role = replica (as a restore or logical replication
 * applies rows): the isolation trigger does not fire.
 */
export async function writeBypassingTrigger(pg: TestPostgres, url: string, sessionId: string): Promise<void> {
  const c = await pg.connect(url);
  try {
    const rows =
      `INSERT INTO public.agent_sessions (session_id, user_id, status, metadata, created_at, updated_at)
       VALUES ($1, 'user-x', 'completed', '{"useStateless": "true"}', now() - interval '5 minutes', now() - interval '299 seconds'),
              ($1, 'user-y', 'completed', '{"useStateless": "true"}', now() - interval '4 minutes', now() - interval '239 seconds')`;
    // The trigger refuses the same rows in a normal session...
    await assert.rejects(c.query(rows, [sessionId]), /session isolation/);
    // ... and a replica-role session writes them without firing it.
    await c.query("BEGIN");
    await c.query("SET LOCAL session_replication_role = replica");
    await c.query(rows, [sessionId]);
    await c.query("COMMIT");
  } finally {
    await c.end();
  }
}

let roleCounter = 0;

/** A login role with the monitoring role's grants (core/grants.ts): the monitoring views and nothing else. */
export async function monitoringRole(pg: TestPostgres, url: string): Promise<string> {
  const role = `vc_e2e_monitoring_${process.pid}_${++roleCounter}`;
  const password = `pw-${role}`;
  const c = await pg.connect(url);
  try {
    await c.query(`CREATE ROLE ${role} LOGIN PASSWORD '${password}'`);
    // Exactly the grants the program's database component gives the monitoring role.
    for (const sql of roleGrantStatements("monitoring", role)) await c.query(sql);
  } finally {
    await c.end();
  }
  const u = new URL(url);
  u.username = role;
  u.password = password;
  u.searchParams.set("sslmode", "disable");
  return u.toString();
}

