/**
 * The pull-request comment a reviewer reads for one stack: why the stack is
 * in the change, the `pulumi preview --diff` output, and — when the change
 * raises the canary — the gate's verdict with its figures, side by side; plus
 * the check's own decision (pass, blocked, or overridden by label).
 *
 * Pure: text in, markdown out. Secrets are never echoed: every known secret
 * value (in every written form), credential form and ANSI escape is
 * scrubbed from anything quoted (core/redact.ts).
 */
import { z } from "zod";
import { VERDICTS, VERDICT_EXIT_CODES, Verdict } from "../core/gate";
import { criterionEvidence, criterionWord, describeAlpha, holdText } from "../core/gateText";
import { redact, stripAnsi } from "../core/redact";
import type { HoldConfig } from "../core/configSchema";
import { rotationChangeProblem } from "../core/appCredentials";
import { reportSection } from "./stageChart";
import type { OverrideStatus } from "./override";

/** The label that lets a pull request merge although the gate did not say PROCEED. */
export const OVERRIDE_LABEL = "rollout-override";

/** `rollout gate` exit codes that are not verdicts. */
export const GATE_ERROR_EXIT = 1;
export const GATE_USAGE_EXIT = 2;

/** GitHub rejects comments above 65536 characters; keep the preview well below. */
export const MAX_PREVIEW_CHARS = 40_000;

// Redaction: the one home is core/redact.ts (also used for database errors and config errors).
export { redact, stripAnsi } from "../core/redact";

// ---------------------------------------------------------------------------
// The gate's JSON (`npx rollout gate --stack <s> --json`), read leniently:
// only what the comment shows is required; the whole object is quoted.

const num = z.number().nullable().optional();
const pathMetrics = z
  .object({ requests: z.number(), errors: z.number(), users: z.number().optional(), p95Seconds: num, avgSeconds: num })
  .loose();

export const gateJsonSchema = z
  .object({
    stack: z.string().optional(),
    verdict: z.enum(VERDICTS),
    exitCode: z.number().optional(),
    stage: z.number().optional(),
    deployedStage: z.number().optional(),
    nextStage: z.number().nullable().optional(),
    judgedPath: z.string().optional(),
    soakHoursRequired: z.number().optional(),
    soakHoursElapsed: num,
    metrics: z
      .object({ new: pathMetrics.optional(), legacy: pathMetrics.optional(), contaminationCount: z.number().optional() })
      .loose()
      .optional(),
    criteria: z
      .array(
        z
          .object({
            description: z.string(),
            kind: z.string(),
            status: z.string(),
            observed: num,
            op: z.string().optional(),
            threshold: z.union([z.number(), z.string()]).nullable().optional(),
            metric: z.string().optional(),
            statement: z.string().optional(),
            bound: z
              .object({ lower: z.number(), upper: z.number(), line: z.number(), unit: z.string(), quantity: z.string().optional(), estimate: z.number().nullable().optional(), confidence: z.number().optional() })
              .loose()
              .optional(),
          })
          .loose(),
      )
      .optional(),
    /** New vs legacy error rate (core/gate.ts Comparison). */
    comparison: z
      .object({ statement: z.string(), lowerPp: z.number(), upperPp: z.number(), marginPp: z.number(), confidence: z.number().optional() })
      .loose()
      .optional(),
    /** What the stage judges, and what does not apply there. */
    applies: z.string().optional(),
    alpha: z.object({ rollout: z.number(), stages: z.number(), questions: z.number(), perQuestion: z.number(), proceed: z.number().optional(), comparison: z.number().nullable().optional() }).loose().optional(),
    looks: z.number().nullable().optional(),
    looksNote: z.string().nullable().optional(),
    reasons: z.array(z.string()).optional(),
    suggestedCommand: z.string().nullable().optional(),
    /** What to do when there is no command (e.g. the flags are already off: nothing to roll back). */
    advice: z.string().nullable().optional(),
    /** The CLI's notes, e.g. the stack file and the deployed state disagree. */
    notes: z.array(z.string()).optional(),
    /** The stack file's hold the gate read (rollout hold): its verdict is then PAUSE. */
    hold: z.object({ reason: z.string(), by: z.string(), at: z.string() }).nullable().optional(),
  })
  .loose();

export type GateJson = z.infer<typeof gateJsonSchema>;

/** What the workflow captured from `rollout gate --json`. */
export interface GateRun {
  exitCode: number;
  stdout: string;
  stderr?: string;
}

export type GateReading =
  | { ok: true; gate: GateJson; raw: unknown }
  | { ok: false; problem: string };

/**
 * Read a gate run. The verdict must be in the JSON and agree with the exit
 * code; anything else is a problem stated in plain words. The gate's object
 * may be the top level or under a `gate` key.
 */
export function readGateRun(run: GateRun, secrets: readonly string[] = []): GateReading {
  const errText = redact((run.stderr ?? "").trim(), secrets).split("\n").slice(-5).join(" ").slice(0, 500);
  if (run.exitCode === GATE_USAGE_EXIT) return { ok: false, problem: `rollout gate was called wrongly (exit 2, usage): ${errText || "no message"}` };
  let raw: unknown;
  try {
    raw = JSON.parse(run.stdout);
  } catch {
    return {
      ok: false,
      problem:
        run.exitCode === GATE_ERROR_EXIT
          ? `rollout gate failed (exit 1): ${errText || "no message"}`
          : `rollout gate printed no JSON (exit ${run.exitCode})${errText ? `: ${errText}` : ""}`,
    };
  }
  // `rollout gate --json` prints {command, stack, verdict, ..., notes, gate: <the gate's result>}.
  const top = raw && typeof raw === "object" && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
  const nested = top.gate && typeof top.gate === "object" ? (top.gate as Record<string, unknown>) : undefined;
  const candidate = nested ? { ...nested, stack: top.stack, notes: top.notes, verdict: nested.verdict ?? top.verdict } : raw;
  const parsed = gateJsonSchema.safeParse(candidate);
  if (!parsed.success) {
    if (run.exitCode === GATE_ERROR_EXIT || top.ok === false) {
      const e = top.error;
      const msg = e && typeof e === "object" && "message" in e ? String((e as { message: unknown }).message) : typeof e === "string" ? e : errText;
      return { ok: false, problem: `rollout gate failed (exit ${run.exitCode}): ${redact(msg, secrets) || "no message"}` };
    }
    const issue = parsed.error.issues[0];
    return { ok: false, problem: `rollout gate's JSON has no valid verdict (${issue.path.join(".") || "(top)"}: ${issue.message})` };
  }
  const expected = VERDICT_EXIT_CODES[parsed.data.verdict];
  if (run.exitCode !== expected) {
    return { ok: false, problem: `rollout gate said ${parsed.data.verdict} but exited ${run.exitCode} (expected ${expected})` };
  }
  return { ok: true, gate: parsed.data, raw };
}

// ---------------------------------------------------------------------------
// The check's decision

export type CheckStatus = "pass" | "blocked" | "overridden";

export interface GateDecision {
  status: CheckStatus;
  verdict?: Verdict;
  /** One sentence for the log and the comment. */
  message: string;
}

/**
 * A head stage above the next stage (issue 21, finding 3): the CLI's
 * one-stage rule, enforced in CI. `nextStage` is the gate's (the stage after
 * the deployed one), else the stage after the base's; `forcedSkip` is the
 * reason of the head's `rollout advance --force --reason` note for exactly
 * this skip (core/transitions.ts forcedSkipReason), when there is one.
 */
export interface StageJump {
  from: number;
  to: number;
  nextStage: number | null;
  forcedSkip?: string;
}

/** The jump's blocking message, or undefined when the head is at most the next stage or the skip is recorded. */
export function jumpProblem(stack: string, jump: StageJump | undefined): string | undefined {
  if (!jump || jump.to <= jump.from || jump.nextStage === null || jump.to <= jump.nextStage || jump.forcedSkip) return undefined;
  return (
    `${stack}: the head sets ${jump.to}% but the next stage is ${jump.nextStage}% (the stack file says ${jump.from}%): one stage at a time. ` +
    `To skip stages, run \`npx rollout advance --stack ${stack} --to ${jump.to} --force --reason "<why>"\` (it records the reason in the stack file); the override label does not cover a skip`
  );
}

/**
 * Whether the check passes for a stack: PROCEED passes; any other verdict,
 * or a gate that could not run, blocks, unless the override label counts
 * (applied by someone other than the author: ci/override.ts) and the verdict
 * is not ROLLBACK, which no override covers. A head more than one stage above
 * the base blocks without a recorded forced skip, whatever the gate says, and
 * so does a change of valuecanvas:appCredentialRotation other than +1 (it would
 * renew the password the running tasks use: core/appCredentials.ts). A
 * stack whose canary did not go up is not gated.
 */
export function gateDecision(
  stack: string,
  reading: GateReading | undefined,
  override: OverrideStatus | undefined,
  jump?: StageJump,
  credentialRotation?: { from: number | null; to: number },
): GateDecision {
  const skip = jumpProblem(stack, jump);
  if (skip) return { status: "blocked", ...(reading?.ok ? { verdict: reading.gate.verdict } : {}), message: skip };
  const rotation = credentialRotation && credentialRotation.from !== null ? rotationChangeProblem(credentialRotation.from, credentialRotation.to) : undefined;
  if (rotation) {
    return {
      status: "blocked",
      ...(reading?.ok ? { verdict: reading.gate.verdict } : {}),
      message: `${stack}: ${rotation} (docs/database.md); the override label does not cover it`,
    };
  }
  if (reading === undefined) return { status: "pass", message: `${stack}: canary not raised; no gate needed` };
  const forced = jump?.forcedSkip && jump.nextStage !== null && jump.to > jump.nextStage ? ` (stages skipped with a recorded reason: ${jump.forcedSkip})` : "";
  if (reading.ok && reading.gate.verdict === "PROCEED") {
    return { status: "pass", verdict: "PROCEED", message: `${stack}: gate says PROCEED${forced}` };
  }
  const label = override?.label ?? OVERRIDE_LABEL;
  const what = reading.ok ? `gate says ${reading.gate.verdict}` : `gate could not decide: ${reading.problem}`;
  const verdict = reading.ok ? reading.gate.verdict : undefined;
  if (verdict === "ROLLBACK") {
    const ignored = override?.present ? ` The "${label}" label does not cover ROLLBACK.` : "";
    return { status: "blocked", verdict, message: `${stack}: ${what}; the check fails: roll back, never forward.${ignored}` };
  }
  if (override?.counts) {
    return { status: "overridden", verdict, message: `${stack}: ${what}; passing because ${override.note}${forced}` };
  }
  const why = override?.present ? ` (${override.note})` : "";
  return {
    status: "blocked",
    verdict,
    message: `${stack}: ${what}; the check fails. Wait for PROCEED, or have a reviewer other than the author add the "${label}" label to merge anyway${why}`,
  };
}

// ---------------------------------------------------------------------------
// Markdown

export interface PreviewRun {
  /** The step's outcome as GitHub reports it (success, failure, cancelled, skipped). */
  outcome: string;
  /** The Pulumi action's `output`. */
  output: string;
}

export interface StackReviewInput {
  stack: string;
  /** Why the stack is in this change (changed-stacks' reasons). */
  reasons: readonly string[];
  /** changed-stacks' one-line canary summary. */
  canarySummary: string;
  /** The stack file's hold at base and head (changed-stacks' canary.hold), when known. */
  hold?: { from: HoldConfig | null; to: HoldConfig | null };
  raised: boolean;
  preview?: PreviewRun;
  /** Present when the canary went up. */
  gate?: GateRun;
  /** Where the gate's thresholds and gate settings came from (ci/gateConfig.ts: the base branch's stack file). */
  gateConfigNote?: string;
  /** Whether the override label counts (ci/override.ts), when the pull request's timeline was read. */
  override?: OverrideStatus;
  /** The stage the head moves to, against the next stage (finding 3). */
  jump?: StageJump;
  /** valuecanvas:appCredentialRotation at base and head (changed-stacks' canary.credentialRotation). */
  credentialRotation?: { from: number | null; to: number };
  /** Secret values to scrub from everything quoted. */
  secrets?: readonly string[];
  /** Link to the workflow run, for the full logs. */
  runUrl?: string;
  /** `rollout report --json` output and the HTML report's link (ci/stageChart.ts). */
  report?: { json?: string; url?: string };
}

export interface StackReview {
  markdown: string;
  decision: GateDecision;
  /** The marker that identifies this stack's comment, so a re-run edits it instead of adding another. */
  marker: string;
}

export function commentMarker(stack: string): string {
  return `<!-- valuecanvas-rollout-review stack=${stack} -->`;
}

const VERDICT_ICON: Record<Verdict, string> = { PROCEED: "✅", WAIT: "⏳", PAUSE: "⏸️", ROLLBACK: "🛑" };
const STATUS_ICON: Record<CheckStatus, string> = { pass: "✅", blocked: "❌", overridden: "⚠️" };

/**
 * `text` as an inline code span: delimited by more backticks than any run inside, so a person's words (a hold's
 * reason) cannot close it, and inside it nothing is markdown or HTML (no mention, link, comment or tag).
 */
export function codeSpan(text: string): string {
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((m) => m.length));
  const d = "`".repeat(longest + 1);
  const pad = text.startsWith("`") || text.endsWith("`") || text === "" ? " " : "";
  return `${d}${pad}${text}${pad}${d}`;
}

/**
 * The hold (rollout hold, issue 25) in the comment: while one is set the gate says PAUSE, so every stack's comment
 * says so, the reason quoted as code (core/transitions.ts holdText is the one wording).
 */
export function holdLine(hold: StackReviewInput["hold"], secrets: readonly string[]): string[] {
  if (!hold || (hold.from === null && hold.to === null)) return [];
  const q = (h: HoldConfig) => codeSpan(redact(holdText(h), secrets));
  if (hold.to === null) return [`**Hold:** released by this change (was ${q(hold.from as HoldConfig)}); the gate judges on the metrics again once merged`];
  const was = hold.from !== null && JSON.stringify(hold.from) !== JSON.stringify(hold.to) ? ` (was ${q(hold.from)})` : "";
  const when = hold.from === null ? "set by this change" : "in place";
  return [`**Hold:** ⏸️ ${when}: ${q(hold.to)}${was}. While it is on main the gate says PAUSE and nothing advances; \`rollout release\` removes it`];
}

/** A code fence longer than any backtick run in `text`, so quoted output cannot close it. */
function fence(text: string, lang = ""): string {
  const longest = Math.max(2, ...(text.match(/`+/g) ?? []).map((m) => m.length));
  const f = "`".repeat(longest + 1);
  return `${f}${lang}\n${text.replace(/\n+$/, "")}\n${f}`;
}

const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");

function fmtNum(v: number | null | undefined, unit: "%" | "s" | "" = "", digits = 2): string {
  if (v === null || v === undefined || Number.isNaN(v)) return "n/a";
  return `${Number.isInteger(v) && unit === "" ? v : v.toFixed(digits)}${unit}`;
}

function fmtMetric(v: number | null | undefined, metric: string | undefined): string {
  if (metric?.endsWith("Pct")) return fmtNum(v, "%");
  if (metric?.endsWith("Seconds")) return fmtNum(v, "s");
  return fmtNum(v);
}

/** The lines of Pulumi's closing summary ("Resources:" and what follows), for the comment's headline. */
export function previewSummary(output: string): string[] {
  const lines = stripAnsi(output).split("\n");
  const i = lines.findIndex((l) => /^\s*Resources:\s*$/.test(l));
  if (i < 0) return [];
  const out: string[] = [];
  for (const l of lines.slice(i + 1)) {
    if (l.trim() === "") break;
    out.push(l.trim());
  }
  return out;
}

function previewSection(p: PreviewRun | undefined, secrets: readonly string[], runUrl?: string): string[] {
  if (!p) return ["**Preview:** not run."];
  const clean = redact(p.output, secrets);
  const summary = previewSummary(clean);
  const ok = p.outcome === "success";
  const lines = [`**Preview** (\`pulumi preview --diff\`): ${ok ? "succeeded" : `**${p.outcome}**`}${summary.length ? ` — ${summary.join("; ")}` : ""}`];
  if (clean.trim() === "") {
    lines.push("", "_The preview printed nothing._");
    return lines;
  }
  let body = clean;
  let note = "";
  if (body.length > MAX_PREVIEW_CHARS) {
    body = body.slice(0, MAX_PREVIEW_CHARS);
    note = `\n\n_Output truncated at ${MAX_PREVIEW_CHARS} of ${clean.length} characters${runUrl ? `; the full output is in the [workflow run](${runUrl})` : ""}._`;
  }
  lines.push("", `<details${ok ? "" : " open"}><summary>Preview diff</summary>`, "", fence(body, "diff"), note, "</details>");
  return lines;
}

function gateSection(reading: GateReading, secrets: readonly string[]): string[] {
  if (!reading.ok) return [`**Gate:** ❌ ${reading.problem}`];
  const g = reading.gate;
  const lines: string[] = [];
  const stage = g.deployedStage ?? g.stage;
  lines.push(
    `**Gate** (\`rollout gate\`): ${VERDICT_ICON[g.verdict]} **${g.verdict}**` +
      (stage !== undefined ? ` at the deployed stage ${stage}%` : "") +
      (g.stage !== undefined && g.deployedStage !== undefined && g.stage !== g.deployedStage ? ` (judged as ${g.stage}%: a flag is off)` : "") +
      (g.soakHoursRequired !== undefined
        ? `, soaked ${g.soakHoursElapsed === null || g.soakHoursElapsed === undefined ? "unknown" : g.soakHoursElapsed.toFixed(1)} h of ${fmtNum(g.soakHoursRequired, "", 0)} h`
        : ""),
  );
  // A hold's words are a person's: quoted as code wherever the gate's sentences carry them.
  const held = (text: string) => (g.hold ? text.split(holdText(g.hold)).map((part) => redact(part, secrets)).join(codeSpan(redact(holdText(g.hold), secrets))) : redact(text, secrets));
  if (g.reasons?.length) lines.push("", ...g.reasons.map((r) => `- ${held(r)}`));
  if (g.notes?.length) lines.push("", ...g.notes.map((n) => `> **Note:** ${redact(n, secrets)}`));
  const m = g.metrics;
  if (m && (m.new || m.legacy)) {
    lines.push("", "| path | requests | errors | error rate | users | p95 |", "|---|---:|---:|---:|---:|---:|");
    for (const [name, p] of [["new", m.new], ["legacy", m.legacy]] as const) {
      if (!p) continue;
      const rate = p.requests > 0 ? (100 * p.errors) / p.requests : null;
      lines.push(`| ${name} | ${p.requests} | ${p.errors} | ${fmtNum(rate, "%")} | ${fmtNum(p.users)} | ${fmtNum(p.p95Seconds, "s")} |`);
    }
    if (m.contaminationCount !== undefined) lines.push("", `Cross-user session contamination: **${m.contaminationCount}**`);
  }
  if (g.applies) lines.push("", `Judged: ${cell(g.applies)}.`);
  if (g.criteria?.length) {
    // In the gate's own words, as `rollout gate` and the report's evidence table say them (core/gateText.ts).
    const contamination = m?.contaminationCount ?? Number.NaN;
    lines.push("", "| status | kind | criterion | evidence (always-valid bound) |", "|---|---|---|---|");
    for (const c of g.criteria) {
      const evidence = c.metric === "contaminationCount" && m?.contaminationCount === undefined ? `${fmtMetric(c.observed, c.metric)} contaminated session(s)` : criterionEvidence(c, contamination);
      lines.push(`| ${criterionWord(c)} | ${c.kind} | ${cell(c.description)} | ${cell(redact(evidence, secrets))} |`);
    }
  }
  if (g.comparison) lines.push("", `New vs legacy: ${redact(g.comparison.statement, secrets)}.`);
  if (g.alpha) {
    const a = g.alpha;
    lines.push(
      "",
      `${describeAlpha(a).replace(/^c/, "C")}; the bounds hold however often the gate is read. Looks so far at this stage: ${g.looks ?? redact(g.looksNote ?? "not counted", secrets)}.`,
    );
  }
  if (g.suggestedCommand) lines.push("", `Suggested next command: \`npx ${g.suggestedCommand}${g.stack ? ` --stack ${g.stack}` : ""}\``);
  else if (g.advice) lines.push("", `Next: ${held(g.advice)}`);
  lines.push("", "<details><summary>Gate JSON</summary>", "", fence(redact(JSON.stringify(reading.raw, null, 2), secrets), "json"), "", "</details>");
  return lines;
}

/** Build one stack's comment and the check's decision. */
export function buildStackReview(input: StackReviewInput): StackReview {
  const secrets = input.secrets ?? [];
  const reading = input.gate ? readGateRun(input.gate, secrets) : undefined;
  if (input.raised && !reading) {
    // A raise must be gated; a workflow that skipped the gate must not pass silently.
    const problem: GateReading = { ok: false, problem: "the canary went up but the gate did not run" };
    return finish(input, problem, secrets);
  }
  return finish(input, reading, secrets);
}

function finish(input: StackReviewInput, reading: GateReading | undefined, secrets: readonly string[]): StackReview {
  const nextStage = reading?.ok && reading.gate.nextStage !== undefined ? reading.gate.nextStage : undefined;
  const jump = input.jump ? { ...input.jump, nextStage: nextStage ?? input.jump.nextStage } : undefined;
  const decision = gateDecision(input.stack, reading, input.override, jump, input.credentialRotation);
  const marker = commentMarker(input.stack);
  const lines: string[] = [
    marker,
    `### Rollout review: stack \`${input.stack}\``,
    "",
    `${STATUS_ICON[decision.status]} ${redact(decision.message, secrets)}`,
    "",
    `**Canary:** ${input.canarySummary}`,
    ...holdLine(input.hold, secrets),
    `**Why this stack:** ${input.reasons.map((r) => redact(r, secrets)).join("; ")}`,
    "",
    ...previewSection(input.preview, secrets, input.runUrl),
  ];
  if (reading) {
    lines.push("", ...gateSection(reading, secrets));
    if (input.gateConfigNote) lines.push("", `> **Gate config:** ${redact(input.gateConfigNote, secrets)}`);
  }
  if (input.report) {
    const section = reportSection(input.report.json, input.report.url);
    if (section.length) lines.push("", ...section.map((l) => redact(l, secrets)));
  }
  if (input.runUrl) lines.push("", `[Workflow run](${input.runUrl})`);
  return { markdown: lines.join("\n") + "\n", decision, marker };
}
