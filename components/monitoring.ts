/**
 * Monitoring: prometheus-postgres-exporter, Prometheus and Alertmanager on the
 * stack's private network, each running the files core/alerts renders from the
 * stack config (uploaded into the container). Thin: the logic is in core/alerts.
 *
 * - The exporter's password (a 0400 file, never its env) and the rendered
 *   alertmanager.yml (receivers' secrets) are Pulumi secrets; the alertmanager.yml with real secrets exists only
 *   inside a secret Output.
 * - UIs are published only when `monitoring.publishUis`, on
 *   `monitoring.bindAddress` (loopback by default). The exporter never is.
 * - Nothing here reads the canary percentage or the flags: a stage change
 *   changes none of these containers.
 */
import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import type { RolloutConfig } from "../core/configSchema";
import {
  DEFAULT_TARGETS,
  EXPORTER_ENV,
  MONITORING_FILE_NAMES,
  MonitoringFiles,
  exporterArgs,
  exporterSource,
  renderAlertmanagerConfig,
  renderMonitoringFiles,
} from "../core/alerts";
import { containerLabels } from "../program/labels";

export interface MonitoringArgs {
  config: RolloutConfig;
  /** The stack's private network, or its name. */
  network: docker.Network | pulumi.Input<string>;
  /** The monitoring role's connection URL (read replica when configured). A secret. */
  monitoringDatabaseUrl: pulumi.Output<string>;
  pagerdutyRoutingKey?: pulumi.Output<string>;
  slackWebhookUrl?: pulumi.Output<string>;
  stack: string;
  /** The responder relay (components/responder.ts), when declared: Alertmanager sends it critical alerts with this bearer token (a secret). */
  responder?: { url: string; bearerToken: pulumi.Output<string> };
}

/** In-container paths and ports (the upstream images' defaults). */
export const MONITORING_CONTAINER = {
  /** uid 65534: the user the exporter image runs as (nobody, images/postgres-exporter/Dockerfile, as upstream's); it owns the password file. */
  exporter: { dir: "/etc/postgres_exporter", port: 9187, uid: "65534", passwordFile: "/etc/postgres_exporter/password" },
  prometheus: { dir: "/etc/prometheus", dataDir: "/prometheus", port: 9090 },
  /** uid 65534: the user the Alertmanager image runs as (nobody); it owns the relay's bearer token file. */
  alertmanager: { dir: "/etc/alertmanager", dataDir: "/alertmanager", port: 9093, uid: "65534", responderTokenFile: "/etc/alertmanager/secrets/responder-bearer-token" },
} as const;

const hostOf = (target: string) => target.slice(0, target.lastIndexOf(":"));

export const MONITORING_ALIASES = {
  exporter: hostOf(DEFAULT_TARGETS.exporter),
  alertmanager: hostOf(DEFAULT_TARGETS.alertmanager),
  prometheus: "valuecanvas-prometheus",
} as const;

export class Monitoring extends pulumi.ComponentResource {
  /** The non-secret rendered files (exporter queries, prometheus.yml, rules). */
  readonly files: Omit<MonitoringFiles, "alertmanager.yml">;
  readonly prometheusUrl?: pulumi.Output<string>;
  readonly alertmanagerUrl?: pulumi.Output<string>;

  constructor(name: string, args: MonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
    super("valuecanvas:monitoring:Monitoring", name, {}, opts);
    const { config, stack } = args;
    const m = config.monitoring;

    // Everything but alertmanager.yml is a pure function of the non-secret config.
    const { [MONITORING_FILE_NAMES.alertmanager]: _placeholderOnly, ...files } = renderMonitoringFiles(config, {}, { stack });
    void _placeholderOnly;
    this.files = files;
    const alertmanagerYml = pulumi.secret(
      pulumi
        .all([args.pagerdutyRoutingKey, args.slackWebhookUrl])
        .apply(([pagerdutyRoutingKey, slackWebhookUrl]) =>
          renderAlertmanagerConfig(
            config,
            { pagerdutyRoutingKey, slackWebhookUrl },
            // The token itself is a file (credentials_file), never in the config's text.
            args.responder ? { url: args.responder.url, bearerTokenFile: MONITORING_CONTAINER.alertmanager.responderTokenFile } : undefined,
          ),
        ),
    );
    if (!args.pagerdutyRoutingKey) {
      void pulumi.log.warn(`valuecanvas:pagerdutyRoutingKey is not set for stack ${stack}: critical alerts reach no one`, this);
    }
    if (!args.slackWebhookUrl) {
      void pulumi.log.warn(`valuecanvas:slackWebhookUrl is not set for stack ${stack}: warnings reach no one`, this);
    }

    const networkName = docker.Network.isInstance(args.network) ? args.network.name : args.network;
    const net = (alias: string) => [{ name: networkName, aliases: [alias] }];
    const image = (n: string, ref: string) => new docker.RemoteImage(`${name}-${n}-image`, { name: ref, keepLocally: true }, { parent: this });
    const publish = (internal: number, external: number) =>
      m.publishUis ? { ports: [{ internal, external, ip: m.bindAddress }] } : {};
    // A published host port belongs to one container at a time.
    const replaceOpts = (secretOutputs: string[] = []): pulumi.CustomResourceOptions => ({
      parent: this,
      deleteBeforeReplace: m.publishUis,
      additionalSecretOutputs: secretOutputs,
    });

    const ex = MONITORING_CONTAINER.exporter;
    new docker.Container(
      `${name}-exporter`,
      {
        image: image("exporter", m.exporterImage).imageId,
        command: exporterArgs(`${ex.dir}/${MONITORING_FILE_NAMES.exporterQueries}`, `:${ex.port}`),
        // The password is a 0400 file owned by the exporter's user, read through DATA_SOURCE_PASS_FILE: it is in
        // no env (`docker inspect`, /proc/<pid>/environ). Host, port, database and user are not secrets.
        // (unsecret: derived from the secret URL, but without its password, so a preview shows it.)
        envs: pulumi.unsecret(
          args.monitoringDatabaseUrl.apply((url) => {
            const src = exporterSource(url);
            return [
              `DATA_SOURCE_URI=${src.uri}`,
              `DATA_SOURCE_USER=${src.user}`,
              `DATA_SOURCE_PASS_FILE=${ex.passwordFile}`,
              ...Object.entries(EXPORTER_ENV).map(([k, v]) => `${k}=${v}`),
            ];
          }),
        ),
        uploads: pulumi.secret(
          args.monitoringDatabaseUrl.apply((url) => [
            { file: `${ex.dir}/${MONITORING_FILE_NAMES.exporterQueries}`, content: files[MONITORING_FILE_NAMES.exporterQueries] },
            { file: ex.passwordFile, content: exporterSource(url).password, owner: ex.uid, group: ex.uid, permissions: "0400" },
          ]),
        ),
        networksAdvanced: net(MONITORING_ALIASES.exporter),
        labels: containerLabels("monitoring-exporter"),
        restart: "unless-stopped",
      },
      replaceOpts(["uploads"]),
    );

    const pr = MONITORING_CONTAINER.prometheus;
    const prometheusData = new docker.Volume(`${name}-prometheus-data`, { labels: containerLabels("monitoring-prometheus") }, { parent: this });
    new docker.Container(
      `${name}-prometheus`,
      {
        image: image("prometheus", m.prometheusImage).imageId,
        command: [
          `--config.file=${pr.dir}/${MONITORING_FILE_NAMES.prometheus}`,
          `--storage.tsdb.path=${pr.dataDir}`,
          `--web.listen-address=:${pr.port}`,
        ],
        uploads: [
          { file: `${pr.dir}/${MONITORING_FILE_NAMES.prometheus}`, content: files[MONITORING_FILE_NAMES.prometheus] },
          { file: `${pr.dir}/${MONITORING_FILE_NAMES.rules}`, content: files[MONITORING_FILE_NAMES.rules] },
        ],
        volumes: [{ volumeName: prometheusData.name, containerPath: pr.dataDir }],
        networksAdvanced: net(MONITORING_ALIASES.prometheus),
        ...publish(pr.port, m.prometheusPort),
        labels: containerLabels("monitoring-prometheus"),
        restart: "unless-stopped",
      },
      replaceOpts(),
    );

    const am = MONITORING_CONTAINER.alertmanager;
    new docker.Container(
      `${name}-alertmanager`,
      {
        image: image("alertmanager", m.alertmanagerImage).imageId,
        command: [
          `--config.file=${am.dir}/${MONITORING_FILE_NAMES.alertmanager}`,
          `--storage.path=${am.dataDir}`,
          `--web.listen-address=:${am.port}`,
          // A single instance: no cluster gossip port.
          "--cluster.listen-address=",
        ],
        uploads: pulumi.secret(
          pulumi.all([alertmanagerYml, args.responder?.bearerToken]).apply(([content, bearer]) => [
            { file: `${am.dir}/${MONITORING_FILE_NAMES.alertmanager}`, content },
            ...(bearer === undefined ? [] : [{ file: am.responderTokenFile, content: bearer, owner: am.uid, group: am.uid, permissions: "0400" }]),
          ]),
        ),
        networksAdvanced: net(MONITORING_ALIASES.alertmanager),
        ...publish(am.port, m.alertmanagerPort),
        labels: containerLabels("monitoring-alertmanager"),
        restart: "unless-stopped",
      },
      replaceOpts(["uploads"]),
    );

    if (m.publishUis) {
      this.prometheusUrl = pulumi.output(`http://${m.bindAddress}:${m.prometheusPort}`);
      this.alertmanagerUrl = pulumi.output(`http://${m.bindAddress}:${m.alertmanagerPort}`);
    }
    this.registerOutputs({ prometheusUrl: this.prometheusUrl, alertmanagerUrl: this.alertmanagerUrl });
  }
}
