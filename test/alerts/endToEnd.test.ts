/**
 * End to end, on loopback: a real PostgreSQL with the migrations applied and
 * seeded canary traffic; the real prometheus-postgres-exporter (as a role that
 * may read only the monitoring views) and the real Prometheus, both run with
 * the rendered files. With a fault (6 % errors on the new path, one
 * contaminated session) exactly the expected alerts fire; the same traffic
 * without the fault fires nothing; one contaminated session written around the
 * isolation trigger (session_replication_role = replica) is invisible to the
 * view but fires SessionIsolationFailure through the cached raw count, and the
 * exporter really caches that count (cache_seconds).
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import YAML from "yaml";
import {
  ALERT_NAMES,
  EXPORTER_ENV,
  METRICS,
  CONCURRENT_SESSIONS_METRICS,
  MONITORING_FILE_NAMES,
  EXPORTER_STATEMENT_TIMEOUT_MS,
  exporterArgs,
  exporterDsn,
  exporterQueries,
  renderMonitoringFiles,
} from "../../core/alerts";
import { DEFAULT_MIGRATIONS_DIR, migrate } from "../../db/migrate";
import { freePort, sharedPostgres, TestPostgres } from "../support/postgres";
import { Proc, getJson, monitoringRole, start, stopAll, until, writeBypassingTrigger } from "./processes";
import { requireTools } from "../support/tools";
import { testConfig, tmpDir, writeFiles } from "./support";

const STACK = "staging";
/**
 * Short intervals and `for:` durations so the test sees alerts fire within
 * seconds. The raw contamination count is cached far longer than any test
 * runs: the exporter runs it on its first scrape, then never again.
 */
const CONFIG = testConfig({
  alerting: {
    scrapeInterval: "1s",
    evaluationInterval: "1s",
    criticalFor: "2s",
    warningFor: "3s",
    minRequests: 50,
    rawContaminationCheckSeconds: 3600,
  },
});

interface PromAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: "pending" | "firing";
  value: string;
}

/** The seeded traffic of the last hour: new path at `newErrors` of 1000, legacy at 1 %. */
async function seed(pg: TestPostgres, url: string, fault: boolean): Promise<void> {
  // Production already has agent_sessions with data when the migrations run:
  // create the table first (migration 0001 alone), load the traffic, then migrate.
  const first = tmpDir("vc-e2e-sql-");
  try {
    const name = fs.readdirSync(DEFAULT_MIGRATIONS_DIR).filter((f) => f.endsWith(".sql")).sort()[0];
    fs.copyFileSync(path.join(DEFAULT_MIGRATIONS_DIR, name), path.join(first, name));
    await migrate({ databaseUrl: url, dir: first });
  } finally {
    fs.rmSync(first, { recursive: true, force: true });
  }
  const c = await pg.connect(url);
  try {
    const newErrors = fault ? 60 : 10; // 6 % vs 1 % of 1000
    await c.query(
      `INSERT INTO public.agent_sessions (session_id, user_id, status, error_message, metadata, workflow_state, created_at, updated_at)
       SELECT 'new-' || i, 'user-' || (i % 97), CASE WHEN i <= $1 THEN 'error' ELSE 'completed' END,
              CASE WHEN i <= $1 THEN 'stateless orchestrator: timeout' END,
              '{"useStateless": "true"}'::jsonb, '{"currentStage": "drafting"}'::jsonb,
              now() - make_interval(secs => i * 3), now() - make_interval(secs => i * 3) + interval '1.5 seconds'
         FROM generate_series(1, 1000) AS i`,
      [newErrors],
    );
    await c.query(
      `INSERT INTO public.agent_sessions (session_id, user_id, status, error_message, metadata, workflow_state, created_at, updated_at)
       SELECT 'legacy-' || i, 'user-' || (100 + i % 397), CASE WHEN i <= 30 THEN 'error' ELSE 'completed' END,
              CASE WHEN i <= 30 THEN 'legacy: upstream 502' END,
              CASE WHEN i % 2 = 0 THEN '{"useStateless": "false"}'::jsonb ELSE NULL END, '{"currentStage": "review"}'::jsonb,
              now() - make_interval(secs => i), now() - make_interval(secs => i) + interval '2 seconds'
         FROM generate_series(1, 3000) AS i`,
    );
    if (fault) {
      // One session that served two users, from before the database enforced isolation.
      await c.query(
        `INSERT INTO public.agent_sessions (session_id, user_id, status, metadata, created_at, updated_at)
         VALUES ('contaminated-1', 'user-a', 'completed', '{"useStateless": "true"}', now() - interval '10 minutes', now() - interval '599 seconds'),
                ('contaminated-1', 'user-b', 'completed', '{"useStateless": "true"}', now() - interval '9 minutes', now() - interval '539 seconds')`,
      );
    }
  } finally {
    await c.end();
  }
  await migrate({ databaseUrl: url });
}

interface Stack {
  prometheus: string;
  ps: Proc[];
  dir: string;
}

const TEST_SESSION_NAMESPACE = "vc_test_session";

async function runMonitoring(tools: Record<string, string>, dsn: string, label: string): Promise<Stack> {
  const dir = tmpDir(`vc-e2e-${label}-`);
  const exporterPort = await freePort();
  const prometheusPort = await freePort();
  const files = renderMonitoringFiles(CONFIG, {}, {
    stack: STACK,
    targets: { exporter: `127.0.0.1:${exporterPort}`, alertmanager: "" },
  });
  // One test-only query beside the rendered ones: the exporter's own session reports its statement_timeout.
  const queries = YAML.parse(files[MONITORING_FILE_NAMES.exporterQueries]) as Record<string, unknown>;
  queries[TEST_SESSION_NAMESPACE] = {
    query: "SELECT setting::float8 AS statement_timeout_ms FROM pg_catalog.pg_settings WHERE name = 'statement_timeout'",
    metrics: [{ statement_timeout_ms: { usage: "GAUGE", description: "the exporter session's statement_timeout (test only)" } }],
  };
  writeFiles(dir, { ...files, [MONITORING_FILE_NAMES.exporterQueries]: YAML.stringify(queries) });
  const exporter = start(
    `exporter (${label})`,
    tools["prometheus-postgres-exporter"],
    exporterArgs(path.join(dir, MONITORING_FILE_NAMES.exporterQueries), `127.0.0.1:${exporterPort}`),
    // The DSN exactly as the monitoring component passes it (components/monitoring.ts).
    { ...EXPORTER_ENV, DATA_SOURCE_NAME: exporterDsn(dsn) },
  );
  const prometheus = start(`prometheus (${label})`, tools.prometheus, [
    `--config.file=${path.join(dir, MONITORING_FILE_NAMES.prometheus)}`,
    `--storage.tsdb.path=${path.join(dir, "data")}`,
    `--web.listen-address=127.0.0.1:${prometheusPort}`,
  ]);
  return { prometheus: `http://127.0.0.1:${prometheusPort}`, ps: [exporter, prometheus], dir };
}

/** Wait until Prometheus has scraped the views and evaluated the rules on that data; return its alerts. */
async function alertsAfterData(s: Stack, expectFiring: string[]): Promise<PromAlert[]> {
  const q = (expr: string) => getJson<{ result: Array<{ metric: Record<string, string>; value: [number, string] }> }>(`${s.prometheus}/api/v1/query?query=${encodeURIComponent(expr)}`);
  const dataAt = await until("the exporter's metrics in Prometheus", s.ps, async () => {
    const totals = await q(METRICS.totalRequests);
    const contamination = await q(METRICS.contamination);
    const raw = await q(METRICS.rawContamination);
    return totals.result.length === 2 && contamination.result.length === 1 && raw.result.length === 1 ? totals.result[0].value[0] : undefined;
  });
  // Every alert that should fire, firing.
  await until(`alerts ${expectFiring.join(", ") || "(none)"} firing`, s.ps, async () => {
    const data = await getJson<{ alerts: PromAlert[] }>(`${s.prometheus}/api/v1/alerts`);
    const firing = data.alerts.filter((a) => a.state === "firing").map((a) => a.labels.alertname);
    return expectFiring.every((n) => firing.includes(n)) ? true : undefined;
  });
  // Then one more full evaluation after the data arrived (and after the firing),
  // so that anything else that could fire would at least be pending.
  const firingSeenAt = Date.now() / 1000;
  await until("a rule evaluation after the data and the firing", s.ps, async () => {
    const rules = await getJson<{ groups: Array<{ lastEvaluation: string }> }>(`${s.prometheus}/api/v1/rules`);
    const last = Date.parse(rules.groups[0]?.lastEvaluation ?? "") / 1000;
    return last > dataAt && last > firingSeenAt ? true : undefined;
  });
  return (await getJson<{ alerts: PromAlert[] }>(`${s.prometheus}/api/v1/alerts`)).alerts;
}

describe("[pg] alerts end to end: PostgreSQL → exporter → Prometheus", function () {
  this.timeout(180_000);
  let tools: Record<string, string> = {};
  let pg: TestPostgres;
  const dirs: string[] = [];

  before(async function () {
    tools = requireTools(this, "prometheus", "prometheus-postgres-exporter");
    pg = await sharedPostgres();
  });
  after(async () => {
    await stopAll();
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  it("with 6 % errors on the new path and one contaminated session: HighErrorRate, ModerateErrorRate (New) and SessionIsolationFailure fire, nothing else", async () => {
    const url = await pg.createDatabase();
    await seed(pg, url, true);
    const s = await runMonitoring(tools, await monitoringRole(pg, url), "fault");
    dirs.push(s.dir);
    const expected = [ALERT_NAMES.highErrorRate, ALERT_NAMES.moderateErrorRate, ALERT_NAMES.sessionIsolationFailure];
    const alerts = await alertsAfterData(s, expected);
    const seen = alerts.map((a) => `${a.labels.alertname}/${a.labels.version ?? "-"}/${a.state}`).sort();
    assert.deepEqual(seen, ["HighErrorRate/New/firing", "ModerateErrorRate/New/firing", "SessionIsolationFailure/-/firing"]);
    const high = alerts.find((a) => a.labels.alertname === ALERT_NAMES.highErrorRate);
    assert.ok(high);
    // 60 errors among the 1000 new-path sessions plus the contaminated session's 2 rows.
    assert.equal(Number(high.value), (100 * 60) / 1002);
    assert.equal(high.labels.severity, "critical");
    const iso = alerts.find((a) => a.labels.alertname === ALERT_NAMES.sessionIsolationFailure);
    assert.equal(Number(iso?.value), 1);
    // Both counts see the session recorded before enforcement.
    assert.match(iso?.annotations.description ?? "", /monitoring\.session_isolation: 1; by the raw count over agent_sessions \(refreshed every 3600s\): 1\./);
    // EXPORTER_ENV turned the exporter's default and pg_settings metrics off.
    const settings = await getJson<{ result: unknown[] }>(`${s.prometheus}/api/v1/query?query=${encodeURIComponent('{__name__=~"pg_settings_.+|pg_stat_activity_.+"}')}`);
    assert.equal(settings.result.length, 0);
  });

  it("the same traffic without the fault (1 % errors, no contamination) fires nothing", async () => {
    const url = await pg.createDatabase();
    await seed(pg, url, false);
    const s = await runMonitoring(tools, await monitoringRole(pg, url), "clean");
    dirs.push(s.dir);
    const alerts = await alertsAfterData(s, []);
    assert.deepEqual(alerts.map((a) => `${a.labels.alertname}/${a.labels.version ?? "-"}/${a.state}`), []);
    // Concurrent sessions (sql/0020), through the real exporter: new sessions last 1.5 s every 3 s (never
    // two at once), legacy ones 2 s every second (two at once), and at once one new with two legacy.
    const peaks = await until("the concurrent-sessions gauge in Prometheus", s.ps, async () => {
      const r = await getJson<{ result: Array<{ metric: Record<string, string>; value: [number, string] }> }>(
        `${s.prometheus}/api/v1/query?query=${encodeURIComponent(CONCURRENT_SESSIONS_METRICS.peak)}`,
      );
      return r.result.length === 3 ? Object.fromEntries(r.result.map((x) => [x.metric.version, Number(x.value[1])])) : undefined;
    });
    assert.deepEqual(peaks, { All: 3, Legacy: 2, New: 1 });
    // Issue 10 item 13: the exporter's session carries its own statement timeout, whatever the role set for itself.
    const timeout = await until("the exporter session's statement_timeout", s.ps, async () => {
      const r = await getJson<{ result: Array<{ value: [number, string] }> }>(
        `${s.prometheus}/api/v1/query?query=${encodeURIComponent(`${TEST_SESSION_NAMESPACE}_statement_timeout_ms`)}`,
      );
      return r.result.length === 1 ? Number(r.result[0].value[1]) : undefined;
    });
    assert.equal(timeout, EXPORTER_STATEMENT_TIMEOUT_MS);
  });

  it("one contaminated session written around the isolation trigger (session_replication_role = replica): the view and the raw count both see 1 at once, SessionIsolationFailure fires, nothing else; the raw count stays cached", async () => {
    const url = await pg.createDatabase();
    await seed(pg, url, false);
    await writeBypassingTrigger(pg, url, "bypassed-1");
    const dsn = await monitoringRole(pg, url);
    const s = await runMonitoring(tools, dsn, "bypass");
    dirs.push(s.dir);
    const alerts = await alertsAfterData(s, [ALERT_NAMES.sessionIsolationFailure]);
    assert.deepEqual(alerts.map((a) => `${a.labels.alertname}/${a.labels.version ?? "-"}/${a.state}`), ["SessionIsolationFailure/-/firing"]);
    assert.equal(Number(alerts[0].value), 1);
    assert.equal(alerts[0].labels.severity, "critical");
    assert.match(alerts[0].annotations.description, /monitoring\.session_isolation: 1; by the raw count over agent_sessions \(refreshed every 3600s\): 1\./);
    const value = async (metric: string) => {
      const r = await getJson<{ result: Array<{ value: [number, string] }> }>(`${s.prometheus}/api/v1/query?query=${encodeURIComponent(metric)}`);
      assert.equal(r.result.length, 1, metric);
      return Number(r.result[0].value[1]);
    };
    assert.equal(await value(METRICS.contamination), 1);
    assert.equal(await value(METRICS.rawContamination), 1);

    // cache_seconds: a second bypassing session; the monitoring role's own call
    // counts 2, but the next scrapes (each re-running the view's query) still
    // carry the cached raw count of 1.
    await writeBypassingTrigger(pg, url, "bypassed-2");
    const c = await pg.connect(dsn.replace(/\?.*$/, ""));
    try {
      const direct = await c.query<{ n: string }>(`SELECT monitoring.stage_contamination(now() - interval '24 hours', 'infinity') AS n`);
      assert.equal(Number(direct.rows[0].n), 2);
    } finally {
      await c.end();
    }
    const scrapes = `count_over_time(${METRICS.contamination}[1h])`;
    const before = await value(scrapes);
    await until("three more scrapes", s.ps, async () => ((await value(scrapes)) >= before + 3 ? true : undefined));
    assert.equal(await value(METRICS.rawContamination), 1);
    // The view is not cached: the next scrape already saw the second session.
    assert.equal(await value(METRICS.contamination), 2);
  });

  it("every exporter query runs under a role that may read only the monitoring views (and not agent_sessions)", async () => {
    const url = await pg.createDatabase();
    await migrate({ databaseUrl: url });
    const dsn = await monitoringRole(pg, url);
    const c = await pg.connect(dsn.replace(/\?.*$/, ""));
    try {
      await assert.rejects(c.query("SELECT 1 FROM public.agent_sessions"), /permission denied/);
      // Including the raw contamination count: EXECUTE on monitoring.stage_contamination
      // comes from PUBLIC's default, USAGE on schema monitoring from the grants.
      const queries = Object.values(exporterQueries(CONFIG.alerting));
      assert.ok(queries.some((q) => q.cache_seconds !== undefined));
      for (const q of queries) await c.query(q.query);
    } finally {
      await c.end();
    }
  });
});
