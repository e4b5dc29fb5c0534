/**
 * The monitoring part of a declared stack on the real engine, for the `[docker]` monitoring
 * test: the exporter, Prometheus and Alertmanager containers exactly as the program declares
 * them (test/support/declared.ts), started after the dev stack (test/support/stack.ts) on its
 * network, and a webhook sink container that stands in for PagerDuty and Slack.
 *
 * The sink is the reference app's image running a few lines of Node (no other image): it
 * answers every POST with 202, records method, path and JSON body, and serves the record at
 * `GET /received`. Its alias on the stack's network is SINK_ALIAS; the stack config points the
 * receivers there (sinkSets: alerting.pagerdutyUrl, the Slack secret, and
 * alerting.httpReceiverHosts, which lets them use plain http to that host only).
 *
 * Like the rest of the harness this exercises the declared resources; it is not `pulumi up`.
 */
import { MONITORING_CONTAINER, MONITORING_ALIASES } from "../../components/monitoring";
import { rolloutRecordProvider, RolloutRecordInputs } from "../../components/rolloutRecord";
import type { EvaluatedResource, Evaluation } from "../../offline/evaluate";
import { ContainerSpec, containerByRole, containerSpec, declaredContainers, startSpec } from "./declared";
import { DockerScope, docker, dockerOk, publishedPort, waitFor } from "./docker";
import { appService, serviceInputs } from "./program";
import type { StartedStack } from "./stack";

/** The sink's alias on the stack's network, and its port. */
export const SINK_ALIAS = "webhook-sink";
export const SINK_PORT = 8080;
export const SINK_PATHS = { pagerduty: "/pagerduty", slack: "/slack" } as const;
/** A test value, not a secret of any real service. */
export const TEST_ROUTING_KEY = "test-routing-key-0123456789abcdef";

/** Stack-config sets that point both receivers at the sink (plain http to it alone). */
export function sinkSets(): Record<string, string> {
  const base = `http://${SINK_ALIAS}:${SINK_PORT}`;
  return {
    "alerting.pagerdutyUrl": `${base}${SINK_PATHS.pagerduty}`,
    "alerting.httpReceiverHosts": JSON.stringify([SINK_ALIAS]),
    slackWebhookUrl: `${base}${SINK_PATHS.slack}`,
    pagerdutyRoutingKey: TEST_ROUTING_KEY,
  };
}

/** The sink's program (argv of `node -e`): no config goes into it. */
const SINK_PROGRAM = `
const http = require("node:http");
const port = Number(process.argv[1]);
const received = [];
http.createServer((req, res) => {
  let data = "";
  req.on("data", (d) => (data += d));
  req.on("end", () => {
    if (req.method === "GET" && req.url === "/received") {
      res.writeHead(200, { "content-type": "application/json" });
      return res.end(JSON.stringify(received));
    }
    let body = null;
    try { body = JSON.parse(data); } catch { body = data; }
    received.push({ at: new Date().toISOString(), method: req.method, path: req.url, body });
    console.log(req.method + " " + req.url);
    res.writeHead(202, { "content-type": "application/json" });
    res.end('{"status":"success"}');
  });
}).listen(port, "0.0.0.0");
`;

export interface SinkRequest {
  at: string;
  method: string;
  path: string;
  body: unknown;
}

export interface MonitoringStack {
  prometheusUrl: string;
  alertmanagerUrl: string;
  /** The sink's loopback URL (its record at `${sinkUrl}/received`). */
  sinkUrl: string;
  containers: { exporter: string; prometheus: string; alertmanager: string; sink: string };
}

/** The declared network names of `ev`'s containers, all mapped to the stack's one network (as startDevStack does). */
function networksOf(ev: Evaluation, network: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const r of declaredContainers(ev)) for (const n of (r.inputs.networksAdvanced as Array<{ name: string }> | undefined) ?? []) out[n.name] = network;
  return out;
}

async function ready(url: string): Promise<true | undefined> {
  const r = await fetch(url, { signal: AbortSignal.timeout(3000) });
  await r.text();
  return r.ok ? true : undefined;
}

/** Start the sink, then the declared exporter, Prometheus and Alertmanager on `stack`'s network; each waited on until it answers. */
export async function startMonitoring(scope: DockerScope, ev: Evaluation, stack: StartedStack, log: (line: string) => void = () => undefined): Promise<MonitoringStack> {
  const networks = networksOf(ev, stack.network);
  const sink = await scope.start("sink", ["--network", stack.network, "--network-alias", SINK_ALIAS, "--publish", `127.0.0.1::${SINK_PORT}`], {
    image: serviceInputs(appService(ev)).taskSpec.containerSpec.image,
    command: ["node", "-e", SINK_PROGRAM, String(SINK_PORT)],
  });
  const sinkUrl = `http://127.0.0.1:${await publishedPort(sink, SINK_PORT)}`;
  await waitFor("the webhook sink", 30_000, () => ready(`${sinkUrl}/received`));

  const spec = async (role: string, port?: number): Promise<ContainerSpec> => {
    const r: EvaluatedResource = containerByRole(ev, role);
    const volumes: Record<string, string> = {};
    for (const v of (r.inputs.volumes as Array<{ volumeName: string }> | undefined) ?? []) volumes[v.volumeName] = await scope.volume(role);
    return containerSpec(r, { networks, volumes, publish: "ephemeral", alsoPublish: port === undefined ? [] : [port] });
  };
  const [ex, pr, am] = await Promise.all([
    spec("monitoring-exporter"),
    spec("monitoring-prometheus", MONITORING_CONTAINER.prometheus.port),
    spec("monitoring-alertmanager", MONITORING_CONTAINER.alertmanager.port),
  ]);
  const [exporter, alertmanager] = await Promise.all([startSpec(scope, ex), startSpec(scope, am)]);
  const prometheus = await startSpec(scope, pr);
  const prometheusUrl = `http://127.0.0.1:${await publishedPort(prometheus, MONITORING_CONTAINER.prometheus.port)}`;
  const alertmanagerUrl = `http://127.0.0.1:${await publishedPort(alertmanager, MONITORING_CONTAINER.alertmanager.port)}`;
  const alive = async (c: string) => {
    const s = await dockerOk(["inspect", "--format", "{{.State.Status}} {{.RestartCount}}", c]);
    if (s !== "running 0") {
      const logs = await docker(["logs", "--tail", "30", c]);
      throw new Error(`${c} is ${s} (state, restarts); last logs:\n${logs.stdout}${logs.stderr}`);
    }
  };
  await waitFor("Alertmanager ready", 60_000, async () => (await alive(alertmanager), ready(`${alertmanagerUrl}/-/ready`)));
  await waitFor("Prometheus ready", 60_000, async () => (await alive(prometheus), ready(`${prometheusUrl}/-/ready`)));
  log(`monitoring up: exporter ${exporter} (alias ${MONITORING_ALIASES.exporter}), Prometheus ${prometheusUrl}, Alertmanager ${alertmanagerUrl}, sink ${sinkUrl}`);
  return { prometheusUrl, alertmanagerUrl, sinkUrl, containers: { exporter, prometheus, alertmanager, sink } };
}

/** What the sink has received so far. */
export async function sinkReceived(m: MonitoringStack): Promise<SinkRequest[]> {
  const r = await fetch(`${m.sinkUrl}/received`, { signal: AbortSignal.timeout(5000) });
  return (await r.json()) as SinkRequest[];
}

/**
 * Write the stack's rollout record as the program's RolloutRecord does on a fresh `up` (its own
 * provider, with the declared inputs), through the admin URL the test reaches: the gate reads the
 * stage's start from it.
 */
export async function recordRollout(ev: Evaluation, stack: StartedStack): Promise<void> {
  const r = ev.resources.find((x) => x.type.endsWith(":RolloutEvent"));
  if (!r) throw new Error("the program declares no rollout record");
  const i = r.inputs as unknown as RolloutRecordInputs;
  await rolloutRecordProvider.create!({ ...i, databaseUrl: stack.adminUrl });
}

/** A declared login role's URL through the dev PostgreSQL's loopback port (the admin URL with that role's name and password). */
export function roleUrl(ev: Evaluation, stack: StartedStack, role: string): string {
  const r = ev.resources.find((x) => x.type === "postgresql:index/role:Role" && x.inputs.name === role);
  if (!r) throw new Error(`the program declares no role ${role}`);
  const u = new URL(stack.adminUrl);
  u.username = role;
  u.password = String(r.inputs.password);
  return u.toString();
}

export { withAdmin } from "./stack";
