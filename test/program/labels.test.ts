/** program/labels.ts owns the rollout's label prefix (issue 14: monitoring.ts once hardcoded it). */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { LABEL_PREFIX, containerLabels } from "../../program/labels";
import { evaluateStack } from "../support/program";

describe("the rollout's labels: one home", () => {
  it("no program file but program/labels.ts writes the label prefix", () => {
    const dir = path.resolve(__dirname, "../../program");
    for (const f of fs.readdirSync(dir).filter((x) => x.endsWith(".ts") && x !== "labels.ts")) {
      assert.ok(!fs.readFileSync(path.join(dir, f), "utf8").includes(`${LABEL_PREFIX}/`), `program/${f} spells the label prefix itself`);
    }
  });

  it("the Prometheus data volume carries the role label containerLabels gives", async () => {
    const ev = await evaluateStack("dev");
    const vol = ev.resources.find((r) => r.type === "docker:index/volume:Volume" && r.name.endsWith("-prometheus-data"));
    assert.ok(vol, "a Prometheus data volume is declared");
    assert.deepEqual(vol.inputs.labels, containerLabels("monitoring-prometheus"));
  });
});
