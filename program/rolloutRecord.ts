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
 * The provider. Self-contained (it is serialized into the state by the SDK):
 * it requires `pg` at run time and refers to nothing else in this module.
 */
export const rolloutRecordProvider: pulumi.dynamic.ResourceProvider = {
  async create(inputs: RolloutRecordInputs): Promise<pulumi.dynamic.CreateResult> {
    const { Client } = require("pg") as typeof import("pg");
    const c = new Client({ connectionString: inputs.databaseUrl });
    await c.connect();
    try {
      const r = await c.query<{ id: string }>(
        `insert into monitoring.rollout_events
           (stack, from_stage, to_stage, enable_stateless_orchestration, enable_safe_json_parser, image_digest, git_commit, actor, reason)
         values ($1, null, $2, $3, $4, $5, $6, $7, $8) returning id`,
        [inputs.stack, inputs.canaryPercentage, inputs.enableStatelessOrchestration, inputs.enableSafeJsonParser, inputs.imageDigest, inputs.gitCommit, inputs.actor, inputs.reason],
      );
      const { databaseUrl: _url, ...outs } = inputs;
      void _url;
      return { id: `${inputs.stack}/${r.rows[0].id}`, outs };
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
      await c.query(
        `insert into monitoring.rollout_events
           (stack, from_stage, to_stage, enable_stateless_orchestration, enable_safe_json_parser, image_digest, git_commit, actor, reason)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
        [news.stack, olds.canaryPercentage, news.canaryPercentage, news.enableStatelessOrchestration, news.enableSafeJsonParser, news.imageDigest, news.gitCommit, news.actor, news.reason],
      );
      void id;
      const { databaseUrl: _url, ...outs } = news;
      void _url;
      return { outs };
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
