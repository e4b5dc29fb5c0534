/**
 * Composition root: validate the stack's config, build the components, export
 * the outputs. Logic lives in lib/ (pure) and components/ (Pulumi).
 */
import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import { appEnv } from "./lib/stages";
import { loadStackConfig } from "./components/stackConfig";
import { App } from "./components/app";
import { EdgeProxy } from "./components/edgeProxy";
import { DevPostgres } from "./components/devPostgres";
import { LABEL_PREFIX } from "./components/labels";

const { stack, config, secrets } = loadStackConfig();

const APP_ALIAS = "app";

const network = new docker.Network("valuecanvas", {
  driver: "bridge",
  labels: [{ label: `${LABEL_PREFIX}/stack`, value: stack }],
});

// The database: the stack's own, or a container the program runs (dev).
const dev = config.database
  ? undefined
  : new DevPostgres("dev-postgres", { image: config.devPostgresImage, networkName: network.name, hostPort: config.devPostgresPort });

const db = config.database;
const appDatabaseUrl: pulumi.Output<string> = pulumi.secret(
  db
    ? pulumi.interpolate`postgres://${encodeURIComponent(db.adminUser)}:${secrets.databaseAdminPassword!.apply(encodeURIComponent)}@${db.host}:${db.port}/${db.database}?sslmode=${db.sslmode}`
    : pulumi.interpolate`postgres://postgres:${dev!.adminPassword.apply(encodeURIComponent)}@${dev!.alias}:5432/postgres?sslmode=disable`,
);

const rolloutEnv = appEnv(config);
const app = new App("app", {
  image: config.appImage,
  replicas: config.appReplicas,
  port: config.appPort,
  healthCheckPath: config.appHealthCheckPath,
  env: { ...config.appExtraEnv, ...rolloutEnv },
  databaseUrl: appDatabaseUrl,
  networkName: network.name,
  alias: APP_ALIAS,
  rolloutLabels: Object.fromEntries(Object.entries(rolloutEnv).map(([k, v]) => [`${LABEL_PREFIX}/${k.toLowerCase()}`, v])),
});

const proxy = new EdgeProxy("edge", {
  image: config.proxyImage,
  networkName: network.name,
  appAlias: APP_ALIAS,
  appPort: config.appPort,
  publishPort: config.proxyPort,
  bindAddress: config.proxyBindAddress,
});

export const url = proxy.url;
export const rollout = {
  canaryPercentage: config.canaryPercentage,
  enableStatelessOrchestration: config.enableStatelessOrchestration,
  enableSafeJsonParser: config.enableSafeJsonParser,
  appImage: config.appImage,
};
export const appContainers = app.containerNames;
