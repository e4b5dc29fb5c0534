/**
 * The Monitoring component under the Pulumi SDK's mock runtime: three pinned
 * containers with the rendered files, secrets kept secret, no host ports unless
 * configured (then on the bind address), and a stage change changes nothing.
 */
import { strict as assert } from "node:assert";
import * as path from "node:path";
import { parse } from "yaml";
import { MONITORING_FILE_NAMES } from "../../core/alerts";
import { EvaluatedResource, Evaluation, evaluateProgram } from "../../offline/evaluate";

const PROGRAM = path.join(__dirname, "fixtures", "monitoringProgram.ts");
const CONTAINER = "docker:index/container:Container";
const PD_KEY = "pd-routing-key-value-7f3a";
const SLACK_URL = "https://hooks.example.test/services/T000/B000/slack-secret-value-9c1d";
const DB_PASSWORD = "monitoring-password-value";

function evaluate(raw: Record<string, unknown>, stack = "staging"): Promise<Evaluation> {
  const base: Record<string, unknown> = {
    appImage: "ghcr.io/valuecanvas/app:phase3",
    pagerdutyRoutingKey: PD_KEY,
    slackWebhookUrl: SLACK_URL,
    ...raw,
  };
  const config: Record<string, string> = {};
  for (const [k, v] of Object.entries(base)) config[`valuecanvas:${k}`] = typeof v === "string" ? v : JSON.stringify(v);
  return evaluateProgram({
    stack,
    config,
    secretKeys: ["valuecanvas:pagerdutyRoutingKey", "valuecanvas:slackWebhookUrl"],
    program: PROGRAM,
  });
}

const monitoringContainers = (ev: Evaluation) =>
  ev.resources.filter((r) => r.type === CONTAINER && r.parent?.startsWith("valuecanvas:monitoring:Monitoring::"));
const byName = (ev: Evaluation, suffix: string): EvaluatedResource => {
  const c = monitoringContainers(ev).find((r) => r.name.endsWith(suffix));
  assert.ok(c, `container *${suffix}`);
  return c;
};
const uploads = (r: EvaluatedResource) => r.inputs.uploads as Array<{ file: string; content: string }>;

describe("Monitoring component (Pulumi mock runtime)", function () {
  this.timeout(60_000);

  it("declares the exporter, Prometheus and Alertmanager, with the config's images and the rendered files", async () => {
    const ev = await evaluate({});
    const names = monitoringContainers(ev).map((c) => c.name).sort();
    assert.deepEqual(names, ["monitoring-alertmanager", "monitoring-exporter", "monitoring-prometheus"]);
    const images = ev.resources.filter((r) => r.type === "docker:index/remoteImage:RemoteImage").map((r) => r.inputs.name).sort();
    assert.deepEqual(images, ["prom/alertmanager:v0.27.0", "prom/prometheus:v2.53.3", "quay.io/prometheuscommunity/postgres-exporter:v0.16.0"]);
    const prom = byName(ev, "-prometheus");
    const files = uploads(prom).map((u) => path.basename(u.file)).sort();
    assert.deepEqual(files, [MONITORING_FILE_NAMES.prometheus, MONITORING_FILE_NAMES.rules].sort());
    const promYml = parse(uploads(prom).find((u) => u.file.endsWith(MONITORING_FILE_NAMES.prometheus))!.content) as {
      global: { external_labels: { stack: string } };
      scrape_configs: Array<{ static_configs: Array<{ targets: string[] }> }>;
    };
    assert.equal(promYml.global.external_labels.stack, "staging");
    const exporter = byName(ev, "-exporter");
    const aliases = (exporter.inputs.networksAdvanced as Array<{ aliases: string[] }>)[0].aliases;
    assert.deepEqual(promYml.scrape_configs[0].static_configs[0].targets, [`${aliases[0]}:9187`], "Prometheus scrapes the exporter's alias");
    assert.ok((exporter.inputs.command as string[]).some((a) => a.startsWith("--extend.query-path=")));
  });

  it("keeps the exporter's password file and alertmanager.yml secret, and no secret appears in any plain input or label", async () => {
    const ev = await evaluate({});
    const exporter = byName(ev, "-exporter");
    const am = byName(ev, "-alertmanager");
    // Issue 21 finding 5: the exporter's env holds no password; it reads it from a 0400 file (DATA_SOURCE_PASS_FILE).
    assert.ok(exporter.secretInputs.includes("uploads"), "exporter uploads (the password file) are secret");
    assert.ok(!JSON.stringify(exporter.inputs.envs).includes(DB_PASSWORD), "no password in the exporter's env");
    assert.ok(uploads(exporter).some((u) => u.content.includes(DB_PASSWORD)), "the password file carries the real password");
    assert.ok(am.secretInputs.includes("uploads"), "alertmanager uploads are secret");
    const amYml = uploads(am)[0].content;
    assert.ok(amYml.includes(PD_KEY) && amYml.includes(SLACK_URL), "the deployed file carries the real receivers");
    for (const r of ev.resources) {
      for (const [k, v] of Object.entries(r.inputs)) {
        if (r.secretInputs.includes(k)) continue;
        const text = JSON.stringify(v);
        for (const s of [PD_KEY, SLACK_URL, DB_PASSWORD]) assert.ok(!text.includes(s), `${r.name}.${k} carries a secret in plain`);
      }
    }
    assert.ok(!JSON.stringify(ev.outputs).includes(PD_KEY));
  });

  it("publishes no host port by default", async () => {
    const ev = await evaluate({});
    for (const c of monitoringContainers(ev)) assert.equal(c.inputs.ports, undefined, `${c.name} publishes nothing`);
    assert.equal(ev.outputs.prometheusUrl, undefined);
  });

  it("publishes the UIs only when configured, on the bind address, never the exporter", async () => {
    const ev = await evaluate({ monitoring: { publishUis: true, prometheusPort: 19090, alertmanagerPort: 19093 } });
    const promPorts = byName(ev, "-prometheus").inputs.ports as Array<{ internal: number; external: number; ip: string }>;
    assert.deepEqual(promPorts.map((p) => [p.internal, p.external, p.ip]), [[9090, 19090, "127.0.0.1"]]);
    const amPorts = byName(ev, "-alertmanager").inputs.ports as Array<{ internal: number; external: number; ip: string }>;
    assert.equal(amPorts[0].external, 19093);
    assert.equal(amPorts[0].ip, "127.0.0.1");
    assert.equal(byName(ev, "-exporter").inputs.ports, undefined);
    assert.equal(byName(ev, "-prometheus").options.deleteBeforeReplace, true, "a published port is freed before the replacement binds it");
    assert.equal(ev.outputs.prometheusUrl, "http://127.0.0.1:19090");
  });

  it("a canary percentage change changes none of the monitoring resources; a threshold change does", async () => {
    const flags = { enableStatelessOrchestration: "true", enableSafeJsonParser: "true" };
    const at10 = await evaluate({ ...flags, canaryPercentage: "10" });
    const at25 = await evaluate({ ...flags, canaryPercentage: "25" });
    const off = await evaluate({ enableStatelessOrchestration: "false", enableSafeJsonParser: "false", canaryPercentage: "25" });
    const view = (ev: Evaluation) => JSON.stringify(ev.resources.map((r) => [r.type, r.name, r.inputs, r.secretInputs, r.options]));
    assert.equal(view(at25), view(at10));
    assert.equal(view(off), view(at10));
    const stricter = await evaluate({ ...flags, canaryPercentage: "10", thresholds: { errorRateCriticalPct: 4 } });
    assert.notEqual(JSON.stringify(uploads(byName(stricter, "-prometheus"))), JSON.stringify(uploads(byName(at10, "-prometheus"))));
  });
});
