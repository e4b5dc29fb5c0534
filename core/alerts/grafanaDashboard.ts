/**
 * The guide's "Monitoring Dashboard" as a Grafana dashboard (issue 24), built
 * with Grafana's own typed SDK for dashboards as code
 * (`@grafana/grafana-foundation-sdk`): one dashboard per stack, written by
 * `npm run render` as GRAFANA_DASHBOARD_FILE (docs/alerts.md, "The Grafana
 * dashboard"). Pure: no I/O, no Pulumi import.
 *
 * Every query reads the metrics the stack's Prometheus already has (the
 * exporter's custom queries, core/alerts/exporterQueries.ts, and Prometheus'
 * own ALERTS series), and every threshold line is the stack's configured
 * threshold (config.thresholds, config.alerting.minRequests) or the guide's
 * constant (GUIDE_CONCURRENT_SESSIONS_TARGET): nothing here restates a metric
 * name or a number.
 *
 * Panels, top to bottom:
 * - Deployed rollout: CANARY_PERCENTAGE, ENABLE_STATELESS_ORCHESTRATION and
 *   ENABLE_SAFE_JSON_PARSER of the stack's newest rollout record
 *   (valuecanvas_rollout_*, selected by the stack label), the share of users the
 *   new path serves (the percentage while both flags are on, else 0), and when
 *   the record was written.
 * - The guide's four key metrics, per version (New / Legacy), over the views'
 *   24-hour window: error rate (target, warning, critical lines), P95 latency
 *   (the same three), session isolation (both contamination counts, critical
 *   line), concurrent sessions (target line); and the sessions per version
 *   that the error-rate and latency alerts need (alerting.minRequests line).
 * - Active alerts: Prometheus' ALERTS series, pending and firing.
 *
 * Grafana colours a value from a threshold step when the value "is met or
 * exceeded", while the alerts fire strictly above their level: the lines sit
 * at the configured levels, and the contamination count, a whole number, turns
 * red from contaminationMax + 1, the first count that fires
 * SessionIsolationFailure.
 *
 * Every panel and query reads the Prometheus data source chosen in the
 * dashboard's DATASOURCE_VARIABLE, so the file names no data source of any
 * Grafana and holds no secret.
 */
import { createHash } from "node:crypto";
import { GraphThresholdsStyleConfigBuilder, GraphThresholdsStyleMode, LegendDisplayMode, LegendPlacement, ReduceDataOptionsBuilder, VizLegendOptionsBuilder, BigValueColorMode, BigValueGraphMode } from "@grafana/grafana-foundation-sdk/common";
import type { DataSourceRef } from "@grafana/grafana-foundation-sdk/common";
import {
  AnnotationQueryBuilder,
  DashboardBuilder,
  DashboardCursorSync,
  DatasourceVariableBuilder,
  MappingType,
  RowBuilder,
  ThresholdsConfigBuilder,
  ThresholdsMode,
} from "@grafana/grafana-foundation-sdk/dashboard";
import type { Dashboard, Threshold, ValueMapping } from "@grafana/grafana-foundation-sdk/dashboard";
import { DataqueryBuilder, PromQueryFormat } from "@grafana/grafana-foundation-sdk/prometheus";
import { PanelBuilder as StatPanelBuilder } from "@grafana/grafana-foundation-sdk/stat";
import { PanelBuilder as TablePanelBuilder } from "@grafana/grafana-foundation-sdk/table";
import { PanelBuilder as TimeseriesPanelBuilder } from "@grafana/grafana-foundation-sdk/timeseries";
import type { RolloutConfig } from "../configSchema";
import { ENV_NAMES, GUIDE_CONCURRENT_SESSIONS_TARGET } from "../stages";
import {
  CONCURRENT_SESSIONS_METRICS,
  METRICS,
  ROLLOUT_METRICS,
  ROLLOUT_STACK_LABEL,
  VERSION_LABEL,
} from "./exporterQueries";
import { ERROR_RATE_PCT_EXPR, num } from "./rules";

/** The file `npm run render` writes the dashboard to, beside the monitoring files. */
export const GRAFANA_DASHBOARD_FILE = "grafana-dashboard.json";

/** The dashboard variable that picks the Prometheus data source (every panel reads `${datasource}`). */
export const DATASOURCE_VARIABLE = "datasource";
/** Grafana's plugin id of the Prometheus data source. */
export const PROMETHEUS_DATASOURCE_TYPE = "prometheus";

/** Prometheus' own series of the pending and firing alerts (labels: alertname, alertstate, the rule's labels). */
export const ALERTS_METRIC = "ALERTS";

/** Threshold colours (Grafana's named colours). */
export const LEVEL_COLORS = {
  ok: "green",
  aboveTarget: "yellow",
  warning: "orange",
  critical: "red",
  /** Below a target that the guide states as a minimum (concurrent sessions, request volume). */
  belowMinimum: "blue",
  /** A value that is neither good nor bad (the deployed stage): Grafana's text colour, not its default thresholds' red at 80. */
  neutral: "text",
} as const;

/**
 * A PromQL double-quoted string holding `value` exactly: JSON's escapes (quote,
 * backslash, control characters) are also PromQL's (Go's), and `$` and `[`
 * are written as \x24 and \x5b so that Grafana's variable syntax ($name,
 * ${name}, [[name]]) never sees a reference in a config value.
 */
export function promString(value: string): string {
  return JSON.stringify(value).replace(/\$/g, "\\x24").replace(/\[/g, "\\x5b");
}

/** `metric{label="value"}`, the value quoted by promString. */
export function selectLabel(metric: string, label: string, value: string): string {
  return `${metric}{${label}=${promString(value)}}`;
}

const UID_PREFIX = "valuecanvas-rollout-";
/** Grafana's limit on a dashboard uid. */
export const GRAFANA_UID_MAX = 40;

/**
 * The dashboard's uid: stable per stack, so that a re-import replaces the
 * stack's dashboard and two stacks never replace each other's. Grafana allows
 * at most 40 of [A-Za-z0-9_-]; a stack name that does not fit as it is gets
 * a hash of the name beside what fits.
 */
export function dashboardUid(stack: string): string {
  const plain = `${UID_PREFIX}${stack}`;
  if (/^[A-Za-z0-9_-]+$/.test(stack) && plain.length <= GRAFANA_UID_MAX) return plain;
  const hash = createHash("sha256").update(stack).digest("hex").slice(0, 8);
  const kept = stack.replace(/[^A-Za-z0-9_-]/g, "-").slice(0, GRAFANA_UID_MAX - UID_PREFIX.length - hash.length - 1);
  return `${UID_PREFIX}${kept}-${hash}`;
}

/** The steps of a "lower is better" metric: green below the target, then the target, warning and critical levels. */
export function levelSteps(target: number, warning: number, critical: number): Threshold[] {
  return [
    { value: null, color: LEVEL_COLORS.ok },
    { value: target, color: LEVEL_COLORS.aboveTarget },
    { value: warning, color: LEVEL_COLORS.warning },
    { value: critical, color: LEVEL_COLORS.critical },
  ];
}

/** The steps of a "this many or more" target: blue below it, green from it. */
export function minimumSteps(minimum: number): Threshold[] {
  return [
    { value: null, color: LEVEL_COLORS.belowMinimum },
    { value: minimum, color: LEVEL_COLORS.ok },
  ];
}

/** Panel titles, for the file's readers and the tests. */
export const PANEL_TITLES = {
  deployedRow: "Deployed rollout (the stack's newest rollout record)",
  canaryPercentage: ENV_NAMES.canaryPercentage,
  statelessOrchestration: ENV_NAMES.statelessOrchestration,
  safeJsonParser: ENV_NAMES.safeJsonParser,
  newPathShare: "Users on the new path",
  recordedAt: "Recorded",
  keyMetricsRow: "Key metrics per version (the guide's 24-hour window)",
  errorRate: "Error rate",
  p95Latency: "Latency (P95)",
  sessionIsolation: "Session isolation: cross-contaminated sessions",
  concurrentSessions: "Concurrent sessions (peak)",
  sessions: "Sessions per version (the alerts' minimum volume)",
  alertsRow: "Alerts",
  activeAlerts: "Active alerts (pending and firing)",
} as const;

export interface DashboardOptions {
  /** The stack: the rollout series' stack label, the title, the uid and a tag. */
  stack: string;
}

const datasourceRef = (): DataSourceRef => ({ type: PROMETHEUS_DATASOURCE_TYPE, uid: `\${${DATASOURCE_VARIABLE}}` });

function query(refId: string, expr: string, legend?: string): DataqueryBuilder {
  const q = new DataqueryBuilder().refId(refId).expr(expr).datasource(datasourceRef());
  return legend === undefined ? q : q.legendFormat(legend);
}

const perVersion = `{{${VERSION_LABEL}}}`;

function timeseries(id: number, title: string, description: string, unit: string, steps: Threshold[]): TimeseriesPanelBuilder {
  return new TimeseriesPanelBuilder()
    .id(id)
    .title(title)
    .description(description)
    .datasource(datasourceRef())
    .unit(unit)
    .min(0)
    .thresholds(new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute).steps(steps))
    .thresholdsStyle(new GraphThresholdsStyleConfigBuilder().mode(GraphThresholdsStyleMode.Line))
    .legend(new VizLegendOptionsBuilder().showLegend(true).displayMode(LegendDisplayMode.Table).placement(LegendPlacement.Bottom).calcs(["lastNotNull", "max"]))
    .span(12)
    .height(8);
}

function stat(id: number, title: string, description: string, expr: string): StatPanelBuilder {
  return new StatPanelBuilder()
    .id(id)
    .title(title)
    .description(description)
    .datasource(datasourceRef())
    .withTarget(query("A", expr).instant().format(PromQueryFormat.TimeSeries))
    .reduceOptions(new ReduceDataOptionsBuilder().calcs(["lastNotNull"]).values(false))
    .thresholds(new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute).steps([{ value: null, color: LEVEL_COLORS.neutral }]))
    .graphMode(BigValueGraphMode.None)
    .colorMode(BigValueColorMode.Value)
    .noValue("no rollout record")
    .height(4);
}

const FLAG_MAPPINGS: ValueMapping[] = [
  {
    type: MappingType.ValueToText,
    options: {
      // The flags as the app's environment spells them (core/stages.ts appEnv).
      "1": { text: String(true), color: LEVEL_COLORS.ok, index: 0 },
      "0": { text: String(false), color: LEVEL_COLORS.belowMinimum, index: 1 },
    },
  },
];

/** The stack's dashboard as Grafana's dashboard model. */
export function grafanaDashboard(config: RolloutConfig, opts: DashboardOptions): Dashboard {
  const t = config.thresholds;
  const a = config.alerting;
  const stack = opts.stack;
  const rollout = (metric: string) => selectLabel(metric, ROLLOUT_STACK_LABEL, stack);

  const b = new DashboardBuilder(`ValueCanvas rollout: ${stack}`)
    .uid(dashboardUid(stack))
    .description(
      `The Phase 3 deployment guide's Monitoring Dashboard for stack ${stack}, generated by core/alerts/grafanaDashboard.ts from the stack's config ` +
        `(npm run render -- --stack ${stack}); pick the stack's Prometheus as the ${DATASOURCE_VARIABLE} variable.`,
    )
    .tags(["valuecanvas", "rollout", stack])
    .editable()
    .tooltip(DashboardCursorSync.Crosshair)
    .time({ from: "now-6h", to: "now" })
    .timezone("browser")
    .refresh("1m")
    // Grafana's own built-in annotation, as every dashboard it exports has it (the SDK writes none).
    .annotation(
      new AnnotationQueryBuilder()
        .name("Annotations & Alerts")
        .datasource({ type: "grafana", uid: "-- Grafana --" })
        .enable(true)
        .hide(true)
        .iconColor("rgba(0, 211, 255, 1)")
        .type("dashboard")
        .builtIn(1),
    )
    .withVariable(
      new DatasourceVariableBuilder(DATASOURCE_VARIABLE)
        .label("Prometheus")
        .description(`The stack's Prometheus (the one that scrapes its exporter)`)
        .type(PROMETHEUS_DATASOURCE_TYPE),
    );

  // Deployed rollout.
  b.withRow(new RowBuilder(PANEL_TITLES.deployedRow).id(1));
  b.withPanel(
    stat(2, PANEL_TITLES.canaryPercentage, `The deployed ${ENV_NAMES.canaryPercentage}: the stage of the stack's newest rollout record.`, rollout(ROLLOUT_METRICS.canaryPercentage))
      .unit("percent")
      .min(0)
      .max(100)
      .span(5),
  );
  b.withPanel(
    stat(3, PANEL_TITLES.statelessOrchestration, `The deployed ${ENV_NAMES.statelessOrchestration}.`, rollout(ROLLOUT_METRICS.statelessOrchestration))
      .mappings(FLAG_MAPPINGS)
      .span(5),
  );
  b.withPanel(
    stat(4, PANEL_TITLES.safeJsonParser, `The deployed ${ENV_NAMES.safeJsonParser}.`, rollout(ROLLOUT_METRICS.safeJsonParser))
      .mappings(FLAG_MAPPINGS)
      .span(5),
  );
  b.withPanel(
    stat(
      5,
      PANEL_TITLES.newPathShare,
      `The share of users the new path serves: ${ENV_NAMES.canaryPercentage} while both flags are on, 0 while either is off (an immediate rollback keeps the percentage and turns the flags off).`,
      `${rollout(ROLLOUT_METRICS.canaryPercentage)} * ${rollout(ROLLOUT_METRICS.statelessOrchestration)} * ${rollout(ROLLOUT_METRICS.safeJsonParser)}`,
    )
      .unit("percent")
      .min(0)
      .max(100)
      .span(5),
  );
  b.withPanel(
    stat(6, PANEL_TITLES.recordedAt, "When the stack's newest rollout record was written (the last `pulumi up` that changed the stage or a flag).", `${rollout(ROLLOUT_METRICS.recordedAt)} * 1000`)
      .unit("dateTimeFromNow")
      .span(4),
  );

  // The guide's key metrics, per version.
  b.withRow(new RowBuilder(PANEL_TITLES.keyMetricsRow).id(7));
  b.withPanel(
    timeseries(
      8,
      PANEL_TITLES.errorRate,
      `100 × errors / sessions per version, from the exact counts as the alerts compute it. Lines: target ${num(t.targetErrorRatePct)} %, ` +
        `warning ${num(t.errorRateWarningPct)} % (ModerateErrorRate), critical ${num(t.errorRateCriticalPct)} % (HighErrorRate); ` +
        `the alerts also need ${num(a.minRequests)} sessions of the version.`,
      "percent",
      levelSteps(t.targetErrorRatePct, t.errorRateWarningPct, t.errorRateCriticalPct),
    ).withTarget(query("A", ERROR_RATE_PCT_EXPR, perVersion)),
  );
  b.withPanel(
    timeseries(
      9,
      PANEL_TITLES.p95Latency,
      `95th percentile session duration per version. Lines: target ${num(t.targetP95Seconds)} s, warning ${num(t.p95WarningSeconds)} s (ElevatedLatency), ` +
        `critical ${num(t.p95CriticalSeconds)} s (HighLatency).`,
      "s",
      levelSteps(t.targetP95Seconds, t.p95WarningSeconds, t.p95CriticalSeconds),
    ).withTarget(query("A", METRICS.p95Seconds, perVersion)),
  );
  b.withPanel(
    timeseries(
      10,
      PANEL_TITLES.sessionIsolation,
      `Sessions that served more than one user: the view monitoring.session_isolation (every scrape) and the raw count over agent_sessions ` +
        `(refreshed every ${num(a.rawContaminationCheckSeconds)} s). Above ${num(t.contaminationMax)} is critical (SessionIsolationFailure): the guide's action is an immediate rollback.`,
      "none",
      [
        { value: null, color: LEVEL_COLORS.ok },
        { value: t.contaminationMax + 1, color: LEVEL_COLORS.critical },
      ],
    )
      .decimals(0)
      .withTarget(query("A", METRICS.contamination, "view"))
      .withTarget(query("B", METRICS.rawContamination, "raw")),
  );
  b.withPanel(
    timeseries(
      11,
      PANEL_TITLES.concurrentSessions,
      `The most sessions active at one instant in the last 24 hours, per version and for all sessions once. The guide's target: ${num(GUIDE_CONCURRENT_SESSIONS_TARGET)}+ (no alert).`,
      "none",
      minimumSteps(GUIDE_CONCURRENT_SESSIONS_TARGET),
    )
      .decimals(0)
      .withTarget(query("A", CONCURRENT_SESSIONS_METRICS.peak, perVersion)),
  );
  b.withPanel(
    timeseries(
      12,
      PANEL_TITLES.sessions,
      `Sessions per version in the last 24 hours, and those with status 'error'. Below ${num(a.minRequests)} sessions (alerting.minRequests) no error-rate or latency alert fires for that version.`,
      "none",
      minimumSteps(a.minRequests),
    )
      .decimals(0)
      .withTarget(query("A", METRICS.totalRequests, `${perVersion} sessions`))
      .withTarget(query("B", METRICS.errors, `${perVersion} errors`))
      .span(24),
  );

  // Alerts.
  b.withRow(new RowBuilder(PANEL_TITLES.alertsRow).id(13));
  b.withPanel(
    new TablePanelBuilder()
      .id(14)
      .title(PANEL_TITLES.activeAlerts)
      .description("The alert rules' pending and firing alerts in the stack's Prometheus (its ALERTS series); Alertmanager routes and inhibits them (docs/alerts.md).")
      .datasource(datasourceRef())
      .withTarget(query("A", ALERTS_METRIC).instant().format(PromQueryFormat.Table))
      .withTransformation({ id: "organize", options: { excludeByName: { Time: true, __name__: true, Value: true } } })
      .noValue("no alert pending or firing")
      .span(24)
      .height(8),
  );
  return b.build();
}

/** The dashboard file: Grafana's JSON model, as the UI's import and file provisioning read it. */
export function renderGrafanaDashboard(config: RolloutConfig, opts: DashboardOptions): string {
  return JSON.stringify(grafanaDashboard(config, opts), null, 2) + "\n";
}

/** One query of one panel, as Grafana sends it to Prometheus. */
export interface PanelQuery {
  panelId: number;
  panelTitle: string;
  panelType: string;
  refId: string;
  expr: string;
  legendFormat?: string;
  instant: boolean;
}

interface PanelLike {
  id?: number;
  type: string;
  title?: string;
  targets?: unknown[];
  panels?: PanelLike[];
}

/** Every query of every panel (rows' nested panels too), in panel order. */
export function panelQueries(dashboard: Dashboard): PanelQuery[] {
  const out: PanelQuery[] = [];
  const visit = (p: PanelLike) => {
    for (const t of p.targets ?? []) {
      const q = t as { expr?: unknown; refId?: unknown; legendFormat?: unknown; instant?: unknown };
      if (typeof q.expr !== "string") continue;
      out.push({
        panelId: p.id ?? -1,
        panelTitle: p.title ?? "",
        panelType: p.type,
        refId: typeof q.refId === "string" ? q.refId : "",
        expr: q.expr,
        ...(typeof q.legendFormat === "string" ? { legendFormat: q.legendFormat } : {}),
        instant: q.instant === true,
      });
    }
    for (const c of p.panels ?? []) visit(c);
  };
  for (const p of (dashboard.panels ?? []) as PanelLike[]) visit(p);
  return out;
}
