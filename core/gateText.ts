/**
 * A gate result as `rollout gate`, `status` and `advance` print it (and as the
 * rollout report shows each stage's evidence): the window and its metrics,
 * the criteria, the method, the verdict and its reasons. Pure.
 */
import { GateResult, describeAlpha } from "./gate";
import { n2, pad, percentOf, table } from "./plainText";

/** How a criterion's status reads in the text output. */
function criterionMark(kind: string, status: string): string {
  if (status === "insufficient-data") return "n/a ";
  if (status === "undecided") return "... ";
  if (kind === "success") return status === "met" ? "ok  " : "FAIL";
  return status === "failed" ? "HIT " : "ok  ";
}

/** The gate's method in two lines: the comparison's bounds and margin, α's spending, the looks. */
function formatGateMethod(g: GateResult): string {
  let s = "";
  if (g.comparison) {
    const c = g.comparison;
    s += `new vs legacy: ${c.statement}\n`;
  }
  const a = g.alpha;
  s += `${describeAlpha(a)}; ` +
    `always-valid bounds: they hold however often the gate is read; looks so far at this stage: ${g.looks === null ? (g.looksNote ?? "not counted by this command (the bounds do not depend on it)") : `${g.looks} (this one included; the bounds do not depend on it)`}\n`;
  return s;
}

/**
 * `exitNote`: how the verdict line names the exit code. `gate` (and `advance`) exit with the verdict's
 * code, so they print "(exit N)"; `status` always exits 0 when it could report, so it names the code as
 * the one `rollout gate` would exit with, never as its own.
 */
export function formatGate(g: GateResult, exitNote: "own" | "gate's" = "own"): string {
  const m = g.metrics;
  const rate = (e: number, n: number) => (n > 0 ? `${e} (${percentOf(e, n)})` : "-");
  let s = `window: ${m.windowStart.toISOString()} .. ${m.windowEnd.toISOString()}` +
    ` (soaked ${g.soakHoursElapsed === null ? "unknown" : `${g.soakHoursElapsed.toFixed(1)} h`} of ${g.soakHoursRequired} h)\n`;
  s += table([
    ["", "new", "legacy"],
    ["requests", String(m.new.requests), String(m.legacy.requests)],
    ["errors", rate(m.new.errors, m.new.requests), rate(m.legacy.errors, m.legacy.requests)],
    ["users", String(m.new.users), String(m.legacy.users)],
    ["avg latency", n2(m.new.avgSeconds, " s"), n2(m.legacy.avgSeconds, " s")],
    ["p95 latency", n2(m.new.p95Seconds, " s"), n2(m.legacy.p95Seconds, " s")],
  ]);
  s += `cross-contamination: ${m.contaminationCount}\n`;
  s += `criteria for stage ${g.stage}% (${g.phase}):\n`;
  s += `judged: ${g.applies}\n`;
  for (const c of g.criteria) s += `  ${criterionMark(c.kind, c.status)} ${pad(c.kind, 8)} ${c.statement}\n`;
  s += formatGateMethod(g);
  s += exitNote === "own" ? `verdict: ${g.verdict} (exit ${g.exitCode})\n` : `verdict: ${g.verdict} (rollout gate would exit ${g.exitCode}; status exits 0)\n`;
  for (const r of g.reasons) s += `  - ${r}\n`;
  return s;
}
