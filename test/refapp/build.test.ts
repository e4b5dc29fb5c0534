/**
 * The reference app's build (reference-app/build.ts): a self-contained
 * directory whose npm packages are exactly `pg`'s runtime closure in the
 * lockfile, at the lockfile's versions, resolved from inside the directory.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { REPO_ROOT, runtimeClosure } from "../../reference-app/build";
import { builtApp } from "./support";

describe("reference app: the build", function () {
  this.timeout(120_000);

  it("resolves dependencies the way node does: nested copies first, then the nearest parent", () => {
    const lock = {
      packages: {
        "": {},
        "node_modules/a": { version: "1.0.0", dependencies: { b: "^2", c: "^1" }, optionalDependencies: { gone: "^1" } },
        "node_modules/a/node_modules/b": { version: "2.0.0", dependencies: { c: "^1" } },
        "node_modules/b": { version: "1.0.0" },
        "node_modules/c": { version: "1.0.0", dependencies: {} },
        "node_modules/unrelated": { version: "9.9.9" },
      },
    };
    assert.deepEqual(runtimeClosure(lock, ["a"]), ["node_modules/a", "node_modules/a/node_modules/b", "node_modules/c"]);
    assert.throws(() => runtimeClosure({ packages: { "node_modules/a": { dependencies: { missing: "1" } } } }, ["a"]), /missing \(needed by node_modules\/a\) is not in the lockfile/);
  });

  it("stages pg's runtime closure at the lockfile's versions, and the app resolves pg from inside the build", async () => {
    const main = await builtApp();
    const outDir = path.resolve(path.dirname(main), "..", "..");
    const lock = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "package-lock.json"), "utf8"));
    const staged = (JSON.parse(fs.readFileSync(path.join(outDir, "package.json"), "utf8")) as { stagedPackages: Record<string, string> }).stagedPackages;
    const closure = runtimeClosure(lock, ["pg"]).filter((p) => fs.existsSync(path.join(REPO_ROOT, p)));
    assert.deepEqual(Object.keys(staged).sort(), closure);
    assert.ok(closure.includes("node_modules/pg") && closure.includes("node_modules/pg-pool") && closure.includes("node_modules/pg-protocol"));
    for (const [at, version] of Object.entries(staged)) {
      assert.equal(version, lock.packages[at].version, at);
      assert.equal(JSON.parse(fs.readFileSync(path.join(outDir, at, "package.json"), "utf8")).version, version, at);
    }
    const resolved = require.resolve("pg", { paths: [path.dirname(main)] });
    assert.ok(resolved.startsWith(outDir + path.sep), `pg resolves inside the build: ${resolved}`);
    for (const m of ["core/bucketing.js", "core/stages.js", "core/proxyConfig.js"]) assert.ok(fs.existsSync(path.join(outDir, m)), m);
    assert.ok(!fs.existsSync(path.join(outDir, "node_modules", "zod")), "nothing but pg's closure");
  });
});
