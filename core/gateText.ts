/**
 * The gate in words, the one place that words it: core/gate.ts decides (numbers and statuses,
 * `decideGate`); `evaluateGate` here adds every sentence (each criterion's statement, the comparison's,
 * what a stage judges, the reasons, the advice) to make the GateResult that `rollout gate --json` prints
 * and the CLI, the PR comment (ci/comment.ts) and the rollout report read. Then how `rollout gate`,
 * `status` and `advance` print it, and the report's evidence for each stage: short by default (one line
 * per criterion: its status, and the estimate and bound that decided it) and in full with `--verbose`
 * (every bound and its confidence, the α plan, the looks). Pure.
 */
import {
  AlphaSpend,
  Bound,
  ComparisonFacts,
  CriterionFacts,
  CriterionResult,
  ExposureCheck,
  ExposureFacts,
  GateDecision,
  GateInput,
  GateResult,
  INVESTIGATION_VIEWS,
  decideGate,
  viewsFor,
} from "./gate";
import type { HoldConfig } from "./configSchema";
import { ENV_NAMES, type Criterion, type Metric } from "./stages";
import { count, n2, pad, percentOf, shortTime, shortTimeAfter, table } from "./plainText";

// ---------------------------------------------------------------------------
// The decision in words

/**
 * A hold in one line: `held by <who> since <when>: <why>`, the one wording (the gate, status, the report, the PR
 * comment, CI, rollout hold's own summary). Here, not beside the schema: `rollout --help` loads this module, not zod.
 */
export function holdText(h: HoldConfig): string {
  return `held by ${h.by} since ${h.at}: ${h.reason}`;
}

/** The gate on a stage's metrics, in words: core/gate.ts decideGate, then wordGate. */
export function evaluateGate(input: GateInput): GateResult {
  return wordGate(decideGate(input));
}

/**
 * The α plan in one sentence, for `rollout gate`, `status` and the PR comment (the one formatter).
 * Takes the JSON shape too (older readings may lack `proceed` and `comparison`).
 */
export function describeAlpha(a: Pick<AlphaSpend, "rollout" | "stages" | "questions" | "perQuestion"> & Partial<Pick<AlphaSpend, "proceed" | "comparison">>): string {
  const c = `${(100 * (1 - a.rollout)).toFixed(1)}%`;
  const pause =
    a.comparison === undefined
      ? `${a.questions} questions share it (${a.perQuestion.toPrecision(3)} each)`
      : `${a.comparison === null ? "no comparison at this stage; " : `the comparison's lower bound spends ${a.comparison.toPrecision(3)} here; `}the guide's ${a.questions} absolute lower bounds over the rollout ${a.perQuestion.toPrecision(3)} each`;
  const proceed = a.proceed === undefined ? "" : `; against a false PROCEED: α shared by ${a.stages} stages, every upper bound of the stage at ${a.proceed.toPrecision(3)}`;
  return `confidence ${c} over the whole rollout for each kind of error (α ${Number(a.rollout.toPrecision(3))}); against a false PAUSE/ROLLBACK: ${pause}${proceed}`;
}

const pct = (v: number, digits = 2) => `${v.toFixed(digits)}%`;
const pp = (v: number, digits = 2) => `${v >= 0 ? "" : "−"}${Math.abs(v).toFixed(digits)} pp`;
const confText = (c: number) => `${n2(100 * c, "%")} confidence that holds however often this is checked`;
const bothConfText = (b: Bound) => `lower bound ${n2(100 * b.lowerConfidence, "%")}, upper bound ${n2(100 * b.upperConfidence, "%")} confidence, each holding however often this is checked`;

/**
 * The confidence a decision rests on: "op line" shown true rests on the upper bound for "<" and "≤" and on
 * the lower bound for ">" and "≥"; shown false on the other one; undecided on both.
 */
function statusConfText(b: Bound, op: Criterion["op"], shownTrue: boolean | null): string {
  if (shownTrue === null) return bothConfText(b);
  const usesLower = (op === ">" || op === ">=") === shownTrue;
  return `${usesLower ? "lower" : "upper"} bound: ${confText(usesLower ? b.lowerConfidence : b.upperConfidence)}`;
}

/** The comparison's sentence: within the margin, beyond it, or not yet shown either way. */
function comparisonStatement(c: ComparisonFacts, b: Bound): string {
  const cw = statusConfText(b, "<=", c.decision === "within-margin" ? true : c.decision === "worse-than-margin" ? false : null);
  const est = `estimate ${pp(b.estimate ?? 0)}`;
  return c.decision === "within-margin"
    ? `the new path's error rate is ${b.upper >= 0 ? `at most ${pp(b.upper)} above` : `at least ${pp(-b.upper)} below`} legacy's, within the ${pp(c.marginPp)} margin (${est}, bounds ${pp(b.lower)} .. ${pp(b.upper)}; ${cw})`
    : c.decision === "worse-than-margin"
      ? `the new path's error rate is at least ${pp(b.lower)} above legacy's, more than the ${pp(c.marginPp)} margin allows (${est}, bounds ${pp(b.lower)} .. ${pp(b.upper)}; ${cw})`
      : `new − legacy error rate is between ${pp(b.lower)} and ${pp(b.upper)} (${est}): not yet shown within the ${pp(c.marginPp)} margin, nor beyond it (${cw})`;
}

/** One criterion's sentence, from its status and the bound that decided it (or why it was not judged). */
function criterionStatement(c: CriterionFacts, d: GateDecision): string {
  const m = d.metrics;
  if (c.metric === "contaminationCount") {
    return Number.isFinite(m.contaminationCount)
      ? `${c.description}: ${m.contaminationCount} contaminated session(s) in the window`
      : `${c.description}: the contamination count is ${String(m.contaminationCount)}, not a number: treated as contaminated`;
  }
  const nj = c.notJudged;
  if (nj !== undefined) {
    if (nj.why === "impossible-metrics") return `${c.description}: not judged: the metrics are impossible`;
    if (nj.why === "below-volume") return nj.path === "both" ? `${c.description}: not judged below the minimum volume on both paths` : `${c.description}: not judged below the ${nj.path} path's minimum volume`;
    return `${c.description}: ${nj.slowerThanSeconds !== undefined ? `no count of ${nj.path}-path requests slower than ${nj.slowerThanSeconds} s` : `no ${nj.path}-path requests`}`;
  }
  const b = c.bound as Bound;
  if (b.unit === "pp" && d.comparison) return comparisonStatement(d.comparison, b);
  const shownTrue = c.kind === "success" ? (c.status === "met" ? true : c.status === "failed" ? false : null) : c.status === "failed" ? true : c.status === "met" ? false : null;
  const subject = `${b.quantity} is between ${pct(b.lower)} and ${pct(b.upper)} (estimate ${pct(b.estimate ?? 0)}, ${b.observations} requests)`;
  const line = `${c.op} ${pct(b.line, 0)}`;
  const verdictWords = shownTrue === true ? `shown ${line}` : shownTrue === false ? `shown not ${line}` : c.kind === "success" ? `not yet shown ${line}` : `not shown ${line}`;
  return `${c.description}: ${subject}: ${verdictWords} (${statusConfText(b, c.op, shownTrue)})`;
}

/** What a stage's gate judges, in one sentence (the full text's "judged:" line). */
function appliesText(d: GateDecision): string {
  return d.phase === "baseline"
    ? `stage ${d.stage}% (flags off): no new-path traffic, so only the legacy baseline (error rate and p95) and contamination are judged; the new-vs-legacy comparison does not apply`
    : d.phase === "full"
      ? `stage ${d.stage}%: no legacy traffic, so the new path is judged on the guide's absolute targets and pause/rollback lines, and contamination; the comparison with legacy does not apply`
      : `stage ${d.stage}%: new vs legacy error rate (non-inferiority, margin ${pp(d.marginPct)}), the guide's absolute lines, p95 as the share of slow requests, and contamination`;
}

/** Where to look when ROLLBACK or PAUSE has nothing to roll back (the new path serves nobody). */
export function nothingToRollBackAdvice(why: string, hit: readonly { metric: Metric }[]): string {
  const views = [...new Set(hit.flatMap((r) => viewsFor(r.metric)))];
  const shown = views.length > 0 ? views : [...INVESTIGATION_VIEWS.errors];
  const psql = shown.map((v) => `psql "$ROLLOUT_DATABASE_URL" -c 'SELECT * FROM ${v}'`).join("; ");
  return `${why}: nothing to roll back. Investigate the legacy path: ${psql}`;
}

function adviceText(d: GateDecision): string | null {
  if (d.hold !== null && d.suggestedCommand === null && d.verdict === "PAUSE") {
    return `the rollout is ${holdText(d.hold)}. When that is resolved, a person releases it: rollout release (a reviewed change); if it calls for it, rollout rollback`;
  }
  const failed = (kind: Criterion["kind"]) => d.criteria.filter((c) => c.kind === kind && c.status === "failed");
  if (d.nothingToRollBack === "flags-already-off") return nothingToRollBackAdvice(`both flags are already off (deployed ${d.deployedStage}%, effective 0%)`, failed("rollback"));
  if (d.nothingToRollBack === "new-path-serves-nobody") return nothingToRollBackAdvice(`the new path already serves nobody (deployed ${d.deployedStage}%, effective 0%)`, [...failed("pause"), ...failed("success")]);
  return null;
}

/** The reasons for the verdict, most important first, each a sentence built from the decision's numbers. */
function reasonsText(d: GateDecision, criteria: readonly CriterionResult[]): string[] {
  const m = d.metrics;
  const reasons: string[] = [];
  const hits = (kind: Criterion["kind"]) => criteria.filter((r) => r.kind === kind && r.status === "failed");
  if (typeof m.contaminationCount === "number" && !Number.isFinite(m.contaminationCount)) {
    reasons.push(`the contamination count is ${String(m.contaminationCount)}, not a finite number: treated as contamination`);
    reasons.push(...d.metricProblems.filter((p) => !p.startsWith("contaminationCount")).map((p) => `impossible metric: ${p}`));
  }
  const elapsed = d.soakHoursElapsed;
  if (d.hold !== null) {
    reasons.push(
      d.verdict === "ROLLBACK"
        ? `the rollout is ${holdText(d.hold)} (rollout hold); the metrics call for a rollback, which the hold does not hide`
        : `the rollout is ${holdText(d.hold)} (rollout hold): the gate says PAUSE until it is released (rollout release); the metrics alone say ${d.metricVerdict}`,
    );
  }
  if (d.metricVerdict === "ROLLBACK") {
    reasons.push(...hits("rollback").map((r) => `rollback criterion hit: ${r.statement}`));
  } else if (d.metricVerdict === "PAUSE") {
    reasons.push(...hits("pause").map((r) => `pause criterion hit: ${r.statement}`));
    reasons.push(...hits("success").map((r) => `success criterion fails: ${r.statement}`));
  } else if (d.metricVerdict === "WAIT") {
    const n = d.needed;
    const min = d.minimums;
    if (n.requests !== undefined) reasons.push(`too few requests on the new path: ${m.new.requests} of ${min.newRequests} (need ${n.requests} more)`);
    if (n.users !== undefined) reasons.push(`too few users on the new path: ${m.new.users} of ${min.newUsers} (need ${n.users} more)`);
    if (n.legacyRequests !== undefined) reasons.push(`too few requests on the legacy path: ${m.legacy.requests} of ${min.legacyRequests} (need ${n.legacyRequests} more)`);
    if (n.legacyUsers !== undefined) reasons.push(`too few users on the legacy path: ${m.legacy.users} of ${min.legacyUsers} (need ${n.legacyUsers} more)`);
    if (d.exposure.flagged) reasons.push(`exposure: ${exposureMessage(d.exposure)}; the gate waits until the observed share matches the configured one`);
    if (!(elapsed !== null && elapsed >= d.soakHoursRequired)) {
      reasons.push(
        elapsed === null
          ? `the stage's start is unknown (no rollout record for it); soak time needed: ${d.soakHoursRequired} h`
          : `soaked ${elapsed.toFixed(1)} h of ${d.soakHoursRequired} h (need ${(d.soakHoursRequired - elapsed).toFixed(1)} h more)`,
      );
    }
    reasons.push(...criteria.filter((r) => r.kind === "success" && r.status === "undecided").map((r) => `not shown yet: ${r.statement}`));
  } else {
    reasons.push(...criteria.filter((r) => r.kind === "success").map((r) => `met: ${r.statement}`));
    reasons.push(`soaked ${elapsed?.toFixed(1)} h of ${d.soakHoursRequired} h`);
  }
  const full = fullRolloutText(d);
  if (full !== null) reasons.push(full);
  return reasons;
}

/** The guide's "48 hours stable operation" at 100 %, in one sentence: met (the rollout is complete), or when it will be. */
function fullRolloutText(d: Pick<GateDecision, "fullRollout" | "verdict">): string | null {
  const f = d.fullRollout;
  if (f === null) return null;
  const req = `${f.stableHoursRequired} h`;
  if (f.met) return `the guide's "${req} stable operation" at 100% is met (100% since ${f.since?.toISOString() ?? "unknown"}, ${f.stableHoursElapsed?.toFixed(1)} h, every success criterion met): the rollout is complete`;
  if (f.stableHoursElapsed === null || f.dueAt === null) return `the guide's "${req} stable operation" at 100%: not yet; the start of 100% is unknown (no rollout record for it)`;
  const time = f.stableHoursElapsed < f.stableHoursRequired
    ? `${f.stableHoursElapsed.toFixed(1)} h of ${req} since 100% began; due ${f.dueAt.toISOString()} if the criteria hold`
    : `${f.stableHoursElapsed.toFixed(1)} h at 100%, but the gate says ${d.verdict}: met once it says PROCEED`;
  return `the guide's "${req} stable operation" at 100%: not yet (${time})`;
}

/**
 * What the guide says after a complete rollout (its Post-Deployment, Month 2), for `status` and `gate` once the
 * "stable operation" at 100 % is met; empty before. The stack file must stay at 100 % with both flags on until
 * the app no longer reads them: the defaults (0 %, flags off) would send every user back to the legacy path.
 */
export function completionLines(g: Pick<GateResult, "fullRollout">): string[] {
  if (g.fullRollout === null || !g.fullRollout.met) return [];
  return [
    `rollout complete: the guide's ${g.fullRollout.stableHoursRequired} hours stable operation at 100% is met`,
    `next, in the app (the guide's Post-Deployment): 1. remove the legacy code path; 2. only after that ships, remove the flags ${ENV_NAMES.statelessOrchestration} and ${ENV_NAMES.safeJsonParser}`,
    `keep the stack file at 100% with both flags on until then: deleting the keys or setting the defaults (0%, flags off) would send every user back to the legacy path; rollout proposes nothing from here`,
  ];
}

/** The exposure check in one sentence: the observed share against the configured one, and whether it was judged. */
export function exposureMessage(e: ExposureFacts): string {
  if (e.observedPct === null) return "no users in the window";
  const judged = e.users >= e.minUsers;
  return (
    `${e.observedPct.toFixed(1)}% of ${e.users} distinct users on the new path, configured ${e.expectedPct}%` +
    (e.flagged ? ` — off by more than ${e.tolerancePct} points: check the bucketing and the deployed flags` : judged ? "" : ` (fewer than ${e.minUsers} users: not judged)`)
  );
}

/** The exposure check as GateResult has it: its numbers and exposureMessage. */
export function wordExposure(e: ExposureFacts): ExposureCheck {
  return { expectedPct: e.expectedPct, observedPct: e.observedPct, tolerancePct: e.tolerancePct, flagged: e.flagged, message: exposureMessage(e) };
}

/** A decision in words: the GateResult every reader shows (the same keys `rollout gate --json` has always printed). */
export function wordGate(d: GateDecision): GateResult {
  const { criteria: facts, comparison: cmp, nothingToRollBack: _n, marginPct: _mp, minimums: _min, metricProblems: _p, ...rest } = d;
  void [_n, _mp, _min, _p];
  const criteria: CriterionResult[] = facts.map(({ notJudged: _nj, ...c }) => ({ ...c, statement: criterionStatement({ ...c, notJudged: _nj }, d) }));
  const comparisonCriterion = criteria.find((c) => c.bound?.unit === "pp");
  const out: GateResult = {
    verdict: rest.verdict,
    metricVerdict: rest.metricVerdict,
    hold: rest.hold,
    fullRollout: rest.fullRollout,
    exitCode: rest.exitCode,
    stage: rest.stage,
    deployedStage: rest.deployedStage,
    phase: rest.phase,
    nextStage: rest.nextStage,
    judgedPath: rest.judgedPath,
    applies: appliesText(d),
    soakHoursRequired: rest.soakHoursRequired,
    soakHoursElapsed: rest.soakHoursElapsed,
    metrics: rest.metrics,
    criteria,
    comparison: cmp === undefined ? undefined : { ...cmp, statement: comparisonCriterion?.statement ?? "" },
    alpha: rest.alpha,
    looks: rest.looks,
    looksNote: rest.looksNote,
    exposure: wordExposure(rest.exposure),
    needed: rest.needed,
    reasons: reasonsText(d, criteria),
    suggestedCommand: rest.suggestedCommand,
    advice: adviceText(d),
  };
  return out;
}

// ---------------------------------------------------------------------------
// The decision as text

/** How the verdict line names the exit code: `gate` and `advance` exit with it; `status` exits 0 and names `gate`'s. */
export type ExitNote = "own" | "gate's";

/** A criterion's status in one word, the same for every kind: met, not yet (shown neither way), or breached. */
export function criterionWord(c: { status: string }): "met" | "not yet" | "breached" {
  return c.status === "met" ? "met" : c.status === "failed" ? "breached" : "not yet";
}

/** The number with its unit: a rate in %, a difference of rates in pp (signed). */
function withUnit(v: number, unit: string): string {
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
/**
 * What criterionEvidence reads of a criterion: a GateResult's criterion, or the same keys read back from
 * `rollout gate --json` (ci/comment.ts, whose older readings may lack the bound's quantity and estimate).
 */
export interface EvidenceOf {
  kind: string;
  status: string;
  metric?: string;
  bound?: { lower: number; upper: number; line: number; unit: string; quantity?: string; estimate?: number | null };
}

export function criterionEvidence(c: EvidenceOf, contamination: number): string {
  if (c.metric === "contaminationCount") return `${Number.isFinite(contamination) ? count(contamination) : String(contamination)} contaminated session(s)`;
  const b = c.bound;
  if (b === undefined || c.status === "insufficient-data") return "too little data to judge";
  const est = b.estimate === null || b.estimate === undefined ? "" : ` (est. ${withUnit(b.estimate, b.unit)})`;
  // A p95 line is judged as the share of slow requests against 5 %: name the share and its line.
  const slow = /^share of (?:new-path|legacy) requests (slower than|taking) ([\d.]+) s/.exec(b.quantity ?? "");
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
  if (g.hold !== null) out.push(`${holdText(g.hold)} (rollout hold; the metrics alone say ${g.metricVerdict})`);
  for (const c of hits) out.push(`${c.kind === "success" ? "success criterion breached" : `${c.kind} line crossed`}: ${label(c)}`);
  if (g.metricVerdict === "WAIT") {
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
  if (g.metricVerdict === "PROCEED") out.push(`every success criterion met after ${g.soakHoursElapsed?.toFixed(1)} h of ${g.soakHoursRequired} h soak`);
  const f = g.fullRollout;
  if (f !== null && !f.met) {
    out.push(f.stableHoursElapsed === null || f.dueAt === null
      ? `${f.stableHoursRequired} h stable operation at 100%: start unknown`
      : `${f.stableHoursRequired} h stable operation at 100%: ${f.stableHoursElapsed.toFixed(1)} h so far${f.stableHoursElapsed < f.stableHoursRequired ? `, due ${shortTime(f.dueAt)}` : ""}`);
  }
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
  for (const l of completionLines(g)) s += `${l}\n`;
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
  for (const l of completionLines(g)) s += `${l}\n`;
  return s;
}

/** The gate's text, short unless `verbose`. */
export function formatGate(g: GateResult, exitNote: ExitNote = "own", verbose = false): string {
  return verbose ? formatGateVerbose(g, exitNote) : formatGateShort(g, exitNote);
}
