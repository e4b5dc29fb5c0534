/**
 * `rollout propose` (issue 25, part 1): what the scheduled run does for one stack, decided from the
 * gate's verdict for the deployed stage, main's stack file and the stack's open proposals; and the
 * texts it writes (the pull request's title and body, the commit message, the comments). The tool
 * proposes, people decide: nothing here merges.
 *
 * The rules:
 * - a proposal is an open pull request from this repository whose head branch is one of the stack's
 *   advance branches (`rollout/<stack>-<stage>`, core/workflow.ts changeBranch), whoever opened it;
 *   the tool's own carry PROPOSAL_LABEL, and the tool only ever comments on, labels or closes its own;
 * - a proposal is **stale** when main's stack file changed since the proposal branched off (another
 *   stage merged, a rollback, new thresholds: its diff and its evidence are about another state), or
 *   when its stage is no longer the next one after main's configured stage. A stale proposal of the
 *   tool's is closed, with a comment saying why (its branch is deleted by the caller);
 * - an open proposal of the tool's whose gate now says PAUSE or ROLLBACK gets one comment with the
 *   gate's short text and the verdict's label, once per verdict (a second run finds the label and
 *   does nothing); when the gate says PROCEED again, the label comes off with a comment;
 * - a new proposal is opened only when the gate says PROCEED, there is a next stage, main's stack file
 *   is what is deployed (the change before it was applied), and no proposal of the stack is open.
 *   WAIT, PAUSE and ROLLBACK open nothing, so a hold (issue 25 part 3: the gate then says PAUSE)
 *   proposes nothing either.
 *
 * Pure: the caller (cli/propose.ts) reads git, the database and GitHub, and carries the actions out.
 */
import type { Verdict } from "./gate";
import { reviewerChecksMarkdown } from "./reviewerChecks";
import { RolloutState, Stage, effectivePercentage, flagText, nextStage, sameState } from "./stages";
import { advanceBranchStage, changeBranch, changeSubject } from "./workflow";

/** The label on every pull request `rollout propose` opened (and the only ones it comments on, labels or closes). */
export const PROPOSAL_LABEL = "rollout-proposal";

/** The label an open proposal gets when its gate says PAUSE or ROLLBACK. */
export const VERDICT_LABELS = { PAUSE: "rollout-gate-pause", ROLLBACK: "rollout-gate-rollback" } as const;
type Blocking = keyof typeof VERDICT_LABELS;

/** The hidden marker in a proposal's body: the stack and the stages (for a reader; the decision uses the branch). */
export function proposalMarker(stack: string, from: number, to: number): string {
  return `<!-- rollout-propose stack=${stack} from=${from} to=${to} -->`;
}

/** An open pull request, as the caller found it. */
export interface OpenPull {
  number: number;
  /** Its head branch. */
  branch: string;
  /** True when the head branch is in this repository (not a fork). */
  sameRepository: boolean;
  labels: readonly string[];
  /** True when main's stack file is the one the pull request branched from (git: at the merge base). */
  stackFileUnchangedOnMain: boolean;
}

export interface ProposeInput {
  stack: string;
  /** The gate's verdict for the deployed stage, and its short text (core/gateText.ts formatGateShort). */
  verdict: Verdict;
  gateText: string;
  /** When the gate read the metrics (the database's clock). */
  asOf: Date;
  /** main's stack file, and the newest rollout record (or main's file when there is none). */
  configured: RolloutState;
  deployed: RolloutState;
  deployedFromRecords: boolean;
  open: readonly OpenPull[];
}

export type ProposeAction =
  | { kind: "open"; branch: string; from: Stage; to: Stage }
  | { kind: "comment-verdict"; number: number; verdict: Blocking; label: string; body: string }
  | { kind: "clear-verdict"; number: number; labels: string[]; body: string }
  | { kind: "close"; number: number; branch: string; why: string; body: string };

export interface ProposeDecision {
  actions: ProposeAction[];
  /** What the run found, one line each (why nothing, or why these actions). */
  notes: string[];
}

/** Why an open proposal is stale, or undefined. */
export function staleReason(stack: string, p: Pick<OpenPull, "branch" | "stackFileUnchangedOnMain">, configured: RolloutState): string | undefined {
  if (!p.stackFileUnchangedOnMain) return `Pulumi.${stack}.yaml on main changed since this pull request branched off: its diff and evidence are about another state`;
  const to = advanceBranchStage(stack, p.branch);
  const next = nextStage(effectivePercentage(configured) as Stage);
  if (to !== next) return `its stage (${to}%) is no longer the next one: main configures ${configured.canaryPercentage}% (${flagText(configured)}), ${next === undefined ? "the last stage" : `next ${next}%`}`;
  return undefined;
}

export function decidePropose(i: ProposeInput): ProposeDecision {
  const actions: ProposeAction[] = [];
  const notes: string[] = [];
  const mine = (p: OpenPull) => p.sameRepository && p.labels.includes(PROPOSAL_LABEL);
  const proposals = i.open.filter((p) => advanceBranchStage(i.stack, p.branch) !== undefined);
  const remaining: OpenPull[] = [];
  for (const p of proposals) {
    const why = staleReason(i.stack, p, i.configured);
    if (why !== undefined && mine(p)) {
      actions.push({ kind: "close", number: p.number, branch: p.branch, why, body: staleComment(why) });
      continue;
    }
    remaining.push(p);
    if (why !== undefined) {
      notes.push(`#${p.number} (${p.branch}) is stale (${why}), but not a proposal of this tool's (no ${PROPOSAL_LABEL} label): left to its author`);
      continue;
    }
    if (!mine(p)) {
      notes.push(`#${p.number} (${p.branch}) is open, opened by a person: no new proposal while it is`);
      continue;
    }
    const onIt = Object.values(VERDICT_LABELS).filter((l) => p.labels.includes(l));
    if (i.verdict === "PAUSE" || i.verdict === "ROLLBACK") {
      const label = VERDICT_LABELS[i.verdict];
      if (p.labels.includes(label)) notes.push(`#${p.number}: the gate still says ${i.verdict}; it has the ${label} label already`);
      else actions.push({ kind: "comment-verdict", number: p.number, verdict: i.verdict, label, body: verdictComment(i) });
    } else if (i.verdict === "PROCEED" && onIt.length > 0) {
      actions.push({ kind: "clear-verdict", number: p.number, labels: onIt, body: proceedAgainComment(i) });
    } else {
      notes.push(`#${p.number} (${p.branch}) is open and current; the gate says ${i.verdict}`);
    }
  }
  if (remaining.length > 0) return { actions, notes };

  const from = effectivePercentage(i.configured) as Stage;
  const to = nextStage(from);
  if (i.verdict !== "PROCEED") notes.push(`the gate says ${i.verdict}: nothing to propose`);
  else if (to === undefined) notes.push(`at the last stage (${from}%): nothing to propose`);
  else if (i.deployedFromRecords && !sameState(i.configured, i.deployed)) {
    notes.push(`main configures ${i.configured.canaryPercentage}% (${flagText(i.configured)}) but ${i.deployed.canaryPercentage}% (${flagText(i.deployed)}) is deployed: nothing is proposed until that change is applied`);
  } else {
    actions.push({ kind: "open", branch: changeBranch(i.stack, { kind: "advance", to }), from, to });
  }
  return { actions, notes };
}

// ---------------------------------------------------------------------------
// Texts

/** `text` in a fenced block no text inside can close (its ``` become '''). */
export const fenced = (text: string) => `\`\`\`text\n${text.replace(/```/g, "'''").trimEnd()}\n\`\`\``;
const asOfText = (d: Date) => `${d.toISOString().slice(0, 16).replace("T", " ")} UTC`;

/** The commit: the stage change's usual subject, then the evidence (the gate's short text). */
export function proposalCommitMessage(stack: string, summary: string, gateText: string, asOf: Date): string {
  return `${changeSubject(stack, summary)}\n\nProposed by rollout propose: the gate said PROCEED for the deployed stage as of ${asOfText(asOf)}.\n\n${gateText.trimEnd()}\n`;
}

/** The pull request's title: the commit's subject. */
export function proposalTitle(stack: string, summary: string): string {
  return changeSubject(stack, summary);
}

/** The pull request's body: what it is, the gate's short verdict, what the reviewer checks. */
export function proposalBody(o: { stack: string; from: number; to: number; gateText: string; asOf: Date; runUrl?: string }): string {
  return [
    `**Proposed by \`rollout propose\`**${o.runUrl ? ` ([run](${o.runUrl}))` : ""}: the gate says **PROCEED** for stack \`${o.stack}\` at ${o.from}% as of ${asOfText(o.asOf)}, so this pull request raises it to **${o.to}%** with the edit \`rollout advance\` makes.`,
    "The tool never merges: a person reviews this pull request, and the merge runs `pulumi up`. The **Rollout review** comment (this pull request's own run) has the preview, the gate read again and the rollout report.",
    "",
    "### The gate's verdict",
    "",
    fenced(o.gateText),
    "",
    "### What the reviewer checks",
    "",
    reviewerChecksMarkdown("pull-request"),
    "",
    `If the gate later says PAUSE or ROLLBACK, this pull request gets a comment and the \`${VERDICT_LABELS.PAUSE}\` or \`${VERDICT_LABELS.ROLLBACK}\` label; once \`Pulumi.${o.stack}.yaml\` changes on main, or ${o.to}% is no longer the next stage, it is closed as stale.`,
    "",
    proposalMarker(o.stack, o.from, o.to),
    "",
  ].join("\n");
}

function verdictComment(i: ProposeInput): string {
  const what = i.verdict === "ROLLBACK" ? "Do not merge: roll back (docs/RUNBOOK.md, \"Rollback procedures\")." : "Do not merge while it says so (docs/RUNBOOK.md, \"Pause criteria and what to do\").";
  return `**The gate now says ${i.verdict}** for stack \`${i.stack}\` (as of ${asOfText(i.asOf)}). ${what}\n\n${fenced(i.gateText)}\n`;
}

function proceedAgainComment(i: ProposeInput): string {
  return `The gate says **PROCEED** again for stack \`${i.stack}\` (as of ${asOfText(i.asOf)}); the verdict label is removed.\n\n${fenced(i.gateText)}\n`;
}

function staleComment(why: string): string {
  return `Closed by \`rollout propose\` as stale: ${why}. A new proposal is opened when the gate says PROCEED for what main configures now.\n`;
}
