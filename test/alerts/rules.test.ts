/** The pure rule model: the table, from the config; runbooks with the exact commands. */
import { strict as assert } from "node:assert";
import { parse } from "yaml";
import {
  ALERT_NAMES,
  CONCURRENT_SESSIONS_CACHE_SECONDS,
  CONCURRENT_SESSIONS_NAMESPACE,
  CONCURRENT_SESSIONS_VIEW,
  CURRENT_ROLLOUTS_FUNCTION,
  EXPORTER_NAMESPACES,
  EXPORTER_QUERIES,
  METRICS,
  MONITORING_VIEWS,
  ROLLOUT_METRICS,
  ROLLOUT_NAMESPACE,
  STAGE_CONTAMINATION_FUNCTION,
  alertRules,
  durationMs,
  renderExporterQueries,
  renderMonitoringFiles,
} from "../../core/alerts";
import { MONITORING_VIEW_NAMES } from "../../core/grants";
import { ENV_NAMES, GUIDE_THRESHOLDS } from "../../core/stages";
import { testConfig } from "./support";

describe("alert rules (pure)", () => {
  const rules = alertRules(testConfig(), { stack: "prod" });
  const rule = (n: string) => {
    const r = rules.find((x) => x.alert === n);
    assert.ok(r, n);
    return r;
  };

  it("has the issue's five alerts and ContaminationUnmonitored, with their severities, and the guide's thresholds by default", () => {
    assert.deepEqual(
      rules.map((r) => [r.alert, r.labels.severity]),
      [
        ["HighErrorRate", "critical"],
        ["ModerateErrorRate", "warning"],
        ["HighLatency", "critical"],
        ["ElevatedLatency", "warning"],
        ["SessionIsolationFailure", "critical"],
        ["ContaminationUnmonitored", "critical"],
      ],
    );
    assert.match(rule(ALERT_NAMES.highErrorRate).expr, new RegExp(`> ${GUIDE_THRESHOLDS.errorRateCriticalPct}\\)`));
    assert.match(rule(ALERT_NAMES.moderateErrorRate).expr, new RegExp(`> ${GUIDE_THRESHOLDS.errorRateWarningPct}\\)`));
    assert.match(rule(ALERT_NAMES.highLatency).expr, new RegExp(`> ${GUIDE_THRESHOLDS.p95CriticalSeconds}\\)`));
    assert.match(rule(ALERT_NAMES.elevatedLatency).expr, new RegExp(`> ${GUIDE_THRESHOLDS.p95WarningSeconds}\\)`));
    assert.match(rule(ALERT_NAMES.sessionIsolationFailure).expr, new RegExp(`> ${GUIDE_THRESHOLDS.contaminationMax}$`));
  });

  it("takes thresholds, the volume guard and for: durations from the stack config", () => {
    const r = alertRules(
      testConfig({ thresholds: { errorRateWarningPct: 1.5, errorRateCriticalPct: 4.25 }, alerting: { minRequests: 500, criticalFor: "1m", warningFor: "15m" } }),
      { stack: "prod" },
    );
    const high = r.find((x) => x.alert === ALERT_NAMES.highErrorRate)!;
    assert.match(high.expr, /> 4\.25\) and \(valuecanvas_error_rate_total_requests >= 500\)/);
    assert.equal(high.for, "1m");
    assert.equal(r.find((x) => x.alert === ALERT_NAMES.moderateErrorRate)!.for, "15m");
  });

  it("session isolation fires with no smoothing delay and no volume guard", () => {
    const iso = rule(ALERT_NAMES.sessionIsolationFailure);
    assert.equal(iso.for, undefined);
    assert.doesNotMatch(iso.expr, /total_requests/);
  });

  it("session isolation watches both the view's count and the raw count; the description names both and the refresh interval", () => {
    const iso = alertRules(testConfig({ alerting: { rawContaminationCheckSeconds: 120 } }), { stack: "prod" }).find(
      (x) => x.alert === ALERT_NAMES.sessionIsolationFailure,
    )!;
    assert.ok(iso.expr.includes(METRICS.contamination) && iso.expr.includes(METRICS.rawContamination), iso.expr);
    assert.match(iso.annotations.description, /monitoring\.session_isolation: \{\{ with query "max\(valuecanvas_session_isolation_cross_contamination_count\)" \}\}/);
    assert.match(iso.annotations.description, /raw count over agent_sessions \(refreshed every 120s\): \{\{ with query "max\(valuecanvas_session_isolation_raw_cross_contamination_count\)" \}\}/);
    const every = alertRules(testConfig({ alerting: { rawContaminationCheckSeconds: 0 } }), { stack: "prod" }).find(
      (x) => x.alert === ALERT_NAMES.sessionIsolationFailure,
    )!;
    assert.match(every.annotations.description, /raw count over agent_sessions \(every scrape\)/);
  });

  it("a missing contamination count pages after criticalFor (ContaminationUnmonitored): both counts watched, the runbook checks the exporter and says how to check by hand", () => {
    const cfg = testConfig({ alerting: { criticalFor: "90s" } });
    const r = alertRules(cfg, { stack: "prod" }).find((x) => x.alert === ALERT_NAMES.contaminationUnmonitored)!;
    assert.equal(r.expr, `absent(${METRICS.contamination}) or absent(${METRICS.rawContamination})`);
    assert.equal(r.for, "90s");
    assert.deepEqual(r.labels, { severity: "critical", signal: "monitoring" });
    assert.match(r.annotations.runbook, /postgres exporter/);
    assert.match(r.annotations.runbook, /npx rollout status --stack prod/);
    assert.match(r.annotations.runbook, /IMMEDIATE ROLLBACK \(both flags off\): git switch main/);
    // Error-rate and latency rules never alert on absence: no traffic is no evidence.
    for (const x of alertRules(cfg, { stack: "prod" }).filter((x) => x.labels.signal === "error_rate" || x.labels.signal === "latency")) {
      assert.doesNotMatch(x.expr, /absent/);
    }
  });

  it("runbooks carry the guide's actions; contamination says IMMEDIATE ROLLBACK with the exact commands", () => {
    const iso = rule(ALERT_NAMES.sessionIsolationFailure).annotations.runbook;
    assert.match(iso, /1\. IMMEDIATE ROLLBACK \(both flags off\): git switch main && git pull && git switch -c rollback\/prod-immediate && npx rollout rollback --stack prod --immediate && git add Pulumi\.prod\.yaml && git commit .* -- Pulumi\.prod\.yaml && git push -u origin rollback\/prod-immediate && gh pr create --fill \(merge .*the merge runs pulumi up\)/);
    for (const a of ["Review session creation logic", "Check for race conditions", "Verify database constraints", "Fix and re-test before re-deployment"]) {
      assert.ok(iso.includes(a), a);
    }
    assert.match(rule(ALERT_NAMES.moderateErrorRate).annotations.runbook, /Check if errors are new or existing/);
    assert.match(rule(ALERT_NAMES.elevatedLatency).annotations.runbook, /Check database query performance/);
  });

  it("renders an evaluation interval the config sets, and for: durations Prometheus parses", () => {
    const files = renderMonitoringFiles(testConfig({ alerting: { evaluationInterval: "15s" } }), {}, { stack: "prod" });
    const doc = parse(files["valuecanvas.rules.yml"]) as { groups: Array<{ interval: string; rules: Array<{ for?: string }> }> };
    assert.equal(doc.groups[0].interval, "15s");
    for (const r of doc.groups[0].rules) if (r.for) assert.ok(durationMs(r.for) > 0);
    assert.throws(() => durationMs("5 minutes"), /not a Prometheus duration/);
  });

  it("every-scrape exporter queries read only the three monitoring views; the raw count only calls monitoring.stage_contamination, cached", () => {
    const views = Object.values(MONITORING_VIEWS);
    for (const q of Object.values(EXPORTER_QUERIES)) {
      const from = [...q.query.matchAll(/FROM\s+([a-z_.]+)/gi)].map((m) => m[1]);
      assert.equal(from.length, 1, q.query);
      assert.ok(views.includes(from[0] as (typeof views)[number]), from[0]);
      assert.equal(q.cache_seconds, undefined, q.query);
    }
    const rendered = renderExporterQueries(testConfig({ alerting: { rawContaminationCheckSeconds: 240 } }).alerting);
    assert.doesNotMatch(rendered, /&a1|\*a1/);
    const doc = parse(rendered) as Record<string, { query: string; cache_seconds?: number }>;
    assert.deepEqual(Object.keys(doc), [...Object.keys(EXPORTER_QUERIES), EXPORTER_NAMESPACES.rawSessionIsolation, CONCURRENT_SESSIONS_NAMESPACE, ROLLOUT_NAMESPACE]);
    for (const q of Object.values(doc)) assert.doesNotMatch(q.query, /agent_sessions/);
    const raw = doc[EXPORTER_NAMESPACES.rawSessionIsolation];
    assert.equal(raw.cache_seconds, 240);
    assert.equal(raw.query, `SELECT ${STAGE_CONTAMINATION_FUNCTION}(now() - interval '24 hours', 'infinity')::float8 AS cross_contamination_count`);
    assert.equal(parse(renderExporterQueries(testConfig().alerting))[EXPORTER_NAMESPACES.rawSessionIsolation].cache_seconds, 300);
    // ... and the monitoring role is granted each of them.
    for (const v of views) assert.ok((MONITORING_VIEW_NAMES as readonly string[]).includes(v.replace(/^monitoring\./, "")), v);
  });

  it("the concurrent-sessions query reads only its view, cached, and no alert rule reads it (the guide sets no level)", () => {
    const doc = parse(renderExporterQueries(testConfig().alerting)) as Record<string, { query: string; cache_seconds?: number }>;
    const q = doc[CONCURRENT_SESSIONS_NAMESPACE];
    assert.deepEqual([...q.query.matchAll(/FROM\s+([a-z_.]+)/gi)].map((m) => m[1]), [CONCURRENT_SESSIONS_VIEW]);
    assert.equal(q.cache_seconds, CONCURRENT_SESSIONS_CACHE_SECONDS);
    assert.ok((MONITORING_VIEW_NAMES as readonly string[]).includes(CONCURRENT_SESSIONS_VIEW.replace(/^monitoring\./, "")));
    const rules = renderMonitoringFiles(testConfig(), {}, { stack: "prod" })["valuecanvas.rules.yml"];
    assert.doesNotMatch(rules, new RegExp(CONCURRENT_SESSIONS_NAMESPACE));
  });

  it("the rollout query calls only monitoring.current_rollouts (sql/0032), every scrape; its metrics are named after the guide's variables, and no alert rule reads them", () => {
    const doc = parse(renderExporterQueries(testConfig().alerting)) as Record<string, { query: string; cache_seconds?: number; metrics: Array<Record<string, { usage: string }>> }>;
    const q = doc[ROLLOUT_NAMESPACE];
    assert.deepEqual([...q.query.matchAll(/FROM\s+([a-z_.]+)/gi)].map((m) => m[1]), [CURRENT_ROLLOUTS_FUNCTION]);
    assert.doesNotMatch(q.query, /rollout_events/, "never the table, on which the monitoring role holds no right");
    assert.equal(q.cache_seconds, undefined);
    assert.deepEqual(
      q.metrics.map((m) => Object.entries(m).map(([col, c]) => `${col}:${c.usage}`)[0]),
      ["stack:LABEL", "canary_percentage:GAUGE", "enable_stateless_orchestration:GAUGE", "enable_safe_json_parser:GAUGE", "recorded_at_seconds:GAUGE"],
    );
    assert.equal(ROLLOUT_METRICS.canaryPercentage, `${ROLLOUT_NAMESPACE}_${ENV_NAMES.canaryPercentage.toLowerCase()}`);
    assert.equal(ROLLOUT_METRICS.statelessOrchestration, `${ROLLOUT_NAMESPACE}_${ENV_NAMES.statelessOrchestration.toLowerCase()}`);
    assert.equal(ROLLOUT_METRICS.safeJsonParser, `${ROLLOUT_NAMESPACE}_${ENV_NAMES.safeJsonParser.toLowerCase()}`);
    const rules = renderMonitoringFiles(testConfig(), {}, { stack: "prod" })["valuecanvas.rules.yml"];
    assert.doesNotMatch(rules, new RegExp(ROLLOUT_NAMESPACE));
  });
});
