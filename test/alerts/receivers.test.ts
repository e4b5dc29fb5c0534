/**
 * The alert receivers' URLs: alerting.pagerdutyUrl (default PagerDuty's Events API v2) and the
 * secret slackWebhookUrl, validated by core/config.ts (https; plain http only to a host listed in
 * alerting.httpReceiverHosts) and rendered into alertmanager.yml by the serializer. A receiver
 * whose secret is unset is a null receiver, which the real amtool accepts; and the dev stack's
 * declared Alertmanager, evaluated as the plan and the [docker] harness evaluate it (unset secrets
 * as placeholders), gets a config amtool accepts: it once got a Slack URL that was no URL, and the
 * container crash-looped.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { ConfigError } from "../../core/config";
import { PAGERDUTY_EVENTS_URL, RawConfig } from "../../core/configSchema";
import { MONITORING_FILE_NAMES, RECEIVERS, renderAlertmanagerConfig } from "../../core/alerts";
import { MONITORING_CONTAINER } from "../../components/monitoring";
import { containerByRole } from "../support/declared";
import { evaluateStack } from "../support/program";
import { requireTools } from "../support/tools";
import { runTool, testConfig, tmpDir, writeFiles } from "./support";

interface AmDoc {
  receivers: Array<{ name: string; pagerduty_configs?: Array<{ url: string; routing_key: string }>; slack_configs?: Array<{ api_url: string }> }>;
}

function problemsOf(raw: RawConfig): ConfigError["problems"] {
  try {
    testConfig(raw);
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e.problems;
  }
  assert.fail(`accepted ${JSON.stringify(raw)}`);
}

const SLACK_SECRET = "https://hooks.slack.com/services/T0SECRET/B0SECRET/XXXXSECRETXXXX";

describe("alert receivers' URLs (config and alertmanager.yml)", function () {
  this.timeout(60_000);

  it("defaults: critical alerts page PagerDuty's own Events API v2 URL, rendered explicitly", () => {
    const cfg = testConfig();
    assert.equal(cfg.alerting.pagerdutyUrl, PAGERDUTY_EVENTS_URL);
    assert.deepEqual(cfg.alerting.httpReceiverHosts, []);
    const doc = parse(renderAlertmanagerConfig(cfg, { pagerdutyRoutingKey: "k", slackWebhookUrl: SLACK_SECRET })) as AmDoc;
    assert.equal(doc.receivers.find((r) => r.name === RECEIVERS.pagerduty)?.pagerduty_configs?.[0].url, PAGERDUTY_EVENTS_URL);
    assert.equal(doc.receivers.find((r) => r.name === RECEIVERS.slack)?.slack_configs?.[0].api_url, SLACK_SECRET);
  });

  const badPagerduty: Array<[string, unknown]> = [
    ["no scheme", "events.pagerduty.com/v2/enqueue"],
    ["relative", "/v2/enqueue"],
    ["another scheme", "ftp://events.pagerduty.com/v2/enqueue"],
    ["a javascript: URL", "javascript:alert(1)"],
    ["user:password in it", "https://user:pw@events.pagerduty.com/v2/enqueue"],
    ["a fragment", "https://events.pagerduty.com/v2/enqueue#x"],
    ["surrounding spaces", " https://events.pagerduty.com/v2/enqueue"],
    ["empty", ""],
    ["a number", 443],
    ["plain http to an unlisted host", "http://events.pagerduty.com/v2/enqueue"],
    ["plain http to a host other than the listed one", "http://evil.example/x"],
  ];
  for (const [what, value] of badPagerduty) {
    it(`refuses alerting.pagerdutyUrl with ${what}, naming the key, the value and what is allowed`, () => {
      const ps = problemsOf({ alerting: { pagerdutyUrl: value, ...(what.includes("other than") ? { httpReceiverHosts: ["webhook-sink"] } : {}) } });
      assert.equal(ps.length, 1, JSON.stringify(ps));
      assert.equal(ps[0].key, "valuecanvas:alerting.pagerdutyUrl");
      // A URL with a password is a credential: masked (core/redact.ts), like every such value.
      assert.equal(ps[0].value, what.startsWith("user:password") ? '"[secret]"' : JSON.stringify(value));
      assert.match(ps[0].allowed, /https URL/);
      if (what.startsWith("plain http")) assert.match(ps[0].allowed, /alerting\.httpReceiverHosts \((none listed|webhook-sink)\)/);
    });
  }

  for (const [what, value] of [
    ["not a URL", "T0SECRET/B0SECRET/XXXXSECRETXXXX"],
    ["plain http", SLACK_SECRET.replace("https:", "http:")],
    ["user:password in it", SLACK_SECRET.replace("https://", "https://u:SECRETPW@")],
  ] as const) {
    it(`refuses a Slack webhook URL that is ${what}, never showing it`, () => {
      const ps = problemsOf({ slackWebhookUrl: value });
      assert.equal(ps.length, 1, JSON.stringify(ps));
      assert.equal(ps[0].key, "valuecanvas:slackWebhookUrl");
      assert.match(ps[0].value, /^\[secret\]/);
      assert.ok(!JSON.stringify(ps).includes("SECRET"), JSON.stringify(ps));
      assert.match(ps[0].allowed, /https URL/);
    });
  }

  for (const bad of ["sink:8080", "http://sink", "", "a b", 5, "webhook-sink"]) {
    it(`refuses alerting.httpReceiverHosts = ${JSON.stringify(bad)} (a list of host names)`, () => {
      const ps = problemsOf({ alerting: { httpReceiverHosts: typeof bad === "string" && bad === "webhook-sink" ? bad : [bad] } });
      assert.equal(ps[0].key, "valuecanvas:alerting.httpReceiverHosts");
      assert.match(ps[0].allowed, /list of host names/);
    });
  }

  it("allows plain http only to the listed hosts (any case), as a list or its JSON text (how a --set passes it)", () => {
    for (const hosts of [["webhook-sink"], '["Webhook-Sink"]']) {
      const cfg = testConfig({
        alerting: { httpReceiverHosts: hosts, pagerdutyUrl: "http://webhook-sink:8080/pagerduty" },
        slackWebhookUrl: "http://WEBHOOK-SINK:8080/slack",
      });
      assert.deepEqual(cfg.alerting.httpReceiverHosts, ["webhook-sink"]);
      assert.equal(cfg.alerting.pagerdutyUrl, "http://webhook-sink:8080/pagerduty");
    }
    // https needs no listing
    assert.equal(testConfig({ alerting: { pagerdutyUrl: "https://pd-proxy.internal/v2/enqueue" } }).alerting.pagerdutyUrl, "https://pd-proxy.internal/v2/enqueue");
  });

  it("renders any valid URL through the serializer: YAML syntax in it stays data", () => {
    const url = "https://pd.example/v2/enqueue?a=b&c=%3A%20d&x='y'";
    const yml = renderAlertmanagerConfig(testConfig({ alerting: { pagerdutyUrl: url } }), { pagerdutyRoutingKey: "k: v # not a comment" });
    const pd = (parse(yml) as AmDoc).receivers.find((r) => r.name === RECEIVERS.pagerduty)?.pagerduty_configs?.[0];
    assert.equal(pd?.url, url);
    assert.equal(pd?.routing_key, "k: v # not a comment");
  });

  it("with both secrets unset, both receivers are null receivers (no config, no placeholder) and amtool accepts the file", async function () {
    const amtool = requireTools(this, "amtool").amtool;
    const yml = renderAlertmanagerConfig(testConfig(), {});
    const doc = parse(yml) as AmDoc;
    assert.deepEqual(doc.receivers, [{ name: RECEIVERS.pagerduty }, { name: RECEIVERS.slack }]);
    const dir = tmpDir("vc-receivers-");
    try {
      writeFiles(dir, { [MONITORING_FILE_NAMES.alertmanager]: yml });
      const r = await runTool(amtool, ["check-config", MONITORING_FILE_NAMES.alertmanager], { cwd: dir });
      assert.equal(r.code, 0, r.stdout + r.stderr);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the dev stack's declared Alertmanager, its secrets unset (placeholders, as plan and the harness evaluate it), gets a config amtool accepts", async function () {
    const amtool = requireTools(this, "amtool").amtool;
    const ev = await evaluateStack("dev");
    const am = containerByRole(ev, "monitoring-alertmanager");
    const file = `${MONITORING_CONTAINER.alertmanager.dir}/${MONITORING_FILE_NAMES.alertmanager}`;
    const upload = ((am.inputs.uploads as Array<{ file: string; content: string }> | undefined) ?? []).find((u) => u.file === file);
    assert.ok(upload, `the container uploads ${file}`);
    const dir = tmpDir("vc-receivers-");
    try {
      writeFiles(dir, { [path.basename(file)]: upload.content });
      const r = await runTool(amtool, ["check-config", path.basename(file)], { cwd: dir });
      assert.equal(r.code, 0, `amtool refused the declared dev alertmanager.yml (Alertmanager would crash-loop):\n${r.stdout}${r.stderr}`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
