/**
 * The one entry point for the monitoring files: the program (components/monitoring.ts),
 * `npm run render` (cli/render.ts) and the verify script all call
 * `renderMonitoringFiles`. Pure functions of the stack config.
 */
import type { RolloutConfig } from "../configSchema";
import { AlertReceiverSecrets, ResponderReceiver, renderAlertmanagerConfig } from "./alertmanagerConfig";
import { renderExporterQueries } from "./exporterQueries";
import { MONITORING_FILE_NAMES, PrometheusTargets, renderPrometheusConfig } from "./prometheusConfig";
import { renderRules } from "./rules";

export * from "./alertmanagerConfig";
export * from "./exporterQueries";
export * from "./prometheusConfig";
export * from "./rules";
export * from "./runbooks";

export interface MonitoringFiles {
  /** prometheus-postgres-exporter `--extend.query-path` file. */
  "queries.yaml": string;
  "prometheus.yml": string;
  "valuecanvas.rules.yml": string;
  /** Contains the receivers' secrets: keep it inside a secret. */
  "alertmanager.yml": string;
}

export type MonitoringFileName = keyof MonitoringFiles;

export interface RenderOptions {
  /** Stack name: an external label on every alert and the `--stack` of the runbook commands. Default "<stack>". */
  stack?: string;
  /** Scrape/alerting targets (defaults: the component's container aliases). */
  targets?: PrometheusTargets;
  /** The responder relay as a critical-alert receiver (off when absent). */
  responder?: ResponderReceiver;
}

/** Placeholder stack name when the caller gives none (runbooks then read `--stack <stack>`). */
export const ANY_STACK = "<stack>";

/**
 * Every file the monitoring containers read, keyed by file name. `secrets`
 * go into alertmanager.yml only; pass placeholders (SECRET_PLACEHOLDERS)
 * anywhere the result may be printed or written.
 */
export function renderMonitoringFiles(
  config: RolloutConfig,
  secrets: AlertReceiverSecrets,
  options: RenderOptions = {},
): MonitoringFiles {
  const stack = options.stack ?? ANY_STACK;
  return {
    [MONITORING_FILE_NAMES.exporterQueries]: renderExporterQueries(config.alerting),
    [MONITORING_FILE_NAMES.prometheus]: renderPrometheusConfig(config, { stack, targets: options.targets }),
    [MONITORING_FILE_NAMES.rules]: renderRules(config, { stack }),
    [MONITORING_FILE_NAMES.alertmanager]: renderAlertmanagerConfig(config, secrets, options.responder),
  } as MonitoringFiles;
}
