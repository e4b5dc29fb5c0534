/**
 * The generated parts of docs/RUNBOOK.md: each stage's success, pause and
 * rollback criteria and the alert levels, written from core/stages.ts
 * (STAGES, criteriaFor, GUIDE_THRESHOLDS, GUIDE_SOAK_HOURS), so the runbook
 * cannot drift from what the gate and the alerts use; and what the reviewer
 * checks, from core/reviewerChecks.ts, the list `rollout propose` puts into
 * its pull requests.
 *
 *   npm run docs:runbook            rewrite the block in docs/RUNBOOK.md
 *   npm run docs:runbook -- --check exit 1 when the block is out of date
 */
import { GUIDE_SOAK_HOURS, GUIDE_THRESHOLDS, STAGES, Thresholds, criteriaFor, stageInfo } from "../core/stages";
import { reviewerChecksMarkdown } from "../core/reviewerChecks";

export const RUNBOOK_BEGIN = "<!-- generated: criteria (npm run docs:runbook; from core/stages.ts) -->";
export const RUNBOOK_END = "<!-- /generated: criteria -->";
/** The reviewer's list, generated from core/reviewerChecks.ts (rollout propose puts the same list into its pull requests). */
export const CHECKS_BEGIN = "<!-- generated: reviewer checks (npm run docs:runbook; from core/reviewerChecks.ts) -->";
export const CHECKS_END = "<!-- /generated: reviewer checks -->";

export class RunbookError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RunbookError";
  }
}

/** The markdown between the markers. */
export function criteriaMarkdown(t: Thresholds = GUIDE_THRESHOLDS, soakHours: number = GUIDE_SOAK_HOURS): string {
  const lines: string[] = [
    `Soak time at every stage: **${soakHours} hours** (per stack: \`gate.soakHours\`).`,
    "",
    "| metric | target | warning | critical |",
    "|---|---|---|---|",
    `| error rate | < ${t.targetErrorRatePct}% | > ${t.errorRateWarningPct}% | > ${t.errorRateCriticalPct}% |`,
    `| P95 latency | < ${t.targetP95Seconds}s | > ${t.p95WarningSeconds}s | > ${t.p95CriticalSeconds}s |`,
    `| cross-user session contamination | ${t.contaminationMax} | — | > ${t.contaminationMax} |`,
    "",
    "| stage | guide | to proceed (all, over the soak time) | pause (any) | immediate rollback (any) |",
    "|---|---|---|---|---|",
  ];
  for (const stage of STAGES) {
    const c = criteriaFor(stage, t);
    const list = (xs: { description: string }[]) => (xs.length ? xs.map((x) => x.description).join("; ") : "—");
    lines.push(`| ${stage}% | ${stageInfo(stage).guideSection} | ${list(c.success)} | ${list(c.pause)} | ${list(c.rollback)} |`);
  }
  return lines.join("\n");
}

/** `text` with the block between `begin` and `end` replaced by `body`. Throws when the markers are missing or out of order. */
function replaceBlock(text: string, begin: string, end: string, body: string): string {
  const a = text.indexOf(begin);
  const b = text.indexOf(end);
  if (a < 0 || b < 0 || b < a) {
    throw new RunbookError(`docs/RUNBOOK.md must contain "${begin}" followed by "${end}"`);
  }
  return `${text.slice(0, a)}${begin}\n${body}\n${text.slice(b)}`;
}

/** The runbook with its generated blocks (the criteria, the reviewer's list) replaced. Throws when a block's markers are missing or out of order. */
export function renderRunbook(text: string): string {
  return replaceBlock(replaceBlock(text, RUNBOOK_BEGIN, RUNBOOK_END, criteriaMarkdown()), CHECKS_BEGIN, CHECKS_END, reviewerChecksMarkdown("runbook"));
}
