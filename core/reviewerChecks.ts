/**
 * The one home of "What the reviewer checks" in a stage pull request: docs/RUNBOOK.md's
 * list is generated from it (tools/runbook.ts, `npm run docs:runbook`) and `rollout propose`
 * puts the same list into the body of every pull request it opens (core/proposal.ts).
 * Pure: text in, markdown out.
 *
 * The list refers to the criteria table in two ways: inside the RUNBOOK as "the table above",
 * in a pull request by the RUNBOOK's section (a pull request's body cannot link to a file of
 * the repository by a relative path).
 */

/** Where the list is read: the runbook itself, or a pull request's body. */
export type ChecksPlace = "runbook" | "pull-request";

const criteria = (where: ChecksPlace) => (where === "runbook" ? "the table above" : 'the criteria table in docs/RUNBOOK.md ("Criteria at each stage")');

/** The numbered list, as markdown. */
export function reviewerChecksMarkdown(where: ChecksPlace): string {
  return [
    "1. **The stack file diff** changes only `canaryPercentage` (and, at week 2, the two flags), by exactly one",
    "   stage. A skipped stage carries the note that `--force` writes into the stack file, with its reason.",
    "2. **The preview** in the **Rollout review** comment: only the app service is updated, **in place**",
    "   (`~ update`, never a replacement), and what changes is its secret env (`CANARY_PERCENTAGE`) and one",
    "   service label (the stage), plus the rollout record. Nothing under the database, the",
    "   migrations, the monitoring stack or the proxy. A change anywhere else does not belong in a stage",
    "   pull request.",
    "3. **The gate's verdict** in the same comment is ✅ PROCEED for the stage that is deployed now, and:",
    "   - the soak time is at least the required hours;",
    `   - both paths have traffic; the new path's error rate, P95 and contamination count meet ${criteria(where)};`,
    "   - the statistical test's confidence that the new path is worse stays below the required confidence;",
    "   - the deployed stage is the one this pull request steps up from. The gate reads the base branch's",
    "     stack file, which names the stage running now; a **Note** that it and the records disagree means an",
    "     earlier merged change was never applied: find out why before merging.",
    "   - the **Gate config** line says the thresholds came from the base branch. If this pull request also",
    "     changes `thresholds` or `gate`, those changes did not judge it; ask for them in a separate pull request.",
    "4. **No override** unless the pull request explains why in its description (e.g. a stack with too little",
    "   traffic to ever reach the volume minimum). A ROLLBACK or PAUSE verdict is never overridden to go up.",
    "5. The **rollout review** check is green, and someone is around to watch the stage for its first hour.",
  ].join("\n");
}
