/** Alertmanager webhook bodies (version 4) for the responder's tests. */
import type { WebhookAlert } from "../../core/responder";

export const STACK = "prod";
export const FP = "0123456789abcdef";

export function webhookAlert(o: { alertname: string; severity?: string; version?: string; status?: "firing" | "resolved"; stack?: string; fingerprint?: string; summary?: string; startsAt?: string }): WebhookAlert {
  const labels: Record<string, string> = { alertname: o.alertname, stack: o.stack ?? STACK };
  if (o.severity !== undefined) labels.severity = o.severity;
  if (o.version !== undefined) labels.version = o.version;
  return {
    status: o.status ?? "firing",
    labels,
    annotations: { summary: o.summary ?? `${o.alertname} summary`, description: "d", runbook: "r" },
    startsAt: o.startsAt ?? "2026-12-07T23:01:02.345Z",
    endsAt: "0001-01-01T00:00:00Z",
    generatorURL: "http://prometheus:9090/graph",
    fingerprint: o.fingerprint ?? FP,
  };
}

/** A webhook body around `alerts` (they may be malformed on purpose). */
export function webhook(alerts: Array<WebhookAlert | Record<string, unknown>>): unknown {
  return { version: "4", groupKey: "{}:{}", truncatedAlerts: 0, status: alerts.some((a) => a.status === "firing") ? "firing" : "resolved", receiver: "responder", groupLabels: {}, commonLabels: {}, commonAnnotations: {}, externalURL: "http://alertmanager:9093", alerts };
}

