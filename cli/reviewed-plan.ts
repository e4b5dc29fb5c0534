/**
 * The reviewed plan's hand-off (ci/reviewedPlan.ts): the manifest the trusted
 * review job writes beside the preview's plan, its check at deploy, and the
 * pulumi argument vectors the workflows run.
 *
 *   npm run --silent ci:reviewed-plan -- manifest --repo <dir> --head <sha> --stack prod --out manifest.json
 *   npm run --silent ci:reviewed-plan -- check --repo <dir> --ref <sha> --stack prod --manifest manifest.json
 *   npm run --silent ci:reviewed-plan -- argv preview --stack prod --plan plan.json
 *   npm run --silent ci:reviewed-plan -- argv up --stack prod --mode plan|rollback [--plan plan.json]
 *
 * `check` exits 1 with "… re-run the pull request's checks …" when the stack
 * file or the program moved since the review. `argv` prints one argument a
 * line (`mapfile -t args`), so nothing is pasted into a shell command.
 */
import * as fs from "node:fs";
import { Command, InvalidArgumentError } from "commander";
import { reviewedState } from "../ci/detect";
import { DeployMode, planManifest, planProblem, previewArgv, upArgv } from "../ci/reviewedPlan";
import { STACK_NAME_RE } from "../stack/projectFiles";
import { runScript } from "./runScript";

function stackName(v: string): string {
  if (!STACK_NAME_RE.test(v)) throw new InvalidArgumentError(`"${v}" is not a stack name: use letters, digits, "_", "." and "-"`);
  return v;
}
/** A stack as Pulumi names it on the command line: `stack`, `org/stack` or `org/project/stack`. */
function qualifiedStack(v: string): string {
  const parts = v.split("/");
  if (parts.length > 3 || !parts.every((p) => STACK_NAME_RE.test(p))) throw new InvalidArgumentError(`"${v}" is not a stack name: stack, org/stack or org/project/stack, each of letters, digits, "_", "." and "-"`);
  return v;
}
function mode(v: string): DeployMode {
  if (v !== "plan" && v !== "rollback") throw new InvalidArgumentError(`"${v}" is not a deploy mode: allowed plan, rollback`);
  return v;
}

export function createReviewedPlanCli(): Command {
  const cmd = new Command("reviewed-plan").description("Write, check and apply the reviewed Pulumi update plan");
  cmd
    .command("manifest")
    .description("Record what the review saw (head, stack file and program hashes) beside the plan")
    .requiredOption("--repo <dir>", "the git repository holding the head commit")
    .requiredOption("--head <sha>", "the pull request's head commit the preview ran")
    .requiredOption("--stack <stack>", "the stack", stackName)
    .requiredOption("--out <file>", "where to write the manifest")
    .action((o: { repo: string; head: string; stack: string; out: string }) => {
      const m = planManifest(o.stack, o.head, reviewedState(o.repo, o.head, o.stack));
      fs.writeFileSync(o.out, JSON.stringify(m, null, 2) + "\n");
      process.stdout.write(`${o.stack}: reviewed plan recorded for ${o.head}\n`);
    });
  cmd
    .command("check")
    .description("Refuse a plan whose stack file or program moved since the review")
    .requiredOption("--repo <dir>", "the git repository")
    .requiredOption("--ref <sha>", "the commit being deployed")
    .requiredOption("--stack <stack>", "the stack", stackName)
    .option("--manifest <file>", "the manifest downloaded with the plan (missing: no reviewed plan)")
    .action((o: { repo: string; ref: string; stack: string; manifest?: string }) => {
      const text = o.manifest !== undefined && fs.existsSync(o.manifest) ? fs.readFileSync(o.manifest, "utf8") : undefined;
      const problem = planProblem(o.stack, text, reviewedState(o.repo, o.ref, o.stack));
      if (problem) throw new Error(problem);
      process.stdout.write(`${o.stack}: the reviewed plan matches ${o.ref}\n`);
    });
  const argv = cmd.command("argv").description("Print a pulumi command's arguments, one a line");
  argv
    .command("preview")
    .requiredOption("--stack <stack>", "the stack (org/stack allowed)", qualifiedStack)
    .requiredOption("--plan <file>", "where the plan is saved")
    .action((o: { stack: string; plan: string }) => void process.stdout.write(previewArgv(o.stack, o.plan).join("\n") + "\n"));
  argv
    .command("up")
    .requiredOption("--stack <stack>", "the stack (org/stack allowed)", qualifiedStack)
    .requiredOption("--mode <mode>", "plan or rollback (changed-stacks' deploy decision)", mode)
    .option("--plan <file>", "the reviewed plan (mode plan)")
    .action((o: { stack: string; mode: DeployMode; plan?: string }) => void process.stdout.write(upArgv(o.stack, o.mode, o.plan).join("\n") + "\n"));
  return cmd;
}

if (require.main === module) runScript("reviewed-plan", createReviewedPlanCli());
