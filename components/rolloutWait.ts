/**
 * The wait that makes `pulumi up` mean "rolled out" (issue 22, fact 3): a
 * dynamic resource after the app's Swarm service that, on every `up` that
 * changes what the service runs, polls Swarm until it reports the declared
 * spec rolled out (the update of this spec no longer in progress, every task
 * from the current template, each running for at least the soak), and fails
 * with Swarm's own words (`UpdateStatus.Message`) when Swarm rolled it back.
 *
 * Why a resource of its own: the docker provider's `convergeConfig` is
 * satisfied when every slot has *a* running task, old ones included, or when
 * it reads a `completed` that can be an older update's; nothing in its inputs
 * makes it wait for this update. The decision is core/rollout.ts (pure), the
 * reading program/swarmService.ts; this module only wires and polls. It runs
 * only in a real `up` (a preview and the SDK's mock runtime never call a
 * dynamic provider's create or update). docs/swarm.md argues the mechanism.
 */
import * as pulumi from "@pulumi/pulumi";
import type { DockerTarget } from "../core/swarmCheck";
import { RolloutExpectation, judgeRollout } from "../core/rollout";
import { readSwarmService } from "../program/swarmService";

/** What the provider receives. */
export interface RolloutWaitInputs {
  /** The service's id (the docker.Service's `id`). */
  serviceId: string;
  /** The engine the deploy uses (program/swarmManager.ts deployTarget). */
  target: DockerTarget;
  expected: RolloutExpectation;
  soakSeconds: number;
  timeoutSeconds: number;
  pollSeconds: number;
}

export interface RolloutWaitOutputs extends RolloutWaitInputs {
  /** What Swarm said when the rollout was confirmed. */
  summary: string;
}

/**
 * Poll until core/rollout.ts judgeRollout says rolled out (resolves the summary) or failed
 * (throws its message), or the timeout passes (throws the last reason). The clock is read here.
 */
export async function waitRolledOut(i: RolloutWaitInputs, log?: (line: string) => void): Promise<string> {
  const deadline = Date.now() + i.timeoutSeconds * 1000;
  let last = "";
  for (;;) {
    const { service, tasks } = await readSwarmService(i.target, i.serviceId);
    const v = judgeRollout({ expected: i.expected, service, tasks, soakSeconds: i.soakSeconds, nowMs: Date.now() });
    if (v.kind === "rolledOut") return v.summary;
    if (v.kind === "failed") throw new Error(`service ${service.Spec.Name ?? i.serviceId} did not roll out: ${v.message}`);
    if (v.reason !== last) log?.(`waiting for the rollout: ${v.reason}`);
    last = v.reason;
    if (Date.now() + i.pollSeconds * 1000 > deadline) {
      throw new Error(`service ${service.Spec.Name ?? i.serviceId} did not roll out within ${i.timeoutSeconds} s: ${v.reason}`);
    }
    await new Promise((r) => setTimeout(r, i.pollSeconds * 1000));
  }
}

/**
 * The provider, serialized into the state by the SDK with what it captures:
 * waitRolledOut, the reading (Node built-ins only) and the pure decision, by value.
 */
export const rolloutWaitProvider: pulumi.dynamic.ResourceProvider = {
  async create(inputs: RolloutWaitInputs): Promise<pulumi.dynamic.CreateResult> {
    const summary = await waitRolledOut(inputs);
    return { id: inputs.serviceId, outs: { ...inputs, summary } };
  },

  async diff(_id: string, olds: RolloutWaitOutputs, news: RolloutWaitInputs): Promise<pulumi.dynamic.DiffResult> {
    const keys = ["serviceId", "target", "expected", "soakSeconds", "timeoutSeconds", "pollSeconds"] as const;
    const changed = keys.filter((k) => JSON.stringify(olds[k]) !== JSON.stringify(news[k]));
    return { changes: changed.length > 0, replaces: [], deleteBeforeReplace: false };
  },

  async update(_id: string, _olds: RolloutWaitOutputs, news: RolloutWaitInputs): Promise<pulumi.dynamic.UpdateResult> {
    const summary = await waitRolledOut(news);
    return { outs: { ...news, summary } };
  },

  async delete(): Promise<void> {
    // Nothing to remove: the wait owns nothing in Swarm.
  },
};

/** The dynamic resource (type `pulumi-nodejs:dynamic/rollout:RolloutWait`). */
export class RolloutWaitResource extends pulumi.dynamic.Resource {
  declare readonly summary: pulumi.Output<string>;
  constructor(name: string, props: pulumi.Inputs, opts?: pulumi.CustomResourceOptions) {
    super(rolloutWaitProvider, name, { ...props, summary: undefined }, opts, "rollout", "RolloutWait");
  }
}

export interface RolloutWaitArgs {
  serviceId: pulumi.Input<string>;
  target: DockerTarget;
  expected: RolloutExpectation;
  soakSeconds: number;
  timeoutSeconds: number;
  /** Seconds between two reads of the service (default 2). */
  pollSeconds?: number;
}

export class RolloutWait extends pulumi.ComponentResource {
  /** What Swarm said when the rollout was confirmed. */
  readonly summary: pulumi.Output<string>;

  constructor(name: string, args: RolloutWaitArgs, opts?: pulumi.ComponentResourceOptions) {
    super("valuecanvas:rollout:RolloutWait", name, {}, opts);
    const w = new RolloutWaitResource(
      `${name}-wait`,
      {
        serviceId: args.serviceId,
        target: args.target,
        expected: args.expected,
        soakSeconds: args.soakSeconds,
        timeoutSeconds: args.timeoutSeconds,
        pollSeconds: args.pollSeconds ?? 2,
      },
      { parent: this },
    );
    this.summary = w.summary;
    this.registerOutputs({ summary: this.summary });
  }
}
