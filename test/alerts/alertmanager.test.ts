/**
 * The rendered alertmanager.yml in the real Alertmanager (Debian's
 * prometheus-alertmanager, the package that ships amtool), on loopback, with
 * the receivers pointed at a loopback HTTP server: a critical alert inhibits
 * its own warning and no other, and a session-isolation failure reaches
 * PagerDuty at once with its runbook.
 */
import { strict as assert } from "node:assert";
import { ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as path from "node:path";
import { ALERT_NAMES, MONITORING_FILE_NAMES, RECEIVERS, alertRules, renderMonitoringFiles } from "../../core/alerts";
import { freePort } from "../support/postgres";
import { requireTools } from "../support/tools";
import { testConfig, tmpDir, writeFiles } from "./support";

const STACK = "prod";
const WAIT_MS = 30_000;
const ROUTING_KEY = "test-routing-key-0123456789abcdef";

interface AmAlert {
  labels: Record<string, string>;
  status: { state: string; inhibitedBy: string[] };
  receivers: Array<{ name: string }>;
}

describe("Alertmanager with the rendered config (real prometheus-alertmanager, loopback)", function () {
  this.timeout(90_000);
  let am: ChildProcess | undefined;
  let server: http.Server | undefined;
  let dir = "";
  let base = "";
  const received: Array<{ path: string; body: Record<string, unknown> }> = [];
  const log: string[] = [];

  before(async function () {
    const amtool = requireTools(this, "amtool").amtool;
    // The same Debian package ships amtool and the server.
    const binary = path.join(path.dirname(amtool), "prometheus-alertmanager");
    if (!fs.existsSync(binary)) throw new Error(`${binary} is missing although amtool is installed; reinstall prometheus-alertmanager`);

    const sinkPort = await freePort();
    server = http.createServer((req, res) => {
      let data = "";
      req.on("data", (d: Buffer) => (data += d.toString()));
      req.on("end", () => {
        received.push({ path: req.url ?? "", body: JSON.parse(data || "{}") as Record<string, unknown> });
        res.writeHead(202, { "content-type": "application/json" });
        res.end('{"status":"success"}');
      });
    });
    await new Promise<void>((r) => server!.listen(sinkPort, "127.0.0.1", r));

    dir = tmpDir("vc-am-");
    // The receivers' URLs as a stack sets them: alerting.pagerdutyUrl and the Slack secret, plain http
    // allowed to the loopback sink by alerting.httpReceiverHosts (core/config.ts).
    const files = renderMonitoringFiles(
      testConfig({
        alerting: { pagerdutyUrl: `http://127.0.0.1:${sinkPort}/pagerduty`, httpReceiverHosts: ["127.0.0.1"] },
        slackWebhookUrl: `http://127.0.0.1:${sinkPort}/slack`,
      }),
      { pagerdutyRoutingKey: ROUTING_KEY, slackWebhookUrl: `http://127.0.0.1:${sinkPort}/slack` },
      { stack: STACK },
    );
    writeFiles(dir, { ...files });
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    am = spawn(binary, [
      `--config.file=${path.join(dir, MONITORING_FILE_NAMES.alertmanager)}`,
      `--storage.path=${path.join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--cluster.listen-address=",
    ], { stdio: ["ignore", "pipe", "pipe"] });
    am.stdout?.on("data", (d: Buffer) => log.push(d.toString()));
    am.stderr?.on("data", (d: Buffer) => log.push(d.toString()));
    await until("Alertmanager ready", async () => ((await fetch(`${base}/-/ready`)).ok ? true : undefined));
  });

  after(async () => {
    if (am && am.exitCode === null) {
      const exited = new Promise((r) => am!.once("exit", r));
      am.kill("SIGTERM");
      const t = setTimeout(() => am?.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(t);
    }
    await new Promise((r) => (server ? server.close(r) : r(undefined)));
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  async function until<T>(what: string, check: () => Promise<T | undefined>): Promise<T> {
    const deadline = Date.now() + WAIT_MS;
    let last: unknown;
    for (;;) {
      if (am?.exitCode !== null && am?.exitCode !== undefined) throw new Error(`Alertmanager exited: ${log.join("")}`);
      try {
        const v = await check();
        if (v !== undefined) return v;
      } catch (err) {
        last = err;
      }
      if (Date.now() > deadline) throw new Error(`gave up waiting for ${what} (last: ${String(last)})\n${log.join("").slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  const rules = alertRules(testConfig(), { stack: STACK });
  const alert = (name: string, version?: string) => {
    const r = rules.find((x) => x.alert === name);
    assert.ok(r, name);
    return {
      labels: { alertname: name, stack: STACK, ...(version ? { version } : {}), ...r.labels },
      annotations: { summary: `${name} test`, description: "test", runbook: r.annotations.runbook },
      startsAt: new Date().toISOString(),
    };
  };

  it("a critical alert inhibits its own warning, not another version's or another signal's", async () => {
    const res = await fetch(`${base}/api/v2/alerts`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify([
        alert(ALERT_NAMES.highErrorRate, "New"),
        alert(ALERT_NAMES.moderateErrorRate, "New"),
        alert(ALERT_NAMES.moderateErrorRate, "Legacy"),
        alert(ALERT_NAMES.elevatedLatency, "New"),
      ]),
    });
    assert.equal(res.status, 200);
    const alerts = await until("four alerts", async () => {
      const list = (await (await fetch(`${base}/api/v2/alerts`)).json()) as AmAlert[];
      return list.length === 4 ? list : undefined;
    });
    const state = (name: string, version: string) => {
      const a = alerts.find((x) => x.labels.alertname === name && x.labels.version === version);
      assert.ok(a, `${name}/${version}`);
      return { state: a.status.state, inhibited: a.status.inhibitedBy.length > 0, receivers: a.receivers.map((r) => r.name) };
    };
    assert.deepEqual(state(ALERT_NAMES.highErrorRate, "New"), { state: "active", inhibited: false, receivers: [RECEIVERS.pagerduty] });
    assert.deepEqual(state(ALERT_NAMES.moderateErrorRate, "New"), { state: "suppressed", inhibited: true, receivers: [RECEIVERS.slack] });
    assert.deepEqual(state(ALERT_NAMES.moderateErrorRate, "Legacy"), { state: "active", inhibited: false, receivers: [RECEIVERS.slack] });
    assert.deepEqual(state(ALERT_NAMES.elevatedLatency, "New"), { state: "active", inhibited: false, receivers: [RECEIVERS.slack] });
  });

  it("a session isolation failure reaches PagerDuty without a grouping delay, with the routing key and the runbook", async () => {
    const res = await fetch(`${base}/api/v2/alerts`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify([alert(ALERT_NAMES.sessionIsolationFailure)]),
    });
    assert.equal(res.status, 200);
    const event = await until("the PagerDuty event", async () =>
      received.find((r) => r.path === "/pagerduty" && JSON.stringify(r.body).includes(ALERT_NAMES.sessionIsolationFailure)),
    );
    const body = event.body as { routing_key: string; event_action: string; payload: { severity: string; custom_details: Record<string, string> } };
    assert.equal(body.routing_key, ROUTING_KEY);
    assert.equal(body.event_action, "trigger");
    assert.equal(body.payload.severity, "critical");
    assert.match(body.payload.custom_details.runbook, new RegExp(`IMMEDIATE ROLLBACK \\(both flags off\\): .*npx rollout rollback --stack ${STACK} --immediate .*gh pr create`));
    assert.ok(!received.some((r) => r.path === "/slack" && JSON.stringify(r.body).includes(ALERT_NAMES.sessionIsolationFailure)), "not sent to Slack");
  });
});
