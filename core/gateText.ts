/**
 * A gate result in words: how `rollout gate`, `status` and `advance` print it, and the rollout report's
 * evidence for each stage. core/gate.ts decides (numbers and statuses); this says them, short by default
 * (one line per criterion: its status, and the estimate and bound that decided it) and in full with
 * `--verbose` (every bound and its confidence, the α plan, the looks). Pure.
 */
import { CriterionResult, GateResult, describeAlpha } from "./gate";
import { count, n2, pad, percentOf, shortTime, shortTimeAfter, table } from "./plainText";

/** How the verdict line names the exit code: `gate` and `advance` exit with it; `status` exits 0 and names `gate`'s. */
export type ExitNote = "own" | "gate's";

/** A criterion's status in one word, the same for every kind: met, not yet (shown neither way), or breached. */
export function criterionWord(c: Pick<CriterionResult, "status">): "met" | "not yet" | "breached" {
  return c.status === "met" ? "met" : c.status === "failed" ? "breached" : "not yet";
}

/** The number with its unit: a rate in %, a difference of rates in pp (signed). */
function withUnit(v: number, unit: "%" | "pp"): string {
  return unit === "pp" ? `${v >= 0 ? "+" : "−"}${n2(Math.abs(v), " pp")}` : n2(v, "%");
}

/** The criterion's short label: its guide description without the parenthetical. */
function label(c: CriterionResult): string {
  return c.description.replace(/\s*\([^)]*\)\s*$/, "");
}

/**
 * The evidence of one criterion in a few words: the estimate and the one bound that decided its status
 * (for a line that must hold, "value < line", the upper bound shows it holds and the lower bound that it
 * does not; for a line that must not be crossed, the other way round), or why it is not judged.
 */
export function criterionEvidence(c: CriterionResult, contamination: number): string {
  if (c.metric === "contaminationCount") return `${Number.isFinite(contamination) ? count(contamination) : String(contamination)} contaminated session(s)`;
  const b = c.bound;
  if (b === undefined || c.status === "insufficient-data") return "too little data to judge";
  const est = b.estimate === null ? "" : ` (est. ${withUnit(b.estimate, b.unit)})`;
  // A p95 line is judged as the share of slow requests against 5 %: name the share and its line.
  const slow = /^share of (?:new-path|legacy) requests (slower than|taking) ([\d.]+) s/.exec(b.quantity);
  const what = slow ? `share ${slow[1] === "taking" ? "≥" : ">"} ${slow[2]} s: ` : "";
  const line = slow ? `, line ${b.line}%` : "";
  // A success criterion is met by its upper bound below the line; a pause/rollback line is crossed by the lower bound above it.
  const side = c.kind === "success" ? (c.status === "failed" ? "lower" : "upper") : c.status === "met" ? "upper" : "lower";
  return `${what}${side} bound ${withUnit(side === "upper" ? b.upper : b.lower, b.unit)}${line}${est}`;
}

/** One line per criterion: `met      pause    Error rate > 2%: upper bound 1.13% (est. 0.43%)`. */
export function criterionLine(c: CriterionResult, contamination: number): string {
  return `  ${pad(criterionWord(c), 8)} ${pad(c.kind, 8)} ${label(c)}: ${criterionEvidence(c, contamination)}`;
}

/** Why the verdict is what it is, in short lines built from the result's numbers (the full sentences are `reasons`). */
export function shortReasons(g: GateResult): string[] {
  const out: string[] = [];
  const m = g.metrics;
  const hits = g.criteria.filter((c) => c.status === "failed");
  for (const c of hits) out.push(`${c.kind === "success" ? "success criterion breached" : `${c.kind} line crossed`}: ${label(c)}`);
  if (g.verdict === "WAIT") {
    const n = g.needed;
    if (n.requests !== undefined) out.push(`new path: ${count(m.new.requests)} requests of ${count(m.new.requests + n.requests)} needed`);
    if (n.users !== undefined) out.push(`new path: ${count(m.new.users)} users of ${count(m.new.users + n.users)} needed`);
    if (n.legacyRequests !== undefined) out.push(`legacy path: ${count(m.legacy.requests)} requests of ${count(m.legacy.requests + n.legacyRequests)} needed`);
    if (n.legacyUsers !== undefined) out.push(`legacy path: ${count(m.legacy.users)} users of ${count(m.legacy.users + n.legacyUsers)} needed`);
    if (g.exposure.flagged) out.push(`exposure: ${g.exposure.observedPct === null ? "-" : `${g.exposure.observedPct.toFixed(1)}%`} of users on the new path, configured ${g.exposure.expectedPct}%`);
    if (n.soakHours !== undefined) {
      out.push(g.soakHoursElapsed === null ? `the stage's start is unknown: soak ${g.soakHoursRequired} h from a rollout record` : `soaked ${g.soakHoursElapsed.toFixed(1)} h of ${g.soakHoursRequired} h (${n.soakHours.toFixed(1)} h to go)`);
    }
    for (const c of g.criteria.filter((x) => x.kind === "success" && x.status === "undecided")) out.push(`not yet shown: ${label(c)}`);
  }
  if (g.verdict === "PROCEED") out.push(`every success criterion met after ${g.soakHoursElapsed?.toFixed(1)} h of ${g.soakHoursRequired} h soak`);
  return out;
}

function verdictLine(g: GateResult, exitNote: ExitNote): string {
  return exitNote === "own" ? `verdict: ${g.verdict} (exit ${g.exitCode})\n` : `verdict: ${g.verdict} (rollout gate would exit ${g.exitCode}; status exits 0)\n`;
}

/** The judged window and its metrics per path: both the short and the full text start with it. */
function formatWindow(g: GateResult, short: boolean): string {
  const m = g.metrics;
  const rate = (e: number, n: number) => (n > 0 ? `${count(e)} (${percentOf(e, n)})` : "-");
  const soaked = `soaked ${g.soakHoursElapsed === null ? "unknown" : `${g.soakHoursElapsed.toFixed(1)} h`} of ${g.soakHoursRequired} h`;
  let s = short
    ? `window: ${shortTime(m.windowStart)} .. ${shortTimeAfter(m.windowEnd, m.windowStart)} (${soaked})\n`
    : `window: ${m.windowStart.toISOString()} .. ${m.windowEnd.toISOString()} (${soaked})\n`;
  s += table([
    ["", "new", "legacy"],
    ["requests", count(m.new.requests), count(m.legacy.requests)],
    ["errors", rate(m.new.errors, m.new.requests), rate(m.legacy.errors, m.legacy.requests)],
    ["users", count(m.new.users), count(m.legacy.users)],
    ["avg latency", n2(m.new.avgSeconds, " s"), n2(m.legacy.avgSeconds, " s")],
    ["p95 latency", n2(m.new.p95Seconds, " s"), n2(m.legacy.p95Seconds, " s")],
  ]);
  s += `cross-contamination: ${m.contaminationCount} session(s) with more than one user\n`;
  return s;
}

/** The short text: the window, one line per criterion, the verdict and why (about 20 lines, at most 100 characters each). */
export function formatGateShort(g: GateResult, exitNote: ExitNote = "own"): string {
  let s = formatWindow(g, true);
  const judged = g.phase === "baseline" ? "legacy baseline only" : g.phase === "full" ? "new path only" : "new vs legacy";
  s += `criteria at ${g.stage}% (${judged}; bounds hold however often the gate is read):\n`;
  for (const c of g.criteria) s += `${criterionLine(c, g.metrics.contaminationCount)}\n`;
  s += verdictLine(g, exitNote);
  for (const r of shortReasons(g)) s += `  - ${r}\n`;
  return s;
}

/** The gate's method: the comparison's bounds and margin, α's spending, the looks. */
function formatGateMethod(g: GateResult): string {
  let s = "";
  if (g.comparison) s += `new vs legacy: ${g.comparison.statement}\n`;
  s += `${describeAlpha(g.alpha)}; ` +
    `always-valid bounds: they hold however often the gate is read; looks so far at this stage: ${g.looks === null ? (g.looksNote ?? "not counted by this command (the bounds do not depend on it)") : `${g.looks} (this one included; the bounds do not depend on it)`}\n`;
  return s;
}

/** How a criterion's status reads in the full text. */
function criterionMark(kind: string, status: string): string {
  if (status === "insufficient-data") return "n/a ";
  if (status === "undecided") return "... ";
  if (kind === "success") return status === "met" ? "ok  " : "FAIL";
  return status === "failed" ? "HIT " : "ok  ";
}

/** The full text (`--verbose`, the report's evidence): every criterion's sentence with its bounds, the α plan, the looks, every reason. */
export function formatGateVerbose(g: GateResult, exitNote: ExitNote = "own"): string {
  let s = formatWindow(g, false);
  s += `criteria for stage ${g.stage}% (${g.phase}):\n`;
  s += `judged: ${g.applies}\n`;
  for (const c of g.criteria) s += `  ${criterionMark(c.kind, c.status)} ${pad(c.kind, 8)} ${c.statement}\n`;
  s += formatGateMethod(g);
  s += verdictLine(g, exitNote);
  for (const r of g.reasons) s += `  - ${r}\n`;
  return s;
}

/** The gate's text, short unless `verbose`. */
export function formatGate(g: GateResult, exitNote: ExitNote = "own", verbose = false): string {
  return verbose ? formatGateVerbose(g, exitNote) : formatGateShort(g, exitNote);
}
