import { strict as assert } from "node:assert";
import * as path from "node:path";
import { RolloutRecordInputs, imageDigestOf, rolloutRecordProvider } from "../../components/rolloutRecord";
import { evaluateProgram } from "../../offline/evaluate";
import * as pulumi from "@pulumi/pulumi";
import { readHistory } from "../../db/rolloutStore";
import { withSerializedProvider } from "../support/serializedProvider";
import { migratedDatabase, withClient } from "./support";

const DIGEST = `sha256:${"ab".repeat(32)}`;
const PROGRAM = path.join(__dirname, "fixtures", "recordProgram.ts");
const EVENT_TYPE = "pulumi-nodejs:dynamic/rollout:RolloutEvent";

function evaluate(stage: string, flags: string, extra: Record<string, string> = {}) {
  return evaluateProgram({
    stack: "prod",
    program: PROGRAM,
    config: {
      "valuecanvas:recordDatabaseUrl": "postgres://admin:placeholder@db:5432/postgres",
      "valuecanvas:canaryPercentage": stage,
      "valuecanvas:enableStatelessOrchestration": flags,
      "valuecanvas:enableSafeJsonParser": flags,
      "valuecanvas:appImage": `ghcr.io/valuecanvas/app@${DIGEST}`,
      ...extra,
    },
    secretKeys: ["valuecanvas:recordDatabaseUrl"],
  });
}

describe("RolloutRecord component (Pulumi SDK mock runtime)", function () {
  this.timeout(60_000);

  it("declares one rollout event under the component, with stage, flags, digest, commit and actor; the URL a secret", async () => {
    const ev = await evaluate("25", "true", { "valuecanvas:gitCommit": "0123456789abcdef", "valuecanvas:actor": "alice" });
    const events = ev.resources.filter((r) => r.type === EVENT_TYPE);
    assert.equal(events.length, 1);
    const e = events[0];
    assert.equal(e.parent, "valuecanvas:rollout:RolloutRecord::rollout");
    assert.deepEqual(
      { ...e.inputs, databaseUrl: undefined },
      { databaseUrl: undefined, stack: "prod", canaryPercentage: 25, enableStatelessOrchestration: true, enableSafeJsonParser: true, imageDigest: DIGEST, gitCommit: "0123456789abcdef", actor: "alice", reason: null },
    );
    assert.ok(e.secretInputs.includes("databaseUrl"));
    assert.equal(ev.resources.filter((r) => r.type === "valuecanvas:rollout:RolloutRecord").length, 1);
  });

  it("a stage change changes only the event's stage input", async () => {
    const a = (await evaluate("25", "true")).resources.find((r) => r.type === EVENT_TYPE);
    const b = (await evaluate("50", "true")).resources.find((r) => r.type === EVENT_TYPE);
    const changed = Object.keys(a?.inputs ?? {}).filter((k) => JSON.stringify(a?.inputs[k]) !== JSON.stringify(b?.inputs[k]));
    assert.deepEqual(changed, ["canaryPercentage"]);
  });

  it("records a digest only for a pinned image", () => {
    assert.equal(imageDigestOf(`ghcr.io/x/app@${DIGEST}`), DIGEST);
    assert.equal(imageDigestOf("ghcr.io/x/app:1.2"), null);
    assert.equal(imageDigestOf(undefined), null);
  });
});

describe("[pg] RolloutRecord provider writes the rows the rollout command reads", function () {
  this.timeout(60_000);

  for (const [how, run] of [
    ["the provider", (use: (p: pulumi.dynamic.ResourceProvider) => Promise<void>) => use(rolloutRecordProvider)],
    ["the provider as the SDK serializes it into the state", (use: (p: pulumi.dynamic.ResourceProvider) => Promise<void>) => withSerializedProvider(rolloutRecordProvider, use)],
  ] as const) {
    it(`${how}: one row per change of stage or flags; a new commit alone changes nothing`, () => run(async (p) => {
      const url = await migratedDatabase();
      const base: RolloutRecordInputs = {
        databaseUrl: url,
        stack: "prod",
        canaryPercentage: 10,
        enableStatelessOrchestration: true,
        enableSafeJsonParser: true,
        imageDigest: DIGEST,
        gitCommit: "c1",
        actor: "alice",
        reason: null,
      };
      assert.ok(p.diff && p.update);
      const created = await p.create(base);
      const { databaseUrl: _u, ...olds } = base;
      void _u;
      assert.deepEqual(created.outs, olds, "the connection URL is not kept in state");
      assert.equal((await p.diff(created.id, olds, { ...base, gitCommit: "c2", actor: "bob" })).changes, false);
      const next = { ...base, canaryPercentage: 25, gitCommit: "c2" };
      assert.equal((await p.diff(created.id, olds, next)).changes, true);
      await p.update(created.id, olds, next);
      const rollback = { ...next, enableStatelessOrchestration: false, enableSafeJsonParser: false, actor: "oncall" };
      assert.equal((await p.diff(created.id, { ...olds, canaryPercentage: 25 }, rollback)).changes, true);
      await p.update(created.id, { ...olds, canaryPercentage: 25 }, rollback);

      const h = await withClient(url, (c) => readHistory(c, "prod", new Date(Date.now() + 60_000)));
      assert.deepEqual(
        h.events.map((e) => [e.fromStage, e.toStage, e.flags.enableStatelessOrchestration, e.gitCommit, e.actor, e.imageDigest]),
        [
          [25, 25, false, "c2", "oncall", DIGEST],
          [10, 25, true, "c2", "alice", DIGEST],
          [null, 10, true, "c1", "alice", DIGEST],
        ],
      );
      assert.equal(h.current?.toStage, 25);
    }));
  }
});
