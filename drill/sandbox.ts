/**
 * `rollout sandbox`: a drill that stops mid-rollout and leaves its PostgreSQL
 * running, so that `status`, `gate`, `advance` and `rollback` can be tried
 * against real rollout records. I/O: folders, the state file, the server.
 *
 * One sandbox per user, in a fixed folder: `<tmp>/rollout-sandbox-<uid>`
 * (`<tmp>` is the system's temporary folder, $TMPDIR when set), never in the
 * repository:
 *
 *   sandbox.json   the state file (mode 600: it holds the URL and its password)
 *   project/       the scratch copy of the stack files (`--project-dir`)
 *   pg/data/       the cluster; pg/postgres.log its log; pg/node_modules when relocated (root)
 *
 * The server is found through `pg/data/postmaster.pid`, which PostgreSQL
 * itself writes and removes, so a stop works even when the state file is
 * incomplete (a start that was killed half-way). That file can be stale (its
 * pid reused) or rewritten, so no signal goes to the process it names unless
 * that process works in the data folder and, when the state file recorded
 * it, started when the sandbox's postmaster did (db/embeddedPostgres.ts,
 * stopDetachedPostgres).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { GateConfig } from "../core/configSchema";
import { DrillResult, runDrill } from "./drill";
import type { Inject } from "../core/injects";
import { StopOutcome, runningPostmaster, startDetachedPostgres, stopDetachedPostgres } from "../db/embeddedPostgres";
import { listStacks, stackFilePath } from "../stack/stackFile";
import type { Stage, Thresholds } from "../core/stages";

export const STATE_FILE = "sandbox.json";

/** The sandbox folder of this user. */
export function sandboxDir(tmp: string = os.tmpdir(), uid: number = process.getuid?.() ?? 0): string {
  return path.join(tmp, `rollout-sandbox-${uid}`);
}

const dataDirOf = (dir: string) => path.join(dir, "pg", "data");

export interface SandboxState {
  version: 1;
  /** "starting" until the drill has run; "running" after. */
  phase: "starting" | "running";
  stack: string;
  stage: Stage;
  inject: Inject | null;
  startedAt: string;
  pid: number | null;
  /** The postmaster's start time (/proc/<pid>/stat, ticks after boot): a stop signals only that process. Null without /proc. */
  postmasterStart?: string | null;
  port: number | null;
  url: string | null;
  projectDir: string;
  dataDir: string;
  logFile: string;
}

/** The sandbox is missing, or its folder is not one this user made. */
export class SandboxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SandboxError";
  }
}

/** Refuse a folder that is a symlink, not a folder, or someone else's (a shared /tmp). */
function checkOwnFolder(dir: string): void {
  const st = fs.lstatSync(dir);
  const uid = process.getuid?.();
  if (!st.isDirectory() || st.isSymbolicLink() || (uid !== undefined && st.uid !== uid)) {
    throw new SandboxError(`${dir} is not a folder this user made (${st.isSymbolicLink() ? "a symlink" : st.isDirectory() ? `owned by uid ${st.uid}` : "not a folder"}): remove it by hand; nothing was changed`);
  }
}

/** The state of the sandbox in `dir`, or undefined when there is none. */
export function readSandbox(dir: string): { state: SandboxState | null } | undefined {
  if (!fs.existsSync(dir) && !isDanglingLink(dir)) return undefined;
  checkOwnFolder(dir);
  return { state: readState(dir) };
}

function isDanglingLink(p: string): boolean {
  try {
    return fs.lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

/** The PostgreSQL of the sandbox in `dir`, when it is running. */
export function sandboxPostmaster(dir: string): Promise<number | undefined> {
  return runningPostmaster(dataDirOf(dir));
}

function writeState(dir: string, state: SandboxState): void {
  const file = path.join(dir, STATE_FILE);
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(state, null, 2) + "\n", { mode: 0o600 });
  fs.renameSync(tmp, file);
}

export interface StartSandboxOptions {
  dir: string;
  /** The folder whose stack files are copied (Pulumi.yaml and every Pulumi.<stack>.yaml). */
  sourceDir: string;
  stack: string;
  stage: Stage;
  inject?: Inject;
  seed?: number;
  thresholds: Thresholds;
  gate: GateConfig;
  progress?: (line: string) => void;
}

export interface StartedSandbox {
  state: SandboxState & { pid: number; port: number; url: string };
  drill: DrillResult;
  stateFile: string;
}

/**
 * Make the sandbox: claim its folder (refused when one exists), copy the stack
 * files, start a detached PostgreSQL, run the drill up to `stage` on it, and
 * write the stack file as of that stage into the copy. Any failure stops the
 * server and removes the folder.
 */
export async function startSandbox(o: StartSandboxOptions): Promise<StartedSandbox> {
  try {
    fs.mkdirSync(o.dir, { mode: 0o755 }); // not recursive: EEXIST when a sandbox (or anything) is there
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") throw new SandboxError(`${o.dir} exists: a sandbox is there already; stop it with: npx rollout sandbox --stop`);
    throw err;
  }
  try {
    fs.chmodSync(o.dir, 0o755); // the postgres user must enter it when we are root (umask aside)
    const projectDir = path.join(o.dir, "project");
    const pgDir = path.join(o.dir, "pg");
    const state: SandboxState = {
      version: 1,
      phase: "starting",
      stack: o.stack,
      stage: o.stage,
      inject: o.inject ?? null,
      startedAt: new Date().toISOString(),
      pid: null,
      port: null,
      url: null,
      projectDir,
      dataDir: dataDirOf(o.dir),
      logFile: path.join(pgDir, "postgres.log"),
    };
    writeState(o.dir, state);
    fs.mkdirSync(projectDir);
    fs.mkdirSync(pgDir, { mode: 0o755 });
    fs.chmodSync(pgDir, 0o755);
    const project = path.join(o.sourceDir, "Pulumi.yaml");
    if (fs.existsSync(project)) fs.copyFileSync(project, path.join(projectDir, "Pulumi.yaml"));
    for (const s of listStacks(o.sourceDir)) fs.copyFileSync(stackFilePath(o.sourceDir, s), stackFilePath(projectDir, s));

    o.progress?.("starting embedded PostgreSQL (detached: it keeps running after this command)");
    const pg = await startDetachedPostgres(pgDir);
    const running = { ...state, pid: pg.pid, postmasterStart: pg.startTicks, port: pg.port, url: pg.url };
    writeState(o.dir, running);

    const file = stackFilePath(projectDir, o.stack);
    const drill = await runDrill({
      database: { url: pg.url, description: `embedded PostgreSQL on 127.0.0.1:${pg.port}` },
      stopAt: o.stage,
      inject: o.inject,
      injectAt: o.inject ? o.stage : undefined,
      stack: o.stack,
      thresholds: o.thresholds,
      gate: o.gate,
      seed: o.seed,
      progress: o.progress,
      stackFile: { file: path.basename(file), text: fs.readFileSync(file, "utf8") },
    });
    if (!drill.ok) throw new SandboxError(`the drill did not show what it had to (${drill.expected}): stage ${drill.finalStage}% says ${drill.stages[drill.stages.length - 1].verdict}`);
    if (drill.finalStackText === null) throw new SandboxError("the drill returned no stack file text");
    fs.writeFileSync(file, drill.finalStackText);
    const done = { ...running, phase: "running" as const };
    writeState(o.dir, done);
    return { state: done, drill, stateFile: path.join(o.dir, STATE_FILE) };
  } catch (err) {
    await removeSandbox(o.dir, readState(o.dir)?.postmasterStart).catch(() => undefined);
    throw err;
  }
}

function readState(dir: string): SandboxState | null {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, STATE_FILE), "utf8")) as SandboxState;
  } catch {
    return null; // a start that died before writing it
  }
}

/**
 * Stop the sandbox's PostgreSQL (if it runs) and remove its folder. A pid file
 * that names another process is not obeyed: that process gets no signal (the
 * outcome says why) and the folder, whose server is then not running, is removed.
 */
async function removeSandbox(dir: string, recordedStart: string | null | undefined): Promise<StopOutcome> {
  const outcome = await stopDetachedPostgres(dataDirOf(dir), { recordedStart });
  fs.rmSync(dir, { recursive: true, force: true });
  return outcome;
}

export interface StoppedSandbox {
  dir: string;
  /** False when there was no sandbox: nothing was done. */
  existed: boolean;
  state: SandboxState | null;
  /** What happened to its PostgreSQL. */
  server: StopOutcome;
}

/**
 * End the sandbox in `dir`: stop its PostgreSQL, remove the data folder and
 * the scratch copy. When there is none, says so (existed: false) and changes
 * nothing: a stop with nothing to stop has succeeded.
 */
export async function stopSandbox(dir: string): Promise<StoppedSandbox> {
  const found = readSandbox(dir);
  if (!found) return { dir, existed: false, state: null, server: { kind: "not-running" } };
  const server = await removeSandbox(dir, found.state?.postmasterStart);
  return { dir, existed: true, state: found.state, server };
}
