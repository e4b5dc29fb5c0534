/**
 * The Prometheus alerting rules: the guide's "Alert Configuration" and
 * "Monitoring Dashboard" levels, with thresholds from the stack config (the
 * one definition; defaults are the guide's numbers) and `for:` durations and
 * the minimum request volume from `alerting`. Pure: no Pulumi import.
 *
 * | alert                    | condition (per version)           | severity | for                   |
 * |--------------------------|-----------------------------------|----------|-----------------------|
 * | HighErrorRate            | error rate > errorRateCriticalPct | critical | alerting.criticalFor  |
 * | ModerateErrorRate        | error rate > errorRateWarningPct  | warning  | alerting.warningFor   |
 * | HighLatency              | p95 > p95CriticalSeconds          | critical | alerting.criticalFor  |
 * | ElevatedLatency          | p95 > p95WarningSeconds           | warning  | alerting.warningFor   |
 * | SessionIsolationFailure  | contamination > contaminationMax  | critical | none (fires at once)  |
 * | ContaminationUnmonitored | either contamination count absent | critical | alerting.criticalFor  |
 *
 * SessionIsolationFailure watches two counts and fires when either is above
 * the threshold: the view monitoring.session_isolation (every scrape) and the
 * raw count over agent_sessions (re-run every
 * alerting.rawContaminationCheckSeconds), which also sees rows that bypassed
 * the isolation trigger. One alert, valued at the larger count; its
 * description gives both.
 *
 * ContaminationUnmonitored: both contamination counts are emitted at 0 when
 * there is no traffic, so a missing series never means "no contamination": the
 * exporter is down, cannot reach the database, or its query fails. The guide's
 * most urgent signal is then blind, so it pages, after criticalFor (an
 * exporter restart does not). Missing error-rate and latency series mean no
 * traffic of that version and alert nothing (docs/alerts.md).
 *
 * Error-rate and latency alerts also require at least `alerting.minRequests`
 * sessions of that version in the window, so that a canary that served three
 * requests pages nobody. The error rate is computed from the exact counts
 * (100 · errors / total), not from the view's rounded percentage.
 */
import { stringify } from "yaml";
import type { RolloutConfig } from "../configSchema";
import { METRICS } from "./exporterQueries";
import { contaminationRunbook, contaminationUnmonitoredRunbook, errorRateRunbook, latencyRunbook } from "./runbooks";

export type Severity = "critical" | "warning";
/** What an alert watches; a critical alert inhibits the warning with the same signal and version. */
export type Signal = "error_rate" | "latency" | "session_isolation" | "monitoring";

export const ALERT_NAMES = {
  highErrorRate: "HighErrorRate",
  moderateErrorRate: "ModerateErrorRate",
  highLatency: "HighLatency",
  elevatedLatency: "ElevatedLatency",
  sessionIsolationFailure: "SessionIsolationFailure",
  contaminationUnmonitored: "ContaminationUnmonitored",
} as const;
export type AlertName = (typeof ALERT_NAMES)[keyof typeof ALERT_NAMES];

export interface AlertRule {
  alert: AlertName;
  expr: string;
  /** Omitted: the alert fires on the first evaluation that matches. */
  for?: string;
  labels: { severity: Severity; signal: Signal };
  annotations: { summary: string; description: string; runbook: string };
}

export interface RuleGroup {
  name: string;
  interval: string;
  rules: AlertRule[];
}

/** The rule group's name in the rendered file. */
export const RULE_GROUP_NAME = "valuecanvas-rollout";

/** A number as PromQL and people read it (no exponent, no trailing zeros). */
export function num(n: number): string {
  return String(n);
}

/** The error rate in percent, per version, from the exact counts. */
export const ERROR_RATE_PCT_EXPR = `100 * ${METRICS.errors} / ${METRICS.totalRequests}`;

/** Label that tells the two contamination counts apart inside the alert's expression (aggregated away). */
export const CONTAMINATION_SOURCE_LABEL = "source";

/**
 * The larger of the two contamination counts, one series with the exporter's
 * labels (job, instance): the view's and the raw count's.
 */
export const CONTAMINATION_EXPR =
  `max without (${CONTAMINATION_SOURCE_LABEL}) (` +
  `label_replace(${METRICS.contamination}, "${CONTAMINATION_SOURCE_LABEL}", "view", "", "") or ` +
  `label_replace(${METRICS.rawContamination}, "${CONTAMINATION_SOURCE_LABEL}", "raw", "", ""))`;

/** A Go template printing one count (or "no data"), for the annotations. */
export function countTemplate(metric: string): string {
  return `{{ with query "max(${metric})" }}{{ . | first | value | printf "%.0f" }}{{ else }}no data{{ end }}`;
}

/** The per-version minimum-volume guard. */
export function volumeGuard(minRequests: number): string {
  return `${METRICS.totalRequests} >= ${num(minRequests)}`;
}

export interface RuleOptions {
  /** Stack name, for the runbook commands. */
  stack: string;
}

/** The alerting rules for a stack's config. */
export function alertRules(config: RolloutConfig, opts: RuleOptions): AlertRule[] {
  const t = config.thresholds;
  const a = config.alerting;
  const guard = volumeGuard(a.minRequests);
  const volumeNote = `(at least ${num(a.minRequests)} sessions of this version in the window)`;
  const errorRule = (alert: AlertName, severity: Severity, pct: number, forDur: string): AlertRule => ({
    alert,
    expr: `(${ERROR_RATE_PCT_EXPR} > ${num(pct)}) and (${guard})`,
    for: forDur,
    labels: { severity, signal: "error_rate" },
    annotations: {
      summary: `${severity === "critical" ? "High" : "Moderate"} error rate on the {{ $labels.version }} path: {{ printf "%.2f" $value }}% > ${num(pct)}%`,
      description: `The {{ $labels.version }} path's error rate over the last 24 hours is above the ${severity} level of ${num(pct)}% ${volumeNote}.`,
      runbook: errorRateRunbook(opts.stack, severity === "critical"),
    },
  });
  const latencyRule = (alert: AlertName, severity: Severity, seconds: number, forDur: string): AlertRule => ({
    alert,
    expr: `(${METRICS.p95Seconds} > ${num(seconds)}) and (${guard})`,
    for: forDur,
    labels: { severity, signal: "latency" },
    annotations: {
      summary: `${severity === "critical" ? "High" : "Elevated"} P95 latency on the {{ $labels.version }} path: {{ printf "%.2f" $value }}s > ${num(seconds)}s`,
      description: `The {{ $labels.version }} path's P95 session duration over the last 24 hours is above the ${severity} level of ${num(seconds)}s ${volumeNote}.`,
      runbook: latencyRunbook(opts.stack, severity === "critical"),
    },
  });
  return [
    errorRule(ALERT_NAMES.highErrorRate, "critical", t.errorRateCriticalPct, a.criticalFor),
    errorRule(ALERT_NAMES.moderateErrorRate, "warning", t.errorRateWarningPct, a.warningFor),
    latencyRule(ALERT_NAMES.highLatency, "critical", t.p95CriticalSeconds, a.criticalFor),
    latencyRule(ALERT_NAMES.elevatedLatency, "warning", t.p95WarningSeconds, a.warningFor),
    {
      alert: ALERT_NAMES.sessionIsolationFailure,
      // No `for:` and no volume guard: one contaminated session is critical.
      // Either count above the threshold fires it.
      expr: `${CONTAMINATION_EXPR} > ${num(t.contaminationMax)}`,
      labels: { severity: "critical", signal: "session_isolation" },
      annotations: {
        summary: `Session isolation failure: {{ printf "%.0f" $value }} session(s) served more than one user in the last 24 hours`,
        description:
          `Cross-user session contamination is above ${num(t.contaminationMax)}. ` +
          `Seen by the view monitoring.session_isolation: ${countTemplate(METRICS.contamination)}; ` +
          `by the raw count over agent_sessions (${a.rawContaminationCheckSeconds > 0 ? `refreshed every ${num(a.rawContaminationCheckSeconds)}s` : "every scrape"}): ${countTemplate(METRICS.rawContamination)}. ` +
          "If only the raw count is above, the rows bypassed the isolation trigger (a restore or logical replication with session_replication_role = replica, or the trigger disabled). " +
          "The guide's action is an immediate rollback.",
        runbook: contaminationRunbook(opts.stack),
      },
    },
    {
      alert: ALERT_NAMES.contaminationUnmonitored,
      // absent() is 1, with no labels, while the series is missing.
      expr: `absent(${METRICS.contamination}) or absent(${METRICS.rawContamination})`,
      for: a.criticalFor,
      labels: { severity: "critical", signal: "monitoring" },
      annotations: {
        summary: "Session isolation is unmonitored: a contamination count is missing",
        description:
          `A cross-user contamination count has been missing for ${a.criticalFor}: ` +
          `the view's (${METRICS.contamination}): ${countTemplate(METRICS.contamination)}; ` +
          `the raw count's (${METRICS.rawContamination}): ${countTemplate(METRICS.rawContamination)}. ` +
          "Both are emitted at 0 with no traffic, so a missing count means the postgres exporter is down, cannot reach the database, or its query fails: " +
          "SessionIsolationFailure cannot fire until it is back.",
        runbook: contaminationUnmonitoredRunbook(opts.stack),
      },
    },
  ];
}

export function ruleGroups(config: RolloutConfig, opts: RuleOptions): RuleGroup[] {
  return [{ name: RULE_GROUP_NAME, interval: config.alerting.evaluationInterval, rules: alertRules(config, opts) }];
}

/** The rule file (YAML) for Prometheus. */
export function renderRules(config: RolloutConfig, opts: RuleOptions): string {
  return (
    "# Generated by core/alerts/rules.ts from the stack config: the guide's alert levels.\n" +
    stringify({ groups: ruleGroups(config, opts) }, { lineWidth: 0, aliasDuplicateObjects: false })
  );
}
