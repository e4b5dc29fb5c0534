/**
 * Issue 13 §3 item 9: the "allowed" sentence of each config key (the error message and the README's
 * config reference) reads as English. A key with one allowed value says "must be N", never "from 0 to 0".
 */
import { strict as assert } from "node:assert";
import { ConfigError, parseConfig } from "../../core/config";
import { configKeyDocs } from "../../core/configIntrospect";

describe("config reference: allowed values read as English (issue 13 §3 item 9)", () => {
  it("no key documents a range of one value (from N to N)", () => {
    const degenerate = configKeyDocs().filter((d) => /from (-?[\d.]+) to \1(?!\d)/.test(d.allowed));
    assert.deepEqual(degenerate.map((d) => `${d.path}: ${d.allowed}`), []);
  });

  it("thresholds.contaminationMax says it must be 0, in the reference and in the error", () => {
    const doc = configKeyDocs().find((d) => d.path === "thresholds.contaminationMax");
    assert.ok(doc);
    assert.equal(doc.allowed, "an integer that must be 0");
    assert.throws(
      () => parseConfig({ appImage: "ghcr.io/valuecanvas/app:phase3", thresholds: { contaminationMax: 1 } }, { stack: "dev" }),
      (e: unknown) => e instanceof ConfigError && /thresholds\.contaminationMax = 1: expected an integer that must be 0/.test(e.message),
    );
  });
});
