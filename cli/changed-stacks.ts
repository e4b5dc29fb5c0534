/**
 * Which stacks a commit range changes, and whether each one's canary went up.
 *
 *   npm run --silent ci:changed-stacks -- --base <sha> --head <sha> [--exclude dev] [--json] [--github-output <file>]
 *
 * Thin: the decisions are ci/changes.ts, the git plumbing ci/git.ts.
 * Exit 0 with the result; 1 with a plain-language error (bad commit, a stack
 * file at head that does not parse).
 */
import * as fs from "node:fs";
import { Command } from "commander";
import { actionsMatrix, detectChanges, Detection } from "../ci/detect";
import { runScript } from "./runScript";
import { holdText } from "../core/gateText";

function human(d: Detection): string {
  const lines = [`changes measured from ${d.base ?? "(nothing: every stack is new)"} to ${d.head}`];
  if (d.stacks.length === 0) lines.push("no stack changed");
  for (const s of d.stacks) {
    lines.push(`${s.stack}: ${s.reasons.join("; ")}`);
    lines.push(`  canary: ${s.canary.summary}${s.canary.raised ? ` — gate required (database secret ${s.databaseSecret})` : ""}`);
    lines.push(`  deploy: ${s.deploy === "rollback" ? "a rollback: pulumi up --skip-preview --refresh, no preview or plan" : "preview, then pulumi up --plan with the reviewed plan"}`);
    if (s.canary.hold.to !== null) lines.push(`  hold: ${holdText(s.canary.hold.to)}`);
    else if (s.canary.hold.from !== null) lines.push(`  hold: released (was ${holdText(s.canary.hold.from)})`);
    if (s.canary.baseInvalid) lines.push(`  note: the base stack file did not parse (${s.canary.baseInvalid}); compared against the defaults`);
  }
  for (const s of d.removed) lines.push(`${s}: stack file removed (nothing to preview or deploy; destroy the stack by hand)`);
  for (const s of d.excluded) lines.push(`${s}: changed, but excluded from CI`);
  lines.push(`tests: ${d.tests.needed ? "needed" : "not needed"}: ${d.tests.why}`);
  return lines.join("\n");
}

/** Lines for $GITHUB_OUTPUT. JSON values are single-line. */
export function githubOutputs(d: Detection): string {
  const matrix = actionsMatrix(d);
  return [
    `any=${d.stacks.length > 0}`,
    `stacks=${JSON.stringify(d.stacks.map((s) => s.stack))}`,
    `raised=${JSON.stringify(d.stacks.filter((s) => s.canary.raised).map((s) => s.stack))}`,
    `matrix=${JSON.stringify(matrix)}`,
    // The stacks whose change needs a preview and a reviewed plan; a rollback (deploy "rollback") needs neither.
    `previews=${JSON.stringify({ include: matrix.include.filter((m) => m.deploy === "plan") })}`,
    `anyPreview=${matrix.include.some((m) => m.deploy === "plan")}`,
    // False only when the change sets, changes or removes holds and nothing else (issue 25): no resource changes.
    `testsNeeded=${d.tests.needed}`,
  ].join("\n") + "\n";
}

export function createChangedStacksCli(): Command {
  return new Command("changed-stacks")
    .description("List the stacks a commit range changes and whether each one's canary percentage went up")
    .requiredOption("--base <commit>", "the commit the change is measured from (the PR's base, or the push's `before`; all zeros = every stack is new)")
    .requiredOption("--head <commit>", "the commit with the change")
    .option("--repo <dir>", "the git work tree", ".")
    .option("--exclude <stacks...>", "stacks CI never previews or deploys", [])
    .option("--json", "print the full decision as JSON")
    .option("--github-output <file>", "append any=, stacks=, raised= and matrix= lines to this file (GitHub Actions $GITHUB_OUTPUT)")
    .action((opts: { base: string; head: string; repo: string; exclude: string[]; json?: boolean; githubOutput?: string }) => {
      const d = detectChanges(opts.repo, opts.base, opts.head, { exclude: opts.exclude });
      if (opts.githubOutput) fs.appendFileSync(opts.githubOutput, githubOutputs(d));
      process.stdout.write((opts.json ? JSON.stringify(d, null, 2) : human(d)) + "\n");
    });
}

if (require.main === module) runScript("changed-stacks", createChangedStacksCli());
