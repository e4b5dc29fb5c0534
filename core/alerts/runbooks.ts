/**
 * Runbook text for the alerts: the guide's "Troubleshooting" actions, with the
 * exact commands of this project. Pure.
 */
import { changeBranch, changeFromMain } from "../workflow";

/** The guide's immediate rollback for a stack, as commands run from the repo root: the RUNBOOK's reviewed change (core/workflow.ts); the merge runs pulumi up. */
export function immediateRollbackCommands(stack: string): string[] {
  return changeFromMain({
    stack,
    file: `Pulumi.${stack}.yaml`,
    message: `rollout(${stack}): immediate rollback, both flags off`,
    branch: changeBranch(stack, { kind: "immediate-rollback" }),
    edit: `npx rollout rollback --stack ${stack} --immediate`,
  });
}

/** The guide's gradual rollback (one stage back) for a stack. */
export function gradualRollbackCommands(stack: string): string[] {
  return changeFromMain({
    stack,
    file: `Pulumi.${stack}.yaml`,
    message: `rollout(${stack}): gradual rollback, one stage back`,
    branch: changeBranch(stack, { kind: "rollback", to: "gradual" }),
    edit: `npx rollout rollback --stack ${stack}`,
  });
}

/** Said after a rollback's commands: who applies it. */
const MERGE_APPLIES = "(merge the pull request as soon as its preview shows only that change: the merge runs pulumi up)";

const steps = (lines: string[]) => lines.map((l, i) => `${i + 1}. ${l}`).join("\n");

export function errorRateRunbook(stack: string, critical: boolean): string {
  const rollback = critical
    ? `If new errors, roll back: ${gradualRollbackCommands(stack).join(" && ")} ${MERGE_APPLIES} (one stage back; for a severe incident use the immediate rollback: ${immediateRollbackCommands(stack).join(" && ")} ${MERGE_APPLIES})`
    : `If new errors, consider rollback: ${gradualRollbackCommands(stack).join(" && ")} ${MERGE_APPLIES}`;
  return [
    "Guide, Troubleshooting > High Error Rate. Investigate the error patterns of the last hour (SELECT error_message, COUNT(*) FROM agent_sessions WHERE status = 'error' AND created_at > NOW() - INTERVAL '1 hour' GROUP BY error_message ORDER BY 2 DESC LIMIT 10), then:",
    steps([
      "Check if errors are new or existing",
      "Review error logs for stack traces",
      rollback,
      "If existing errors, continue monitoring",
    ]),
  ].join("\n");
}

export function latencyRunbook(stack: string, critical: boolean): string {
  const lines = [
    "Check database query performance",
    "Review agent processing time",
    "Check for external API delays",
    "Consider caching improvements",
  ];
  if (critical) {
    lines.push(`P95 above the pause level: pause the rollout; if it persists roll back one stage: ${gradualRollbackCommands(stack).join(" && ")} ${MERGE_APPLIES}`);
  }
  return [
    "Guide, Troubleshooting > High Latency. Investigate the slowest sessions of the last hour (session_id, user_id, workflow_state->>'currentStage', duration), then:",
    steps(lines),
  ].join("\n");
}

/** The guide's query for sessions that served more than one user, over a fixed window (a literal, never config). */
function contaminatedSessionsQuery(window: "1 hour" | "24 hours"): string {
  return `SELECT session_id, ARRAY_AGG(DISTINCT user_id), COUNT(*) FROM agent_sessions WHERE created_at > NOW() - INTERVAL '${window}' GROUP BY session_id HAVING COUNT(DISTINCT user_id) > 1`;
}

export function contaminationRunbook(stack: string): string {
  return [
    "Guide, Troubleshooting > Session Isolation Failure. A session served more than one user: this is critical.",
    steps([
      `IMMEDIATE ROLLBACK (both flags off): ${immediateRollbackCommands(stack).join(" && ")} ${MERGE_APPLIES}`,
      "Review session creation logic",
      "Check for race conditions",
      "Verify database constraints",
      "Fix and re-test before re-deployment",
    ]),
    `Find the contaminated sessions: ${contaminatedSessionsQuery("1 hour")}`,
  ].join("\n");
}

export function contaminationUnmonitoredRunbook(stack: string): string {
  return [
    "The exporter's contamination counts are missing: until they are back, nothing pages for session contamination.",
    steps([
      "Check the postgres exporter container (running? its log: connection or permission errors from the monitoring role)",
      "Check Prometheus's target page: is the exporter's target up?",
      `Meanwhile check contamination by hand: npx rollout status --stack ${stack}, or the query below`,
      `If a session served more than one user, IMMEDIATE ROLLBACK (both flags off): ${immediateRollbackCommands(stack).join(" && ")} ${MERGE_APPLIES}`,
    ]),
    `Find contaminated sessions over the alerts' window: ${contaminatedSessionsQuery("24 hours")}`,
  ].join("\n");
}
