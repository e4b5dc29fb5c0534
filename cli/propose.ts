/**
 * `rollout propose --stack S` (issue 25, part 1), the I/O around core/proposal.ts: fetch the base
 * branch, read its stack file in a worktree of its own, run the gate on the deployed stage, list the
 * open pull requests, decide, and carry the decision out: close stale proposals (and delete their
 * branches), comment and label on PAUSE or ROLLBACK, and on PROCEED make the edit `rollout advance`
 * makes (stack/stackEdit.ts editAdvance), commit it with the evidence, push `rollout/S-<next>` and open
 * the pull request. It never merges. `--dry-run` decides and prints, and writes, pushes and calls
 * nothing that changes anything.
 *
 * cli/rollout.ts parses the command line and hands the gate's assessment in (`assess`), so this module
 * does not import it.
 */
import * as path from "node:path";
import type { RolloutConfig } from "../core/configSchema";
import { formatGateShort } from "../core/gateText";
import { PROPOSAL_LABEL, ProposeAction, decidePropose, proposalBody, proposalCommitMessage, proposalTitle } from "../core/proposal";
import { advanceBranchStage } from "../core/workflow";
import { flagText } from "../core/stages";
import type { Assessment } from "../db/assessment";
import { editAdvance } from "../stack/stackEdit";
import { loadStack, stackFilePath } from "../stack/stackFile";
import { PullRequests } from "../ci/github";
import { ProposeGit, commitFile, deleteBranch, detachedWorktree, fetchForPropose, fileUnchangedSince, pushBranch } from "../ci/proposeGit";

export interface ProposeOptions {
  stack: string;
  /** The git checkout (its remote is the repository the pull requests are opened in). */
  repoDir: string;
  remote: string;
  base: string;
  /** owner/name, for the open pull requests' head repository check. */
  repository: string;
  dryRun: boolean;
  /** A link to the workflow run, for the pull request's body. */
  runUrl?: string;
}

/** What was done (or, with --dry-run, would be), one entry per action. */
export interface ProposeDone {
  action: ProposeAction["kind"];
  number: number | null;
  branch: string | null;
  url: string | null;
  detail: string;
}

export interface ProposeResult {
  stack: string;
  dryRun: boolean;
  verdict: Assessment["gate"]["verdict"];
  baseCommit: string;
  configured: Assessment["configured"];
  deployed: Assessment["deployed"];
  open: Array<{ number: number; branch: string; labels: string[] }>;
  done: ProposeDone[];
  notes: string[];
  gate: Assessment["gate"];
  asOf: Date;
}

export async function runPropose(o: ProposeOptions, assess: (cfg: RolloutConfig) => Promise<Assessment>, github: PullRequests): Promise<ProposeResult> {
  const g: ProposeGit = { dir: o.repoDir, remote: o.remote, base: o.base };
  // Listed before the fetch: every head listed is then in the fetched history (a branch pushed on since still contains it).
  const pulls = (await github.listOpen(o.base)).filter((p) => advanceBranchStage(o.stack, p.branch) !== undefined);
  const baseCommit = fetchForPropose(g, o.stack);
  const wt = detachedWorktree(g, baseCommit);
  try {
    const { cfg } = loadStack(wt.dir, o.stack);
    const a = await assess(cfg);
    const gateText = formatGateShort(a.gate);
    const file = path.basename(stackFilePath(wt.dir, o.stack));
    const open = pulls.map((p) => ({
      number: p.number,
      branch: p.branch,
      sameRepository: p.headRepository === o.repository,
      labels: p.labels,
      stackFileUnchangedOnMain: p.headRepository === o.repository ? fileUnchangedSince(g, baseCommit, p.headSha, file) : true,
    }));
    const decision = decidePropose({ stack: o.stack, verdict: a.gate.verdict, gateText, asOf: a.asOf, configured: a.configured, deployed: a.deployed, deployedFromRecords: a.deployedFromRecords, open });
    const done: ProposeDone[] = [];
    for (const act of decision.actions) {
      switch (act.kind) {
        case "close": {
          const head = pulls.find((p) => p.number === act.number)?.headSha;
          if (!o.dryRun) {
            await github.comment(act.number, act.body);
            await github.close(act.number);
            if (head) deleteBranch(g, act.branch, head);
          }
          done.push({ action: act.kind, number: act.number, branch: act.branch, url: null, detail: `closed #${act.number} (${act.branch}) as stale: ${act.why}; its branch deleted` });
          break;
        }
        case "comment-verdict":
          if (!o.dryRun) {
            await github.comment(act.number, act.body);
            await github.addLabels(act.number, [act.label]);
          }
          done.push({ action: act.kind, number: act.number, branch: null, url: null, detail: `#${act.number}: commented that the gate says ${act.verdict}, labelled ${act.label}` });
          break;
        case "clear-verdict":
          if (!o.dryRun) {
            await github.comment(act.number, act.body);
            for (const l of act.labels) await github.removeLabel(act.number, l);
          }
          done.push({ action: act.kind, number: act.number, branch: null, url: null, detail: `#${act.number}: the gate says PROCEED again; removed ${act.labels.join(", ")}` });
          break;
        case "open": {
          // The same edit `rollout advance` makes, dated by the gate's clock, in the worktree at the base.
          const r = editAdvance(wt.dir, o.stack, { date: a.asOf.toISOString().slice(0, 10) }, { dryRun: o.dryRun });
          const title = proposalTitle(o.stack, r.plan.summary);
          let number: number | null = null;
          let url: string | null = null;
          if (!o.dryRun) {
            commitFile(wt.dir, file, proposalCommitMessage(o.stack, r.plan.summary, gateText, a.asOf));
            pushBranch(g, wt.dir, act.branch, baseCommit);
            const pr = await github.create({ title, head: act.branch, base: o.base, body: proposalBody({ stack: o.stack, from: act.from, to: act.to, gateText, asOf: a.asOf, runUrl: o.runUrl }) });
            await github.addLabels(pr.number, [PROPOSAL_LABEL]);
            number = pr.number;
            url = pr.url;
          }
          done.push({ action: act.kind, number, branch: act.branch, url, detail: `${o.dryRun ? "would open" : `opened #${number}`} "${title}" from ${act.branch}${url ? ` (${url})` : ""}\n${r.diff}` });
          break;
        }
      }
    }
    return {
      stack: o.stack,
      dryRun: o.dryRun,
      verdict: a.gate.verdict,
      baseCommit,
      configured: a.configured,
      deployed: a.deployed,
      open: open.map((p) => ({ number: p.number, branch: p.branch, labels: [...p.labels] })),
      done,
      notes: [...a.notes, ...decision.notes],
      gate: a.gate,
      asOf: a.asOf,
    };
  } finally {
    wt.remove();
  }
}

/** The text `rollout propose` prints: the state, the gate's short text, then what it did (or would do) and why. */
export function formatPropose(r: ProposeResult): string {
  const st = (x: ProposeResult["configured"]) => `${x.canaryPercentage}% (${flagText(x)})`;
  let s = `stack ${r.stack}: main at ${r.baseCommit.slice(0, 12)} configures ${st(r.configured)}; deployed ${st(r.deployed)}\n`;
  s += formatGateShort(r.gate);
  s += `open proposals: ${r.open.length === 0 ? "none" : r.open.map((p) => `#${p.number} ${p.branch}${p.labels.length ? ` [${p.labels.join(", ")}]` : ""}`).join("; ")}\n`;
  for (const n of r.notes) s += `note: ${n}\n`;
  for (const d of r.done) s += `${r.dryRun ? "dry run: " : ""}${d.detail.trimEnd()}\n`;
  if (r.done.length === 0) s += "nothing to do\n";
  else if (r.dryRun) s += "dry run: nothing was written, pushed or sent to GitHub\n";
  return s;
}
