/**
 * The rendered rules, checked and unit-tested by the real promtool: every
 * alert fires just above its threshold and stays silent at and below it, the
 * minimum-volume guard holds, `for:` durations delay exactly as configured,
 * and critical and warning fire together. Run for the guide's defaults and
 * for a stack that overrides every threshold.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { stringify } from "yaml";
import {
  ALERT_NAMES,
  AlertName,
  EXPORTER_JOB,
  METRICS,
  MONITORING_FILE_NAMES,
  Version,
  alertRules,
  durationMs,
  renderMonitoringFiles,
  SECRET_PLACEHOLDERS,
} from "../../core/alerts";
import type { RolloutConfig } from "../../core/configSchema";
import { requireTools } from "../support/tools";
import { expandAnnotation, runTool, testConfig, tmpDir, writeFiles } from "./support";

const STACK = "staging";
const STEP_MS = 30_000; // input series interval and the test's evaluation interval
const BASE = { job: EXPORTER_JOB, instance: "valuecanvas-exporter:9187", server: "db:5432" };

interface VersionData {
  total: number;
  errors: number;
  p95: number;
}

interface Expected {
  alert: AlertName;
  version?: Version;
  value: number;
  /** The alert comes from absent(): no series labels, only the rule's own. */
  absent?: true;
}

interface Scenario {
  name: string;
  versions: Partial<Record<Version, VersionData>>;
  /** The view's count (0 unless set; null: the series is missing, as when the exporter is down). */
  contamination?: number | null;
  /** The raw count over agent_sessions (0 unless set; null: missing). */
  rawContamination?: number | null;
  fires: Expected[];
}

/** Errors out of 100 000 sessions giving exactly `pct` percent. */
const errorsAt = (pct: number) => Math.round(pct * 1000);
const TOTAL = 100_000;

function scenarios(cfg: RolloutConfig): Scenario[] {
  const t = cfg.thresholds;
  const healthy: VersionData = { total: TOTAL, errors: 0, p95: t.targetP95Seconds / 2 };
  const legacyHealthy = { Legacy: healthy };
  const pct = (errors: number, total = TOTAL) => (100 * errors) / total;
  const critPlus = errorsAt(t.errorRateCriticalPct) + 1;
  const warnPlus = errorsAt(t.errorRateWarningPct) + 1;
  const min = cfg.alerting.minRequests;
  return [
    {
      name: "healthy traffic on both paths fires nothing",
      versions: { New: healthy, Legacy: healthy },
      contamination: 0,
      fires: [],
    },
    {
      name: "error rate just above critical: HighErrorRate after criticalFor, ModerateErrorRate after warningFor (together)",
      versions: { New: { ...healthy, errors: critPlus }, ...legacyHealthy },
      fires: [
        { alert: ALERT_NAMES.highErrorRate, version: "New", value: pct(critPlus) },
        { alert: ALERT_NAMES.moderateErrorRate, version: "New", value: pct(critPlus) },
      ],
    },
    {
      name: "error rate exactly at critical: warning only",
      versions: { New: { ...healthy, errors: errorsAt(t.errorRateCriticalPct) }, ...legacyHealthy },
      fires: [{ alert: ALERT_NAMES.moderateErrorRate, version: "New", value: t.errorRateCriticalPct }],
    },
    {
      name: "error rate just above warning: ModerateErrorRate only",
      versions: { New: { ...healthy, errors: warnPlus }, ...legacyHealthy },
      fires: [{ alert: ALERT_NAMES.moderateErrorRate, version: "New", value: pct(warnPlus) }],
    },
    {
      name: "error rate exactly at warning: silent",
      versions: { New: { ...healthy, errors: errorsAt(t.errorRateWarningPct) }, ...legacyHealthy },
      fires: [],
    },
    {
      name: "error rate just below warning: silent",
      versions: { New: { ...healthy, errors: errorsAt(t.errorRateWarningPct) - 1 }, ...legacyHealthy },
      fires: [],
    },
    {
      name: "the legacy path alerts under its own version label",
      versions: { New: healthy, Legacy: { ...healthy, errors: critPlus } },
      fires: [
        { alert: ALERT_NAMES.highErrorRate, version: "Legacy", value: pct(critPlus) },
        { alert: ALERT_NAMES.moderateErrorRate, version: "Legacy", value: pct(critPlus) },
      ],
    },
    {
      name: `minimum volume: ${min - 1} sessions, all failing and slow, page nobody`,
      versions: { New: { total: min - 1, errors: min - 1, p95: t.p95CriticalSeconds * 10 }, ...legacyHealthy },
      fires: [],
    },
    {
      name: `minimum volume: ${min} sessions, all failing and slow, alert`,
      versions: { New: { total: min, errors: min, p95: t.p95CriticalSeconds * 10 }, ...legacyHealthy },
      fires: [
        { alert: ALERT_NAMES.highErrorRate, version: "New", value: 100 },
        { alert: ALERT_NAMES.moderateErrorRate, version: "New", value: 100 },
        { alert: ALERT_NAMES.highLatency, version: "New", value: t.p95CriticalSeconds * 10 },
        { alert: ALERT_NAMES.elevatedLatency, version: "New", value: t.p95CriticalSeconds * 10 },
      ],
    },
    {
      name: "p95 just above critical: HighLatency and ElevatedLatency together",
      versions: { New: { ...healthy, p95: t.p95CriticalSeconds + 0.01 }, ...legacyHealthy },
      fires: [
        { alert: ALERT_NAMES.highLatency, version: "New", value: t.p95CriticalSeconds + 0.01 },
        { alert: ALERT_NAMES.elevatedLatency, version: "New", value: t.p95CriticalSeconds + 0.01 },
      ],
    },
    {
      name: "p95 exactly at critical: warning only",
      versions: { New: { ...healthy, p95: t.p95CriticalSeconds }, ...legacyHealthy },
      fires: [{ alert: ALERT_NAMES.elevatedLatency, version: "New", value: t.p95CriticalSeconds }],
    },
    {
      name: "p95 just above warning: ElevatedLatency only",
      versions: { New: { ...healthy, p95: t.p95WarningSeconds + 0.01 }, ...legacyHealthy },
      fires: [{ alert: ALERT_NAMES.elevatedLatency, version: "New", value: t.p95WarningSeconds + 0.01 }],
    },
    {
      name: "p95 exactly at warning, and just below: silent",
      versions: { New: { ...healthy, p95: t.p95WarningSeconds }, Legacy: { ...healthy, p95: t.p95WarningSeconds - 0.01 } },
      fires: [],
    },
    {
      name: "one contaminated session in the view (raw count not yet refreshed, 0): SessionIsolationFailure at the first evaluation",
      versions: { New: healthy, ...legacyHealthy },
      contamination: t.contaminationMax + 1,
      fires: [{ alert: ALERT_NAMES.sessionIsolationFailure, value: t.contaminationMax + 1 }],
    },
    {
      name: "contamination that bypassed the isolation trigger (raw count only, above the threshold): SessionIsolationFailure at the first evaluation",
      versions: { New: healthy, ...legacyHealthy },
      contamination: 0,
      rawContamination: t.contaminationMax + 2,
      fires: [{ alert: ALERT_NAMES.sessionIsolationFailure, value: t.contaminationMax + 2 }],
    },
    {
      name: "the exporter down (no series at all): ContaminationUnmonitored after criticalFor, nothing else",
      versions: {},
      contamination: null,
      rawContamination: null,
      fires: [{ alert: ALERT_NAMES.contaminationUnmonitored, value: 1, absent: true }],
    },
    {
      name: "the view's count missing, the raw count at 0: ContaminationUnmonitored",
      versions: { New: healthy, ...legacyHealthy },
      contamination: null,
      fires: [{ alert: ALERT_NAMES.contaminationUnmonitored, value: 1, absent: true }],
    },
    {
      name: "the raw count missing, the view at 0: ContaminationUnmonitored",
      versions: { New: healthy, ...legacyHealthy },
      rawContamination: null,
      fires: [{ alert: ALERT_NAMES.contaminationUnmonitored, value: 1, absent: true }],
    },
    {
      name: "no traffic (no error-rate or latency series), both counts at 0: silent",
      versions: {},
      fires: [],
    },
    {
      name: "raw count exactly at the threshold (view at 0): silent",
      versions: { New: healthy, ...legacyHealthy },
      contamination: 0,
      rawContamination: t.contaminationMax,
      fires: [],
    },
  ];
}

const seconds = (ms: number) => `${ms / 1000}s`;

/** A promtool test document for one scenario: every alert, at every interesting time. */
function promtoolTest(cfg: RolloutConfig, sc: Scenario): unknown {
  const rules = alertRules(cfg, { stack: STACK });
  const horizon = Math.max(durationMs(cfg.alerting.warningFor), durationMs(cfg.alerting.criticalFor)) + 2 * STEP_MS;
  const samples = Math.ceil(horizon / STEP_MS) + 2;
  const series = (metric: string, labels: Record<string, string>, value: number) => ({
    series: `${metric}{${Object.entries(labels).map(([k, v]) => `${k}="${v}"`).join(",")}}`,
    values: `${value}+0x${samples}`,
  });
  const input_series: unknown[] = [];
  for (const [version, d] of Object.entries(sc.versions) as [Version, VersionData][]) {
    const labels = { ...BASE, version };
    input_series.push(series(METRICS.totalRequests, labels, d.total));
    input_series.push(series(METRICS.errors, labels, d.errors));
    input_series.push(series(METRICS.errorRatePct, labels, Math.round((10000 * d.errors) / d.total) / 100));
    input_series.push(series(METRICS.p95Seconds, labels, d.p95));
  }
  // What the annotations' query templates read (a missing series reads "no data").
  const queries: Record<string, number> = {};
  for (const [metric, v] of [[METRICS.contamination, sc.contamination], [METRICS.rawContamination, sc.rawContamination]] as const) {
    if (v === null) continue;
    input_series.push(series(metric, BASE, v ?? 0));
    queries[`max(${metric})`] = v ?? 0;
  }

  // Times: the first evaluation, one step before and exactly at each `for:`.
  const times = new Set<number>([0]);
  for (const r of rules) {
    const f = r.for ? durationMs(r.for) : 0;
    if (f >= STEP_MS) times.add(f - STEP_MS);
    times.add(f);
  }
  const alert_rule_test: unknown[] = [];
  for (const at of [...times].sort((a, b) => a - b)) {
    for (const r of rules) {
      const f = r.for ? durationMs(r.for) : 0;
      const exp_alerts = sc.fires
        .filter((e) => e.alert === r.alert && at >= f)
        .map((e) => {
          const labels: Record<string, string> = { ...(e.absent ? {} : BASE), ...(e.version ? { version: e.version } : {}), ...r.labels };
          return {
            exp_labels: labels,
            exp_annotations: Object.fromEntries(
              Object.entries(r.annotations).map(([k, v]) => [k, expandAnnotation(v, labels, e.value, queries)]),
            ),
          };
        });
      alert_rule_test.push({ eval_time: seconds(at), alertname: r.alert, exp_alerts });
    }
  }
  return {
    rule_files: [MONITORING_FILE_NAMES.rules],
    evaluation_interval: seconds(STEP_MS),
    tests: [{ name: sc.name, interval: seconds(STEP_MS), input_series, alert_rule_test }],
  };
}

const CONFIGS: Array<{ title: string; raw: Record<string, unknown> }> = [
  { title: "the guide's thresholds (defaults)", raw: {} },
  {
    title: "a stack overriding every threshold, the volume guard and the for: durations",
    raw: {
      thresholds: { errorRateWarningPct: 3.5, errorRateCriticalPct: 7, p95WarningSeconds: 2.5, p95CriticalSeconds: 4, targetErrorRatePct: 1, targetP95Seconds: 2 },
      alerting: { minRequests: 200, warningFor: "3m", criticalFor: "90s" },
    },
  },
];

describe("alert rules under the real promtool", function () {
  this.timeout(120_000);
  let promtool = "";
  before(function () {
    promtool = requireTools(this, "promtool").promtool;
  });

  for (const { title, raw } of CONFIGS) {
    describe(title, () => {
      const cfg = testConfig(raw);
      let dir = "";
      before(() => {
        dir = tmpDir("vc-promtool-");
        writeFiles(dir, { ...renderMonitoringFiles(cfg, SECRET_PLACEHOLDERS, { stack: STACK }) });
      });
      after(() => fs.rmSync(dir, { recursive: true, force: true }));

      it("promtool check rules accepts the rule file", async () => {
        const r = await runTool(promtool, ["check", "rules", MONITORING_FILE_NAMES.rules], { cwd: dir });
        assert.equal(r.code, 0, r.stdout + r.stderr);
        assert.match(r.stdout, new RegExp(`SUCCESS: ${Object.keys(ALERT_NAMES).length} rules found`));
      });

      it("promtool check config accepts prometheus.yml with its rule file", async () => {
        const r = await runTool(promtool, ["check", "config", MONITORING_FILE_NAMES.prometheus], { cwd: dir });
        assert.equal(r.code, 0, r.stdout + r.stderr);
      });

      for (const sc of scenarios(cfg)) {
        it(`promtool test rules: ${sc.name}`, async () => {
          const file = `test-${sc.name.replace(/[^a-z0-9]+/gi, "-").slice(0, 60)}.yml`;
          fs.writeFileSync(path.join(dir, file), stringify(promtoolTest(cfg, sc), { lineWidth: 0 }));
          const r = await runTool(promtool, ["test", "rules", file], { cwd: dir });
          assert.equal(r.code, 0, `promtool test rules failed for "${sc.name}":\n${r.stdout}${r.stderr}`);
          assert.match(r.stdout, /SUCCESS/);
        });
      }
    });
  }

  it("a promtool test that expects the wrong alert fails (the harness can fail)", async () => {
    const cfg = testConfig();
    const dir = tmpDir("vc-promtool-");
    try {
      writeFiles(dir, { ...renderMonitoringFiles(cfg, SECRET_PLACEHOLDERS, { stack: STACK }) });
      const wrong: Scenario = {
        name: "at the warning level, wrongly expecting a warning",
        versions: { New: { total: TOTAL, errors: errorsAt(cfg.thresholds.errorRateWarningPct), p95: 1 } },
        fires: [{ alert: ALERT_NAMES.moderateErrorRate, version: "New", value: cfg.thresholds.errorRateWarningPct }],
      };
      fs.writeFileSync(path.join(dir, "wrong.yml"), stringify(promtoolTest(cfg, wrong), { lineWidth: 0 }));
      const r = await runTool(promtool, ["test", "rules", "wrong.yml"], { cwd: dir });
      assert.notEqual(r.code, 0, r.stdout);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
