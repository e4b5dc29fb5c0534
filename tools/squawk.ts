/**
 * Lint the migration files with squawk (the PostgreSQL migration linter, npm
 * `squawk-cli`; its platform binary is the optional dependency
 * `@squawk-cli/<platform>-<arch>`).
 *
 * Transactional files are linted with `--assume-in-transaction` (the runner
 * wraps each in a transaction); `-- migrate:no-transaction` files without it.
 * Disabled rules and why are in SQUAWK_DISABLED_RULES. Not pure: it reads sql/ and
 * runs the squawk binary; it imports nothing of Pulumi.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { DEFAULT_MIGRATIONS_DIR, loadMigrations } from "../db/migrate";

/** PostgreSQL version squawk checks against: Supabase's major, the oldest we support. */
export const SQUAWK_PG_VERSION = "15.0";

/** Every rule we disable, with the reason. Adding one here needs a reason a reviewer accepts. */
export const SQUAWK_DISABLED_RULES: Readonly<Record<string, string>> = Object.freeze({
  "require-lock-timeout":
    "The runner (db/migrate.ts) sets lock_timeout (default 10s) for every file before running it, so no file " +
    "can queue the app's writes behind a DDL lock for long; repeating SET lock_timeout in each file would only " +
    "duplicate that, and would break the one-statement rule of no-transaction files.",
  "require-statement-timeout":
    "Our long statements block no writes: CREATE INDEX CONCURRENTLY on a big table and 0005's read-only scan take " +
    "as long as the table needs, and a timeout would only abort useful work that a re-run must redo; 0006's " +
    "backfill, which does hold the trigger's lock, is bounded by the 25-hour window, not by the table. Waiting " +
    "for locks, the part that could stall the app, is bounded by lock_timeout.",
});

export interface SquawkFinding {
  file: string;
  line: number;
  column: number;
  rule: string;
  level: string;
  message: string;
  help?: string;
}

export interface SquawkResult {
  /** `unavailable`: no squawk binary for this platform (the caller decides whether that is a failure). */
  status: "passed" | "failed" | "unavailable";
  findings: SquawkFinding[];
  /** Files linted (names inside the migrations directory). */
  files: string[];
  binary?: string;
  version?: string;
  /** One line for people: what passed, what failed, or why squawk did not run. */
  summary: string;
}

export interface SquawkOptions {
  /** Migrations directory (default: the repository's sql/). */
  dir?: string;
  /** squawk binary (default: the platform package's binary). */
  binary?: string;
}

/** The platform package's squawk binary, or undefined when it is not installed. */
export function findSquawk(): string | undefined {
  const pkg = `@squawk-cli/${process.platform}-${process.arch}`;
  let dir: string;
  try {
    dir = path.dirname(require.resolve(`${pkg}/package.json`));
  } catch {
    return undefined;
  }
  for (const name of ["squawk", "squawk.exe"]) {
    const p = path.join(dir, "bin", name);
    if (fs.existsSync(p)) return p;
  }
  return undefined;
}

interface RawFinding {
  file: string;
  line: number;
  column: number;
  level: string;
  message: string;
  help?: string;
  rule_name: string;
}

function runOn(binary: string, files: string[], inTransaction: boolean): RawFinding[] {
  if (files.length === 0) return [];
  const args = [
    `--pg-version=${SQUAWK_PG_VERSION}`,
    "--reporter=json",
    `--exclude=${Object.keys(SQUAWK_DISABLED_RULES).join(",")}`,
    ...(inTransaction ? ["--assume-in-transaction"] : []),
    ...files,
  ];
  let stdout: string;
  try {
    stdout = execFileSync(binary, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch (err) {
    const e = err as { status?: number; stdout?: string; stderr?: string };
    // squawk exits 1 when it reports findings (printed as JSON on stdout).
    if (e.status !== 1 || !e.stdout) throw new Error(`squawk failed (exit ${e.status}): ${e.stderr ?? ""}`.trim());
    stdout = e.stdout;
  }
  return JSON.parse(stdout || "[]") as RawFinding[];
}

/** Run squawk on every migration file; never throws for findings or a bad directory (see `status`). */
export function runSquawk(opts: SquawkOptions = {}): SquawkResult {
  const dir = opts.dir ?? DEFAULT_MIGRATIONS_DIR;
  let migrations: ReturnType<typeof loadMigrations>;
  try {
    migrations = loadMigrations(dir);
  } catch (err) {
    // A badly named or malformed file is a finding, not a crash.
    return { status: "failed", findings: [], files: [], summary: (err as Error).message };
  }
  const files = migrations.map((m) => m.name);
  const binary = opts.binary ?? findSquawk();
  if (!binary) {
    return {
      status: "unavailable",
      findings: [],
      files,
      summary:
        `squawk not run: no @squawk-cli/${process.platform}-${process.arch} binary installed ` +
        "(an optional dependency published for linux-x64 and a few other platforms; npm ci installs it where it exists)",
    };
  }
  const version = execFileSync(binary, ["--version"], { encoding: "utf8" }).trim();
  const abs = (names: string[]) => names.map((n) => path.join(dir, n));
  const raw = [
    ...runOn(binary, abs(migrations.filter((m) => m.transactional).map((m) => m.name)), true),
    ...runOn(binary, abs(migrations.filter((m) => !m.transactional).map((m) => m.name)), false),
  ];
  const findings: SquawkFinding[] = raw.map((f) => ({
    file: path.basename(f.file),
    line: f.line + 1,
    column: f.column + 1,
    rule: f.rule_name,
    level: f.level,
    message: f.message,
    help: f.help,
  }));
  const summary =
    findings.length === 0
      ? `${version}: ${files.length} migration files pass (disabled rules: ${Object.keys(SQUAWK_DISABLED_RULES).join(", ")})`
      : `${version}: ${findings.length} finding(s):\n` +
        findings.map((f) => `  ${f.file}:${f.line}:${f.column} ${f.rule}: ${f.message}${f.help ? ` (${f.help})` : ""}`).join("\n");
  return { status: findings.length === 0 ? "passed" : "failed", findings, files, binary, version, summary };
}
