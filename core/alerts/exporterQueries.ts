/**
 * Custom queries for `prometheus-postgres-exporter` (`--extend.query-path`).
 *
 * Each every-scrape query reads one view of the `monitoring` schema (the
 * guide's monitoring queries, made into views by the database migrations) and
 * nothing else: the exporter connects as the monitoring role, which may read
 * only those views.
 *
 * The view monitoring.session_isolation (sql/0011) is read every scrape, uncached:
 * it counts quarantined legacy sessions and sessions a replica-role write
 * contaminated (both recorded by the database), and reads the whole window
 * whenever the isolation enforcement is not intact (a trigger disabled or left
 * origin-only, the owner foreign key dropped or disabled). One more query
 * counts cross-user contamination from agent_sessions itself, through the
 * read-only SECURITY DEFINER function monitoring.stage_contamination (sql/0008,
 * EXECUTE from PUBLIC's default), as a backstop for what no catalog state
 * shows (docs/reliability.md). It scans the 24-hour window, so it runs with
 * the exporter's per-query `cache_seconds` (alerting.rawContaminationCheckSeconds):
 * at most once per that interval; scrapes in between get the cached value.
 *
 * The file format is the exporter's "queries.yaml": a map of metric namespace
 * to `{ query, master, metrics: [{ <column>: { usage, description } }] }`. The
 * exporter names each metric `<namespace>_<column>`; `LABEL` columns become
 * labels. The format is the same in Debian's 0.11.1 (which the tests run) and
 * the upstream image (0.13+ marks the feature deprecated but still reads it),
 * including `cache_seconds`.
 *
 * Pure: no Pulumi import.
 */
import { stringify } from "yaml";
import type { AlertingConfig } from "../configSchema";
import { ROLE_SETTINGS } from "../grants";
import { ENV_NAMES } from "../stages";

export type ColumnUsage = "LABEL" | "GAUGE" | "COUNTER";

export interface ExporterColumn {
  usage: ColumnUsage;
  description: string;
}

export interface ExporterQuery {
  /** SQL run each scrape (or each `cache_seconds`); reads one `monitoring` view or read-only function. */
  query: string;
  /** Run only on the database of the DSN (never on auto-discovered ones). */
  master: true;
  /** Re-run at most every this many seconds; scrapes in between return the cached result. */
  cache_seconds?: number;
  /** One entry per selected column, in select order. */
  metrics: Array<Record<string, ExporterColumn>>;
}

/** The metric namespaces (prefixes) of the custom queries. */
export const EXPORTER_NAMESPACES = {
  errorRate: "valuecanvas_error_rate",
  latency: "valuecanvas_latency",
  sessionIsolation: "valuecanvas_session_isolation",
  rawSessionIsolation: "valuecanvas_session_isolation_raw",
} as const;

/** The views the exporter reads (schema `monitoring`, from the database migrations). */
export const MONITORING_VIEWS = {
  errorRate: "monitoring.error_rate_by_version",
  latency: "monitoring.latency_by_version",
  sessionIsolation: "monitoring.session_isolation",
} as const;

/** The read-only SECURITY DEFINER function the raw contamination count calls (sql/0008). */
export const STAGE_CONTAMINATION_FUNCTION = "monitoring.stage_contamination";

/**
 * The guide's cross-contamination count over its 24-hour window (no upper
 * bound), computed from agent_sessions itself.
 */
export const RAW_CONTAMINATION_QUERY =
  `SELECT ${STAGE_CONTAMINATION_FUNCTION}(now() - interval '24 hours', 'infinity')::float8 AS cross_contamination_count`;

/** Label values of `version`, as the views return them (the guide's CASE). */
export const VERSIONS = ["New", "Legacy"] as const;
export type Version = (typeof VERSIONS)[number];

/** The label that carries the code path (values: VERSIONS). */
export const VERSION_LABEL = "version";

const versionLabel: Record<string, ExporterColumn> = {
  [VERSION_LABEL]: { usage: "LABEL", description: "Code path: New (metadata useStateless = 'true') or Legacy" },
};

/**
 * The exporter's every-scrape custom queries, keyed by metric namespace.
 * Numeric columns are cast to float8 so that every exporter version reads them
 * as numbers. All the queries the exporter runs: exporterQueries(config).
 */
export const EXPORTER_QUERIES: Readonly<Record<string, ExporterQuery>> = Object.freeze({
  [EXPORTER_NAMESPACES.errorRate]: {
    query:
      "SELECT version, total_requests::float8 AS total_requests, errors::float8 AS errors, error_rate::float8 AS error_rate " +
      `FROM ${MONITORING_VIEWS.errorRate}`,
    master: true,
    metrics: [
      versionLabel,
      { total_requests: { usage: "GAUGE", description: "Agent sessions created in the last 24 hours, by version" } },
      { errors: { usage: "GAUGE", description: "Agent sessions with status 'error' created in the last 24 hours, by version" } },
      { error_rate: { usage: "GAUGE", description: "Error rate in percent over the last 24 hours, rounded to 2 decimals (the guide's query)" } },
    ],
  },
  [EXPORTER_NAMESPACES.latency]: {
    query:
      "SELECT version, avg_duration_seconds::float8 AS avg_duration_seconds, p95_duration_seconds::float8 AS p95_duration_seconds " +
      `FROM ${MONITORING_VIEWS.latency}`,
    master: true,
    metrics: [
      versionLabel,
      { avg_duration_seconds: { usage: "GAUGE", description: "Average session duration (updated_at - created_at) over the last 24 hours, seconds" } },
      { p95_duration_seconds: { usage: "GAUGE", description: "95th percentile session duration over the last 24 hours, seconds" } },
    ],
  },
  [EXPORTER_NAMESPACES.sessionIsolation]: {
    query: `SELECT cross_contamination_count::float8 AS cross_contamination_count FROM ${MONITORING_VIEWS.sessionIsolation}`,
    master: true,
    metrics: [
      { cross_contamination_count: { usage: "GAUGE", description: "Sessions seen with more than one user_id in the last 24 hours (must be 0)" } },
    ],
  },
});

/** Full metric names, as Prometheus sees them. */
export const METRICS = {
  totalRequests: `${EXPORTER_NAMESPACES.errorRate}_total_requests`,
  errors: `${EXPORTER_NAMESPACES.errorRate}_errors`,
  errorRatePct: `${EXPORTER_NAMESPACES.errorRate}_error_rate`,
  avgSeconds: `${EXPORTER_NAMESPACES.latency}_avg_duration_seconds`,
  p95Seconds: `${EXPORTER_NAMESPACES.latency}_p95_duration_seconds`,
  contamination: `${EXPORTER_NAMESPACES.sessionIsolation}_cross_contamination_count`,
  rawContamination: `${EXPORTER_NAMESPACES.rawSessionIsolation}_cross_contamination_count`,
} as const;

/** The raw contamination count, re-run at most every `cacheSeconds` (0: every scrape). */
export function rawContaminationQuery(cacheSeconds: number): ExporterQuery {
  return {
    query: RAW_CONTAMINATION_QUERY,
    master: true,
    cache_seconds: cacheSeconds,
    metrics: [
      {
        cross_contamination_count: {
          usage: "GAUGE",
          description:
            `Sessions with more than one user_id in the last 24 hours, counted from agent_sessions (also rows that bypassed the isolation trigger); refreshed at most every ${cacheSeconds}s (must be 0)`,
        },
      },
    ],
  };
}

/** Every query the exporter runs: the every-scrape queries, the cached raw contamination count, the concurrent sessions (cached), the deployed rollout state. */
export function exporterQueries(alerting: Pick<AlertingConfig, "rawContaminationCheckSeconds">): Record<string, ExporterQuery> {
  return {
    ...EXPORTER_QUERIES,
    [EXPORTER_NAMESPACES.rawSessionIsolation]: rawContaminationQuery(alerting.rawContaminationCheckSeconds),
    [CONCURRENT_SESSIONS_NAMESPACE]: CONCURRENT_SESSIONS_QUERY,
    [ROLLOUT_NAMESPACE]: ROLLOUT_QUERY,
  };
}

/**
 * The exporter's command-line flags for the rendered query file at `queryPath`.
 * Only flags every version from Debian's 0.11.1 to the pinned image accepts
 * (an unknown flag stops the exporter).
 */
export function exporterArgs(queryPath: string, listenAddress = ":9187"): string[] {
  return [`--extend.query-path=${queryPath}`, `--web.listen-address=${listenAddress}`];
}

/**
 * The exporter's statement timeout (ms). The monitoring role can lift any
 * timeout set on itself (`ALTER ROLE … SET`, `SET`), and a function's own
 * `statement_timeout` does not bound the statement that runs it (sql/0013), so
 * the CPU bound of every scrape lives in the exporter's connection: lib/pq
 * sends the DSN's non-driver parameters as run-time settings at startup.
 * The value is the monitoring role's own bound (core/grants.ts), enforced here.
 */
export const EXPORTER_STATEMENT_TIMEOUT_MS = ROLE_SETTINGS.monitoring.statementTimeoutMs;

/** The exporter's DSN: the monitoring URL with the statement timeout as a connection setting (URL API, no pasting). */
export function exporterDsn(monitoringUrl: string, statementTimeoutMs = EXPORTER_STATEMENT_TIMEOUT_MS): string {
  const u = new URL(monitoringUrl);
  u.searchParams.set("statement_timeout", String(statementTimeoutMs));
  return u.toString();
}

/** The exporter's connection in the parts its `DATA_SOURCE_*` settings take, so the password can be a file. */
export interface ExporterSource {
  /** DATA_SOURCE_URI: host:port/database?parameters, no user or password. */
  uri: string;
  /** DATA_SOURCE_USER. */
  user: string;
  /** What the DATA_SOURCE_PASS_FILE file holds: a secret. */
  password: string;
}

/**
 * exporterDsn split for the exporter's `DATA_SOURCE_URI` + `DATA_SOURCE_USER` + `DATA_SOURCE_PASS_FILE`
 * (prometheus-postgres-exporter 0.11, Debian's, reads them when DATA_SOURCE_NAME is unset and builds
 * `postgresql://user:pass@uri`, escaping user and password itself): the password leaves the env.
 */
export function exporterSource(monitoringUrl: string, statementTimeoutMs = EXPORTER_STATEMENT_TIMEOUT_MS): ExporterSource {
  const u = new URL(exporterDsn(monitoringUrl, statementTimeoutMs));
  return { uri: `${u.host}${u.pathname}${u.search}`, user: decodeURIComponent(u.username), password: decodeURIComponent(u.password) };
}

/**
 * Environment for the exporter: only the custom queries and the exporter's own
 * health (the monitoring role reads the views and nothing else). Set through
 * the environment because newer exporters dropped some of these flags and
 * ignore unknown variables, where an unknown flag would stop them.
 */
export const EXPORTER_ENV: Readonly<Record<string, string>> = Object.freeze({
  PG_EXPORTER_DISABLE_DEFAULT_METRICS: "true",
  PG_EXPORTER_DISABLE_SETTINGS_METRICS: "true",
});

/** The exporter's query file (YAML). */
export function renderExporterQueries(alerting: Pick<AlertingConfig, "rawContaminationCheckSeconds">): string {
  return (
    "# Generated by core/alerts/exporterQueries.ts: custom queries for prometheus-postgres-exporter.\n" +
    "# Each runs as the monitoring role and reads one view of the monitoring schema, or one read-only function:\n" +
    `# ${EXPORTER_NAMESPACES.rawSessionIsolation} (cache_seconds) counts contamination from agent_sessions through\n` +
    `# ${STAGE_CONTAMINATION_FUNCTION}; ${ROLLOUT_NAMESPACE} reads each stack's newest rollout record through\n` +
    `# ${CURRENT_ROLLOUTS_FUNCTION}.\n` +
    stringify(exporterQueries(alerting), { lineWidth: 0, aliasDuplicateObjects: false })
  );
}

// ---------------------------------------------------------------------------
// Concurrent sessions (the guide's key metric 4; sql/0020, docs/report.md).
// The guide sets no warning or critical level for it, so no alert rule reads
// these metrics; they are for the dashboard and the rollout report.

export const CONCURRENT_SESSIONS_NAMESPACE = "valuecanvas_concurrent_sessions";
export const CONCURRENT_SESSIONS_VIEW = "monitoring.concurrent_sessions";
/**
 * The view reads the last 24 hours of agent_sessions (no rollup table keeps
 * it cheap), so the exporter re-runs it at most every this many seconds.
 */
export const CONCURRENT_SESSIONS_CACHE_SECONDS = 60;

export const CONCURRENT_SESSIONS_METRICS = {
  peak: `${CONCURRENT_SESSIONS_NAMESPACE}_peak_concurrent`,
  average: `${CONCURRENT_SESSIONS_NAMESPACE}_avg_concurrent`,
  sessions: `${CONCURRENT_SESSIONS_NAMESPACE}_sessions`,
} as const;

const concurrentSessionsQuery: ExporterQuery = {
  query:
    "SELECT version, peak_concurrent::float8 AS peak_concurrent, avg_concurrent::float8 AS avg_concurrent, sessions::float8 AS sessions " +
    `FROM ${CONCURRENT_SESSIONS_VIEW}`,
  master: true,
  cache_seconds: CONCURRENT_SESSIONS_CACHE_SECONDS,
  metrics: [
    { [VERSION_LABEL]: { usage: "LABEL", description: "Code path: New (metadata useStateless = 'true'), Legacy, or All (every session once)" } },
    { peak_concurrent: { usage: "GAUGE", description: "Most sessions active at one instant in the last 24 hours (guide target: 100+; no alert)" } },
    { avg_concurrent: { usage: "GAUGE", description: "Sessions active on average over the last 24 hours" } },
    { sessions: { usage: "GAUGE", description: "Distinct session_ids with a request in the last 24 hours" } },
  ],
};
export const CONCURRENT_SESSIONS_QUERY: Readonly<ExporterQuery> = Object.freeze(concurrentSessionsQuery);

// ---------------------------------------------------------------------------
// The deployed rollout state (issue 24: the Grafana dashboard's stage and flags).
// The newest rollout record of each stack (monitoring.rollout_events, written
// by the program's RolloutRecord on every `up` that changes the stage or the
// flags), through the read-only SECURITY DEFINER function
// monitoring.current_rollouts (sql/0032): the monitoring role has no right on
// the table. No alert rule reads these metrics.

export const ROLLOUT_NAMESPACE = "valuecanvas_rollout";
/** The read-only SECURITY DEFINER function the rollout query calls (sql/0032). */
export const CURRENT_ROLLOUTS_FUNCTION = "monitoring.current_rollouts";
/** The label that carries the record's stack (the same name as Prometheus' external label, and the same value). */
export const ROLLOUT_STACK_LABEL = "stack";

/** The metrics' columns, named after the guide's environment variables (core/stages.ts ENV_NAMES). */
export const ROLLOUT_COLUMNS = {
  canaryPercentage: ENV_NAMES.canaryPercentage.toLowerCase(),
  statelessOrchestration: ENV_NAMES.statelessOrchestration.toLowerCase(),
  safeJsonParser: ENV_NAMES.safeJsonParser.toLowerCase(),
  recordedAt: "recorded_at_seconds",
} as const;

export const ROLLOUT_METRICS = {
  /** The deployed CANARY_PERCENTAGE (the record's to_stage). */
  canaryPercentage: `${ROLLOUT_NAMESPACE}_${ROLLOUT_COLUMNS.canaryPercentage}`,
  /** ENABLE_STATELESS_ORCHESTRATION: 1 on, 0 off. */
  statelessOrchestration: `${ROLLOUT_NAMESPACE}_${ROLLOUT_COLUMNS.statelessOrchestration}`,
  /** ENABLE_SAFE_JSON_PARSER: 1 on, 0 off. */
  safeJsonParser: `${ROLLOUT_NAMESPACE}_${ROLLOUT_COLUMNS.safeJsonParser}`,
  /** When the record was written, Unix seconds. */
  recordedAt: `${ROLLOUT_NAMESPACE}_${ROLLOUT_COLUMNS.recordedAt}`,
} as const;

const rolloutQuery: ExporterQuery = {
  query:
    `SELECT stack, canary_percentage::float8 AS ${ROLLOUT_COLUMNS.canaryPercentage}, ` +
    `enable_stateless_orchestration::int::float8 AS ${ROLLOUT_COLUMNS.statelessOrchestration}, ` +
    `enable_safe_json_parser::int::float8 AS ${ROLLOUT_COLUMNS.safeJsonParser}, ` +
    `date_part('epoch', recorded_at)::float8 AS ${ROLLOUT_COLUMNS.recordedAt} ` +
    `FROM ${CURRENT_ROLLOUTS_FUNCTION}()`,
  master: true,
  metrics: [
    { [ROLLOUT_STACK_LABEL]: { usage: "LABEL", description: "The stack the rollout record is for" } },
    { [ROLLOUT_COLUMNS.canaryPercentage]: { usage: "GAUGE", description: `The deployed ${ENV_NAMES.canaryPercentage}: the stage of the stack's newest rollout record` } },
    { [ROLLOUT_COLUMNS.statelessOrchestration]: { usage: "GAUGE", description: `The deployed ${ENV_NAMES.statelessOrchestration}: 1 on, 0 off` } },
    { [ROLLOUT_COLUMNS.safeJsonParser]: { usage: "GAUGE", description: `The deployed ${ENV_NAMES.safeJsonParser}: 1 on, 0 off` } },
    { [ROLLOUT_COLUMNS.recordedAt]: { usage: "GAUGE", description: "When the stack's newest rollout record was written, Unix seconds" } },
  ],
};
/** Every scrape: one indexed read of a small table. */
export const ROLLOUT_QUERY: Readonly<ExporterQuery> = Object.freeze(rolloutQuery);
