/**
 * The layout's rules, checked on the source itself. First: no import cycles
 * among the project's TypeScript files, type-only imports included (a cycle
 * of types still ties two modules together for a reader and for tsc).
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { findCycle, importGraph, reachable } from "../ci/imports";

const ROOT = path.resolve(__dirname, "..");
/**
 * Every project TypeScript file, wherever it lives (test/ too: its helpers are
 * modules like any other): the whole tree is walked, so a new folder is never
 * left out of the checks. Dependencies, build output and hidden folders are not the project's.
 */
const SKIP_DIRS = new Set(["node_modules", "dist", "out"]);

/** Every project `.ts` file's text, by repository-relative "/" path. */
function projectTexts(): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (rel: string) => {
    const abs = path.join(ROOT, rel);
    if (!fs.existsSync(abs)) return;
    if (fs.statSync(abs).isDirectory()) {
      for (const e of fs.readdirSync(abs).sort()) if (!SKIP_DIRS.has(e) && !e.startsWith(".")) walk(rel === "" ? e : path.posix.join(rel, e));
    } else if (rel.endsWith(".ts")) {
      out.set(rel, fs.readFileSync(abs, "utf8"));
    }
  };
  walk("");
  return out;
}

describe("layout", () => {
  it("has no import cycle among the project's TypeScript files (import, import type, export from, import(), require())", () => {
    const files = projectTexts();
    const graph = importGraph(files);
    // The walk saw the program and its tools, so an empty graph cannot pass by accident.
    for (const f of ["index.ts", "offline/plan.ts", "offline/evaluate.ts", "cli/rollout.ts", "cli/changed-stacks.ts", "reference-app/src/main.ts"]) {
      assert.ok(files.has(f), `${f} was read`);
    }
    assert.ok(reachable(graph, ["index.ts"]).length > 10, "index.ts's imports were followed");
    const cycle = findCycle(graph.edges);
    assert.equal(cycle, undefined, `import cycle: ${(cycle ?? []).join(" → ")}`);
  });

  describe("the cycle finder", () => {
    it("finds a two-file cycle, naming it from where it closes", () => {
      const g = new Map([
        ["a/plan.ts", ["b/evaluate.ts"]],
        ["b/evaluate.ts", ["a/plan.ts"]],
      ]);
      assert.deepEqual(findCycle(g), ["a/plan.ts", "b/evaluate.ts", "a/plan.ts"]);
    });

    it("finds a longer cycle behind an acyclic prefix, and a self-import", () => {
      const g = new Map([
        ["a.ts", ["b.ts"]],
        ["b.ts", ["c.ts"]],
        ["c.ts", ["d.ts"]],
        ["d.ts", ["b.ts"]],
      ]);
      assert.deepEqual(findCycle(g), ["b.ts", "c.ts", "d.ts", "b.ts"]);
      assert.deepEqual(findCycle(new Map([["x.ts", ["x.ts"]]])), ["x.ts", "x.ts"]);
    });

    it("accepts a diamond (shared imports are not a cycle)", () => {
      const g = new Map([
        ["a.ts", ["b.ts", "c.ts"]],
        ["b.ts", ["d.ts"]],
        ["c.ts", ["d.ts"]],
        ["d.ts", []],
      ]);
      assert.equal(findCycle(g), undefined);
    });

    it("sees a cycle made only of type-only imports, re-exports, import() and require() in file texts", () => {
      const texts = new Map([
        ["a/plan.ts", 'import type { Evaluation } from "../b/evaluate";\nexport {};\n'],
        ["b/evaluate.ts", 'export { helper } from "./helper";\n'],
        ["b/helper.ts", 'export const helper = () => import("./lazy");\n'],
        ["b/lazy.ts", 'const p = require("../a/plan");\nexport default p;\n'],
      ]);
      assert.deepEqual(findCycle(importGraph(texts).edges), [
        "a/plan.ts", "b/evaluate.ts", "b/helper.ts", "b/lazy.ts", "a/plan.ts",
      ]);
    });
  });
});
