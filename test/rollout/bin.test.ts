/**
 * The shipped entry points run the compiled build (dist/, made by `npm ci` through `prepare`: tools/build.cjs),
 * and the build is the sources' code: the rest of the suite runs the TypeScript sources through ts-node
 * (test/support/hooks.ts sets ROLLOUT_TS_NODE=1), this file runs what an operator and Pulumi run.
 */
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { distIsFresh } from "../../bin/load.cjs";
import { evaluateProgram } from "../../offline/evaluate";
import { programConfig, readStackFile } from "../../stack/stackFile";

const ROOT = path.join(__dirname, "..", "..");

/**
 * Build dist/ unless it matches the sources (npm ci has built it; an edit since makes it stale). The
 * freshness is then checked again: bin/load.cjs remembers its first answer for the process, and the
 * compiled program loaded in this process must see the new build, not fall back to the sources.
 */
function ensureBuilt(): void {
  if (distIsFresh()) return;
  const r = spawnSync(process.execPath, [path.join(ROOT, "tools", "build.cjs")], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  assert.ok(distIsFresh(true), "dist/ is fresh after the build");
}

/**
 * Run `node <args>` the way an operator does (no ROLLOUT_TS_NODE), recording the modules it loaded, Node's
 * own modules it loaded (process.moduleLoadList) and whether a global `navigator` is left at exit.
 */
function runShipped(args: string[]): { status: number | null; stdout: string; stderr: string; loaded: string[]; builtins: string[]; navigator: string } {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.ROLLOUT_TS_NODE;
  const probe = `process.on("exit", () => require("node:fs").writeSync(2, "\\nLOADED " + JSON.stringify([Object.keys(require.cache), process.moduleLoadList, typeof globalThis.navigator]) + "\\n"));`;
  const r = spawnSync(process.execPath, ["-e", `${probe} process.argv.splice(1, 0, ${JSON.stringify(args[0])}); require(${JSON.stringify(args[0])});`, "--", ...args.slice(1)], {
    cwd: ROOT,
    env,
    encoding: "utf8",
  });
  const m = /\nLOADED (.*)\n$/.exec(r.stderr);
  const [loaded, builtins, navigator] = m ? (JSON.parse(m[1]) as [string[], string[], string]) : [[], [], "(no probe)"];
  return { status: r.status, stdout: r.stdout, stderr: m ? r.stderr.slice(0, m.index) : r.stderr, loaded, builtins, navigator };
}

const rel = (files: string[]) => files.filter((f) => !f.includes(`${path.sep}node_modules${path.sep}`)).map((f) => path.relative(ROOT, f));

describe("the shipped entry points (compiled)", function () {
  this.timeout(120_000);
  before(ensureBuilt);

  it("`rollout --help` runs dist/cli/rollout.js without ts-node, TypeScript, the database or the drill", () => {
    const r = runShipped([path.join(ROOT, "bin", "rollout.cjs"), "--help"]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^Usage: rollout /);
    const mine = rel(r.loaded);
    assert.ok(mine.includes(path.join("dist", "cli", "rollout.js")), mine.join(", "));
    assert.deepEqual(mine.filter((f) => f.endsWith(".ts")), []);
    assert.deepEqual(r.loaded.filter((f) => /node_modules[\\/](ts-node|typescript|pg|zod|@pulumi)[\\/]/.test(f)), []);
    assert.deepEqual(mine.filter((f) => /^dist[\\/](db|drill|stack)[\\/]/.test(f)), []);
  });

  it("a command runs compiled to its end: `rollout rollback --stack staging --dry-run` refuses with exit 2", () => {
    const r = runShipped([path.join(ROOT, "bin", "rollout.cjs"), "rollback", "--stack", "staging", "--dry-run"]);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /^rollout rollback: already at stage 0/);
    assert.ok(rel(r.loaded).includes(path.join("dist", "stack", "stackEdit.js")));
  });

  it("`rollout status` loads pg to connect but not Node's fetch stack, and leaves no global navigator", () => {
    // pg 8 probes for a Cloudflare Worker at load; on Node 20 the probe built a fetch Response (db/rolloutStore.ts loadPg).
    const r = runShipped([path.join(ROOT, "bin", "rollout.cjs"), "status", "--stack", "prod", "--database-url", "postgres://nobody@127.0.0.1:1/none"]);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /^rollout status: cannot reach the database at postgres:\/\/nobody@127\.0\.0\.1:1\/none: connection refused/);
    assert.ok(r.loaded.some((f) => /node_modules[\\/]pg[\\/]lib[\\/]stream\.js$/.test(f)), "pg's stream module is loaded");
    assert.ok(r.builtins.includes("NativeModule net"), r.builtins.join(", "));
    assert.deepEqual(r.builtins.filter((b) => /undici|http2|NativeModule http$/.test(b)), []);
    assert.equal(r.navigator, "undefined");
  });

  it("an npm script runs compiled: bin/run.cjs cli/deploy-target --help", () => {
    const r = runShipped([path.join(ROOT, "bin", "run.cjs"), "cli/deploy-target", "--help"]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /Usage: /);
    assert.ok(rel(r.loaded).includes(path.join("dist", "cli", "deploy-target.js")));
  });

  it("Pulumi runs bin/program.cjs as JavaScript, and it loads index.ts's build", () => {
    const project = parse(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8")) as { main: string; runtime: { options: { typescript: boolean } } };
    assert.equal(project.main, "bin/program.cjs");
    assert.equal(project.runtime.options.typescript, false);
    const program = fs.readFileSync(path.join(ROOT, "bin", "program.cjs"), "utf8");
    assert.match(program, /require\("\.\.\/dist\/index\.js"\)/);
    assert.match(program, /require\("\.\.\/index\.ts"\)/);
  });

  it("the compiled program declares exactly what the sources declare, dynamic providers' serialized code included", async () => {
    const sf = readStackFile(ROOT, "staging");
    const { config, secretKeys } = programConfig(sf);
    const before = process.env.ROLLOUT_TS_NODE;
    try {
      const fromSources = await evaluateProgram({ stack: "staging", config, secretKeys, keepMachinery: true });
      process.env.ROLLOUT_TS_NODE = "0";
      const compiled = await evaluateProgram({ stack: "staging", config, secretKeys, keepMachinery: true });
      assert.ok(require.cache[path.join(ROOT, "dist", "components", "app.js")] !== undefined, "the compiled program was not loaded (evaluate drops the entry module itself from the cache, not its imports)");
      assert.deepEqual(compiled.resources, fromSources.resources);
      assert.ok(compiled.resources.some((r) => typeof r.inputs.__provider === "string"), "no dynamic provider's code was compared");
    } finally {
      process.env.ROLLOUT_TS_NODE = before;
    }
  });
});
