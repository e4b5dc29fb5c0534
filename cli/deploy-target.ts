/**
 * Before `pulumi up`: say where the stack is deployed, or refuse (exit 1)
 * when it would land on the throwaway runner (ci/deployTarget.ts).
 *
 *   npm run --silent ci:deploy-target -- --stack prod [--runner "$DEPLOY_RUNNER"] [--project-dir .]
 */
import * as fs from "node:fs";
import { Command } from "commander";
import { deployTarget } from "../ci/deployTarget";
import { stackFilePath } from "../stack/stackFile";
import { runScript } from "./runScript";

export function createDeployTargetCli(): Command {
  return new Command("deploy-target")
    .description("Say where pulumi up deploys a stack; exit 1 when it would deploy onto a GitHub-hosted runner")
    .requiredOption("--stack <stack>", "the stack about to be deployed")
    .option("--runner <label>", "the value of DEPLOY_RUNNER_<STACK> (the runner this job runs on)", "")
    .option("--project-dir <dir>", "folder with the Pulumi.<stack>.yaml files", ".")
    .action((o: { stack: string; runner: string; projectDir: string }) => {
      const t = deployTarget(o.stack, fs.readFileSync(stackFilePath(o.projectDir, o.stack), "utf8"), o.runner);
      if (!t.ok) throw new Error(t.message);
      process.stdout.write(`${t.message}\n`);
    });
}

if (require.main === module) runScript("deploy-target", createDeployTargetCli());
