/**
 * The migration runner: applies pending `sql/` files in order.
 *
 * - Files are named `NNNN_description.sql` (four digits, lower-case words);
 *   they apply in numeric order. Appending the next number is how a migration
 *   is added; a pending file numbered below an applied one is refused.
 * - Each file runs in its own transaction, recorded (name, SHA-256 checksum)
 *   in `public.schema_migrations` in that same transaction. A file whose first
 *   line is `-- migrate:no-transaction` runs outside a transaction (for
 *   `CREATE INDEX CONCURRENTLY`); it must hold exactly one statement, so a
 *   failure leaves nothing behind except, for an index build, an INVALID
 *   index, which the runner drops again (and an INVALID index of the same
 *   name left by an interrupted run is dropped before the build).
 * - An applied file whose content changed is refused, naming the file.
 * - Concurrent runs are serialised by a session-level advisory lock: the
 *   second run waits (polling, outside any statement), then finds nothing
 *   pending. The wait is bounded (lockWaitMs, default 10 minutes): any role
 *   can take that advisory lock, so a run gives up with an error naming the
 *   holder (pid, role, application, connected since) instead of waiting
 *   forever.
 * - After a failed `CREATE INDEX CONCURRENTLY`, only the index the file
 *   itself names (on the table it names) is dropped, never another session's
 *   build in progress (which is INVALID until it finishes).
 * - On failure the failing file's changes are rolled back and the error names
 *   the file and PostgreSQL's message (with the line, when PostgreSQL gives a
 *   position).
 *
 * Why not a library (judged against all of the rules above):
 * - node-pg-migrate (well kept) has an advisory lock and per-migration
 *   transactions with an opt-out, but records no checksum, so an edited
 *   applied file is silently accepted;
 * - postgres-migrations has checksums, an advisory lock and a
 *   disable-transaction marker, but its last release (5.3.0) is years old and
 *   it does not clean up after a failed CREATE INDEX CONCURRENTLY;
 * - graphile-migrate is a different workflow (a "current" migration, its own
 *   shadow database) rather than numbered files.
 * So the runner is this small module on `pg`.
 *
 * Not pure: it reads sql/ and talks to PostgreSQL. It imports nothing of Pulumi, so that
 * components/database.ts can wrap it in a dynamic resource (the SDK serializes it).
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { Client, DatabaseError } from "pg";
import { PROJECT_DIR } from "../program/projectDir";

/** The repository's migrations directory (found from the sources and from the build in dist/ alike). */
export const DEFAULT_MIGRATIONS_DIR = path.join(PROJECT_DIR, "sql");

/**
 * `dir`, or the repository's sql/ as seen from the sources (the compiled callers, drill/drill.ts, pass
 * DEFAULT_MIGRATIONS_DIR). Computed when called, so that code the SDK
 * serializes (the migration's dynamic provider) carries no machine path.
 */
function dirOrDefault(dir: string | undefined): string {
  return dir ?? path.resolve(__dirname, "..", "sql");
}

export const MIGRATIONS_TABLE = "public.schema_migrations";
export const NO_TRANSACTION_MARKER = "-- migrate:no-transaction";
export const MIGRATION_NAME_RE = /^(\d{4})_[a-z0-9]+(?:_[a-z0-9]+)*\.sql$/;

/** Advisory lock key (pg_advisory_lock(bigint)): "valuecanvas migrate". */
export const MIGRATION_LOCK_KEY = "7236625041129385216";

export interface Migration {
  /** File name, e.g. `0002_agent_sessions_created_at_index.sql`. */
  name: string;
  number: number;
  sql: string;
  /** SHA-256 (hex) of the file's text with line endings normalised to \n. */
  checksum: string;
  transactional: boolean;
}

export class MigrationError extends Error {
  /** The file at fault, when there is one. */
  readonly file?: string;
  /** PostgreSQL's own message, when PostgreSQL raised the error. */
  readonly pgMessage?: string;
  constructor(message: string, file?: string, pgMessage?: string) {
    super(message);
    // Set explicitly: the SDK's closure serializer (the migration's dynamic
    // provider) turns classes into functions, where Error's constructor
    // leaves `message` unset on `this`.
    this.message = message;
    this.name = "MigrationError";
    this.file = file;
    this.pgMessage = pgMessage;
  }
}

export function checksumOf(sql: string): string {
  return createHash("sha256").update(sql.replace(/\r\n/g, "\n")).digest("hex");
}

/** Strip `--` and block comments (good enough to count statements of a one-statement file). */
function stripComments(sql: string): string {
  return sql.replace(/\/\*[\s\S]*?\*\//g, " ").replace(/--[^\n]*/g, " ");
}

/** Read and validate every migration in `dir`, in order. */
export function loadMigrations(directory?: string): Migration[] {
  const dir = dirOrDefault(directory);
  let entries: string[];
  try {
    entries = fs.readdirSync(dir);
  } catch (err) {
    throw new MigrationError(`migrations directory ${dir} cannot be read: ${(err as Error).message}`);
  }
  const out: Migration[] = [];
  const byNumber = new Map<number, string>();
  for (const name of entries.filter((e) => e.endsWith(".sql")).sort()) {
    const m = MIGRATION_NAME_RE.exec(name);
    if (!m) {
      throw new MigrationError(
        `migration file ${name}: name must match NNNN_description.sql (four digits, lower-case words joined by _)`,
        name,
      );
    }
    const number = Number(m[1]);
    const clash = byNumber.get(number);
    if (clash) throw new MigrationError(`migration files ${clash} and ${name} share the number ${m[1]}`, name);
    byNumber.set(number, name);
    const sql = fs.readFileSync(path.join(dir, name), "utf8");
    const transactional = sql.replace(/\r\n/g, "\n").split("\n")[0].trim() !== NO_TRANSACTION_MARKER;
    if (!transactional) {
      const body = stripComments(sql).trim().replace(/;\s*$/, "");
      if (body.length === 0 || body.includes(";")) {
        throw new MigrationError(
          `migration file ${name}: a ${NO_TRANSACTION_MARKER} file must hold exactly one statement`,
          name,
        );
      }
    }
    out.push({ name, number, sql, checksum: checksumOf(sql), transactional });
  }
  return out.sort((a, b) => a.number - b.number);
}

/** One hash of every migration file (names and contents): changes exactly when sql/ changes. */
export function migrationsHash(dir?: string): string {
  const h = createHash("sha256");
  for (const m of loadMigrations(dir)) h.update(`${m.name}\0${m.checksum}\n`);
  return h.digest("hex");
}

export interface MigrateOptions {
  databaseUrl: string;
  /** Directory of `NNNN_*.sql` files; default: the repository's `sql/`. */
  dir?: string;
  /** lock_timeout for each file (default 10s): never queue the app's writes behind a DDL lock for long. */
  lockTimeout?: string;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
  /** How long to wait for another run's migration lock, in ms (default DEFAULT_LOCK_WAIT_MS). */
  lockWaitMs?: number;
}

/** Default bound on waiting for the migration advisory lock: 10 minutes. */
export const DEFAULT_LOCK_WAIT_MS = 600_000;

/** Who holds the migration advisory lock, as people read it (or undefined when nobody does). */
async function lockHolder(client: Client): Promise<string | undefined> {
  const r = await client.query<{ pid: number; role: string | null; app: string | null; since: Date | null; state: string | null }>(
    `SELECT l.pid, a.usename AS role, a.application_name AS app, a.backend_start AS since, a.state
       FROM pg_locks AS l LEFT JOIN pg_stat_activity AS a ON a.pid = l.pid
      WHERE l.locktype = 'advisory' AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
        AND ((l.classid::bigint << 32) | l.objid::bigint) = $1::bigint AND l.objsubid = 1
      LIMIT 1`,
    [MIGRATION_LOCK_KEY],
  );
  const h = r.rows[0];
  if (!h) return undefined;
  const since = h.since ? `, connected since ${h.since.toISOString()}` : "";
  return `pid ${h.pid}, role ${h.role ?? "(not visible to this role)"}, application ${JSON.stringify(h.app ?? "")}${since}, state ${h.state ?? "unknown"}`;
}

export interface MigrateResult {
  /** Files applied by this run, in order. */
  applied: string[];
  /** Files that were already applied before this run. */
  alreadyApplied: string[];
}

function lineOf(sql: string, position: string | undefined): string {
  const pos = Number(position);
  if (!Number.isFinite(pos) || pos <= 0) return "";
  return ` (line ${sql.slice(0, pos - 1).split("\n").length})`;
}

function failure(m: Migration, err: unknown): MigrationError {
  if (err instanceof DatabaseError) {
    const detail = err.detail ? ` DETAIL: ${err.detail}` : "";
    return new MigrationError(
      `migration ${m.name} failed${lineOf(m.sql, err.position)}: ${err.message}${detail}; rolled back, later files not run`,
      m.name,
      err.message,
    );
  }
  return new MigrationError(`migration ${m.name} failed: ${(err as Error).message}`, m.name);
}

const IDENT = `"(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*`;
const CONCURRENT_INDEX_RE = new RegExp(
  `CREATE\\s+(?:UNIQUE\\s+)?INDEX\\s+CONCURRENTLY\\s+(?:IF\\s+NOT\\s+EXISTS\\s+)?(${IDENT})\\s+ON\\s+(?:ONLY\\s+)?((?:${IDENT})(?:\\s*\\.\\s*(?:${IDENT}))?)`,
  "i",
);

/**
 * The index a `CREATE [UNIQUE] INDEX CONCURRENTLY [IF NOT EXISTS] name ON table`
 * statement builds, when it exists INVALID: that name, on that table (an
 * index lives in its table's schema), and nothing else.
 */
async function namedInvalidIndex(client: Client, sql: string): Promise<string | undefined> {
  const m = CONCURRENT_INDEX_RE.exec(stripComments(sql));
  if (!m) return undefined;
  const name = m[1].startsWith('"') ? m[1].slice(1, -1).replace(/""/g, '"') : m[1].toLowerCase();
  const r = await client.query<{ name: string }>(
    `SELECT format('%I.%I', n.nspname, c.relname) AS name
       FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE NOT i.indisvalid AND c.relname = $1 AND i.indrelid = to_regclass($2)`,
    [name, m[2]],
  );
  return r.rows[0]?.name;
}

/**
 * Apply every pending migration of `dir` to `databaseUrl`, in order. Returns
 * the files applied by this run. Throws a MigrationError naming the file.
 */
export async function migrate(opts: MigrateOptions): Promise<MigrateResult> {
  const migrations = loadMigrations(dirOrDefault(opts.dir));
  const log = opts.log ?? (() => undefined);
  const lockTimeout = opts.lockTimeout ?? "10s";
  const client = new Client({ connectionString: opts.databaseUrl, application_name: "valuecanvas-migrate" });
  await client.connect();
  try {
    // Poll pg_try_advisory_lock rather than block in pg_advisory_lock: a
    // session blocked inside a statement holds a snapshot, which another
    // run's CREATE INDEX CONCURRENTLY would wait for (a deadlock).
    const lockWaitMs = opts.lockWaitMs ?? DEFAULT_LOCK_WAIT_MS;
    if (!Number.isFinite(lockWaitMs) || lockWaitMs < 0) {
      throw new MigrationError(`lockWaitMs must be a number of milliseconds from 0 up, got ${String(lockWaitMs)}`);
    }
    const deadline = Date.now() + lockWaitMs;
    for (let waited = false; ; waited = true) {
      const got = await client.query<{ ok: boolean }>("SELECT pg_try_advisory_lock($1::bigint) AS ok", [MIGRATION_LOCK_KEY]);
      if (got.rows[0].ok) break;
      if (!waited) log(`another session holds the migration lock (${(await lockHolder(client)) ?? "holder gone"}); waiting up to ${lockWaitMs / 1000} s`);
      if (Date.now() >= deadline) {
        const holder = (await lockHolder(client)) ?? "a session that has just released it";
        throw new MigrationError(
          `the migration lock (pg_advisory_lock(${MIGRATION_LOCK_KEY})) is held by ${holder}; gave up after waiting ${lockWaitMs / 1000} s. ` +
            "If that session is another migration run, let it finish; if it is stuck, end it (pg_terminate_backend(pid)) and run again",
        );
      }
      await new Promise((r) => setTimeout(r, Math.min(250, Math.max(0, deadline - Date.now()))));
    }
    try {
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} (
           name text PRIMARY KEY,
           checksum text NOT NULL,
           applied_at timestamptz NOT NULL DEFAULT now()
         )`,
      );
      const rows = (await client.query<{ name: string; checksum: string }>(`SELECT name, checksum FROM ${MIGRATIONS_TABLE}`)).rows;
      const applied = new Map(rows.map((r) => [r.name, r.checksum]));
      const files = new Map(migrations.map((m) => [m.name, m]));
      for (const [name, checksum] of applied) {
        const m = files.get(name);
        if (!m) {
          throw new MigrationError(`migration ${name} is recorded as applied but is missing from the migrations directory`, name);
        }
        if (m.checksum !== checksum) {
          throw new MigrationError(
            `migration ${name} was edited after it was applied (checksum ${checksum.slice(0, 12)}… now ${m.checksum.slice(0, 12)}…): ` +
              "applied migrations are immutable; add a new numbered file instead",
            name,
          );
        }
      }
      const highestApplied = Math.max(-1, ...migrations.filter((m) => applied.has(m.name)).map((m) => m.number));
      const pending = migrations.filter((m) => !applied.has(m.name));
      const early = pending.find((m) => m.number < highestApplied);
      if (early) {
        throw new MigrationError(
          `migration ${early.name} is pending but a later-numbered file is already applied: number new files after the last one`,
          early.name,
        );
      }
      const result: MigrateResult = { applied: [], alreadyApplied: migrations.filter((m) => applied.has(m.name)).map((m) => m.name) };
      for (const m of pending) {
        log(`applying ${m.name}${m.transactional ? "" : " (no transaction)"}`);
        if (m.transactional) {
          try {
            await client.query("BEGIN");
            await client.query(`SET LOCAL lock_timeout = '${lockTimeout.replace(/'/g, "")}'`);
            await client.query(m.sql);
            await client.query(`INSERT INTO ${MIGRATIONS_TABLE} (name, checksum) VALUES ($1, $2)`, [m.name, m.checksum]);
            await client.query("COMMIT");
          } catch (err) {
            await client.query("ROLLBACK").catch(() => undefined);
            throw failure(m, err);
          }
        } else {
          // An INVALID index of the same name, left by an interrupted earlier run,
          // would make `IF NOT EXISTS` skip the build: drop it first.
          const leftover = await namedInvalidIndex(client, m.sql);
          if (leftover) {
            log(`dropping ${leftover}, an INVALID index left by an interrupted build, before rebuilding it`);
            await client.query(`DROP INDEX CONCURRENTLY IF EXISTS ${leftover}`);
          }
          try {
            await client.query(`SET lock_timeout = '${lockTimeout.replace(/'/g, "")}'`);
            await client.query(m.sql);
            await client.query("RESET lock_timeout");
          } catch (err) {
            await client.query("RESET lock_timeout").catch(() => undefined);
            // Only the file's own index: another session's build in progress is INVALID too.
            const own = await namedInvalidIndex(client, m.sql).catch(() => undefined);
            if (own) await client.query(`DROP INDEX CONCURRENTLY IF EXISTS ${own}`).catch(() => undefined);
            throw failure(m, err);
          }
          await client.query(`INSERT INTO ${MIGRATIONS_TABLE} (name, checksum) VALUES ($1, $2)`, [m.name, m.checksum]);
        }
        result.applied.push(m.name);
      }
      return result;
    } finally {
      await client.query("SELECT pg_advisory_unlock($1::bigint)", [MIGRATION_LOCK_KEY]).catch(() => undefined);
    }
  } finally {
    await client.end();
  }
}
