/**
 * Every invalid value fails the program before any resource is registered,
 * with one message naming the key, the bad value and what is allowed.
 */
import { strict as assert } from "node:assert";
import { RawConfig } from "../../core/configSchema";
import { ProgramError } from "../../offline/evaluate";
import { appService, evaluateStack, serviceInputs, stackFile } from "../support/program";

interface Case {
  title: string;
  stack?: string;
  /** Changes to the stack file's valuecanvas config; `undefined` deletes a key. */
  change: Record<string, unknown>;
  key: string;
  value: string;
  allowed: RegExp;
}

const DIGEST = "ghcr.io/valuecanvas/app@sha256:" + "a".repeat(64);

const cases: Case[] = [
  { title: "percentage with a % sign", change: { canaryPercentage: "25%" }, key: "canaryPercentage", value: '"25%"', allowed: /one of the stages 0, 10, 25, 50, 75, 100/ },
  { title: "percentage not a stage", change: { canaryPercentage: "33" }, key: "canaryPercentage", value: '"33"', allowed: /one of the stages/ },
  { title: "negative percentage", change: { canaryPercentage: "-10" }, key: "canaryPercentage", value: '"-10"', allowed: /one of the stages/ },
  { title: "percentage above 100", change: { canaryPercentage: 250 }, key: "canaryPercentage", value: "\"250\"", allowed: /one of the stages/ },
  { title: "percentage as a fraction", change: { canaryPercentage: "0.25" }, key: "canaryPercentage", value: '"0.25"', allowed: /one of the stages/ },
  { title: "percentage as words", change: { canaryPercentage: "ten" }, key: "canaryPercentage", value: '"ten"', allowed: /one of the stages/ },
  { title: "non-boolean stateless flag", change: { enableStatelessOrchestration: "yes" }, key: "enableStatelessOrchestration", value: '"yes"', allowed: /true or false/ },
  { title: "non-boolean parser flag", change: { enableSafeJsonParser: "1" }, key: "enableSafeJsonParser", value: '"1"', allowed: /true or false/ },
  { title: "capitalised boolean", change: { enableSafeJsonParser: "TRUE" }, key: "enableSafeJsonParser", value: '"TRUE"', allowed: /true or false/ },
  { title: "tag-only image in prod", stack: "prod", change: { appImage: "ghcr.io/valuecanvas/app:latest" }, key: "appImage", value: '"ghcr.io/valuecanvas/app:latest"', allowed: /pinned by digest/ },
  { title: "missing image", change: { appImage: undefined }, key: "appImage", value: "(missing)", allowed: /container image reference/ },
  { title: "malformed image", change: { appImage: "Not An Image!" }, key: "appImage", value: '"Not An Image!"', allowed: /container image reference/ },
  { title: "zero replicas", change: { appReplicas: "0" }, key: "appReplicas", value: '"0"', allowed: /integer from 1 to 50/ },
  { title: "fractional replicas", change: { appReplicas: "1.5" }, key: "appReplicas", value: '"1.5"', allowed: /integer from 1 to 50/ },
  { title: "port out of range", change: { appPort: 70000 }, key: "appPort", value: "\"70000\"", allowed: /TCP port from 1 to 65535/ },
  { title: "relative health-check path", change: { appHealthCheckPath: "health" }, key: "appHealthCheckPath", value: '"health"', allowed: /absolute URL path/ },
  { title: "unknown key (typo)", change: { canaryPercentag: "25" }, key: "canaryPercentag", value: '"25"', allowed: /did you mean valuecanvas:canaryPercentage\?/ },
  { title: "unknown key in a group", change: { thresholds: { p95WarningSecs: 3 } }, key: "thresholds.p95WarningSecs", value: "3", allowed: /did you mean valuecanvas:thresholds\.p95WarningSeconds\?/ },
  { title: "malformed threshold", change: { thresholds: { errorRateWarningPct: "two" } }, key: "thresholds.errorRateWarningPct", value: '"two"', allowed: /number greater than 0/ },
  { title: "warning above critical", change: { thresholds: { errorRateWarningPct: 6 } }, key: "thresholds.errorRateWarningPct", value: "6", allowed: /less than thresholds\.errorRateCriticalPct \(5\)/ },
  { title: "target looser than warning", change: { thresholds: { targetP95Seconds: 4 } }, key: "thresholds.targetP95Seconds", value: "4", allowed: /at most thresholds\.p95WarningSeconds \(3\)/ },
  { title: "thresholds not an object", change: { thresholds: "strict" }, key: "thresholds", value: '"strict"', allowed: /object with keys errorRateWarningPct/ },
  { title: "extra env overriding a managed name", change: { appExtraEnv: { CANARY_PERCENTAGE: "100" } }, key: "appExtraEnv", value: '{"CANARY_PERCENTAGE":"100"}', allowed: /not overriding .*CANARY_PERCENTAGE/ },
  { title: "bad sslmode", change: { database: { host: "db.example.internal", sslmode: "sometimes" } }, key: "database.sslmode", value: '"sometimes"', allowed: /one of disable, allow, prefer, require, verify-ca, verify-full/ },
  { title: "database without host", change: { database: { port: 5432 } }, key: "database.host", value: "(missing)", allowed: /host name or IP address/ },
  { title: "replica without a primary", stack: "dev", change: { monitoringDatabase: { host: "replica.internal" } }, key: "monitoringDatabase", value: '{"host":"replica.internal"}', allowed: /read replica of valuecanvas:database/ },
  { title: "bad bind address", change: { proxyBindAddress: "localhost" }, key: "proxyBindAddress", value: '"localhost"', allowed: /IPv4 address/ },
  { title: "bad alert duration", change: { alerting: { criticalFor: "5 minutes" } }, key: "alerting.criticalFor", value: '"5 minutes"', allowed: /Prometheus duration/ },
  { title: "raw contamination check interval out of range", change: { alerting: { rawContaminationCheckSeconds: 7200 } }, key: "alerting.rawContaminationCheckSeconds", value: "7200", allowed: /integer from 0 to 3600/ },
  { title: "PagerDuty URL over plain http to an unlisted host", change: { alerting: { pagerdutyUrl: "http://events.pagerduty.com/v2/enqueue" } }, key: "alerting.pagerdutyUrl", value: '"http://events.pagerduty.com/v2/enqueue"', allowed: /an https URL: plain http only to a host listed in alerting\.httpReceiverHosts \(none listed\)/ },
  { title: "PagerDuty URL without a scheme", change: { alerting: { pagerdutyUrl: "events.pagerduty.com/v2/enqueue" } }, key: "alerting.pagerdutyUrl", value: '"events.pagerduty.com/v2/enqueue"', allowed: /absolute https URL with a host/ },
  { title: "receiver http host that is not a host name", change: { alerting: { httpReceiverHosts: ["sink:8080"] } }, key: "alerting.httpReceiverHosts", value: '["sink:8080"]', allowed: /list of host names/ },
  { title: "Slack webhook that is not a URL (its value never shown)", change: { slackWebhookUrl: "T000/B000/XXXX" }, key: "slackWebhookUrl", value: "[secret]", allowed: /Slack incoming-webhook URL.*absolute https URL/ },
  { title: "Slack webhook over plain http (its value never shown)", change: { slackWebhookUrl: "http://hooks.slack.com/services/T0/B0/X" }, key: "slackWebhookUrl", value: "[secret] (an http URL)", allowed: /an https URL: plain http only to a host listed in alerting\.httpReceiverHosts/ },
  { title: "negative credential rotation", change: { appCredentialRotation: "-1" }, key: "appCredentialRotation", value: '"-1"', allowed: /app's database password rotations \(raise it by exactly 1 per pulumi up to rotate: docs\/database\.md\), an integer from 0 to 1000000/ },
  { title: "fractional credential rotation", change: { appCredentialRotation: 1.5 }, key: "appCredentialRotation", value: '"1.5"', allowed: /an integer from 0 to 1000000/ },
  { title: "credential rotation as a word", change: { appCredentialRotation: "next" }, key: "appCredentialRotation", value: '"next"', allowed: /an integer from 0 to 1000000/ },
  { title: "soak time of zero", change: { gate: { soakHours: 0 } }, key: "gate.soakHours", value: "0", allowed: /greater than 0/ },
  { title: "placement constraint with a shell command", change: { appPlacement: { constraints: ["node.role==$(id)"] } }, key: "appPlacement.constraints", value: '["node.role==$(id)"]', allowed: /Swarm constraints, each node\.<id\|hostname\|role/ },
  { title: "placement spread over something not a node label", change: { appPlacement: { spreadOver: ["node.role"] } }, key: "appPlacement.spreadOver", value: '["node.role"]', allowed: /node labels to spread the tasks over, each node\.labels\.KEY/ },
  { title: "zero replicas per node", change: { appPlacement: { maxReplicasPerNode: 0 } }, key: "appPlacement.maxReplicasPerNode", value: "0", allowed: /integer from 1 to 50/ },
];

function applyChange(raw: RawConfig, change: Record<string, unknown>): RawConfig {
  const out = structuredClone(raw);
  for (const [k, v] of Object.entries(change)) {
    if (v === undefined) delete out[k];
    else out[k] = v;
  }
  return out;
}

async function expectRejected(stack: string, raw: RawConfig): Promise<ProgramError> {
  try {
    await evaluateStack(stack, { raw });
  } catch (err) {
    assert.ok(err instanceof ProgramError, `a ProgramError, got ${String(err)}`);
    return err;
  }
  assert.fail("the program accepted an invalid config");
}

describe("invalid stack config", function () {
  this.timeout(60_000);

  it(`covers at least 25 distinct bad configs (${cases.length})`, () => {
    assert.ok(cases.length >= 25);
    assert.equal(new Set(cases.map((c) => c.title)).size, cases.length);
  });

  for (const c of cases) {
    it(`rejects ${c.title}, naming key, value and what is allowed, registering nothing`, async () => {
      const stack = c.stack ?? "staging";
      const err = await expectRejected(stack, applyChange(stackFile(stack).raw, c.change));
      const line = err.message.split("\n").find((l) => l.includes(`valuecanvas:${c.key} =`));
      assert.ok(line, `message names valuecanvas:${c.key}:\n${err.message}`);
      assert.ok(line.includes(`= ${c.value}:`), `message shows the value ${c.value}: ${line}`);
      assert.match(line, c.allowed);
      assert.deepEqual(err.registered, [], "no resource was registered");
    });
  }

  it("lists every problem at once", async () => {
    const raw = applyChange(stackFile("prod").raw, { canaryPercentage: "25%", enableSafeJsonParser: "yes", appImage: "app:1", appReplicas: 0 });
    const err = await expectRejected("prod", raw);
    for (const k of ["canaryPercentage", "enableSafeJsonParser", "appImage", "appReplicas"]) {
      assert.ok(err.message.includes(`valuecanvas:${k} =`), `${k} listed`);
    }
    assert.match(err.message, /\(4 problems\)/);
  });

  it("never shows a secret's value in an error", async () => {
    const raw = applyChange(stackFile("staging").raw, { pagerdutyRoutingKey: "", database: { host: "db.internal", adminPassword: "" } });
    const err = await expectRejected("staging", raw);
    assert.match(err.message, /valuecanvas:pagerdutyRoutingKey = \[secret\]/);
    assert.match(err.message, /valuecanvas:database\.adminPassword = \[secret\]/);
  });

  const leaks: Array<[string, Record<string, unknown>, RegExp]> = [
    ["a typo of a secret key", { pagerdutyRoutingkey: "PDKEYSECRET123" }, /valuecanvas:pagerdutyRoutingkey = \[secret\]: no such key; did you mean valuecanvas:pagerdutyRoutingKey\?/],
    ["a differently cased secret key", { slackWebhookURL: "https://hooks.example.invalid/T0/B0/SECRETHOOK" }, /valuecanvas:slackWebhookURL = \[secret\]/],
    ["a secret-looking unknown key in a group", { database: { host: "db.internal", adminPassword: "x", adminPasswd: "DBPW999" } }, /valuecanvas:database\.adminPasswd = \[secret\]/],
    ["a malformed group that holds a secret", { database: '{"host":"h","adminPassword":"DBPW999"' }, /valuecanvas:database = \[not shown: this group holds a secret\]/],
    ["a group with a secret and a bad member", { database: { host: "db.internal", adminPassword: "DBPW999", sslmode: "sometimes" } }, /valuecanvas:database\.sslmode = "sometimes"/],
  ];
  for (const [title, change, shown] of leaks) {
    it(`never echoes a secret from ${title}`, async () => {
      const err = await expectRejected("staging", applyChange(stackFile("staging").raw, change));
      assert.match(err.message, shown);
      for (const secret of ["PDKEYSECRET123", "SECRETHOOK", "DBPW999"]) assert.ok(!err.message.includes(secret), `${secret} not in:\n${err.message}`);
    });
  }

  it("accepts the CLI's string forms: \"25\" and \"true\"", async () => {
    const ev = await evaluateStack("staging", { sets: { canaryPercentage: "25", enableStatelessOrchestration: "true", enableSafeJsonParser: "true" } });
    assert.ok(ev.resources.length > 0);
  });

  it("accepts a digest-pinned image in prod", async () => {
    const ev = await evaluateStack("prod", { sets: { appImage: DIGEST } });
    assert.equal(serviceInputs(appService(ev)).taskSpec.containerSpec.image, DIGEST);
  });
});
