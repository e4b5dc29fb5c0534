/**
 * The operator's tools say what they are doing (issue 24, item 6):
 * `npm run docs:config` says what it wrote or that the file is unchanged;
 * `npm run bench:gate` prints progress on stderr, keeping stdout for the
 * figures. (`rollout sandbox --stop` with no sandbox: test/rollout/sandbox.test.ts.)
 */
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { REFERENCE_END, REFERENCE_START, configReferenceTable, writeConfigReference } from "../tools/configDocs";
import { PROGRESS_EVERY_MS, SCENARIOS, progressReporter } from "../bench/gate";
import { main as rollout } from "../cli/rollout";

const ROOT = path.resolve(__dirname, "..");

function npmRun(args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync("npm", ["run", "--silent", ...args], { cwd: ROOT, encoding: "utf8", timeout: 300_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

describe("npm run docs:config says what it did", function () {
  this.timeout(120_000);
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "docs-config-"));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("a stale reference: rewritten, and the line names the file and the keys; run again: unchanged, the file untouched", () => {
    const file = path.join(dir, "config.md");
    fs.writeFileSync(file, `# Config\n\n${REFERENCE_START}\n| stale |\n${REFERENCE_END}\n\nafter\n`);
    const keys = configReferenceTable().split("\n").filter((l) => l.startsWith("| `")).length;
    assert.equal(writeConfigReference(file, "docs/config.md"), `docs:config: wrote docs/config.md (the config reference from the schema: ${keys} keys)\n`);
    const text = fs.readFileSync(file, "utf8");
    assert.ok(text.includes(configReferenceTable()) && text.endsWith("\n\nafter\n") && !text.includes("| stale |"));
    const mtime = fs.statSync(file).mtimeMs;
    assert.equal(writeConfigReference(file, "docs/config.md"), "docs:config: docs/config.md unchanged (its config reference matches the schema)\n");
    assert.equal(fs.readFileSync(file, "utf8"), text);
    assert.equal(fs.statSync(file).mtimeMs, mtime, "an unchanged file is not rewritten");
  });

  it("a file without the generated block: an error naming the markers, nothing written", () => {
    const file = path.join(dir, "config.md");
    fs.writeFileSync(file, "# Config\n");
    assert.throws(() => writeConfigReference(file, "docs/config.md"), new RegExp(`has no ${REFERENCE_START.replace(/[()]/g, "\\$&")}`));
    assert.equal(fs.readFileSync(file, "utf8"), "# Config\n");
  });

  it("the npm script on this repository (whose reference is current): one line, unchanged, exit 0", () => {
    const before = fs.readFileSync(path.join(ROOT, "docs", "config.md"), "utf8");
    const r = npmRun(["docs:config"]);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, "docs:config: docs/config.md unchanged (its config reference matches the schema)\n");
    assert.equal(fs.readFileSync(path.join(ROOT, "docs", "config.md"), "utf8"), before);
  });
});

describe("npm run bench:gate prints progress on stderr", function () {
  this.timeout(300_000);

  it("the lines: the start, each scenario as it completes, the share done at most every PROGRESS_EVERY_MS, the end", () => {
    let t = 0;
    const lines: string[] = [];
    const rep = progressReporter([0, 1], 100, 2, (l) => lines.push(l), () => t);
    rep.update({ kind: "progress", scenario: 0, rollouts: 25 });
    t += PROGRESS_EVERY_MS - 1;
    rep.update({ kind: "progress", scenario: 1, rollouts: 25 }); // too soon for a line
    t += 1;
    rep.update({ kind: "progress", scenario: 0, rollouts: 25 });
    rep.update({ kind: "progress", scenario: 0, rollouts: 50 });
    t += 20_000;
    rep.update({ kind: "progress", scenario: 1, rollouts: 75 });
    rep.end();
    assert.deepEqual(lines, [
      "bench:gate: 2 scenarios × 100 rollouts, each through both gates, on 2 worker threads\n",
      "bench:gate: 38 % of the rollouts simulated (10 s)\n",
      `bench:gate: ${SCENARIOS[0].name} done (1/2 scenarios, 10 s)\n`,
      `bench:gate: ${SCENARIOS[1].name} done (2/2 scenarios, 30 s)\n`,
      "bench:gate: done in 30 s; the figures follow on stdout\n",
    ]);
  });

  for (const workers of [1, 2]) {
    it(`a short run on ${workers} worker thread${workers === 1 ? "" : "s"}: progress on stderr, the figures alone on stdout (--json: one object)`, () => {
      const r = npmRun(["bench:gate", "--", "--rollouts", "4", "--scenario", "equal", "--workers", String(workers), "--json"]);
      assert.equal(r.code, 0, r.err);
      const err = r.err.split("\n").filter(Boolean);
      assert.equal(err[0], `bench:gate: 1 scenario × 4 rollouts, each through both gates, on ${workers} worker thread${workers === 1 ? "" : "s"}`);
      assert.ok(err.some((l) => /^bench:gate: equal done \(1\/1 scenarios, \d+ s\)$/.test(l)), r.err);
      assert.match(err[err.length - 1], /^bench:gate: done in \d+ s; the figures follow on stdout$/);
      const json = JSON.parse(r.out) as { scenarios: Record<string, { "always-valid": { rollouts: number } }> };
      assert.equal(json.scenarios.equal["always-valid"].rollouts, 4);
    });
  }
});

describe("the README's exit-code table names the command of each row", () => {
  it("every row: a code 0-5, then `every command` or commands that exist (each answers --help)", async () => {
    const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
    const table = readme.slice(readme.indexOf("### Exit codes"));
    const rows = table.split("\n").filter((l) => /^\| \d \|/.test(l)).map((l) => l.split("|").map((c) => c.trim()));
    assert.ok(rows.length >= 6, "one row per code at least");
    assert.deepEqual([...new Set(rows.map((r) => r[1]))], ["0", "1", "2", "3", "4", "5"]);
    const names = new Set<string>();
    for (const r of rows) {
      if (r[2] === "every command") continue;
      const cmds = r[2].split(",").map((c) => c.trim());
      for (const c of cmds) {
        assert.match(c, /^`[a-z]+`$/, `row "${r.join(" | ")}": the command column names commands`);
        names.add(c.slice(1, -1));
      }
    }
    for (const n of names) {
      let out = "";
      assert.equal(await rollout(["node", "rollout", n, "--help"], { out: (x) => (out += x), err: () => undefined }), 0, `rollout ${n} --help`);
      assert.match(out, new RegExp(`rollout ${n}`));
    }
  });
});
