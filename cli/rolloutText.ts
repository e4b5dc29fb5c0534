/**
 * The text `rollout` prints besides the gate's (core/gateText.ts): the
 * configured and deployed state, the live views, an edit and its next
 * commands, the drill's table.
 */
import * as path from "node:path";
import { HOUR_MS } from "../core/gate";
import { formatGate } from "../core/gateText";
import { n2, shortTime, table } from "../core/plainText";
import { flagText, flagsOn } from "../core/stages";
import { holdText } from "../core/gateText";
import type { Assessment } from "../db/assessment";
import { LiveViews } from "../db/rolloutStore";
import { DrillResult } from "../drill/drill";
import { EditResult } from "../stack/stackEdit";
import { RECOVERY_AFTER_ROLLBACK, SwarmRunning } from "../core/rollout";

/** What Swarm runs (`rollout status`), or why it could not be asked; the records above are then all there is. */
export function formatSwarm(s: { engine: string; services: SwarmRunning[] } | { engine: string; unreachable: string }): string {
  if ("unreachable" in s) return `swarm: no engine reachable at ${s.engine} (${s.unreachable}); what runs is unknown: the records above are what the last successful \`pulumi up\` wrote\n`;
  if (s.services.length === 0) return `swarm: no app service on the engine at ${s.engine}\n`;
  let out = "";
  for (const r of s.services) {
    out += `swarm (${s.engine}): service ${r.service}, last update ${r.updateState ?? "none"}${r.updateMessage ? `: ${r.updateMessage}` : ""}\n`;
    if (r.rolledBack) out += `  Swarm rolled back the last update: the service runs the previous spec (${RECOVERY_AFTER_ROLLBACK}: docs/RUNBOOK.md)\n`;
    for (const i of r.images) out += `  image ${i.image}: ${i.tasks} task(s) running\n`;
    for (const f of r.flags) out += `  ${Object.entries(f.values).map(([k, v]) => `${k}=${v}`).join(" ") || "(no rollout env)"}: ${f.tasks} task(s)\n`;
    if (r.images.length === 0) out += "  no task running\n";
  }
  return out;
}

/** The stack, what its file configures and what is deployed since when; times to the minute unless `verbose`. */
export function formatHeader(a: Assessment, stack: string, verbose = false): string {
  const at = (d: Date) => (verbose ? d.toISOString() : shortTime(d));
  const since = a.deployedSince
    ? `since ${at(a.deployedSince)} (${((a.asOf.getTime() - a.deployedSince.getTime()) / HOUR_MS).toFixed(1)} h)`
    : "(no rollout record)";
  let s = `stack ${stack}\n`;
  s += `configured: ${a.configured.canaryPercentage}% (${flagText(a.configured)}) in Pulumi.${stack}.yaml\n`;
  s += `deployed:   ${a.deployed.canaryPercentage}% (${flagText(a.deployed)}) ${since}\n`;
  if (a.gate.hold) s += `hold:       ${holdText(a.gate.hold)} (remove it with: npx rollout release --stack ${stack})\n`;
  for (const n of a.notes) s += `note: ${n}\n`;
  return s;
}

/** One rollout record in a line: when, the stage change, the flags, who, at which commit and image, why. */
export function formatRecord(e: Assessment["history"][number], verbose = false): string {
  return `${verbose ? e.createdAt.toISOString() : shortTime(e.createdAt)}  ${e.fromStage === null ? "(first record)" : `${e.fromStage}%`} -> ${e.toStage}% (${flagText(e.flags)})` +
    `${e.actor ? ` by ${e.actor}` : ""}${e.gitCommit ? ` at ${e.gitCommit.slice(0, 12)}` : ""}${verbose && e.imageDigest ? ` image ${e.imageDigest.slice(0, 19)}` : ""}${e.reason ? `: ${e.reason}` : ""}`;
}

/**
 * `rollout status`: the header, the last change, the exposure and the gate, about 25 lines; `verbose`
 * adds the history, the 24 h views by version and the gate's full text.
 */
export function formatStatus(a: Assessment & { views?: LiveViews }, stack: string, verbose: boolean, swarm?: Parameters<typeof formatSwarm>[0]): string {
  let text = formatHeader(a, stack, verbose);
  if (verbose) {
    text += `history (newest first):\n`;
    for (const e of a.history.slice(0, 5)) text += `  ${formatRecord(e, true)}\n`;
    if (a.history.length === 0) text += "  (none)\n";
    if (a.views) text += formatViews(a.views);
  } else {
    text += a.history.length === 0 ? "last change: (no rollout record)\n" : `last change: ${formatRecord(a.history[0])}\n`;
  }
  text += `exposure: ${a.exposure.message}${a.exposure.flagged ? " [FLAGGED]" : ""}\n`;
  if (swarm) text += formatSwarm(swarm);
  return text + formatGate(a.gate, "gate's", verbose);
}

export function formatViews(v: LiveViews): string {
  const block = (title: string, rows: Record<string, string | number | null>[]) => {
    if (rows.length === 0) return `${title}: no rows\n`;
    const cols = Object.keys(rows[0]);
    // A unit on every number: the views name it in the column (error_rate_pct, p95_seconds).
    const cell = (c: string, v: string | number | null | undefined) =>
      v === null || v === undefined ? "-" : typeof v === "number" && c.endsWith("_pct") ? `${v}%` : typeof v === "number" && c.endsWith("_seconds") ? `${v} s` : String(v);
    const body = table([cols, ...rows.map((r) => cols.map((c) => cell(c, r[c])))]);
    return `${title}:\n` + body.split("\n").filter(Boolean).map((l) => `  ${l}\n`).join("");
  };
  return block("error rate by version (24 h)", v.errorRateByVersion) + block("latency by version (24 h)", v.latencyByVersion) + block("session isolation (24 h)", v.sessionIsolation);
}

export function formatEdit(r: EditResult, commands: string[]): string {
  let s = `${r.plan.summary}\n${r.diff}\n`;
  s += r.written ? `wrote ${path.basename(r.file)}\n` : `dry run: ${path.basename(r.file)} not written\n`;
  s += `next:\n${commands.map((c) => `  ${c}`).join("\n")}\n`;
  return s;
}

export function formatDrill(r: DrillResult): string {
  const rows: string[][] = [["stage", "flags", "new req", "legacy req", "new users", "new err", "legacy err", "new p95", "legacy p95", "contam.", "new−legacy (pp)", "verdict", "advance writes"]];
  const short = { canaryPercentage: "canaryPercentage", enableStatelessOrchestration: "stateless", enableSafeJsonParser: "safeJson" } as const;
  for (const s of r.stages) {
    rows.push([
      `${s.stage}%${s.injected ? ` (${s.injected})` : ""}`,
      flagsOn(s.flags) ? "on" : "off",
      String(s.newRequests),
      String(s.legacyRequests),
      String(s.newUsers),
      n2(s.newErrorRatePct, "%"),
      n2(s.legacyErrorRatePct, "%"),
      n2(s.newP95Seconds, " s"),
      n2(s.legacyP95Seconds, " s"),
      String(s.contaminationCount),
      s.gate.comparison ? `${s.gate.comparison.lowerPp.toFixed(2)}..${s.gate.comparison.upperPp.toFixed(2)}` : "-",
      s.verdict,
      s.advanceWrites ? s.advanceWrites.map((c) => `${short[c.key]}=${c.value}`).join(" ") : "",
    ]);
  }
  let s = `rollout drill on ${r.database}, stack ${r.stack}'s thresholds, one simulated soak time per stage\n` +
    `("advance writes": what rollout advance would write into a copy of Pulumi.${r.stack}.yaml; nothing is written)\n\n`;
  s += table(rows) + "\n";
  const last = r.stages[r.stages.length - 1];
  if (last.verdict !== "PROCEED") {
    s += `stage ${last.stage}%: ${last.verdict}\n`;
    for (const reason of last.gate.reasons) s += `  - ${reason}\n`;
  }
  for (const n of r.notes) s += `note: ${n}\n`;
  if (r.fixCommand) s += `fix: ${r.fixCommand}\n`;
  s += `${r.ok ? "drill passed" : "DRILL FAILED"}: ${r.expected} (${r.seconds.toFixed(1)} s)\n`;
  return s;
}
