/** A config group given as a JSON-encoded string (how Pulumi passes structured config) is decoded by one function, core/configSchema.ts objectInput (issue 14). */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { objectInput } from "../../core/configSchema";
import { applySets } from "../../offline/plan";

describe("JSON-encoded config groups: one decoder", () => {
  it("objectInput decodes an object string and leaves anything else as it is", () => {
    assert.deepEqual(objectInput(' {"minRequests": 10}'), { minRequests: 10 });
    for (const v of ["{bad", "plain", 3, null, ["a"], { a: 1 }]) assert.deepEqual(objectInput(v), v);
  });

  it("applySets (npm run plan --set, the [docker] harness) sets a key inside a JSON-string group, keeping its other keys; a malformed group becomes a fresh object", () => {
    assert.deepEqual(applySets({ alerting: '{"minRequests": 10}' }, [{ path: "alerting.warningFor", value: "1m" }]), { alerting: { minRequests: 10, warningFor: "1m" } });
    assert.deepEqual(applySets({ alerting: "{bad" }, [{ path: "alerting.warningFor", value: "1m" }]), { alerting: { warningFor: "1m" } });
  });

  it("the plan and the doc-command checker decode through it, never a copy", () => {
    const root = path.resolve(__dirname, "../..");
    for (const f of ["offline/plan.ts", "tools/docCommands.ts"]) {
      const src = fs.readFileSync(path.join(root, f), "utf8");
      assert.match(src, /\bobjectInput\(/, f);
      assert.doesNotMatch(src, /JSON\.parse\(/, `${f} decodes no JSON of its own`);
    }
  });
});
