/**
 * Where `pulumi up` deploys a stack. The stacks use the Docker provider; with
 * no `docker:host` in the stack file the provider talks to the Docker engine
 * of the machine `pulumi up` runs on — on a GitHub-hosted runner that is a
 * throwaway VM, and the database would have to be reachable from there too.
 * So the deploy job runs a stack either on a self-hosted runner on the deploy
 * host (repository variable DEPLOY_RUNNER_<STACK>, its label) or against a
 * remote engine (`pulumi config set --stack <s> docker:host ssh://...`), and
 * refuses to run `pulumi up` with neither. Either way that engine must be a
 * Docker Swarm manager (the app is a Swarm service, docs/swarm.md); the
 * program itself stops a deploy where it is not (program/swarmManager.ts).
 *
 * Pure: the workflow's step (cli/deploy-target.ts) passes the stack file
 * and the runner variable's value.
 */
import * as path from "node:path";
import { parseStackFile, stackFilePath } from "../stack/stackFile";

/** Said with every allowed target: the engine must be a Swarm manager. */
export const SWARM_MANAGER_NOTE = "that engine must be a Docker Swarm manager (docs/swarm.md; pulumi up stops at once, with the docker swarm init command, where it is not)";

/** Labels of GitHub-hosted runners: throwaway machines, never a deploy host. */
const GITHUB_HOSTED = /^(ubuntu|windows|macos)-/;

/** The repository variable holding a stack's deploy runner label, e.g. DEPLOY_RUNNER_PROD. */
export function deployRunnerVariable(stack: string): string {
  return `DEPLOY_RUNNER_${stack.toUpperCase().replace(/[^A-Z0-9]/g, "_")}`;
}

export type DeployTarget =
  | { ok: true; runner: string | null; dockerHost: string | null; message: string }
  | { ok: false; message: string };

/**
 * Decide whether the deploy job may run `pulumi up` for `stack`. `runner` is
 * the value of DEPLOY_RUNNER_<STACK> (empty or undefined when unset).
 */
export function deployTarget(stack: string, stackText: string, runner: string | undefined): DeployTarget {
  const file = path.basename(stackFilePath(".", stack));
  const hostValue = parseStackFile(stack, file, stackText).allConfig["docker:host"];
  const dockerHost = typeof hostValue === "string" && hostValue.trim() !== "" ? hostValue.trim() : null;
  const label = runner?.trim() ? runner.trim() : null;
  const selfHosted = label !== null && !GITHUB_HOSTED.test(label);
  const variable = deployRunnerVariable(stack);
  if (dockerHost !== null) {
    return {
      ok: true,
      runner: label,
      dockerHost,
      message: `${stack}: pulumi up deploys to the Docker engine at ${dockerHost} (docker:host in ${file}), from runner ${label ?? "ubuntu-latest"}; the database must be reachable from that runner; ${SWARM_MANAGER_NOTE}`,
    };
  }
  if (selfHosted) {
    return {
      ok: true,
      runner: label,
      dockerHost: null,
      message: `${stack}: pulumi up deploys to the local Docker engine of the self-hosted runner "${label}" (${variable}); the database must be reachable from it; ${SWARM_MANAGER_NOTE}`,
    };
  }
  return {
    ok: false,
    message:
      `${stack}: refusing to run pulumi up: ${file} has no docker:host and ` +
      (label === null ? `repository variable ${variable} is not set` : `${variable} is "${label}", a GitHub-hosted runner`) +
      `, so the containers would be created on this throwaway runner. Either set ${variable} to the label of a self-hosted runner on the deploy host, ` +
      `or point the stack at the host's engine: pulumi config set --stack ${stack} docker:host ssh://<user>@<deploy host> (docs/RUNBOOK.md "Where pulumi up deploys")`,
  };
}
