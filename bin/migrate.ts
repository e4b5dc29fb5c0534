/**
 * `npm run migrate`: apply pending sql/ migrations to $DATABASE_URL.
 *   DATABASE_URL=postgres://admin:...@host:5432/postgres npm run migrate
 * Optional: MIGRATIONS_DIR (default: the repository's sql/);
 * MIGRATE_LOCK_WAIT_SECONDS (default 600): how long to wait for another
 * session's migration lock before giving up, naming the holder.
 */
import { DEFAULT_LOCK_WAIT_MS, MigrationError, migrate } from "../lib/migrate";

async function main(): Promise<number> {
  const databaseUrl = process.env.DATABASE_URL;
  const expected = "a PostgreSQL URL such as postgres://user:password@host:5432/database";
  if (!databaseUrl) {
    console.error(`DATABASE_URL is not set: expected ${expected}`);
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
    console.error(`DATABASE_URL is not ${expected} (value not shown: it may hold a password)`);
    return 2;
  }
  const waitText = process.env.MIGRATE_LOCK_WAIT_SECONDS;
  const waitSeconds = waitText === undefined || waitText === "" ? DEFAULT_LOCK_WAIT_MS / 1000 : Number(waitText);
  if (!/^\d+(\.\d+)?$/.test(waitText ?? "0") || !Number.isFinite(waitSeconds) || waitSeconds > 86_400) {
    console.error(`MIGRATE_LOCK_WAIT_SECONDS is ${JSON.stringify(waitText)}: expected a number of seconds from 0 to 86400`);
    return 2;
  }
  try {
    const r = await migrate({ databaseUrl, dir: process.env.MIGRATIONS_DIR, log: (l) => console.log(l), lockWaitMs: waitSeconds * 1000 });
    console.log(
      r.applied.length === 0
        ? `nothing to apply (${r.alreadyApplied.length} migrations already applied)`
        : `applied ${r.applied.length} migration(s): ${r.applied.join(", ")}`,
    );
    return 0;
  } catch (err) {
    console.error(err instanceof MigrationError ? err.message : `migrate failed: ${(err as Error).message}`);
    return 1;
  }
}

main().then((code) => process.exit(code));
