/**
 * The Grafana dashboard (issue 24, core/alerts/grafanaDashboard.ts): the
 * guide's panels, per-version queries, threshold lines equal to each stack's
 * configured thresholds, units, the data-source variable, no secrets; and
 * every panel's PromQL evaluated by the real promtool (`promtool test rules`,
 * promql_expr_test) on series shaped as the exporter emits them. The same
 * queries against the real exporter and Prometheus: test/stack/monitoring.test.ts.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { stringify } from "yaml";
import {
  ALERT_NAMES,
  CONCURRENT_SESSIONS_METRICS,
  EXPORTER_JOB,
  METRICS,
  MONITORING_FILE_NAMES,
  ROLLOUT_METRICS,
  ROLLOUT_STACK_LABEL,
  SECRET_PLACEHOLDERS,
  VERSION_LABEL,
  VERSIONS,
  alertRules,
  renderRules,
} from "../../core/alerts";
import {
  ALERTS_METRIC,
  DATASOURCE_VARIABLE,
  GRAFANA_UID_MAX,
  LEVEL_COLORS,
  PANEL_TITLES,
  PROMETHEUS_DATASOURCE_TYPE,
  PanelQuery,
  dashboardUid,
  grafanaDashboard,
  panelQueries,
  promString,
  renderGrafanaDashboard,
} from "../../core/alerts/grafanaDashboard";
import type { RolloutConfig } from "../../core/configSchema";
import { ENV_NAMES, GUIDE_CONCURRENT_SESSIONS_TARGET } from "../../core/stages";
import { stackMonitoringInputs } from "../../cli/render";
import { requireTools } from "../support/tools";
import { runTool, testConfig, tmpDir, writeFiles } from "./support";

interface JsonPanel {
  id: number;
  type: string;
  title: string;
  datasource?: { type?: string; uid?: string };
  targets?: Array<{ expr: string; refId: string; legendFormat?: string; datasource?: { type?: string; uid?: string } }>;
  fieldConfig?: { defaults: { unit?: string; decimals?: number; thresholds?: { mode: string; steps: Array<{ value: number | null; color: string }> }; mappings?: unknown[] } };
}

interface JsonDashboard {
  uid: string;
  title: string;
  tags: string[];
  templating: { list: Array<{ type: string; name: string; query: string }> };
  panels: JsonPanel[];
}

/** The dashboard as Grafana reads the file. */
const dashboardJson = (cfg: RolloutConfig, stack: string) => JSON.parse(renderGrafanaDashboard(cfg, { stack })) as JsonDashboard;
const panel = (d: JsonDashboard, title: string) => {
  const p = d.panels.find((x) => x.title === title);
  assert.ok(p, `panel "${title}"`);
  return p;
};
const lines = (p: JsonPanel) => (p.fieldConfig?.defaults.thresholds?.steps ?? []).filter((s) => s.value !== null).map((s) => s.value);

describe("the Grafana dashboard (pure)", () => {
  for (const stack of ["dev", "staging", "prod"]) {
    describe(`stack ${stack}, from its stack file`, () => {
      const { config } = stackMonitoringInputs(stack);
      const t = config.thresholds;
      const d = dashboardJson(config, stack);

      it("has the guide's panels: the deployed stage and flags, the four key metrics, the alerts' volume and the active alerts", () => {
        assert.deepEqual(
          d.panels.map((p) => [p.type, p.title]),
          [
            ["row", PANEL_TITLES.deployedRow],
            ["stat", ENV_NAMES.canaryPercentage],
            ["stat", ENV_NAMES.statelessOrchestration],
            ["stat", ENV_NAMES.safeJsonParser],
            ["stat", PANEL_TITLES.newPathShare],
            ["stat", PANEL_TITLES.recordedAt],
            ["row", PANEL_TITLES.keyMetricsRow],
            ["timeseries", PANEL_TITLES.errorRate],
            ["timeseries", PANEL_TITLES.p95Latency],
            ["timeseries", PANEL_TITLES.sessionIsolation],
            ["timeseries", PANEL_TITLES.concurrentSessions],
            ["timeseries", PANEL_TITLES.sessions],
            ["row", PANEL_TITLES.alertsRow],
            ["table", PANEL_TITLES.activeAlerts],
          ],
        );
        assert.equal(new Set(d.panels.map((p) => p.id)).size, d.panels.length, "unique panel ids");
        assert.equal(d.uid, dashboardUid(stack));
        assert.ok(d.title.includes(stack) && d.tags.includes(stack));
      });

      it("threshold lines are the stack's configured levels (target, warning, critical), the guide's concurrency target and the alerts' minimum volume", () => {
        assert.deepEqual(lines(panel(d, PANEL_TITLES.errorRate)), [t.targetErrorRatePct, t.errorRateWarningPct, t.errorRateCriticalPct]);
        assert.deepEqual(lines(panel(d, PANEL_TITLES.p95Latency)), [t.targetP95Seconds, t.p95WarningSeconds, t.p95CriticalSeconds]);
        // A whole count: red from the first count that fires SessionIsolationFailure (> contaminationMax).
        assert.deepEqual(lines(panel(d, PANEL_TITLES.sessionIsolation)), [t.contaminationMax + 1]);
        assert.deepEqual(lines(panel(d, PANEL_TITLES.concurrentSessions)), [GUIDE_CONCURRENT_SESSIONS_TARGET]);
        assert.deepEqual(lines(panel(d, PANEL_TITLES.sessions)), [config.alerting.minRequests]);
        const colors = panel(d, PANEL_TITLES.errorRate).fieldConfig!.defaults.thresholds!.steps.map((s) => s.color);
        assert.deepEqual(colors, [LEVEL_COLORS.ok, LEVEL_COLORS.aboveTarget, LEVEL_COLORS.warning, LEVEL_COLORS.critical]);
        for (const p of d.panels.filter((x) => x.type === "timeseries")) {
          assert.equal(p.fieldConfig!.defaults.thresholds!.mode, "absolute", p.title);
          assert.equal((p.fieldConfig!.defaults as { custom?: { thresholdsStyle?: { mode: string } } }).custom?.thresholdsStyle?.mode, "line", `${p.title} draws its thresholds as lines`);
        }
      });

      it("units: percent for the error rate and the stage, seconds for the latency, whole numbers for counts", () => {
        const unit = (title: string) => panel(d, title).fieldConfig?.defaults.unit;
        assert.equal(unit(PANEL_TITLES.errorRate), "percent");
        assert.equal(unit(PANEL_TITLES.p95Latency), "s");
        assert.equal(unit(PANEL_TITLES.sessionIsolation), "none");
        assert.equal(unit(PANEL_TITLES.concurrentSessions), "none");
        assert.equal(unit(PANEL_TITLES.canaryPercentage), "percent");
        assert.equal(unit(PANEL_TITLES.newPathShare), "percent");
        assert.equal(unit(PANEL_TITLES.recordedAt), "dateTimeFromNow");
        for (const title of [PANEL_TITLES.sessionIsolation, PANEL_TITLES.concurrentSessions, PANEL_TITLES.sessions]) assert.equal(panel(d, title).fieldConfig?.defaults.decimals, 0, title);
        // Stats have one neutral step (Grafana's default thresholds would paint a 100 % stage red).
        for (const p of d.panels.filter((x) => x.type === "stat")) assert.deepEqual(p.fieldConfig?.defaults.thresholds?.steps, [{ value: null, color: LEVEL_COLORS.neutral }], p.title);
        for (const title of [PANEL_TITLES.statelessOrchestration, PANEL_TITLES.safeJsonParser]) {
          assert.deepEqual(panel(d, title).fieldConfig?.defaults.mappings, [
            { type: "value", options: { "1": { text: "true", color: LEVEL_COLORS.ok, index: 0 }, "0": { text: "false", color: LEVEL_COLORS.belowMinimum, index: 1 } } },
          ]);
        }
      });

      it("one data-source variable of type prometheus, and every panel and query reads it (no data source of any Grafana named)", () => {
        assert.deepEqual(d.templating.list.map((v) => [v.type, v.name, v.query]), [["datasource", DATASOURCE_VARIABLE, PROMETHEUS_DATASOURCE_TYPE]]);
        const ref = { type: PROMETHEUS_DATASOURCE_TYPE, uid: `\${${DATASOURCE_VARIABLE}}` };
        for (const p of d.panels.filter((x) => x.type !== "row")) {
          assert.deepEqual(p.datasource, ref, p.title);
          assert.ok((p.targets ?? []).length > 0, `${p.title} has a query`);
          for (const q of p.targets ?? []) assert.deepEqual(q.datasource, ref, `${p.title} ${q.refId}`);
        }
        // The only `$` in the file is that variable's reference.
        assert.deepEqual([...renderGrafanaDashboard(config, { stack }).matchAll(/\$\{?[A-Za-z_]*\}?/g)].map((m) => m[0]).filter((x) => x !== `\${${DATASOURCE_VARIABLE}}`), []);
      });

      it("the key metrics are per version (no version filter, legend by version); the rollout panels select this stack's record", () => {
        const qs = panelQueries(grafanaDashboard(config, { stack }));
        const of = (title: string) => qs.filter((q) => q.panelTitle === title);
        for (const [title, metric] of [
          [PANEL_TITLES.errorRate, METRICS.errors],
          [PANEL_TITLES.p95Latency, METRICS.p95Seconds],
          [PANEL_TITLES.concurrentSessions, CONCURRENT_SESSIONS_METRICS.peak],
        ] as const) {
          const [q] = of(title);
          assert.ok(q.expr.includes(metric), `${title}: ${q.expr}`);
          assert.equal(q.legendFormat, `{{${VERSION_LABEL}}}`);
          assert.doesNotMatch(q.expr, new RegExp(VERSION_LABEL), "both versions shown");
        }
        assert.deepEqual(of(PANEL_TITLES.sessionIsolation).map((q) => q.expr), [METRICS.contamination, METRICS.rawContamination]);
        assert.equal(of(PANEL_TITLES.canaryPercentage)[0].expr, `${ROLLOUT_METRICS.canaryPercentage}{${ROLLOUT_STACK_LABEL}="${stack}"}`);
        for (const title of [PANEL_TITLES.statelessOrchestration, PANEL_TITLES.safeJsonParser, PANEL_TITLES.newPathShare, PANEL_TITLES.recordedAt]) {
          assert.ok(of(title)[0].expr.includes(`{${ROLLOUT_STACK_LABEL}="${stack}"}`), title);
        }
        assert.equal(of(PANEL_TITLES.activeAlerts)[0].expr, ALERTS_METRIC);
      });
    });
  }

  it("follows a stack that overrides every threshold and the volume guard", () => {
    const cfg = testConfig({
      thresholds: { errorRateWarningPct: 3.5, errorRateCriticalPct: 7, p95WarningSeconds: 2.5, p95CriticalSeconds: 4, targetErrorRatePct: 0.5, targetP95Seconds: 1.5 },
      alerting: { minRequests: 200 },
    });
    const d = dashboardJson(cfg, "staging");
    assert.deepEqual(lines(panel(d, PANEL_TITLES.errorRate)), [0.5, 3.5, 7]);
    assert.deepEqual(lines(panel(d, PANEL_TITLES.p95Latency)), [1.5, 2.5, 4]);
    assert.deepEqual(lines(panel(d, PANEL_TITLES.sessions)), [200]);
  });

  it("holds no secret: the receivers' secrets, set or placeholder, appear nowhere", () => {
    const cfg = testConfig({ pagerdutyRoutingKey: "pd-routing-key-SECRET-1", slackWebhookUrl: "https://hooks.slack.test/services/SECRET-2" });
    const text = renderGrafanaDashboard(cfg, { stack: "staging" });
    for (const s of ["SECRET-1", "SECRET-2", ...Object.values(SECRET_PLACEHOLDERS)]) assert.ok(!text.includes(s), s);
    assert.doesNotMatch(text, /password|routing_key|webhook/i);
  });

  it("uids: one per stack, within Grafana's 40 characters of [A-Za-z0-9_-], a hash where the name does not fit", () => {
    const names = ["dev", "staging", "prod", "a.b", "a-b", "x".repeat(100), "x".repeat(99) + "y"];
    const uids = names.map(dashboardUid);
    assert.equal(new Set(uids).size, names.length);
    for (const u of uids) assert.match(u, new RegExp(`^[A-Za-z0-9_-]{1,${GRAFANA_UID_MAX}}$`), u);
    assert.equal(dashboardUid("prod"), "valuecanvas-rollout-prod");
  });

  it("promString: a config value becomes one PromQL string that Grafana's variable syntax cannot touch", () => {
    assert.equal(promString("prod"), '"prod"');
    assert.equal(promString('a"b\\c'), '"a\\"b\\\\c"');
    assert.equal(promString("$x ${y} [[z]]"), '"\\x24x \\x24{y} \\x5b\\x5bz]]"');
    assert.equal(promString("l1\nl2"), '"l1\\nl2"');
  });
});

// ---------------------------------------------------------------------------
// Every panel's PromQL under the real promtool.

const BASE = { job: EXPORTER_JOB, instance: "valuecanvas-exporter:9187" };
const EVAL_MIN = 15;

/** `metric{labels}` in the series notation, labels quoted plainly (JSON), not with the code under test. */
function series(metric: string, labels: Record<string, string>): string {
  return `${metric}{${Object.entries(labels).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(", ")}}`;
}
const labelsOf = (labels: Record<string, string>) => series("", labels);

interface Traffic {
  total: Record<string, number>;
  errors: Record<string, number>;
  p95: Record<string, number>;
  peak: Record<string, number>;
}

const TRAFFIC: Traffic = {
  total: { New: 330, Legacy: 300 },
  errors: { New: 30, Legacy: 0 },
  p95: { New: 0.25, Legacy: 0.125 },
  peak: { New: 7, Legacy: 6, All: 8 },
};
const RECORDED_AT = 1_767_225_600;

function promtoolSuite(cfg: RolloutConfig, stack: string, otherStack: string): unknown {
  const constant = (v: number) => `${v}+0x${EVAL_MIN * 2}`;
  const input_series: Array<{ series: string; values: string }> = [];
  const add = (metric: string, labels: Record<string, string>, v: number) => input_series.push({ series: series(metric, { ...BASE, ...labels }), values: constant(v) });
  for (const v of VERSIONS) {
    add(METRICS.totalRequests, { version: v }, TRAFFIC.total[v]);
    add(METRICS.errors, { version: v }, TRAFFIC.errors[v]);
    add(METRICS.errorRatePct, { version: v }, Math.round((10000 * TRAFFIC.errors[v]) / TRAFFIC.total[v]) / 100);
    add(METRICS.p95Seconds, { version: v }, TRAFFIC.p95[v]);
  }
  for (const [v, n] of Object.entries(TRAFFIC.peak)) add(CONCURRENT_SESSIONS_METRICS.peak, { version: v }, n);
  add(METRICS.contamination, {}, 0);
  add(METRICS.rawContamination, {}, 0);
  // This stack at 50 % with both flags on; another stack's record beside it, which no panel may show.
  const rolloutOf = (s: string, pct: number, on: number) => {
    add(ROLLOUT_METRICS.canaryPercentage, { stack: s }, pct);
    add(ROLLOUT_METRICS.statelessOrchestration, { stack: s }, on);
    add(ROLLOUT_METRICS.safeJsonParser, { stack: s }, on);
    add(ROLLOUT_METRICS.recordedAt, { stack: s }, RECORDED_AT);
  };
  rolloutOf(stack, 50, 1);
  rolloutOf(otherStack, 10, 0);

  const qs = panelQueries(grafanaDashboard(cfg, { stack }));
  const rules = alertRules(cfg, { stack });
  const rule = (name: string) => rules.find((r) => r.alert === name)!;
  const expected = (q: PanelQuery): Array<{ labels: string; value: number }> => {
    const perVersion = (values: Record<string, number>) => Object.entries(values).map(([v, n]) => ({ labels: labelsOf({ ...BASE, version: v }), value: n }));
    const named = (metric: string, labels: Record<string, string>, value: number) => ({ labels: series(metric, { ...BASE, ...labels }), value });
    const mine = { stack };
    switch (q.panelTitle) {
      case PANEL_TITLES.canaryPercentage:
        return [named(ROLLOUT_METRICS.canaryPercentage, mine, 50)];
      case PANEL_TITLES.statelessOrchestration:
        return [named(ROLLOUT_METRICS.statelessOrchestration, mine, 1)];
      case PANEL_TITLES.safeJsonParser:
        return [named(ROLLOUT_METRICS.safeJsonParser, mine, 1)];
      case PANEL_TITLES.newPathShare:
        return [{ labels: labelsOf({ ...BASE, ...mine }), value: 50 }];
      case PANEL_TITLES.recordedAt:
        return [{ labels: labelsOf({ ...BASE, ...mine }), value: RECORDED_AT * 1000 }];
      case PANEL_TITLES.errorRate:
        return perVersion(Object.fromEntries(VERSIONS.map((v) => [v, (100 * TRAFFIC.errors[v]) / TRAFFIC.total[v]])));
      case PANEL_TITLES.p95Latency:
        return VERSIONS.map((v) => named(METRICS.p95Seconds, { version: v }, TRAFFIC.p95[v]));
      case PANEL_TITLES.sessionIsolation:
        return [named(q.refId === "A" ? METRICS.contamination : METRICS.rawContamination, {}, 0)];
      case PANEL_TITLES.concurrentSessions:
        return Object.entries(TRAFFIC.peak).map(([v, n]) => named(CONCURRENT_SESSIONS_METRICS.peak, { version: v }, n));
      case PANEL_TITLES.sessions:
        return VERSIONS.map((v) => named(q.refId === "A" ? METRICS.totalRequests : METRICS.errors, { version: v }, (q.refId === "A" ? TRAFFIC.total : TRAFFIC.errors)[v]));
      case PANEL_TITLES.activeAlerts:
        // 30 of 330 new-path sessions failed (9.09 %): above the warning and the critical level, both held longer than their for:.
        return [ALERT_NAMES.highErrorRate, ALERT_NAMES.moderateErrorRate].map((a) => ({
          labels: series(ALERTS_METRIC, { alertname: a, alertstate: "firing", ...BASE, version: "New", ...rule(a).labels }),
          value: 1,
        }));
      default:
        throw new Error(`no expectation for panel ${q.panelTitle}`);
    }
  };
  return {
    rule_files: [MONITORING_FILE_NAMES.rules],
    evaluation_interval: "30s",
    tests: [
      {
        name: `every panel of ${stack}`,
        interval: "30s",
        input_series,
        promql_expr_test: qs.map((q) => ({ expr: q.expr, eval_time: `${EVAL_MIN}m`, exp_samples: expected(q) })),
      },
    ],
  };
}

describe("every panel's PromQL under the real promtool", function () {
  this.timeout(120_000);
  let promtool = "";
  before(function () {
    promtool = requireTools(this, "promtool").promtool;
  });

  const cases: Array<{ title: string; stack: string; other: string }> = [
    { title: "stack staging (the guide's thresholds)", stack: "staging", other: "prod" },
    // A stack name with PromQL's and Grafana's special characters selects exactly its own record.
    { title: "a stack name with quotes, a backslash, $ and [[ ]]", stack: 'we"ird\\$stack[[x]]', other: "weird" },
  ];
  for (const c of cases) {
    it(`${c.title}: each query returns the series and values the input implies`, async () => {
      // for: durations short enough for both error-rate alerts to fire by the evaluation time.
      const cfg = testConfig({ alerting: { warningFor: "10m", criticalFor: "5m" } });
      const dir = tmpDir("vc-grafana-promtool-");
      try {
        writeFiles(dir, { [MONITORING_FILE_NAMES.rules]: renderRules(cfg, { stack: c.stack }), "panels.test.yml": stringify(promtoolSuite(cfg, c.stack, c.other), { lineWidth: 0 }) });
        const r = await runTool(promtool, ["test", "rules", "panels.test.yml"], { cwd: dir });
        assert.equal(r.code, 0, `promtool test rules:\n${r.stdout}${r.stderr}\n${fs.readFileSync(path.join(dir, "panels.test.yml"), "utf8").slice(0, 4000)}`);
        assert.match(r.stdout, /SUCCESS/);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
