/**
 * Issue 14: key introspection (core/configKeys.ts) reads a schema through zod's public API. Each wrapper a
 * key may sit in (default, optional, prefault, a preprocess pipe around a group) is seen through, on a
 * schema built here, so a zod upgrade that changed what the helpers rely on fails here, not in the docs.
 */
import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { defaultOf, describeOf, isOptional, shapeOf } from "../../core/configKeys";

describe("config key introspection through zod's public API (issue 14)", () => {
  const leaf = z.string().describe("a word");
  const group = z.strictObject({ a: leaf, b: leaf.default("x") });

  it("finds a group's shape through default, optional, prefault and a preprocess pipe; a leaf has none", () => {
    for (const wrapped of [group, group.optional(), group.default({ a: "y", b: "x" }), group.prefault({ a: "y" }), z.preprocess((v) => v, group), z.preprocess((v) => v, group).optional()]) {
      assert.deepEqual(Object.keys(shapeOf(wrapped) ?? {}), ["a", "b"]);
    }
    assert.equal(shapeOf(leaf), undefined);
    assert.equal(shapeOf(z.preprocess((v) => v, leaf)), undefined);
  });

  it("reads a leaf's description under its wrappers and through a transform pipe", () => {
    assert.equal(describeOf(leaf.default("x")), "a word");
    assert.equal(describeOf(leaf.optional()), "a word");
    assert.equal(describeOf(z.unknown().pipe(leaf)), "a word");
    assert.equal(describeOf(z.string()), undefined);
  });

  it("reads a default and optionality (a prefault is neither)", () => {
    assert.equal(defaultOf(leaf.default("x")), "x");
    assert.equal(defaultOf(leaf.optional()), undefined);
    assert.equal(isOptional(leaf.default("x")), true);
    assert.equal(isOptional(leaf.optional()), true);
    assert.equal(isOptional(leaf), false);
    assert.equal(isOptional(leaf.prefault("x")), false);
  });

  it("does not reach into zod's internals (_zod)", () => {
    const src = readFileSync(join(__dirname, "../../core/configKeys.ts"), "utf8");
    assert.doesNotMatch(src, /_zod\b/);
  });
});
