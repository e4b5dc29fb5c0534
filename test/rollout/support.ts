/** Helpers for the rollout suites: seeded traffic relative to now(), a CLI runner, stack-file copies. */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Client } from "pg";
import { main } from "../../cli/rollout";
import { migrate } from "../../db/migrate";
import { listStacks } from "../../stack/stackFile";
import { sharedPostgres } from "../support/postgres";

export const PROJECT_DIR = path.join(__dirname, "..", "..");

/** A fresh database with every migration applied; returns its URL. */
export async function migratedDatabase(): Promise<string> {
  const pg = await sharedPostgres();
  const url = await pg.createDatabase();
  await migrate({ databaseUrl: url });
  return url;
}

export interface PathSeed {
  isNew: boolean;
  requests: number;
  errors: number;
  users: number;
  /** Every request of this path takes exactly this long (so p95 = avg = seconds). */
  seconds: number;
  /** Requests are spread evenly over (now − fromHours, now − toHours). */
  fromHours: number;
  toHours?: number;
  prefix: string;
}

/** Insert one path's requests, relative to the database's now(); each row its own session. */
export async function seedPath(c: Client, s: PathSeed): Promise<void> {
  await c.query(
    `insert into public.agent_sessions (session_id, user_id, status, error_message, metadata, created_at, updated_at)
     select $1::text || '-s' || g, $1::text || '-u' || (g % $4::int),
            case when g <= $3::int then 'error' else 'completed' end,
            case when g <= $3::int then 'seeded failure' end,
            case when $5::boolean then '{"useStateless": "true"}'::jsonb else '{"useStateless": "false"}'::jsonb end,
            t.created, t.created + make_interval(secs => $6::float8)
       from generate_series(1, $2::int) as g,
            lateral (select now() - make_interval(secs => $7::float8 - (g::float8 / ($2::int + 1)) * ($7::float8 - $8::float8)) as created) as t`,
    [s.prefix, s.requests, s.errors, s.users, s.isNew, s.seconds, s.fromHours * 3600, (s.toHours ?? 0) * 3600],
  );
}

/** A rollout record: the stage took effect `hoursAgo` hours before the database's now(). */
export async function seedRecord(c: Client, stack: string, toStage: number, flagsOn: boolean, hoursAgo: number, fromStage: number | null = null): Promise<void> {
  await c.query(
    `insert into monitoring.rollout_events (stack, from_stage, to_stage, enable_stateless_orchestration, enable_safe_json_parser, actor, created_at)
     values ($1, $2, $3, $4, $4, 'test', now() - make_interval(secs => $5))`,
    [stack, fromStage, toStage, flagsOn, hoursAgo * 3600],
  );
}

/** A contaminated session that bypassed the isolation trigger (as a restore or replication would). */
export async function seedBypassedContamination(c: Client, hoursAgo: number): Promise<void> {
  await c.query("begin");
  await c.query("set local session_replication_role = replica");
  for (const user of ["victim", "intruder"]) {
    await c.query(
      `insert into public.agent_sessions (session_id, user_id, status, metadata, created_at, updated_at)
       values ('shared-session', $1, 'completed', '{"useStateless": "true"}', now() - make_interval(secs => $2), now() - make_interval(secs => $2))`,
      [user, hoursAgo * 3600],
    );
  }
  await c.query("commit");
}

export async function withClient<T>(url: string, fn: (c: Client) => Promise<T>): Promise<T> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run the rollout CLI in-process. */
export async function rollout(...args: string[]): Promise<CliRun> {
  let stdout = "";
  let stderr = "";
  const code = await main(["node", "rollout", ...args], { out: (s) => (stdout += s), err: (s) => (stderr += s) });
  return { code, stdout, stderr };
}

/** Run with --json and parse stdout, which must be exactly one JSON object. */
export async function rolloutJson(...args: string[]): Promise<CliRun & { json: Record<string, unknown> }> {
  const r = await rollout(...args, "--json");
  const json = JSON.parse(r.stdout) as Record<string, unknown>;
  return { ...r, json };
}

/** A temp folder with copies of the repo's stack files. */
export function stackCopies(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rollout-cli-"));
  for (const s of listStacks(PROJECT_DIR)) fs.copyFileSync(path.join(PROJECT_DIR, `Pulumi.${s}.yaml`), path.join(dir, `Pulumi.${s}.yaml`));
  return dir;
}

/** Every file in a folder, by name, as bytes. */
export function snapshot(dir: string): Record<string, Buffer> {
  return Object.fromEntries(fs.readdirSync(dir).sort().map((f) => [f, fs.readFileSync(path.join(dir, f))]));
}
