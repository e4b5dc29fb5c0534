/**
 * `npm run plan` (cli/plan.ts) refuses every hostile stack file of the table
 * (test/support/hostileStacks.ts) with the line, the column and what is wrong,
 * before it evaluates anything.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { plan } from "../../cli/plan";
import { StackFileError } from "../../stack/stackFileError";
import { CLEAN, HOSTILE_PROJECT_FILES, HOSTILE_STACKS } from "../support/hostileStacks";

describe("npm run plan refuses hostile stack files", () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "plan-hostile-"));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  for (const h of HOSTILE_STACKS) {
    it(`refuses ${h.name}`, async () => {
      fs.writeFileSync(path.join(dir, "Pulumi.prod.yaml"), h.text);
      await assert.rejects(plan({ stack: "prod", set: [], json: false, projectDir: dir }), (e: Error) => {
        assert.ok(e instanceof StackFileError, `a StackFileError, not ${e.name}: ${e.message}`);
        assert.match(e.message, /^Pulumi\.prod\.yaml/);
        assert.match(e.message, h.error);
        return true;
      });
    });
  }

  for (const h of HOSTILE_PROJECT_FILES) {
    it(`refuses a Pulumi.yaml with ${h.name}`, async () => {
      fs.writeFileSync(path.join(dir, "Pulumi.prod.yaml"), CLEAN);
      fs.writeFileSync(path.join(dir, "Pulumi.yaml"), h.text);
      try {
        await assert.rejects(plan({ stack: "prod", set: [], json: false, projectDir: dir }), (e: Error) => e instanceof StackFileError && h.error.test(e.message));
      } finally {
        fs.rmSync(path.join(dir, "Pulumi.yaml"));
      }
    });
  }

  it("accepts the clean file the table starts from (the refusals are the hostile part's)", async function () {
    this.timeout(120_000);
    fs.writeFileSync(path.join(dir, "Pulumi.prod.yaml"), CLEAN);
    const out = await plan({ stack: "prod", set: [], json: true, projectDir: dir });
    assert.ok(JSON.parse(out).resources.length > 0);
  });
});
