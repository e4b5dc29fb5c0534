/**
 * The ValueCanvas app: one Docker Swarm service of `replicas` tasks of one
 * image on the stack's overlay network under a shared alias, with the rollout
 * env (docs/swarm.md).
 *
 * Zero downtime: a stage change alters the env, which the docker provider
 * (5.2.0, measured by hand, issue 15) applies to the service IN PLACE. Swarm
 * then rolls it out start-first, one task at a time (all at once for the
 * guide's immediate rollback, core/swarm.ts updateParallelism): each new task
 * must pass its health check before the old one stops, and a task is in the
 * service's DNS only while healthy, so the edge proxy never routes to one that
 * is starting or failing. An update whose new tasks fail is rolled back by
 * Swarm itself, and `pulumi up` fails (convergeConfig).
 *
 * What replaces the whole service instead (offline/plan.ts SERVICE_REPLACED_PATHS):
 * its name, and `taskSpec.containerSpec.labels`; so the rollout labels are on
 * the SERVICE, and the container-spec labels are a static role label that
 * never changes. The image is a plain string: an image id from a replaced
 * RemoteImage is unknown at preview and would replace the service too.
 */
import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import { envCommand } from "../core/appCommand";
import { secretSettingFile } from "../core/appSecrets";
import { goShortSeconds } from "../core/goDuration";
import { HealthCheckProbe, httpHealthCheckTest } from "../core/healthCheck";
import { APP_ENV_NAMES } from "../core/stages";
import {
  APP_HEALTH_CHECK,
  APP_RUN_AS,
  APP_SECRET_FILES,
  SECRET_FILE_MODE,
  APP_STOP_GRACE_SECONDS,
  CONVERGE_POLICY,
  ENDPOINT_MODE,
  RESTART_POLICY,
  ROLLBACK_POLICY,
  ServicePlacement,
  UpdatePolicy,
} from "../core/swarm";
import { containerLabels } from "../program/labels";

export interface AppArgs {
  /** The image reference, given to the service as is (digest-pinned in prod). */
  image: string;
  replicas: number;
  /** Where Swarm may run the tasks (core/swarm.ts appPlacement); none: anywhere, spread by the scheduler. */
  placement?: ServicePlacement;
  /** Port the app listens on inside the container. */
  port: number;
  /** The health check's URL path (core/configSchema.ts allows only [A-Za-z0-9._~/-] and %XX). */
  healthCheckPath: string;
  /** The HTTP client in the app image that probes it (core/healthCheck.ts). */
  healthCheckProbe: HealthCheckProbe;
  /** The app's settings (its environment): the rollout flags and percentage, and the stack's extra env. Never a secret. */
  env: Record<string, string>;
  /** The command the app image runs (config appCommand): run after `/usr/bin/env` sets the settings. */
  command: readonly string[];
  /** The app role's connection string (a secret): given to the tasks as a Docker secret file, never in the env. */
  databaseUrl: pulumi.Output<string>;
  /** Extra settings that may hold a secret (core/appCommand.ts splitExtraEnv): each a Docker secret file, the app given `<NAME>_FILE`. */
  secretEnv: Record<string, string>;
  /** The overlay network's id (not its name: the deprecated `name` field makes refresh + preview show a replacement). */
  networkId: pulumi.Input<string>;
  /** Alias every task answers to on the network; the proxy routes to it. */
  alias: string;
  /** Shown as plain service labels so that a reviewed preview shows the stage change even though the env is secret. */
  rolloutLabels: Record<string, string>;
  /** How a change rolls out (core/swarm.ts updatePolicy). */
  update: UpdatePolicy;
}

export class App extends pulumi.ComponentResource {
  readonly serviceName: pulumi.Output<string>;
  readonly serviceId: pulumi.Output<string>;

  constructor(name: string, args: AppArgs, opts?: pulumi.ComponentResourceOptions) {
    super("valuecanvas:app:App", name, {}, opts);

    // The app listens on the port and serves the path its health check asks (reference-app/ and docs/reference-app.md).
    const plainEnv: Record<string, string> = {
      ...args.env,
      [APP_ENV_NAMES.port]: String(args.port),
      [APP_ENV_NAMES.healthCheckPath]: args.healthCheckPath,
    };
    // The app role's URL carries its password: a Docker secret, read by the app through DATABASE_URL_FILE
    // (issue 21 finding 5). A secret is immutable, so a new URL replaces it: Pulumi auto-names it (a new name on
    // every replacement, no digest of the password in a name), creates the new one first, updates the service in
    // place to it (secrets are a set updated in place by the provider: a start-first rolling update), and deletes
    // the old one last, once no task uses it.
    const databaseUrlSecret = new docker.Secret(
      `${name}-database-url`,
      { data: pulumi.secret(args.databaseUrl.apply((url) => Buffer.from(url, "utf8").toString("base64"))), labels: containerLabels("app") },
      { parent: this, deleteBeforeReplace: false },
    );
    // The settings as an ordered list, not the task env: the provider sends the env in a random order on every
    // update, so a replica or label change would restart every task (issue 22 fact 2; core/appCommand.ts).
    const settings: Record<string, string> = { ...plainEnv, [APP_ENV_NAMES.databaseUrlFile]: APP_SECRET_FILES.databaseUrl };
    const secretFile = (secret: docker.Secret, fileName: string) => ({
      secretId: secret.id,
      secretName: secret.name,
      fileName,
      fileUid: APP_RUN_AS.uid,
      fileGid: APP_RUN_AS.gid,
      fileMode: SECRET_FILE_MODE,
    });
    // A secret extra setting: a Docker secret like the URL, the app given <NAME>_FILE (sorted: a stable list).
    const extraSecrets = Object.keys(args.secretEnv)
      .sort()
      .map((k) => {
        settings[`${k}_FILE`] = secretSettingFile(k);
        const s = new docker.Secret(
          `${name}-env-${k}`,
          { data: pulumi.secret(Buffer.from(args.secretEnv[k], "utf8").toString("base64")), labels: containerLabels("app") },
          { parent: this, deleteBeforeReplace: false },
        );
        return secretFile(s, secretSettingFile(k));
      });

    const service = new docker.Service(
      name,
      {
        // No `name`: Pulumi auto-names, so a replacement (a name or container-label change) can run beside the old one.
        // In place: the rollout labels change here on every stage change.
        labels: containerLabels("app", args.rolloutLabels),
        taskSpec: {
          containerSpec: {
            image: args.image,
            args: envCommand(settings, args.command),
            secrets: [secretFile(databaseUrlSecret, APP_SECRET_FILES.databaseUrl), ...extraSecrets],
            // The owner of the secret files: the image's USER would not be.
            user: `${APP_RUN_AS.uid}:${APP_RUN_AS.gid}`,
            // Static: a change here replaces the whole service.
            labels: containerLabels("app"),
            // Exec form: the probe gets the URL as one argument, no shell reads it.
            healthcheck: { tests: httpHealthCheckTest(args.healthCheckProbe, args.port, args.healthCheckPath), ...APP_HEALTH_CHECK },
            // Let in-flight requests finish: the task left the DNS before it is stopped.
            stopSignal: "SIGTERM",
            stopGracePeriod: goShortSeconds(APP_STOP_GRACE_SECONDS),
            // What the provider reads back for a spec without sysctls: declared, so a preview after `up` has no `+ sysctl` line.
            sysctl: {},
          },
          networksAdvanceds: [{ id: args.networkId, aliases: [args.alias] }],
          restartPolicy: { ...RESTART_POLICY },
          ...(args.placement ? { placement: { ...args.placement } } : {}),
        },
        mode: { replicated: { replicas: args.replicas } },
        endpointSpec: { mode: ENDPOINT_MODE },
        updateConfig: { ...args.update },
        rollbackConfig: { ...ROLLBACK_POLICY },
        convergeConfig: { ...CONVERGE_POLICY },
      },
      { parent: this, deleteBeforeReplace: false },
    );
    this.serviceName = service.name;
    this.serviceId = service.id;
    this.registerOutputs({ serviceName: this.serviceName, serviceId: this.serviceId });
  }
}
