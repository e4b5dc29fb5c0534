/**
 * The database roles' privileges, as data: components/database.ts turns each
 * entry into a `postgresql.Grant`, and the tests apply the same entries as the
 * SQL that resource runs (grantStatements) to a real PostgreSQL.
 *
 * - app: reads and writes agent_sessions, and nothing else. Granted to a
 *   NOLOGIN group role; the app logs in as one of two member login roles, used
 *   in turn (core/appCredentials.ts), so a password rotation fails no request.
 * - monitoring: SELECT on the monitoring views only; cannot read
 *   agent_sessions or the rollup tables, cannot write anything. The rollout
 *   command's read-only SECURITY DEFINER functions (stage_metrics,
 *   stage_contamination, rollout_history, stage_latency_counts: migrations
 *   0008, 0009, 0015; the exporter's current_rollouts, 0032; the report's
 *   stage_interval_metrics, 0033) keep
 *   PostgreSQL's default EXECUTE for PUBLIC; USAGE on
 *   schema monitoring is what lets this role, and no other, reach them. Its
 *   one write goes the same way: monitoring.record_gate_look (0030, 0031)
 *   counts a look at a recorded stage in monitoring.gate_look_counts, on
 *   which it holds no privilege.
 *
 * Pure: no Pulumi import.
 */

/**
 * The role each kind's ROLE_GRANTS are granted to. Monitoring: its login role.
 * App: the NOLOGIN group role whose members are the app's login roles
 * (core/appCredentials.ts APP_LOGIN_ROLES).
 */
export const ROLE_NAMES = {
  app: "valuecanvas_app_group",
  monitoring: "valuecanvas_monitoring",
} as const;
export type RoleKey = keyof typeof ROLE_NAMES;

/** The views of schema `monitoring` (sql/0007_monitoring_views.sql; concurrent_sessions: sql/0020). */
export const MONITORING_VIEW_NAMES = [
  "error_rate_by_version",
  "latency_by_version",
  "session_isolation",
  "error_patterns",
  "slow_sessions",
  "contaminated_sessions",
  // sql/0012_bounded_durations.sql: rows whose timestamps give no duration.
  "data_problems",
  // sql/0020_concurrent_sessions.sql: the guide's key metric 4.
  "concurrent_sessions",
] as const;

/** One `postgresql.Grant` (objectType schema or table; views are tables to GRANT). */
export interface GrantSpec {
  /** Stable resource-name suffix. */
  key: string;
  objectType: "schema" | "table";
  schema: string;
  /** Tables or views in `schema` (objectType table only). */
  objects?: readonly string[];
  privileges: readonly string[];
}

export const ROLE_GRANTS: Readonly<Record<RoleKey, readonly GrantSpec[]>> = Object.freeze({
  app: [
    { key: "public-usage", objectType: "schema", schema: "public", privileges: ["USAGE"] },
    {
      key: "agent-sessions",
      objectType: "table",
      schema: "public",
      objects: ["agent_sessions"],
      privileges: ["SELECT", "INSERT", "UPDATE", "DELETE"],
    },
  ],
  monitoring: [
    { key: "monitoring-usage", objectType: "schema", schema: "monitoring", privileges: ["USAGE"] },
    { key: "monitoring-views", objectType: "table", schema: "monitoring", objects: MONITORING_VIEW_NAMES, privileges: ["SELECT"] },
  ],
});

/** Login role attributes besides LOGIN and the password (app: those of each of its login roles). */
export interface RoleSettings {
  /** statement_timeout in milliseconds (0: none). */
  statementTimeoutMs: number;
  /** Maximum concurrent connections (-1: no limit). */
  connectionLimit: number;
}

export const ROLE_SETTINGS: Readonly<Record<RoleKey, RoleSettings>> = Object.freeze({
  app: { statementTimeoutMs: 0, connectionLimit: -1 },
  // A scrape or a gate query never runs long, and never crowds out the app.
  monitoring: { statementTimeoutMs: 10_000, connectionLimit: 10 },
});

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * The SQL the postgresql provider's Grant (terraform-provider-postgresql)
 * runs for `spec`, in one transaction: for a schema, revoke all privileges
 * then grant; for listed tables, revoke the listed privileges on them (older
 * provider releases revoked all) then grant them.
 */
export function grantStatements(role: string, spec: GrantSpec): string[] {
  const r = quoteIdent(role);
  const privs = spec.privileges.join(", ");
  if (spec.objectType === "schema") {
    const s = quoteIdent(spec.schema);
    return [`REVOKE ALL PRIVILEGES ON SCHEMA ${s} FROM ${r}`, `GRANT ${privs} ON SCHEMA ${s} TO ${r}`];
  }
  const objs = (spec.objects ?? []).map((o) => `${quoteIdent(spec.schema)}.${quoteIdent(o)}`).join(", ");
  return [`REVOKE ${privs} ON TABLE ${objs} FROM ${r}`, `GRANT ${privs} ON TABLE ${objs} TO ${r}`];
}

/** Every grant statement of a role, in order. */
export function roleGrantStatements(key: RoleKey, roleName: string = ROLE_NAMES[key]): string[] {
  return ROLE_GRANTS[key].flatMap((g) => grantStatements(roleName, g));
}
