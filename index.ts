/**
 * Composition root: validate the stack's config, build the components, export
 * the outputs. Logic lives in core/ (pure), stack/ (stack files) and program/
 * (Pulumi components); docs/layout.md says which folder holds what.
 */
import * as fs from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import { appEnv } from "./core/stages";
import { splitExtraEnv } from "./core/appSecrets";
import { ROLLOUT_SOAK_SECONDS, ROLLOUT_WAIT_TIMEOUT_SECONDS, appPlacement, updatePolicy } from "./core/swarm";
import { forcedSkipReason } from "./core/transitions";
import { stackFilePath } from "./stack/stackFile";
import { loadStackConfig } from "./program/stackConfig";
import { App } from "./components/app";
import { Database } from "./components/database";
import { DevPostgres } from "./components/devPostgres";
import { EdgeProxy } from "./components/edgeProxy";
import { LABEL_PREFIX, rolloutLabels } from "./program/labels";
import { Monitoring } from "./components/monitoring";
import { Responder } from "./components/responder";
import { requireSwarmManager, rolloutWaitTarget } from "./program/swarmManager";
import { RolloutRecord } from "./components/rolloutRecord";
import { RolloutWait } from "./components/rolloutWait";
import { PROJECT_DIR } from "./program/projectDir";

const { stack, config, secrets } = loadStackConfig();
// Before anything is registered: a real deploy stops at once unless the engine is a Swarm manager.
requireSwarmManager();

const APP_ALIAS = "app";

// An attachable overlay: the app's Swarm service and the plain containers (edge proxy,
// dev PostgreSQL, monitoring) share it. Changing the driver replaced the network and
// everything on it once, at the cut-over to Swarm (docs/swarm.md).
const network = new docker.Network("valuecanvas", {
  driver: "overlay",
  attachable: true,
  labels: [{ label: `${LABEL_PREFIX}/stack`, value: stack }],
});

// The stack's own database, or (dev) a PostgreSQL container the program runs.
const dev = config.database
  ? undefined
  : new DevPostgres("dev-postgres", { image: config.devPostgresImage, networkName: network.name, hostPort: config.devPostgresPort });

const database = new Database(
  "database",
  config.database
    ? {
        admin: {
          host: config.database.host,
          port: config.database.port,
          database: config.database.database,
          user: config.database.adminUser,
          password: secrets.databaseAdminPassword!,
          sslmode: config.database.sslmode,
        },
        appEndpoint: { host: config.database.host, port: config.database.port },
        monitoringReplica: config.monitoringDatabase,
        appCredentialRotation: config.appCredentialRotation,
      }
    : {
        admin: dev!.admin,
        appEndpoint: dev!.endpoint,
        operatorEndpoint: { host: dev!.admin.host, port: dev!.admin.port },
        appCredentialRotation: config.appCredentialRotation,
      },
  { dependsOn: dev ? [dev] : [] },
);

const rolloutEnv = appEnv(config);
// No secret on the task's command line (issue 21 finding 5): a secret-looking extra setting becomes a Docker secret file.
const extraEnv = splitExtraEnv(config.appExtraEnv, Object.keys(rolloutEnv));
const app = new App(
  "app",
  {
    image: config.appImage,
    replicas: config.appReplicas,
    placement: appPlacement(config.appPlacement),
    port: config.appPort,
    healthCheckPath: config.appHealthCheckPath,
    healthCheckProbe: config.appHealthCheckProbe,
    env: { ...extraEnv.plain, ...rolloutEnv },
    secretEnv: extraEnv.secret,
    command: config.appCommand,
    databaseUrl: database.appDatabaseUrl,
    networkId: network.id,
    alias: APP_ALIAS,
    rolloutLabels: rolloutLabels(rolloutEnv),
    update: updatePolicy(config),
  },
  { dependsOn: [database.migration] },
);

// `pulumi up` succeeds only once Swarm reports this update rolled out (docs/swarm.md): the
// provider's converge returns as soon as every slot has a running task, old ones included.
const rolledOut = new RolloutWait(
  "app-rollout",
  {
    serviceId: app.serviceId,
    target: rolloutWaitTarget(),
    expected: { image: config.appImage, labels: rolloutLabels(rolloutEnv), replicas: config.appReplicas },
    soakSeconds: ROLLOUT_SOAK_SECONDS,
    timeoutSeconds: ROLLOUT_WAIT_TIMEOUT_SECONDS,
  },
  { dependsOn: [app] },
);

const proxy = new EdgeProxy("edge", {
  image: config.proxyImage,
  networkName: network.name,
  appAlias: APP_ALIAS,
  appPort: config.appPort,
  publishPort: config.proxyPort,
  bindAddress: config.proxyBindAddress,
  // Moved last at the cut-over to Swarm (docs/swarm.md): its delete-first replacement
  // starts only once the service has converged on the new network.
}, { dependsOn: [app] });

// The responder relay (issue 25): declared only when enabled, with its GitHub token, beside the monitoring it serves.
const r = config.responder;
if (r.enabled && !config.monitoring.enabled) void pulumi.log.warn("responder.enabled is true but monitoring.enabled is false: no Alertmanager sends the relay anything, so it is not declared");
if (r.enabled && !secrets.responderGithubToken) void pulumi.log.warn("responder.enabled is true but responder.githubToken is not set (pulumi config set --secret --path responder.githubToken <token>): the relay is not declared");
const responder =
  r.enabled && config.monitoring.enabled && secrets.responderGithubToken && r.image !== undefined && r.repository !== undefined
    ? new Responder("responder", { config: { ...r, image: r.image, repository: r.repository }, stack, networkId: network.id, githubToken: secrets.responderGithubToken })
    : undefined;

const monitoring = config.monitoring.enabled
  ? new Monitoring("monitoring", {
      config,
      stack,
      network,
      monitoringDatabaseUrl: database.monitoringDatabaseUrl,
      pagerdutyRoutingKey: secrets.pagerdutyRoutingKey,
      slackWebhookUrl: secrets.slackWebhookUrl,
      responder: responder && { url: responder.url, bearerToken: responder.bearerToken },
    })
  : undefined;

// One monitoring.rollout_events row per up that changes the stage or the flags,
// written only once Swarm reports the stage rolled out (the wait above): an
// update Swarm rolled back fails the up and records nothing, and the next up
// records the change.
new RolloutRecord(
  "rollout",
  {
    databaseUrl: database.adminUrl,
    stack,
    canaryPercentage: config.canaryPercentage,
    enableStatelessOrchestration: config.enableStatelessOrchestration,
    enableSafeJsonParser: config.enableSafeJsonParser,
    appImage: config.appImage,
    gitCommit: process.env.GITHUB_SHA,
    actor: process.env.GITHUB_ACTOR ?? process.env.USER,
    // `rollout advance --force` leaves its reason as a comment in the stack file.
    reason: readSkipReason(),
  },
  { dependsOn: [database.migration, rolledOut] },
);

function readSkipReason(): string | undefined {
  try {
    return forcedSkipReason(fs.readFileSync(stackFilePath(PROJECT_DIR, stack), "utf8"), config.canaryPercentage);
  } catch {
    return undefined; // no stack file here (config from elsewhere): nothing recorded
  }
}

export const url = proxy.url;
export const rollout = {
  canaryPercentage: config.canaryPercentage,
  enableStatelessOrchestration: config.enableStatelessOrchestration,
  enableSafeJsonParser: config.enableSafeJsonParser,
  appImage: config.appImage,
};
/** The app's Swarm service: `docker service ps <name>` lists its tasks. */
export const appService = { name: app.serviceName, id: app.serviceId };
/**
 * The monitoring role's URL as this host reaches it (a secret), for the rollout CLI:
 * `export ROLLOUT_DATABASE_URL=$(pulumi stack output monitoringDatabaseUrl --show-secrets)`.
 */
export const monitoringDatabaseUrl = pulumi.secret(database.operatorMonitoringUrl);
/** The app's login role in use (config appCredentialRotation), the group role holding its privileges, the monitoring role. */
export const databaseRoles = { app: database.appRoleName, appGroup: database.appGroupRoleName, monitoring: database.monitoringRoleName };
/** Monitoring UIs, when published (monitoring.publishUis). */
export const monitoringUis = {
  prometheus: monitoring?.prometheusUrl ?? "not published",
  alertmanager: monitoring?.alertmanagerUrl ?? "not published",
};
