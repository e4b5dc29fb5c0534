/** core/plainText.ts: the one number and percentage formatting of the CLI's gate text and the rollout report (issue 14). */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { n2, percentOf } from "../core/plainText";

describe("plain-text formatting: one home", () => {
  it("n2: two decimals and the unit; the caller's word for a missing or non-finite value", () => {
    assert.equal(n2(2.345, " s"), "2.35 s");
    assert.equal(n2(0), "0.00");
    for (const v of [null, undefined, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.equal(n2(v), "-");
      assert.equal(n2(v, " s", "n/a"), "n/a");
    }
  });

  it("percentOf: a part of a whole with two decimals", () => {
    assert.equal(percentOf(1, 40), "2.50%");
    assert.equal(percentOf(0, 7), "0.00%");
    assert.equal(percentOf(7, 7), "100.00%");
  });

  it("the gate's text and the report's stage rows format through it, never a copy", () => {
    const root = path.resolve(__dirname, "..");
    for (const f of ["core/gateText.ts", "core/report/html.ts", "cli/rolloutText.ts"]) {
      const src = fs.readFileSync(path.join(root, f), "utf8");
      assert.doesNotMatch(src, /toFixed\(2\)\}%/, `${f} writes no percentage of its own`);
      assert.doesNotMatch(src, /const n2 =/, `${f} defines no n2 of its own`);
    }
  });
});
