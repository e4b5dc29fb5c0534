/**
 * `npm run bench:scale` (issue 23): the monitoring reads at production volume.
 *
 * For each scale (requests in the last 24 h; BENCH_SCALES, default 200000,1000000,10000000) a fresh
 * database: the table as production has it (sql/0001 only), loaded time-ordered with the window and the
 * history behind it (20x the window up to 1 M a day, 2x above, to stay within the disk), then every
 * migration up to 0039 (production's state before this issue), then the new ones (0040 and up) while a
 * writer makes the app's write every 20 ms: the longest wait of one of those writes is what the migration
 * blocked. Then, each the median of BENCH_RUNS (5) runs after one warm-up:
 * - each exporter query (the rendered query file at the config's defaults) and the weighted scrape: each
 *   query's time times scrapeInterval / max(cache_seconds, scrapeInterval) (a query cached for 60 s
 *   costs half of a 30 s scrape), against the floor, count(*) of the window;
 * - `rollout gate --json` and `rollout status` on the database side (db/assessment.ts assessStack, with
 *   and without the live views) and `rollout report` (db/reportData.ts readRolloutReport), for a stage
 *   recorded 20 hours ago;
 * - the insert throughput of the app's write (reference-app's INSERT) with 8 concurrent writers for
 *   BENCH_INSERT_SECONDS (10) each: bare (the maintenance triggers of 0006 and 0040 disabled), 0006's
 *   only, and all of them.
 * Prints a table per scale and the goals, met or missed.
 *
 *   BENCH_SCALES=20000 npm run bench:scale           # a quick run while developing
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Client } from "pg";
import { parseConfig } from "../core/config";
import { exporterQueries } from "../core/alerts/exporterQueries";
import { durationMs } from "../core/alerts/prometheusConfig";
import { rolloutState } from "../core/stages";
import { assessStack, judgeStage } from "../db/assessment";
import { DEFAULT_MIGRATIONS_DIR, loadMigrations, migrate } from "../db/migrate";
import { readRolloutReport } from "../db/reportData";
import { insertEvent } from "../db/rolloutStore";
import { startPostgres, TestPostgres } from "../test/support/postgres";
import { loadTraffic } from "./data";

const SCALES = (process.env.BENCH_SCALES ?? "200000,1000000,10000000").split(",").map((s) => Number(s.trim()));
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const INSERT_SECONDS = Number(process.env.BENCH_INSERT_SECONDS ?? 10);
const WRITERS = 8;
const FIRST_NEW_MIGRATION = 40;
const STACK = "bench";
const CFG = parseConfig({ appImage: "example/app:1" }, { stack: STACK });
const SCRAPE_SECONDS = durationMs(CFG.alerting.scrapeInterval) / 1000;
const QUERIES = exporterQueries(CFG.alerting);
const FLOOR = "SELECT count(*) FROM public.agent_sessions WHERE created_at > now() - interval '24 hours'";
const MAINTENANCE_TRIGGERS = { rollups: "agent_sessions_request_rollups", spans: "agent_sessions_session_spans" } as const;
const APP_WRITE = `INSERT INTO public.agent_sessions
  (session_id, user_id, status, error_message, metadata, workflow_state, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, now() - make_interval(secs => $7::double precision), now())`;

for (const s of SCALES) {
  if (!Number.isInteger(s) || s <= 0) throw new Error(`BENCH_SCALES: ${String(s)} is not a positive whole number of requests`);
}

async function median(fn: () => Promise<unknown>, runs = RUNS): Promise<number> {
  await fn();
  const xs: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    await fn();
    xs.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  xs.sort((a, b) => a - b);
  return xs[Math.floor(xs.length / 2)];
}

/** The app's writes for `seconds` on `WRITERS` connections; rows per second. */
async function insertThroughput(url: string, seconds: number, tag: string): Promise<number> {
  const clients = await Promise.all(Array.from({ length: WRITERS }, async () => {
    const c = new Client({ connectionString: url });
    await c.connect();
    return c;
  }));
  let rows = 0;
  const until = Date.now() + seconds * 1000;
  await Promise.all(
    clients.map(async (c, w) => {
      for (let i = 0; Date.now() < until; i++) {
        const session = `${tag}-w${w}-${Math.floor(i / 4)}`;
        const isNew = i % 5 === 0;
        await c.query(APP_WRITE, [session, `${tag}-u${w}-${Math.floor(i / 4)}`, i % 50 === 0 ? "error" : "completed", i % 50 === 0 ? "agent error" : null,
          isNew ? '{"useStateless": "true"}' : '{"client": "web"}', '{"currentStage": "plan"}', 0.2 + (i % 17) / 10]);
        rows++;
      }
    }),
  );
  await Promise.all(clients.map((c) => c.end()));
  return rows / seconds;
}

async function setTriggers(c: Client, enabled: { rollups: boolean; spans: boolean }): Promise<void> {
  for (const k of ["rollups", "spans"] as const) {
    await c.query(`ALTER TABLE public.agent_sessions ${enabled[k] ? "ENABLE" : "DISABLE"} TRIGGER ${c.escapeIdentifier(MAINTENANCE_TRIGGERS[k])}`);
  }
}

interface ScaleResult {
  windowRows: number;
  historyRows: number;
  loadSeconds: number;
  migrateOldSeconds: number;
  migrateNewSeconds: number;
  longestWriteWaitMs: number;
  writesDuringMigration: number;
  floorMs: number;
  queries: Array<{ name: string; cacheSeconds: number; weight: number; ms: number }>;
  weightedScrapeMs: number;
  gateMs: number;
  statusMs: number;
  reportMs: number;
  insert: { bare: number; rollupsOnly: number; all: number };
}

async function runScale(pg: TestPostgres, windowRows: number, log: (s: string) => void): Promise<ScaleResult> {
  const historyFactor = windowRows >= 10_000_000 ? 2 : 20;
  const historyRows = windowRows * historyFactor;
  const url = await pg.createDatabase();
  const all = loadMigrations();
  const copy = (pred: (n: number) => boolean): string => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vc-scale-sql-"));
    for (const m of all.filter((x) => pred(x.number))) fs.copyFileSync(path.join(DEFAULT_MIGRATIONS_DIR, m.name), path.join(dir, m.name));
    return dir;
  };
  const firstOnly = copy((n) => n === all[0].number);
  await migrate({ databaseUrl: url, dir: firstOnly });
  const c = new Client({ connectionString: url });
  await c.connect();
  await c.query("SET synchronous_commit = off");
  await c.query("SET maintenance_work_mem = '256MB'");
  let t = Date.now();
  await loadTraffic(c, { windowRows, historyRows, historyDays: historyFactor });
  const loadSeconds = (Date.now() - t) / 1000;
  log(`  ${windowRows} rows in 24 h behind ${historyRows} older rows loaded in ${loadSeconds.toFixed(0)} s`);
  t = Date.now();
  const before = copy((n) => n < FIRST_NEW_MIGRATION);
  await migrate({ databaseUrl: url, dir: before });
  const migrateOldSeconds = (Date.now() - t) / 1000;
  log(`  migrations before ${FIRST_NEW_MIGRATION} (production's state) in ${migrateOldSeconds.toFixed(0)} s`);
  await c.query("VACUUM ANALYZE public.agent_sessions");

  // The new migrations, with the app writing every 20 ms meanwhile.
  const writer = new Client({ connectionString: url });
  await writer.connect();
  let stop = false;
  let longest = 0;
  let writes = 0;
  const probe = (async () => {
    for (let i = 0; !stop; i++) {
      const t0 = Date.now();
      await writer.query(APP_WRITE, [`probe-${Math.floor(i / 4)}`, `probe-u${Math.floor(i / 4)}`, "completed", null, '{"client": "web"}', null, 0.5]);
      longest = Math.max(longest, Date.now() - t0);
      writes++;
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  t = Date.now();
  await migrate({ databaseUrl: url });
  const migrateNewSeconds = (Date.now() - t) / 1000;
  stop = true;
  await probe;
  await writer.end();
  log(`  migrations ${FIRST_NEW_MIGRATION} and up in ${migrateNewSeconds.toFixed(1)} s; ${writes} app writes meanwhile, the longest took ${longest} ms`);
  await c.query("VACUUM ANALYZE");

  const floorMs = await median(() => c.query(FLOOR));
  const queries: ScaleResult["queries"] = [];
  for (const [name, q] of Object.entries(QUERIES)) {
    const cacheSeconds = q.cache_seconds ?? 0;
    const weight = SCRAPE_SECONDS / Math.max(cacheSeconds, SCRAPE_SECONDS);
    queries.push({ name, cacheSeconds, weight, ms: await median(() => c.query(q.query)) });
  }
  const weightedScrapeMs = queries.reduce((s, q) => s + q.ms * q.weight, 0);

  await insertEvent(c, {
    stack: STACK, fromStage: 0, toStage: 10, flags: { enableStatelessOrchestration: true, enableSafeJsonParser: true },
    imageDigest: null, gitCommit: null, actor: "bench", reason: "bench:scale", createdAt: new Date((await c.query<{ t: Date }>("SELECT now() - interval '20 hours' AS t")).rows[0].t),
  } as Parameters<typeof insertEvent>[1]);
  const gateMs = await median(() => assessStack(c, STACK, CFG, false));
  const statusMs = await median(() => assessStack(c, STACK, CFG, true));
  const reportMs = await median(() =>
    readRolloutReport(c, {
      stack: STACK, thresholds: CFG.thresholds, soakHours: CFG.gate.soakHours,
      configured: { stage: CFG.canaryPercentage, flags: rolloutState(CFG) },
      judge: (s) => ({ verdict: judgeStage(CFG, s).verdict, evidence: "" }),
    }),
  );

  await setTriggers(c, { rollups: false, spans: false });
  const bare = await insertThroughput(url, INSERT_SECONDS, "bare");
  await setTriggers(c, { rollups: true, spans: false });
  const rollupsOnly = await insertThroughput(url, INSERT_SECONDS, "r06");
  await setTriggers(c, { rollups: true, spans: true });
  const allTriggers = await insertThroughput(url, INSERT_SECONDS, "all");
  await c.end();
  for (const d of [firstOnly, before]) fs.rmSync(d, { recursive: true, force: true });
  return {
    windowRows, historyRows, loadSeconds, migrateOldSeconds, migrateNewSeconds, longestWriteWaitMs: longest, writesDuringMigration: writes,
    floorMs, queries, weightedScrapeMs, gateMs, statusMs, reportMs, insert: { bare, rollupsOnly, all: allTriggers },
  };
}

const f1 = (x: number) => x.toFixed(1);

function table(r: ScaleResult): string[] {
  return [
    `### ${r.windowRows.toLocaleString("en")} requests in 24 h, ${r.historyRows.toLocaleString("en")} older rows behind them`,
    "",
    "| measurement | median |",
    "| --- | ---: |",
    ...r.queries.map((q) => `| exporter query \`${q.name}\` (cache ${q.cacheSeconds} s, weight ${q.weight.toFixed(2)}) | ${f1(q.ms)} ms |`),
    `| **weighted scrape** | **${f1(r.weightedScrapeMs)} ms** |`,
    `| floor: count(*) of the window | ${f1(r.floorMs)} ms |`,
    `| weighted scrape / floor | ${(r.weightedScrapeMs / r.floorMs).toFixed(2)}x |`,
    `| \`rollout gate --json\`, database side | ${f1(r.gateMs)} ms |`,
    `| \`rollout status\`, database side | ${f1(r.statusMs)} ms |`,
    `| \`rollout report\`, database side | ${f1(r.reportMs)} ms |`,
    `| app writes/s, ${WRITERS} writers, bare (no maintenance trigger) | ${f1(r.insert.bare)} |`,
    `| app writes/s, 0006's trigger only | ${f1(r.insert.rollupsOnly)} (${((100 * r.insert.rollupsOnly) / r.insert.bare).toFixed(0)} %) |`,
    `| app writes/s, 0006's and 0040's triggers | ${f1(r.insert.all)} (${((100 * r.insert.all) / r.insert.bare).toFixed(0)} %) |`,
    `| migrations ${FIRST_NEW_MIGRATION}+ on the loaded table | ${f1(r.migrateNewSeconds)} s |`,
    `| longest app write during them (one every 20 ms, ${r.writesDuringMigration} writes) | ${r.longestWriteWaitMs} ms |`,
    "",
  ];
}

async function main(): Promise<number> {
  const lines: string[] = [];
  const log = (s: string) => {
    console.log(s);
  };
  const pg = await startPostgres();
  const results: ScaleResult[] = [];
  try {
    const admin = await pg.connect();
    const version = (await admin.query<{ v: string }>("SELECT version() AS v")).rows[0].v;
    await admin.end();
    log(`server: ${version} (${pg.backend}); ${os.cpus().length} cores`);
    for (const s of SCALES) {
      log(`scale ${s}:`);
      const r = await runScale(pg, s, log);
      results.push(r);
      for (const l of table(r)) log(l);
    }
  } finally {
    await pg.stop();
  }
  const at = (n: number) => results.find((r) => r.windowRows === n);
  const big = at(10_000_000);
  const mid = at(1_000_000);
  const small = at(200_000);
  const goals: Array<[string, boolean | undefined]> = [
    [`weighted scrape at 10 M/day ${big ? f1(big.weightedScrapeMs) : "?"} ms <= 100 ms`, big && big.weightedScrapeMs <= 100],
    [`weighted scrape at 10 M/day within 1.3x of 1 M/day: ${big && mid ? (big.weightedScrapeMs / mid.weightedScrapeMs).toFixed(2) : "?"}x`, big && mid && big.weightedScrapeMs <= 1.3 * mid.weightedScrapeMs],
    [`scrape at 200 k/day <= 1.5x the floor: ${small ? (small.weightedScrapeMs / small.floorMs).toFixed(2) : "?"}x`, small && small.weightedScrapeMs <= 1.5 * small.floorMs],
    [`scrape at 10 M/day <= 0.1x the floor: ${big ? (big.weightedScrapeMs / big.floorMs).toFixed(2) : "?"}x`, big && big.weightedScrapeMs <= 0.1 * big.floorMs],
    [`gate and status at 10 M/day <= 500 ms: ${big ? `${f1(big.gateMs)} / ${f1(big.statusMs)} ms` : "?"}`, big && big.gateMs <= 500 && big.statusMs <= 500],
    ...results.map((r): [string, boolean] => [`insert throughput with the triggers >= 85 % of bare at ${r.windowRows}: ${((100 * r.insert.all) / r.insert.bare).toFixed(0)} %`, r.insert.all >= 0.85 * r.insert.bare]),
    ...results.map((r): [string, boolean] => [`new migrations blocked no app write > 1 s at ${r.windowRows}: longest ${r.longestWriteWaitMs} ms`, r.longestWriteWaitMs <= 1000]),
  ];
  for (const [text, ok] of goals) lines.push(`${ok === undefined ? "NOT RUN" : ok ? "MET    " : "MISSED "} ${text}`);
  for (const l of lines) log(l);
  return goals.every(([, ok]) => ok !== false) ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(2);
  },
);
