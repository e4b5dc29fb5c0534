/**
 * alertmanager.yml: critical alerts page PagerDuty, warnings go to Slack, a
 * critical alert inhibits its own warning (same signal, version and stack),
 * and session-isolation failures are sent without a grouping delay. Pure.
 *
 * The receivers' secrets are arguments: the program passes them inside a
 * Pulumi secret Output (so the rendered text with real secrets exists only
 * there); `npm run render` passes placeholders.
 */
import { stringify } from "yaml";
import type { RolloutConfig } from "../configSchema";
import { ALERT_NAMES } from "./rules";

export interface AlertReceiverSecrets {
  /** PagerDuty Events v2 routing key. */
  pagerdutyRoutingKey?: string;
  /** Slack incoming-webhook URL. */
  slackWebhookUrl?: string;
}

export const RECEIVERS = { pagerduty: "pagerduty", slack: "slack", responder: "responder" } as const;

/**
 * The responder relay (`rollout responder`, components/responder.ts) as a receiver: its URL on the stack's
 * network and the file holding the bearer token Alertmanager sends (http_config.authorization.credentials_file:
 * the token is in no config text, only in that file, a Docker secret or a 0400 upload).
 */
export interface ResponderReceiver {
  /** The relay's webhook URL, e.g. http://valuecanvas-responder:9095/alerts. */
  url: string;
  /** Path of the bearer token file inside Alertmanager's container. */
  bearerTokenFile: string;
}

/** Placeholders `npm run render` writes instead of secrets (valid for amtool, useless to anyone). */
export const SECRET_PLACEHOLDERS: Required<AlertReceiverSecrets> = {
  pagerdutyRoutingKey: "placeholder-for-valuecanvas-pagerdutyRoutingKey",
  slackWebhookUrl: "https://placeholder.invalid/valuecanvas-slackWebhookUrl",
};

/** Grouping and repeat timings (documented in the README). */
export const ROUTE_TIMINGS = {
  groupWait: "30s",
  groupInterval: "5m",
  warningRepeat: "4h",
  criticalRepeat: "1h",
} as const;

/**
 * The receivers' URLs come from the config (alerting.pagerdutyUrl, validated by core/config.ts) and
 * the Slack secret. A receiver whose secret is unset gets no config at all: a null receiver, which
 * Alertmanager accepts and which drops what it is sent (the program warns at `pulumi up` that the
 * alerts reach no one). Never a placeholder there: Alertmanager refuses a Slack URL that is not
 * one at load, and the container would crash-loop.
 */
export function renderAlertmanagerConfig(config: RolloutConfig, secrets: AlertReceiverSecrets, responder?: ResponderReceiver): string {
  const pagerduty = secrets.pagerdutyRoutingKey
    ? [
        {
          routing_key: secrets.pagerdutyRoutingKey,
          url: config.alerting.pagerdutyUrl,
          severity: "critical",
          description: '[{{ .CommonLabels.stack }}] {{ .CommonAnnotations.summary }}',
          details: {
            stack: "{{ .CommonLabels.stack }}",
            alert: "{{ .CommonLabels.alertname }}",
            version: "{{ .CommonLabels.version }}",
            firing: '{{ template "pagerduty.default.instances" .Alerts.Firing }}',
            runbook: "{{ .CommonAnnotations.runbook }}",
          },
          send_resolved: true,
        },
      ]
    : undefined;
  const slack = secrets.slackWebhookUrl
    ? [
        {
          api_url: secrets.slackWebhookUrl,
          send_resolved: true,
          title: '[{{ .Status | toUpper }}] [{{ .CommonLabels.stack }}] {{ .CommonAnnotations.summary }}',
          text: "{{ .CommonAnnotations.description }}\n{{ .CommonAnnotations.runbook }}",
        },
      ]
    : undefined;
  const doc = {
    route: {
      receiver: RECEIVERS.slack,
      group_by: ["alertname", "stack", "version"],
      group_wait: ROUTE_TIMINGS.groupWait,
      group_interval: ROUTE_TIMINGS.groupInterval,
      repeat_interval: ROUTE_TIMINGS.warningRepeat,
      routes: [
        // The relay first, `continue: true`: the same alert then also pages, by the routes below. Contamination
        // without a grouping delay, the other critical alerts after group_wait (the relay decides which act).
        ...(responder
          ? [
              {
                matchers: [`alertname="${ALERT_NAMES.sessionIsolationFailure}"`],
                receiver: RECEIVERS.responder,
                group_wait: "0s",
                repeat_interval: ROUTE_TIMINGS.criticalRepeat,
                continue: true,
              },
              {
                matchers: ['severity="critical"', `alertname!="${ALERT_NAMES.sessionIsolationFailure}"`],
                receiver: RECEIVERS.responder,
                repeat_interval: ROUTE_TIMINGS.criticalRepeat,
                continue: true,
              },
            ]
          : []),
        {
          // The guide: contamination calls for an immediate rollback; no grouping delay.
          matchers: [`alertname="${ALERT_NAMES.sessionIsolationFailure}"`],
          receiver: RECEIVERS.pagerduty,
          group_wait: "0s",
          repeat_interval: ROUTE_TIMINGS.criticalRepeat,
        },
        { matchers: ['severity="critical"'], receiver: RECEIVERS.pagerduty, repeat_interval: ROUTE_TIMINGS.criticalRepeat },
        { matchers: ['severity="warning"'], receiver: RECEIVERS.slack },
      ],
    },
    inhibit_rules: [
      {
        source_matchers: ['severity="critical"'],
        target_matchers: ['severity="warning"'],
        equal: ["stack", "signal", "version"],
      },
    ],
    receivers: [
      { name: RECEIVERS.pagerduty, ...(pagerduty ? { pagerduty_configs: pagerduty } : {}) },
      { name: RECEIVERS.slack, ...(slack ? { slack_configs: slack } : {}) },
      ...(responder
        ? [
            {
              name: RECEIVERS.responder,
              webhook_configs: [
                {
                  url: responder.url,
                  send_resolved: true,
                  max_alerts: 0,
                  http_config: { authorization: { type: "Bearer", credentials_file: responder.bearerTokenFile }, follow_redirects: false },
                },
              ],
            },
          ]
        : []),
    ],
  };
  return (
    "# Generated by core/alerts/alertmanagerConfig.ts. Contains the receivers' secrets when deployed.\n" +
    stringify(doc, { lineWidth: 0, aliasDuplicateObjects: false })
  );
}
