/**
 * The responder as Alertmanager's receiver (core/alerts/alertmanagerConfig.ts), under the real amtool:
 * with a relay configured, every critical alert goes to the relay and still pages (continue: true),
 * warnings never reach it; the bearer token is a credentials_file, never in the config's text; without a
 * relay the file is as before (no responder receiver).
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import { parse } from "yaml";
import { MONITORING_FILE_NAMES, RECEIVERS, SECRET_PLACEHOLDERS, alertRules, renderMonitoringFiles } from "../../core/alerts";
import { amtoolFixture, runTool, testConfig } from "../alerts/support";

const STACK = "prod";
const RELAY = { url: "http://valuecanvas-responder:9095/alerts", bearerTokenFile: "/etc/alertmanager/secrets/responder-bearer-token" };

describe("responder: Alertmanager's receiver for the relay (real amtool)", function () {
  this.timeout(60_000);
  const cfg = testConfig();
  let am: ReturnType<typeof amtoolFixture> | undefined;
  before(function () {
    am = amtoolFixture(this, "vc-responder-am-", { ...renderMonitoringFiles(cfg, SECRET_PLACEHOLDERS, { stack: STACK, responder: RELAY }) });
  });
  after(() => am?.remove());

  it("amtool check-config accepts it: three receivers, the relay's a webhook with the bearer token from a file", async () => {
    const r = await runTool(am!.amtool, ["check-config", MONITORING_FILE_NAMES.alertmanager], { cwd: am!.dir });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /3 receivers/);
    const doc = parse(fs.readFileSync(`${am!.dir}/${MONITORING_FILE_NAMES.alertmanager}`, "utf8")) as { receivers: Array<{ name: string; webhook_configs?: unknown[] }> };
    const relay = doc.receivers.find((x) => x.name === RECEIVERS.responder);
    assert.deepEqual(relay?.webhook_configs, [
      { url: RELAY.url, send_resolved: true, max_alerts: 0, http_config: { authorization: { type: "Bearer", credentials_file: RELAY.bearerTokenFile }, follow_redirects: false } },
    ]);
  });

  for (const rule of alertRules(cfg, { stack: STACK })) {
    for (const version of ["New", "Legacy"]) {
      const expected = rule.labels.severity === "critical" ? [RECEIVERS.responder, RECEIVERS.pagerduty] : [RECEIVERS.slack];
      it(`${rule.alert} (${rule.labels.severity}, ${version}) goes to ${expected.join(" and ")}`, async () => {
        const labels = { alertname: rule.alert, stack: STACK, version, ...rule.labels };
        const r = await am!.routes(labels);
        assert.equal(r.code, 0, r.stdout + r.stderr);
        assert.deepEqual(r.stdout.trim().split(",").sort(), [...expected].sort());
      });
    }
  }

  it("without a relay, no responder receiver and no route to one", () => {
    const text = renderMonitoringFiles(cfg, SECRET_PLACEHOLDERS, { stack: STACK })[MONITORING_FILE_NAMES.alertmanager];
    assert.ok(!text.includes(RECEIVERS.responder));
  });
});
