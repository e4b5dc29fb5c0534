/**
 * `npm run migrate`: apply pending sql/ migrations to $DATABASE_URL.
 *   DATABASE_URL=postgres://admin:...@host:5432/postgres npm run migrate
 * Optional: MIGRATIONS_DIR (default: the repository's sql/).
 */
import { MigrationError, migrate } from "../lib/migrate";

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
  try {
    const r = await migrate({ databaseUrl, dir: process.env.MIGRATIONS_DIR, log: (l) => console.log(l) });
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
