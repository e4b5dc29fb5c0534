/**
 * The program's first step on a real deploy: stop at once unless the target
 * Docker engine is a Swarm manager (the app is a Swarm service, docs/swarm.md).
 * Never runs in a preview or under the SDK's mock runtime (`npm run plan`, the
 * tests). The decision is core/swarmCheck.ts (pure), the asking program/dockerInfo.ts.
 */
import * as pulumi from "@pulumi/pulumi";
import { MockMonitor } from "@pulumi/pulumi/runtime/mocks";
import { DockerInfoError, readSwarmInfo } from "./dockerInfo";
import { DockerTarget, DockerTargetError, dockerTarget, engineSettings, swarmCheckApplies, swarmProblem } from "../core/swarmCheck";

/** True under `pulumi.runtime.setMocks` (offline/evaluate.ts, unit tests). */
export function isMockRuntime(): boolean {
  return pulumi.runtime.getMonitor() instanceof MockMonitor;
}

/** The engine this deploy's docker provider uses: the stack's `docker:context` / `DOCKER_CONTEXT`, else `docker:host` / `DOCKER_HOST`, else the local socket. */
export function deployTarget(env: NodeJS.ProcessEnv = process.env): DockerTarget {
  const docker = new pulumi.Config("docker");
  return dockerTarget(engineSettings({ context: docker.get("context"), host: docker.get("host") }, env));
}

/** deployTarget for the rollout wait: a bad setting stops the program with its message alone (a RunError). */
export function rolloutWaitTarget(env: NodeJS.ProcessEnv = process.env): DockerTarget {
  try {
    return deployTarget(env);
  } catch (err) {
    if (err instanceof DockerTargetError) throw new pulumi.RunError(`the Docker engine the rollout wait reads: ${err.message}`);
    throw err;
  }
}

/** Throws a RunError (the message alone, no stack) when this deploy's engine is not a Swarm manager. */
export function requireSwarmManager(env: NodeJS.ProcessEnv = process.env): void {
  if (!swarmCheckApplies({ dryRun: pulumi.runtime.isDryRun(), mocked: isMockRuntime() })) return;
  try {
    const target = deployTarget(env);
    const problem = swarmProblem(readSwarmInfo(target), target);
    if (problem) throw new pulumi.RunError(problem);
  } catch (err) {
    if (err instanceof DockerTargetError || err instanceof DockerInfoError) {
      throw new pulumi.RunError(`cannot tell whether the deploy's Docker engine is a Swarm manager: ${err.message}`);
    }
    throw err;
  }
}
