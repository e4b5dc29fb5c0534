/**
 * The ValueCanvas app: `replicas` containers of one image on the private
 * network under a shared alias, with the rollout env.
 *
 * Zero downtime: a stage change alters the env, which replaces every app
 * container. They have no fixed names and no host ports, so Pulumi creates
 * each replacement first, waits until Docker reports it healthy, and only
 * then deletes the old one; the edge proxy keeps routing to whichever
 * replicas answer the alias.
 */
import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import { HealthCheckProbe, httpHealthCheckTest } from "../lib/healthCheck";
import { APP_ENV_NAMES, ENV_NAMES } from "../lib/stages";
import { LABEL_PREFIX, containerLabels } from "./labels";

export interface AppArgs {
  image: string;
  replicas: number;
  /** Port the app listens on inside the container. */
  port: number;
  /** The health check's URL path (lib/config.ts allows only [A-Za-z0-9._~/-] and %XX). */
  healthCheckPath: string;
  /** The HTTP client in the app image that probes it (lib/healthCheck.ts). */
  healthCheckProbe: HealthCheckProbe;
  /** Plain environment: the rollout flags and percentage, and the stack's extra env. */
  env: Record<string, string>;
  /** The app role's connection string (a secret). */
  databaseUrl: pulumi.Output<string>;
  networkName: pulumi.Input<string>;
  /** Alias every replica answers to on the network; the proxy routes to it. */
  alias: string;
  /** Shown as plain labels so that a reviewed preview shows the stage change even though `envs` is secret. */
  rolloutLabels: Record<string, string>;
}

export class App extends pulumi.ComponentResource {
  readonly containerNames: pulumi.Output<string[]>;

  constructor(name: string, args: AppArgs, opts?: pulumi.ComponentResourceOptions) {
    super("valuecanvas:app:App", name, {}, opts);

    const image = new docker.RemoteImage(`${name}-image`, { name: args.image, keepLocally: true }, { parent: this });

    // The app listens on the port and serves the path its health check asks (reference-app/ and docs/reference-app.md).
    const plainEnv = Object.entries({
      ...args.env,
      [APP_ENV_NAMES.port]: String(args.port),
      [APP_ENV_NAMES.healthCheckPath]: args.healthCheckPath,
    }).map(([k, v]) => `${k}=${v}`);
    // DATABASE_URL carries the app role's password, so `envs` as a whole is a secret.
    const envs = pulumi.secret(args.databaseUrl.apply((url) => [...plainEnv, `${ENV_NAMES.databaseUrl}=${url}`]));

    // Exec form: the probe gets the URL as one argument, no shell reads it.
    const healthTest = httpHealthCheckTest(args.healthCheckProbe, args.port, args.healthCheckPath);
    const containers: docker.Container[] = [];
    for (let i = 0; i < args.replicas; i++) {
      containers.push(
        new docker.Container(
          `${name}-${i}`,
          {
            // No `name`: Pulumi auto-names, so a replacement can exist beside the old container.
            image: image.imageId,
            envs,
            labels: containerLabels("app", { ...args.rolloutLabels, [`${LABEL_PREFIX}/replica`]: String(i) }),
            networksAdvanced: [{ name: args.networkName, aliases: [args.alias] }],
            healthcheck: {
              tests: healthTest,
              interval: "10s",
              timeout: "3s",
              retries: 3,
              startPeriod: "20s",
            },
            // Pulumi waits for "healthy" before deleting the container this one replaces.
            wait: true,
            waitTimeout: 180,
            restart: "unless-stopped",
            // Let in-flight requests finish; the proxy has already moved on.
            stopSignal: "SIGTERM",
            destroyGraceSeconds: 30,
          },
          { parent: this, deleteBeforeReplace: false },
        ),
      );
    }
    this.containerNames = pulumi.all(containers.map((c) => c.name));
    this.registerOutputs({ containerNames: this.containerNames });
  }
}
