/**
 * One row in `monitoring.rollout_events` per `pulumi up` that changes the
 * rollout stage or the flags: from and to stage, flags, image digest, git
 * commit and actor when known, and the time (the database's now()).
 * `rollout status` / `rollout gate` read a stage's start and history from it.
 *
 * A dynamic resource whose diff looks only at the stage and the flags: a new
 * commit or actor alone changes nothing (no row, no diff in the preview).
 * Deleting the resource deletes no history. The table comes from migration
 * 0008; wire this resource after the migration resource (dependsOn).
 */
import * as pulumi from "@pulumi/pulumi";
import { insertRolloutEvent } from "../db/rolloutEvent";

export interface RolloutRecordArgs {
  /** Admin (or migration) connection URL; a secret. */
  databaseUrl: pulumi.Input<string>;
  /** The stack name written into each row (pulumi.getStack()). */
  stack: pulumi.Input<string>;
  canaryPercentage: pulumi.Input<number>;
  enableStatelessOrchestration: pulumi.Input<boolean>;
  enableSafeJsonParser: pulumi.Input<boolean>;
  /** The app image; its `sha256:` digest is recorded when it is pinned. */
  appImage?: pulumi.Input<string>;
  gitCommit?: pulumi.Input<string | undefined>;
  actor?: pulumi.Input<string | undefined>;
  /** A forced skip's reason, when known. */
  reason?: pulumi.Input<string | undefined>;
}

/** What the provider receives (resolved inputs). */
export interface RolloutRecordInputs {
  databaseUrl: string;
  stack: string;
  canaryPercentage: number;
  enableStatelessOrchestration: boolean;
  enableSafeJsonParser: boolean;
  imageDigest: string | null;
  gitCommit: string | null;
  actor: string | null;
  reason: string | null;
}

/** The state kept (no connection URL). */
export type RolloutRecordOutputs = Omit<RolloutRecordInputs, "databaseUrl">;

/** The `sha256:<hex>` digest of a pinned image reference, or null. */
export function imageDigestOf(image: string | undefined): string | null {
  const m = image === undefined ? null : /@(sha256:[a-f0-9]{64})$/.exec(image);
  return m ? m[1] : null;
}

/**
 * The provider. Serialized into the state by the SDK with what it captures:
 * db/rolloutEvent.ts's insertRolloutEvent (the one writer of a row) by value,
 * and `pg`, required at run time. It refers to nothing else in this module.
 */
export const rolloutRecordProvider: pulumi.dynamic.ResourceProvider = {
  async create(inputs: RolloutRecordInputs): Promise<pulumi.dynamic.CreateResult> {
    const { Client } = require("pg") as typeof import("pg");
    const c = new Client({ connectionString: inputs.databaseUrl });
    await c.connect();
    try {
      const { databaseUrl: _url, canaryPercentage, ...rest } = inputs;
      void _url;
      const id = await insertRolloutEvent(c, { ...rest, fromStage: null, toStage: canaryPercentage });
      return { id: `${inputs.stack}/${id}`, outs: { ...rest, canaryPercentage } };
    } finally {
      await c.end();
    }
  },

  async diff(_id: string, olds: RolloutRecordOutputs, news: RolloutRecordInputs): Promise<pulumi.dynamic.DiffResult> {
    const changed: string[] = [];
    for (const k of ["canaryPercentage", "enableStatelessOrchestration", "enableSafeJsonParser", "stack"] as const) {
      if (olds[k] !== news[k]) changed.push(k);
    }
    return { changes: changed.length > 0, replaces: changed.includes("stack") ? ["stack"] : [], deleteBeforeReplace: false };
  },

  async update(id: string, olds: RolloutRecordOutputs, news: RolloutRecordInputs): Promise<pulumi.dynamic.UpdateResult> {
    const { Client } = require("pg") as typeof import("pg");
    const c = new Client({ connectionString: news.databaseUrl });
    await c.connect();
    try {
      const { databaseUrl: _url, canaryPercentage, ...rest } = news;
      void _url;
      void id;
      await insertRolloutEvent(c, { ...rest, fromStage: olds.canaryPercentage, toStage: canaryPercentage });
      return { outs: { ...rest, canaryPercentage } };
    } finally {
      await c.end();
    }
  },

  async delete(): Promise<void> {
    // History is kept: removing the resource deletes no row.
  },
};

/** The dynamic resource itself (type `pulumi-nodejs:dynamic/rollout:RolloutEvent`). */
export class RolloutEvent extends pulumi.dynamic.Resource {
  /** Set by the SDK from the resource's outputs (`declare`: no class field overwrites it). */
  declare readonly canaryPercentage: pulumi.Output<number>;
  constructor(name: string, props: pulumi.Inputs, opts?: pulumi.CustomResourceOptions) {
    super(rolloutRecordProvider, name, props, opts, "rollout", "RolloutEvent");
  }
}

export class RolloutRecord extends pulumi.ComponentResource {
  /** The recorded stage, as the last `pulumi up` wrote it. */
  readonly recordedStage: pulumi.Output<number>;

  constructor(name: string, args: RolloutRecordArgs, opts?: pulumi.ComponentResourceOptions) {
    super("valuecanvas:rollout:RolloutRecord", name, {}, opts);
    const props = {
      databaseUrl: pulumi.secret(args.databaseUrl),
      stack: args.stack,
      canaryPercentage: args.canaryPercentage,
      enableStatelessOrchestration: args.enableStatelessOrchestration,
      enableSafeJsonParser: args.enableSafeJsonParser,
      imageDigest: pulumi.output(args.appImage).apply((i) => imageDigestOf(i)),
      gitCommit: pulumi.output(args.gitCommit).apply((v) => v ?? null),
      actor: pulumi.output(args.actor).apply((v) => v ?? null),
      reason: pulumi.output(args.reason).apply((v) => v ?? null),
    };
    const record = new RolloutEvent(`${name}-event`, props, {
      parent: this,
      additionalSecretOutputs: ["databaseUrl"],
    });
    this.recordedStage = record.canaryPercentage;
    this.registerOutputs({ recordedStage: this.recordedStage });
  }
}
