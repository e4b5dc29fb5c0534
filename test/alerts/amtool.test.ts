/**
 * The rendered alertmanager.yml, checked by the real amtool: it is valid, every
 * critical alert routes to PagerDuty and every warning to Slack, and a critical
 * alert inhibits the warning of the same signal and version (and no other).
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import { parse } from "yaml";
import {
  ALERT_NAMES,
  MONITORING_FILE_NAMES,
  RECEIVERS,
  SECRET_PLACEHOLDERS,
  alertRules,
  renderAlertmanagerConfig,
  renderMonitoringFiles,
} from "../../core/alerts";
import { amtoolFixture, runTool, testConfig } from "./support";

const STACK = "prod";

describe("Alertmanager routes under the real amtool", function () {
  this.timeout(60_000);
  let amtool = "";
  let dir = "";
  let fixture: ReturnType<typeof amtoolFixture> | undefined;
  const cfg = testConfig();
  before(function () {
    fixture = amtoolFixture(this, "vc-amtool-", { ...renderMonitoringFiles(cfg, SECRET_PLACEHOLDERS, { stack: STACK }) });
    ({ amtool, dir } = fixture);
  });
  after(() => fixture?.remove());

  const routeTest = (labels: Record<string, string>, receiver?: string) => fixture!.routes(labels, receiver);

  it("amtool check-config accepts the rendered file", async () => {
    const r = await runTool(amtool, ["check-config", MONITORING_FILE_NAMES.alertmanager], { cwd: dir });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /SUCCESS/);
    assert.match(r.stdout, /2 receivers/);
  });

  for (const rule of alertRules(testConfig(), { stack: STACK })) {
    const expected = rule.labels.severity === "critical" ? RECEIVERS.pagerduty : RECEIVERS.slack;
    it(`${rule.alert} (${rule.labels.severity}) routes to ${expected}`, async () => {
      const labels = { alertname: rule.alert, stack: STACK, version: "New", ...rule.labels };
      const r = await routeTest(labels, expected);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.equal(r.stdout.trim(), expected);
    });
  }

  it("amtool's route test fails when told the wrong receiver (the check can fail)", async () => {
    const r = await routeTest({ alertname: ALERT_NAMES.highErrorRate, severity: "critical", stack: STACK }, RECEIVERS.slack);
    assert.notEqual(r.code, 0, r.stdout);
  });

  it("session isolation failures are sent without a grouping delay", () => {
    const doc = parse(fs.readFileSync(`${dir}/${MONITORING_FILE_NAMES.alertmanager}`, "utf8")) as {
      route: { routes: Array<{ matchers: string[]; receiver: string; group_wait?: string }> };
    };
    const route = doc.route.routes.find((r) => r.matchers.includes(`alertname="${ALERT_NAMES.sessionIsolationFailure}"`));
    assert.ok(route, "a route for SessionIsolationFailure");
    assert.equal(route.receiver, RECEIVERS.pagerduty);
    assert.equal(route.group_wait, "0s");
  });

  it("a critical alert inhibits exactly its own warning (same signal and version)", () => {
    const doc = parse(fs.readFileSync(`${dir}/${MONITORING_FILE_NAMES.alertmanager}`, "utf8")) as {
      inhibit_rules: Array<{ source_matchers: string[]; target_matchers: string[]; equal: string[] }>;
    };
    const rules = alertRules(cfg, { stack: STACK });
    const alertLabels = (name: string, version: string) => {
      const r = rules.find((x) => x.alert === name);
      assert.ok(r);
      return { alertname: name, stack: STACK, version, ...r.labels } as Record<string, string>;
    };
    const matches = (ms: string[], l: Record<string, string>) =>
      ms.every((m) => {
        const [, k, v] = /^([a-z_]+)="(.*)"$/.exec(m) ?? [];
        return l[k] === v;
      });
    const inhibits = (src: Record<string, string>, tgt: Record<string, string>) =>
      doc.inhibit_rules.some((ir) => matches(ir.source_matchers, src) && matches(ir.target_matchers, tgt) && ir.equal.every((e) => src[e] === tgt[e]));
    assert.ok(inhibits(alertLabels("HighErrorRate", "New"), alertLabels("ModerateErrorRate", "New")));
    assert.ok(inhibits(alertLabels("HighLatency", "Legacy"), alertLabels("ElevatedLatency", "Legacy")));
    assert.ok(!inhibits(alertLabels("HighErrorRate", "New"), alertLabels("ModerateErrorRate", "Legacy")), "other version");
    assert.ok(!inhibits(alertLabels("HighErrorRate", "New"), alertLabels("ElevatedLatency", "New")), "other signal");
    assert.ok(!inhibits(alertLabels("SessionIsolationFailure", ""), alertLabels("ElevatedLatency", "")), "other signal");
    assert.ok(!inhibits(alertLabels("ModerateErrorRate", "New"), alertLabels("HighErrorRate", "New")), "warning never inhibits critical");
  });

  it("puts the receivers' secrets in the file only when given, and npm-run-render placeholders are not secrets", () => {
    const real = renderAlertmanagerConfig(cfg, { pagerdutyRoutingKey: "pd-key-123", slackWebhookUrl: "https://hooks.example.test/T/B/x" });
    assert.match(real, /routing_key: pd-key-123/);
    assert.match(real, /api_url: https:\/\/hooks\.example\.test\/T\/B\/x/);
    const none = renderAlertmanagerConfig(cfg, {});
    assert.doesNotMatch(none, /routing_key|api_url/);
    const placeholder = fs.readFileSync(`${dir}/${MONITORING_FILE_NAMES.alertmanager}`, "utf8");
    assert.ok(placeholder.includes(SECRET_PLACEHOLDERS.pagerdutyRoutingKey));
    assert.ok(placeholder.includes(SECRET_PLACEHOLDERS.slackWebhookUrl));
  });

  it("amtool check-config rejects a broken file (the check can fail)", async () => {
    fs.writeFileSync(`${dir}/broken.yml`, "route:\n  receiver: nobody\nreceivers: []\n");
    const r = await runTool(amtool, ["check-config", "broken.yml"], { cwd: dir });
    assert.notEqual(r.code, 0);
  });
});
