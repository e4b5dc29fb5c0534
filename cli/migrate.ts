/**
 * `npm run migrate`: apply pending sql/ migrations to $DATABASE_URL.
 *   DATABASE_URL=postgres://admin:...@host:5432/postgres npm run migrate
 * Optional: MIGRATIONS_DIR (default: the repository's sql/);
 * MIGRATE_LOCK_WAIT_SECONDS (default 600): how long to wait for another
 * session's migration lock before giving up, naming the holder.
 * `npm run migrate -- --help` says so. The URL comes from the environment only
 * (a URL on a command line is visible to other users) and is never printed.
 */
import { Command, CommanderError } from "commander";
import { parseErrorExitCode, strictCli } from "./convention";
import { exitWithMain } from "./runScript";
import { DEFAULT_LOCK_WAIT_MS, MigrationError, migrate } from "../db/migrate";

export interface MigrateIo {
  out(s: string): void;
  err(s: string): void;
}

const stdio: MigrateIo = { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) };

const HELP_AFTER = `
Environment:
  DATABASE_URL               required: the PostgreSQL URL to migrate, e.g. postgres://user:password@host:5432/database
                             (read from the environment only, never printed)
  MIGRATIONS_DIR             folder of the NNNN_name.sql files (default: the repository's sql/)
  MIGRATE_LOCK_WAIT_SECONDS  seconds to wait for another session's migration lock, 0 to 86400 (default ${DEFAULT_LOCK_WAIT_MS / 1000})

Exit codes: 0 applied (or nothing to apply), 1 a migration or the connection failed, 2 usage error (bad or missing environment variable, unknown option).`;

export function createMigrateCli(): Command {
  return new Command("migrate").description("Apply the pending sql/ migrations to $DATABASE_URL, one transaction each, under an advisory lock").addHelpText("after", HELP_AFTER);
}

async function run(env: NodeJS.ProcessEnv, io: MigrateIo): Promise<number> {
  const databaseUrl = env.DATABASE_URL;
  const expected = "a PostgreSQL URL such as postgres://user:password@host:5432/database";
  if (!databaseUrl) {
    io.err(`DATABASE_URL is not set: expected ${expected}\n`);
    return 2;
  }
  let parsed: URL | undefined;
  try {
    parsed = new URL(databaseUrl);
  } catch {
    parsed = undefined;
  }
  if (!parsed || !/^postgres(ql)?:$/.test(parsed.protocol) || !parsed.hostname) {
    // Never echo the value: it may hold a password.
    io.err(`DATABASE_URL is not ${expected} (value not shown: it may hold a password)\n`);
    return 2;
  }
  const waitText = env.MIGRATE_LOCK_WAIT_SECONDS;
  const waitSeconds = waitText === undefined || waitText === "" ? DEFAULT_LOCK_WAIT_MS / 1000 : Number(waitText);
  if (!/^\d+(\.\d+)?$/.test(waitText ?? "0") || !Number.isFinite(waitSeconds) || waitSeconds > 86_400) {
    io.err(`MIGRATE_LOCK_WAIT_SECONDS is ${JSON.stringify(waitText)}: expected a number of seconds from 0 to 86400\n`);
    return 2;
  }
  try {
    const r = await migrate({ databaseUrl, dir: env.MIGRATIONS_DIR, log: (l) => io.out(`${l}\n`), lockWaitMs: waitSeconds * 1000 });
    io.out(
      (r.applied.length === 0
        ? `nothing to apply (${r.alreadyApplied.length} migrations already applied)`
        : `applied ${r.applied.length} migration(s): ${r.applied.join(", ")}`) + "\n",
    );
    return 0;
  } catch (err) {
    io.err(`${err instanceof MigrationError ? err.message : `migrate failed: ${(err as Error).message}`}\n`);
    return 1;
  }
}

/** The command line; returns the exit code. */
export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env, io: MigrateIo = stdio): Promise<number> {
  let code = 0;
  const cli = strictCli(
    createMigrateCli()
      .exitOverride()
      .configureOutput({ writeOut: io.out, writeErr: io.err })
      .action(async () => {
        code = await run(env, io);
      }),
  );
  try {
    await cli.parseAsync(argv);
    return code;
  } catch (err) {
    if (err instanceof CommanderError) return parseErrorExitCode(err);
    throw err;
  }
}

if (require.main === module) void exitWithMain("migrate", () => main(process.argv), "message");
