/**
 * [docker] Monitoring and the gate on the real engine: the dev stack as declared
 * (test/support/stack.ts) with the real exporter, Prometheus and Alertmanager containers the
 * program declares (test/support/monitoringStack.ts), and a webhook sink container on the
 * stack's network standing in for PagerDuty and Slack.
 *
 * The stack config is the dev stack's with short alerting and gate settings (SETS below), so
 * that alerts fire and the gate decides within seconds on a few hundred requests; no row is
 * backdated. What it shows, in order (one stack, its state carried from test to test):
 * 1. no traffic: the exporter emits no error-rate series, and nothing is pending or firing;
 * 2. clean traffic through the proxy fires nothing, and `rollout gate` says PROCEED;
 * 3. new-path errors injected with the reference app's fault knob: `rollout gate` says PAUSE,
 *    ModerateErrorRate reaches Slack and HighErrorRate reaches PagerDuty (at the sink);
 * 4. every panel of the stack's Grafana dashboard (core/alerts/grafanaDashboard.ts): its PromQL,
 *    evaluated by this Prometheus, returns the series and values the traffic so far implies;
 * 5. a contaminating session written as the superuser around the isolation enforcement
 *    (session_replication_role = replica, as a restore would) fires SessionIsolationFailure.
 */
import { strict as assert } from "node:assert";
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { stringify } from "yaml";
import { ALERT_NAMES, METRICS, RULE_GROUP_NAME, VERSIONS, durationMs } from "../../core/alerts";
import { ALERTS_METRIC, PANEL_TITLES, PanelQuery, grafanaDashboard, panelQueries } from "../../core/alerts/grafanaDashboard";
import { stackMonitoringInputs } from "../../cli/render";
import type { RolloutRecordInputs } from "../../components/rolloutRecord";
import { CONFIG_NAMESPACE, SECRET_KEYS } from "../../core/configSchema";
import { ROLE_NAMES } from "../../core/grants";
import { imageByKey } from "../../tools/images";
import { applySets } from "../../offline/plan";
import { onNewPath } from "../../core/bucketing";
import type { Evaluation } from "../../offline/evaluate";
import { ROLLOUT_HEADER, parseRolloutHeader } from "../../reference-app/src/contract";
import { MONITORING_CONTAINER } from "../../components/monitoring";
import { containerByRole, containerSpec, startSpec } from "../support/declared";
import { DockerScope, docker, dockerOk, publishedPort, requireDocker, requireImages, waitFor } from "../support/docker";
import { MonitoringStack, SINK_PATHS, SinkRequest, TEST_ROUTING_KEY, recordRollout, roleUrl, sinkReceived, sinkSets, startMonitoring, withAdmin } from "../support/monitoringStack";
import { PROJECT_DIR, evaluateStack, stackFile } from "../support/program";
import { StartedStack, startDevStack } from "../support/stack";

const tag = (k: string) => imageByKey(k).tag;
const ADMIN_PORT = 9901;
const STAGE = 50;
const SETS: Record<string, string> = {
  proxyImage: tag("nginx"),
  devPostgresImage: tag("postgres"),
  appImage: tag("reference-app"),
  "monitoring.prometheusImage": tag("prometheus"),
  "monitoring.alertmanagerImage": tag("alertmanager"),
  "monitoring.exporterImage": tag("postgres-exporter"),
  // The fault knob's admin port (never published; the test reaches it with docker exec).
  "appExtraEnv.REFAPP_ADMIN_PORT": String(ADMIN_PORT),
  // At 50 % the two paths get equal traffic: the fewest requests for the gate's comparison.
  canaryPercentage: String(STAGE),
  // Alerting: scrape and evaluate every second; a warning fires after 1 s, a critical error
  // rate after 45 s, so that the warning's group (30 s group_wait) reaches Slack before the
  // critical alert inhibits it; the raw contamination count is re-run every 2 s.
  "alerting.scrapeInterval": "1s",
  "alerting.evaluationInterval": "1s",
  "alerting.warningFor": "1s",
  "alerting.criticalFor": "45s",
  "alerting.rawContaminationCheckSeconds": "2",
  // The gate: a soak of 3.6 s, and volumes a test can send. The confidence (0.5) and margin
  // (3 pp) are loosened so that 300 requests a path decide; the method is the same.
  "gate.soakHours": "0.001",
  "gate.confidence": "0.5",
  "gate.errorRateMarginPct": "3",
  "gate.minNewRequests": "100",
  "gate.minNewUsers": "20",
  "gate.minLegacyRequests": "100",
  "gate.minLegacyUsers": "20",
  ...sinkSets(),
};
const USERS_PER_PATH = 60;
const REQUESTS_PER_USER = 5;
const INJECTED_ERRORS = 30;
const ALERT_WAIT_MS = 150_000;

/** The guide's verification request, through the proxy, as `user`. */
async function query(base: string, user: string): Promise<{ status: number; path: string | undefined }> {
  const r = await fetch(`${base}/api/agent/query`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${user}` },
    body: JSON.stringify({ query: "test query" }),
    signal: AbortSignal.timeout(30_000),
  });
  await r.text();
  return { status: r.status, path: parseRolloutHeader(r.headers.get(ROLLOUT_HEADER) ?? undefined).path };
}

/** Every request of `users` × `perUser`, 8 at a time; their statuses and paths. */
async function traffic(base: string, users: string[], perUser: number): Promise<Array<{ user: string; status: number; path: string | undefined }>> {
  const jobs = users.flatMap((u) => Array.from({ length: perUser }, () => u));
  const out: Array<{ user: string; status: number; path: string | undefined }> = [];
  const worker = async () => {
    for (let u = jobs.shift(); u !== undefined; u = jobs.shift()) out.push({ user: u, ...(await query(base, u)) });
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return out;
}

/** `n` user ids on the new path at STAGE, and `n` on the legacy path (the sticky bucketing, core/bucketing.ts). */
function usersByPath(n: number): { new: string[]; legacy: string[] } {
  const out = { new: [] as string[], legacy: [] as string[] };
  for (let i = 0; out.new.length < n || out.legacy.length < n; i++) {
    const u = `mon-user-${i}`;
    const list = onNewPath(u, STAGE) ? out.new : out.legacy;
    if (list.length < n) list.push(u);
  }
  return out;
}

interface PromRule {
  name: string;
  state: "inactive" | "pending" | "firing";
  lastEvaluation: string;
  health: string;
}

async function prom<T>(m: MonitoringStack, pathAndQuery: string): Promise<T> {
  const r = await fetch(`${m.prometheusUrl}${pathAndQuery}`, { signal: AbortSignal.timeout(5000) });
  const body = (await r.json()) as { status: string; data: T };
  if (body.status !== "success") throw new Error(`${pathAndQuery}: ${JSON.stringify(body)}`);
  return body.data;
}

async function instant(m: MonitoringStack, expr: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> {
  return (await prom<{ result: Array<{ metric: Record<string, string>; value: [number, string] }> }>(m, `/api/v1/query?query=${encodeURIComponent(expr)}`)).result;
}

async function rules(m: MonitoringStack): Promise<PromRule[]> {
  const d = await prom<{ groups: Array<{ name: string; rules: PromRule[] }> }>(m, "/api/v1/rules?type=alert");
  const g = d.groups.find((x) => x.name === RULE_GROUP_NAME);
  if (!g) throw new Error(`no rule group ${RULE_GROUP_NAME}`);
  return g.rules;
}

/** Wait until every alerting rule has been evaluated after `after` (ms since the epoch), and return them. */
async function rulesEvaluatedAfter(m: MonitoringStack, after: number): Promise<PromRule[]> {
  return waitFor(`every rule evaluated after ${new Date(after).toISOString()}`, 60_000, async () => {
    const rs = await rules(m);
    return rs.every((r) => Date.parse(r.lastEvaluation) > after) ? rs : undefined;
  });
}

/** Set the fault knob of every app replica (PUT /fault on its admin port, from inside the container). */
async function setFault(stack: StartedStack, fault: Record<string, unknown>): Promise<void> {
  const program =
    "fetch('http://127.0.0.1:' + process.argv[1] + '/fault', { method: 'PUT', headers: { 'content-type': 'application/json' }, body: process.argv[2] })" +
    ".then(async (r) => { const t = await r.text(); if (!r.ok) { console.error(r.status + ' ' + t); process.exit(1); } })";
  for (const c of stack.appContainers) await dockerOk(["exec", c, "node", "-e", program, String(ADMIN_PORT), JSON.stringify(fault)]);
}

/** `rollout gate` as a user runs it: the CLI, an argument array, the database URL in the environment. */
function rolloutGate(projectDir: string, databaseUrl: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [path.join(PROJECT_DIR, "bin", "rollout.cjs"), "gate", "--stack", "dev", "--project-dir", projectDir, "--json"],
      { env: { ...process.env, ROLLOUT_DATABASE_URL: databaseUrl }, timeout: 120_000, encoding: "utf8" },
      (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

const received = (list: SinkRequest[], where: string, alert: string) => list.filter((r) => r.path === where && JSON.stringify(r.body).includes(alert));

describe("monitoring and the gate on the real engine [docker]", function () {
  this.timeout(600_000);
  const scope = new DockerScope("monitoring");
  let ev: Evaluation;
  let stack: StartedStack;
  let mon: MonitoringStack;
  let projectDir = "";
  let gateUrl = "";
  const users = usersByPath(USERS_PER_PATH);
  const log = (line: string) => console.log(`      ${line}`);
  const started = Date.now();

  before(async function () {
    await requireDocker(this);
    await requireImages(this, Object.fromEntries(["nginx", "postgres", "reference-app", "prometheus", "alertmanager", "postgres-exporter"].map((k) => [k, tag(k)])));
    ev = await evaluateStack("dev", { sets: SETS });
    // The same config, as the stack file `rollout gate` reads (secrets are never in a stack file in clear; the gate needs none).
    projectDir = fs.mkdtempSync(path.join(os.tmpdir(), "vct-monitoring-project-"));
    const raw = applySets(stackFile("dev").raw, Object.entries(SETS).map(([p, value]) => ({ path: p, value })));
    const top = new Set(SECRET_KEYS.map((k) => k.split(".")[0]));
    const config = Object.fromEntries(Object.entries(raw).filter(([k]) => !top.has(k)).map(([k, v]) => [`${CONFIG_NAMESPACE}:${k}`, v]));
    // Every string double-quoted: the stack-file reader refuses plain scalars that YAML readers disagree on (core/yamlSubset.ts).
    fs.writeFileSync(path.join(projectDir, "Pulumi.dev.yaml"), stringify({ config }, { defaultStringType: "QUOTE_DOUBLE", defaultKeyType: "PLAIN" }));
    stack = await startDevStack(scope, ev, { log });
    await recordRollout(ev, stack);
    gateUrl = roleUrl(ev, stack, ROLE_NAMES.monitoring);
    mon = await startMonitoring(scope, ev, stack, log);
    log(`stack up in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  });
  after(async () => {
    log(`suite wall time before cleanup ${((Date.now() - started) / 1000).toFixed(0)} s`);
    const t = Date.now();
    // Every container at once (on the vfs driver each removal deletes a whole root copy), then the rest.
    await Promise.all([...Object.values(mon?.containers ?? {}), ...Object.values(stack?.containers ?? {})].map((c) => scope.remove(c)));
    await scope.cleanup();
    log(`cleanup ${((Date.now() - t) / 1000).toFixed(0)} s`);
    if (projectDir) fs.rmSync(projectDir, { recursive: true, force: true });
  });

  it("with no traffic the exporter emits no error-rate series (only the contamination counts, at 0), and no alert is pending or firing", async () => {
    const up = await waitFor("the exporter scraped", 60_000, async () => {
      const r = await instant(mon, `up{job="valuecanvas-exporter"}`);
      return r.length === 1 && r[0].value[1] === "1" ? r : undefined;
    });
    assert.equal(up.length, 1);
    const scrapedAt = Date.now();
    const rs = await rulesEvaluatedAfter(mon, scrapedAt + durationMs("1s"));
    assert.deepEqual(await instant(mon, METRICS.totalRequests), [], "no error-rate series without traffic");
    assert.deepEqual(await instant(mon, METRICS.errors), []);
    for (const metric of [METRICS.contamination, METRICS.rawContamination]) {
      assert.deepEqual((await instant(mon, metric)).map((x) => x.value[1]), ["0"], metric);
    }
    for (const r of rs) assert.equal(r.state, "inactive", `${r.name} (${r.health})`);
  });

  it("clean traffic through the proxy fires nothing: every rule, evaluated on the final counts, is inactive, and the sink received nothing", async () => {
    const all = [...users.new, ...users.legacy];
    const res = await traffic(stack.proxyUrl, all, REQUESTS_PER_USER);
    assert.deepEqual(res.filter((r) => r.status !== 200), [], "every clean request is a 200");
    for (const r of res) assert.equal(r.path, users.new.includes(r.user) ? "new" : "legacy", r.user);
    const total = USERS_PER_PATH * REQUESTS_PER_USER;
    // The scrape has every row once Prometheus shows both totals.
    await waitFor("Prometheus to show every clean request", 60_000, async () => {
      const r = await instant(mon, `sum by (version) (${METRICS.totalRequests})`);
      const by = Object.fromEntries(r.map((x) => [x.metric.version, Number(x.value[1])]));
      return by.New === total && by.Legacy === total ? by : undefined;
    });
    // Bounded wait, and why it suffices: an alert reaches Alertmanager (and so the sink) only
    // from a rule that is pending, then firing. Once every rule has been evaluated on data that
    // include every row (evaluated after the totals showed, plus the raw contamination cache of
    // 2 s and a scrape), a rule still inactive cannot become pending without new data: nothing
    // can fire from this traffic, whatever `for:` or group_wait.
    const rs = await rulesEvaluatedAfter(mon, Date.now() + 3000);
    for (const r of rs) assert.equal(r.state, "inactive", `${r.name} (${r.health})`);
    assert.deepEqual((await prom<{ alerts: unknown[] }>(mon, "/api/v1/alerts")).alerts, []);
    assert.deepEqual(await sinkReceived(mon), [], "the sink received nothing");
  });

  it("rollout gate on the clean traffic: PROCEED (exit 0)", async () => {
    const r = await rolloutGate(projectDir, gateUrl);
    const out = JSON.parse(r.stdout) as { verdict: string; exitCode: number; gate: { reasons: string[] } };
    assert.equal(out.verdict, "PROCEED", `${r.stdout}\n${r.stderr}`);
    assert.equal(r.code, 0);
  });

  it("new-path errors injected with the fault knob: rollout gate says PAUSE (exit 4); ModerateErrorRate reaches Slack, then HighErrorRate reaches PagerDuty with the routing key", async () => {
    await setFault(stack, { newPathErrorRate: 1 });
    let res;
    try {
      res = await traffic(stack.proxyUrl, users.new.slice(0, INJECTED_ERRORS), 1);
    } finally {
      await setFault(stack, { newPathErrorRate: 0 });
    }
    assert.deepEqual(res.map((r) => r.status), Array(INJECTED_ERRORS).fill(500), "every injected request failed");
    const injectedAt = Date.now();

    const gate = await rolloutGate(projectDir, gateUrl);
    const out = JSON.parse(gate.stdout) as { verdict: string; gate: { reasons: string[] } };
    assert.equal(out.verdict, "PAUSE", `${gate.stdout}\n${gate.stderr}`);
    assert.equal(gate.code, 4);
    assert.ok(out.gate.reasons.some((x) => /pause criterion hit: Error rate > 2%/.test(x)), out.gate.reasons.join("\n"));

    const slack = await waitFor("ModerateErrorRate at the Slack sink", ALERT_WAIT_MS, async () => {
      const got = received(await sinkReceived(mon), SINK_PATHS.slack, "Moderate error rate on the New path");
      return got.length > 0 ? got : undefined;
    }, 1000);
    log(`ModerateErrorRate reached Slack ${((Date.parse(slack[0].at) - injectedAt) / 1000).toFixed(0)} s after the errors`);
    const pd = await waitFor("HighErrorRate at the PagerDuty sink", ALERT_WAIT_MS, async () => {
      const got = received(await sinkReceived(mon), SINK_PATHS.pagerduty, ALERT_NAMES.highErrorRate);
      return got.length > 0 ? got : undefined;
    }, 1000);
    log(`HighErrorRate reached PagerDuty ${((Date.parse(pd[0].at) - injectedAt) / 1000).toFixed(0)} s after the errors`);
    const body = pd[0].body as { routing_key: string; event_action: string; payload: { summary: string; severity: string; custom_details: Record<string, string> } };
    assert.equal(body.routing_key, TEST_ROUTING_KEY);
    assert.equal(body.event_action, "trigger");
    assert.equal(body.payload.severity, "critical");
    assert.equal(body.payload.custom_details.version, "New");
    assert.match(body.payload.summary, /^\[dev\] High error rate on the New path: 9\.09% > 5%$/);
    const all = await sinkReceived(mon);
    assert.deepEqual(received(all, SINK_PATHS.pagerduty, "Legacy"), [], "nothing about the legacy path");
    assert.deepEqual(received(all, SINK_PATHS.slack, ALERT_NAMES.highErrorRate), [], "the critical alert pages, it does not go to Slack");
  });

  it("every panel of the stack's Grafana dashboard, its PromQL evaluated by the stack's Prometheus (/api/v1/query): the series per version and the values the traffic implies", async () => {
    // The dashboard `npm run render` writes for this stack's config, and the record the program wrote.
    const { config } = stackMonitoringInputs("dev", projectDir);
    const record = ev.resources.find((x) => x.type.endsWith(":RolloutEvent"))!.inputs as unknown as RolloutRecordInputs;
    assert.equal(record.stack, "dev");
    const queries = panelQueries(grafanaDashboard(config, { stack: record.stack }));
    // What the suite sent: 300 clean requests a path, then 30 failed new-path ones; nothing since.
    const clean = USERS_PER_PATH * REQUESTS_PER_USER;
    const total: Record<string, number> = { New: clean + INJECTED_ERRORS, Legacy: clean };
    const errors: Record<string, number> = { New: INJECTED_ERRORS, Legacy: 0 };
    // What PostgreSQL itself says (the exporter's views, read as the superuser), for the figures the traffic does not fix.
    const db = await withAdmin(stack, async (c) => ({
      p95: Object.fromEntries((await c.query<{ version: string; p95: number }>("SELECT version, p95_duration_seconds::float8 AS p95 FROM monitoring.latency_by_version")).rows.map((r) => [r.version, r.p95])),
      peak: Object.fromEntries((await c.query<{ version: string; peak: string }>("SELECT version, peak_concurrent AS peak FROM monitoring.concurrent_sessions")).rows.map((r) => [r.version, Number(r.peak)])),
      recordedAt: (await c.query<{ at: number }>("SELECT date_part('epoch', max(created_at))::float8 AS at FROM monitoring.rollout_events WHERE stack = $1", [record.stack])).rows[0].at,
    }));
    const flag = (on: boolean) => (on ? 1 : 0);
    const deployedShare = config.enableStatelessOrchestration && config.enableSafeJsonParser ? STAGE : 0;

    type Sample = { metric: Record<string, string>; value: [number, string] };
    const byVersion = (r: Sample[]) => Object.fromEntries(r.map((x) => [x.metric.version, Number(x.value[1])]));
    const one = (q: PanelQuery, r: Sample[]) => {
      assert.equal(r.length, 1, `${q.panelTitle} ${q.refId}: one series: ${JSON.stringify(r)}`);
      assert.equal(r[0].metric.stack, record.stack, `${q.panelTitle}: the stack's own record`);
      return Number(r[0].value[1]);
    };
    const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);
    const check: Record<string, (q: PanelQuery, r: Sample[]) => void | Promise<void>> = {
      [PANEL_TITLES.canaryPercentage]: (q, r) => assert.equal(one(q, r), STAGE),
      [PANEL_TITLES.statelessOrchestration]: (q, r) => assert.equal(one(q, r), flag(config.enableStatelessOrchestration)),
      [PANEL_TITLES.safeJsonParser]: (q, r) => assert.equal(one(q, r), flag(config.enableSafeJsonParser)),
      [PANEL_TITLES.newPathShare]: (q, r) => assert.equal(one(q, r), deployedShare),
      [PANEL_TITLES.recordedAt]: (q, r) => {
        const ms = one(q, r);
        assert.ok(Math.abs(ms - db.recordedAt * 1000) < 1, `recorded ${ms} ms vs the record's ${db.recordedAt} s`);
        assert.ok(ms >= started - 60_000 && ms <= Date.now(), `written during this suite: ${new Date(ms).toISOString()}`);
      },
      [PANEL_TITLES.errorRate]: (_q, r) => {
        const got = byVersion(r);
        assert.deepEqual(Object.keys(got).sort(), [...VERSIONS].sort());
        for (const v of VERSIONS) close(got[v], (100 * errors[v]) / total[v], `error rate ${v}`);
      },
      [PANEL_TITLES.p95Latency]: (_q, r) => {
        const got = byVersion(r);
        assert.deepEqual(Object.keys(got).sort(), [...VERSIONS].sort());
        for (const v of VERSIONS) {
          close(got[v], db.p95[v], `P95 ${v}`);
          // ElevatedLatency stayed inactive on the clean traffic (with far more than minRequests sessions).
          assert.ok(got[v] >= 0 && got[v] <= config.thresholds.p95WarningSeconds, `P95 ${v} ${got[v]} s`);
        }
      },
      [PANEL_TITLES.sessionIsolation]: (q, r) => {
        assert.equal(r.length, 1, `${q.refId}: one count`);
        assert.equal(Number(r[0].value[1]), 0, `${q.expr}: no contamination yet`);
      },
      // The exporter re-runs the concurrency query at most every CONCURRENT_SESSIONS_CACHE_SECONDS: wait for a run after the last write.
      [PANEL_TITLES.concurrentSessions]: async (q) => {
        const got = await waitFor("the cached concurrent-sessions figures to match the view", 90_000, async () => {
          const v = byVersion(await instant(mon, q.expr));
          const keys = Object.keys(v);
          return keys.length === Object.keys(db.peak).length && keys.every((k) => v[k] === db.peak[k]) ? v : undefined;
        }, 2000);
        assert.deepEqual(Object.keys(got).sort(), ["All", ...VERSIONS].sort());
        assert.ok(got.All >= Math.max(got.New, got.Legacy) && got.All >= 1, JSON.stringify(got));
      },
      [PANEL_TITLES.sessions]: (q, r) => assert.deepEqual(byVersion(r), q.refId === "A" ? total : errors, `${q.refId} ${q.expr}`),
      [PANEL_TITLES.activeAlerts]: (_q, r) => {
        assert.ok(r.every((x) => x.metric.__name__ === ALERTS_METRIC));
        assert.deepEqual(
          r.map((x) => [x.metric.alertname, x.metric.alertstate, x.metric.version, x.metric.severity]).sort(),
          [
            [ALERT_NAMES.highErrorRate, "firing", "New", "critical"],
            [ALERT_NAMES.moderateErrorRate, "firing", "New", "warning"],
          ],
          "the error-rate alerts of the new path, and nothing about the legacy path",
        );
      },
    };
    const seen = new Set<string>();
    for (const q of queries) {
      const fn = check[q.panelTitle];
      assert.ok(fn, `no expectation for panel "${q.panelTitle}"`);
      await fn(q, await instant(mon, q.expr));
      seen.add(q.panelTitle);
    }
    assert.deepEqual([...seen].sort(), Object.keys(check).sort(), "every panel's queries were evaluated");
    log(`dashboard: ${queries.length} queries of ${seen.size} panels evaluated against Prometheus`);
  });

  it("a contaminating session written as the superuser around the isolation enforcement (session_replication_role = replica) fires SessionIsolationFailure at PagerDuty", async () => {
    const before = received(await sinkReceived(mon), SINK_PATHS.pagerduty, ALERT_NAMES.sessionIsolationFailure).length;
    assert.equal(before, 0);
    await withAdmin(stack, async (c) => {
      const rows =
        `INSERT INTO public.agent_sessions (session_id, user_id, status, metadata, created_at, updated_at)
         VALUES ($1, 'contaminated-user-a', 'completed', '{"useStateless": "true"}', now(), now()),
                ($1, 'contaminated-user-b', 'completed', '{"useStateless": "true"}', now(), now())`;
      await assert.rejects(c.query(rows, ["contaminated-1"]), /isolation/, "the enforcement refuses it in a normal session");
      await c.query("BEGIN");
      await c.query("SET LOCAL session_replication_role = replica");
      await c.query(rows, ["contaminated-1"]);
      await c.query("COMMIT");
    });
    const writtenAt = Date.now();
    const pd = await waitFor("SessionIsolationFailure at the PagerDuty sink", ALERT_WAIT_MS, async () => {
      const got = received(await sinkReceived(mon), SINK_PATHS.pagerduty, ALERT_NAMES.sessionIsolationFailure);
      return got.length > 0 ? got : undefined;
    }, 1000);
    log(`SessionIsolationFailure reached PagerDuty ${((Date.parse(pd[0].at) - writtenAt) / 1000).toFixed(0)} s after the write`);
    const body = pd[0].body as { routing_key: string; payload: { severity: string; custom_details: Record<string, string> } };
    assert.equal(body.routing_key, TEST_ROUTING_KEY);
    assert.equal(body.payload.severity, "critical");
    assert.match(body.payload.custom_details.runbook, /IMMEDIATE ROLLBACK/);
    // Nothing restarted on the way: every monitoring container ran throughout.
    for (const c of Object.values(mon.containers)) assert.equal(await dockerOk(["inspect", "--format", "{{.State.Status}} {{.RestartCount}}", c]), "running 0", c);
    assert.ok(stack.appContainers.length >= 2, "the fault knob was set on every app task");
  });

  it("the exporter stopped: both contamination counts go missing and ContaminationUnmonitored pages after criticalFor (SessionIsolationFailure could not fire)", async () => {
    assert.deepEqual(received(await sinkReceived(mon), SINK_PATHS.pagerduty, ALERT_NAMES.contaminationUnmonitored), []);
    await dockerOk(["stop", "--time", "5", mon.containers.exporter]);
    const stoppedAt = Date.now();
    // The failed scrape marks the series stale at once: absent() holds from the next evaluation.
    await waitFor("the contamination counts missing in Prometheus", 60_000, async () => ((await instant(mon, METRICS.contamination)).length === 0 ? true : undefined), 1000);
    const pd = await waitFor("ContaminationUnmonitored at the PagerDuty sink", ALERT_WAIT_MS, async () => {
      const got = received(await sinkReceived(mon), SINK_PATHS.pagerduty, ALERT_NAMES.contaminationUnmonitored);
      return got.length > 0 ? got : undefined;
    }, 1000);
    const after = (Date.parse(pd[0].at) - stoppedAt) / 1000;
    log(`ContaminationUnmonitored reached PagerDuty ${after.toFixed(0)} s after the exporter stopped (criticalFor 45 s)`);
    assert.ok(after >= 45, `not before criticalFor: ${after} s`);
    const body = pd[0].body as { routing_key: string; payload: { severity: string; summary: string; custom_details: Record<string, string> } };
    assert.equal(body.routing_key, TEST_ROUTING_KEY);
    assert.equal(body.payload.severity, "critical");
    assert.match(body.payload.summary, /Session isolation is unmonitored/);
    assert.match(body.payload.custom_details.runbook, /postgres exporter/);
  });
});

describe("the dev stack's declared Alertmanager with its receiver secrets unset [docker]", function () {
  this.timeout(300_000);
  const scope = new DockerScope("am-unset");
  after(async () => scope.cleanup());

  it("starts and stays up (it crash-looped on a placeholder that was no URL): the Slack receiver's placeholder is an unresolvable https URL, PagerDuty's a routing key", async function () {
    await requireDocker(this);
    await requireImages(this, { alertmanager: tag("alertmanager") });
    const ev = await evaluateStack("dev", { sets: { "monitoring.alertmanagerImage": tag("alertmanager") } });
    const network = await scope.network("stack");
    const r = containerByRole(ev, "monitoring-alertmanager");
    const networks = Object.fromEntries(((r.inputs.networksAdvanced as Array<{ name: string }> | undefined) ?? []).map((n) => [n.name, network]));
    const port = MONITORING_CONTAINER.alertmanager.port;
    const c = await startSpec(scope, containerSpec(r, { networks, publish: "ephemeral", alsoPublish: [port] }));
    const url = `http://127.0.0.1:${await publishedPort(c, port)}`;
    await waitFor("Alertmanager ready", 60_000, async () => {
      const s = await dockerOk(["inspect", "--format", "{{.State.Status}} {{.RestartCount}}", c]);
      if (s !== "running 0") throw new Error(`Alertmanager is ${s}: ${(await docker(["logs", "--tail", "20", c])).stderr}`);
      const res = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(3000) });
      await res.text();
      return res.ok ? true : undefined;
    });
    // What it was given (Alertmanager's own status API shows the secrets as <secret>).
    const yml = containerSpec(r, { networks, publish: "ephemeral" }).uploads.map((u) => u.content).join("\n");
    assert.match(yml, /api_url: https:\/\/placeholder\.invalid\//);
    // Still the same process a few seconds later (a refused config exits at once; restart: unless-stopped would count it).
    await new Promise((res) => setTimeout(res, 3000));
    assert.equal(await dockerOk(["inspect", "--format", "{{.State.Status}} {{.RestartCount}}", c]), "running 0");
  });
});
