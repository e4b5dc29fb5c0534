/**
 * The stack config the pull-request gate judges with: the base branch's
 * Pulumi.<stack>.yaml (or, for a stack new in the pull request, the head's
 * without its `thresholds` and `gate` groups), written into a folder for
 * `rollout gate --project-dir`.
 *
 *   npm run --silent ci:gate-config -- --base <sha> --head <sha> --stack prod --out <dir> [--repo <dir>] [--github-output <file>]
 *
 * Thin: the decision is ci/gateConfig.ts. Prints the note; appends
 * `dir=`, `source=` and `note=` lines to --github-output. Exit 1 with a
 * plain-language error (unknown commit, no stack file at head, a head file
 * that does not parse).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { Command } from "commander";
import { writeGateProjectDir } from "../ci/gateConfig";
import { runScript } from "./runScript";

export function createGateConfigCli(): Command {
  return new Command("gate-config")
    .description("Write the stack file the pull-request gate judges with (the base branch's) into a folder for rollout gate --project-dir")
    .requiredOption("--base <commit>", "the pull request's base commit (its thresholds and gate settings are used)")
    .requiredOption("--head <commit>", "the pull request's head commit")
    .requiredOption("--stack <stack>", "the stack to gate")
    .requiredOption("--out <dir>", "folder to write Pulumi.<stack>.yaml into (created)")
    .option("--repo <dir>", "the git work tree", ".")
    .option("--github-output <file>", "append dir=, source= and note= lines (GitHub Actions $GITHUB_OUTPUT)")
    .action((o: { base: string; head: string; stack: string; out: string; repo: string; githubOutput?: string }) => {
      const choice = writeGateProjectDir(o.repo, o.base, o.head, o.stack, o.out);
      if (o.githubOutput) {
        fs.appendFileSync(o.githubOutput, `dir=${path.resolve(o.out)}\nsource=${choice.source}\nnote=${choice.note.replace(/\n/g, " ")}\n`);
      }
      process.stdout.write(`${choice.note}\n`);
    });
}

if (require.main === module) runScript("gate-config", createGateConfigCli());
