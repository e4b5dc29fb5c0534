/**
 * `npm run verify`: the real checks on this repository (without the suite, to
 * avoid running it recursively), and on broken copies of the project, where
 * each problem — a bad stack file, a missing module, a missing tool, an
 * invalid workflow — must fail its line and the exit code.
 */
import { strict as assert } from "node:assert";
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Check, CheckProgress, PROGRESS, formatProgress, mochaProgress, runChecks, summarize, unmet, verifyChecks } from "../../tools/verify";

const ROOT = path.resolve(__dirname, "../..");
const TS_NODE = path.join(ROOT, "node_modules/.bin/ts-node");

function verify(args: string[]) {
  return spawnSync(TS_NODE, ["--transpile-only", path.join(ROOT, "cli/verify.ts"), ...args], { cwd: ROOT, encoding: "utf8", env: process.env });
}

/** A minimal project copy: stack files, workflows, node_modules linked. */
function projectCopy(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "verify-"));
  for (const f of fs.readdirSync(ROOT).filter((f) => /^Pulumi\..+\.yaml$/.test(f))) fs.copyFileSync(path.join(ROOT, f), path.join(dir, f));
  fs.cpSync(path.join(ROOT, ".github"), path.join(dir, ".github"), { recursive: true });
  fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"));
  return dir;
}

describe("npm run verify", () => {
  it("lists its checks: type-check, tests, each stack file, squawk, promtool, the workflow validator", () => {
    const ids = verifyChecks(ROOT).map((c) => c.id);
    const stacks = fs.readdirSync(ROOT).filter((f) => /^Pulumi\..+\.yaml$/.test(f)).map((f) => `stack:${f.split(".")[1]}`).sort();
    assert.deepEqual(ids, ["typecheck", "tests", ...stacks, "squawk", "promtool", "action-validator"]);
  });

  it("passes on this repository (--skip-tests: the suite is what is running now), one marked line per check", function () {
    this.timeout(180_000);
    const r = verify(["--skip-tests"]);
    const lines = r.stdout.trim().split("\n");
    assert.equal(r.status, 0, r.stdout + r.stderr);
    for (const id of verifyChecks(ROOT).map((c) => c.id)) {
      const line = lines.find((l) => l.slice(2).startsWith(id + " "));
      assert.ok(line, `no line for ${id}:\n${r.stdout}`);
      assert.ok(line.startsWith(id === "tests" ? "– " : "✔ "), line);
    }
    assert.match(lines[lines.length - 1], /^verify: \d+ passed, 0 failed, 1 skipped$/);
  });

  it("a stack file that breaks the schema fails its line, names key, value and what is allowed, and exits 1", function () {
    this.timeout(60_000);
    const dir = projectCopy();
    try {
      const f = path.join(dir, "Pulumi.prod.yaml");
      fs.writeFileSync(f, fs.readFileSync(f, "utf8").replace('canaryPercentage: "0"', 'canaryPercentage: "33"'));
      const r = verify(["--project-dir", dir, "--only", "stack"]);
      assert.equal(r.status, 1);
      assert.match(r.stdout, /^✘ stack:prod .*Invalid config for stack "prod"/m);
      assert.match(r.stdout, /valuecanvas:canaryPercentage = "33": expected one of the stages 0, 10, 25, 50, 75, 100/);
      assert.match(r.stdout, /^✔ stack:staging /m);
      assert.match(r.stdout, /verify: \d+ passed, 1 failed, 0 skipped — failed: stack:prod/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a piece that has not landed fails clearly instead of passing: no tools/squawk.ts, no sql/, no core/alerts", function () {
    this.timeout(60_000);
    const dir = projectCopy();
    try {
      const r = verify(["--project-dir", dir, "--only", "squawk", "promtool"]);
      assert.equal(r.status, 1);
      assert.match(r.stdout, /^✘ squawk .*cannot run: tools\/squawk\.ts is missing \(the database issue's squawk runner\): not landed yet; no \*\.sql files in sql\//m);
      assert.match(r.stdout, /^✘ promtool .*cannot run: core\/alerts\/index\.ts is missing \(the alerts issue's renderer\): not landed yet/m);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("an invalid workflow fails the validator's line", function () {
    this.timeout(60_000);
    const dir = projectCopy();
    try {
      const f = path.join(dir, ".github/workflows/deploy.yml");
      fs.writeFileSync(f, fs.readFileSync(f, "utf8").replace("runs-on:", "runs_on:"));
      const r = verify(["--project-dir", dir, "--only", "action-validator"]);
      assert.equal(r.status, 1);
      assert.match(r.stdout, /^✘ action-validator .*deploy\.yml: /m);
      assert.match(r.stdout, /Additional property 'runs_on' is not allowed/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a scrape interval Prometheus refuses fails the stack line and the promtool line", function () {
    this.timeout(60_000);
    const dir = projectCopy();
    try {
      const f = path.join(dir, "Pulumi.staging.yaml");
      fs.writeFileSync(f, fs.readFileSync(f, "utf8") + '  valuecanvas:alerting:\n    scrapeInterval: "1s1m"\n');
      // the real renderer: the top-level folder that holds it (and the modules it imports)
      const top = path.relative(ROOT, require.resolve("../../core/alerts")).split(path.sep)[0];
      fs.symlinkSync(path.join(ROOT, top), path.join(dir, top));
      const r = verify(["--project-dir", dir, "--only", "stack", "promtool"]);
      assert.equal(r.status, 1);
      assert.match(r.stdout, /valuecanvas:alerting\.scrapeInterval = "1s1m": expected a Prometheus duration/);
      assert.match(r.stdout, /^✘ stack:staging /m);
      assert.match(r.stdout, /^✘ promtool .*staging: cannot render/m);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the promtool line checks the rendered prometheus.yml itself: a bad scrape_interval there fails it", function () {
    this.timeout(60_000);
    const dir = projectCopy();
    try {
      // A renderer that writes what a looser schema would have let through.
      fs.mkdirSync(path.join(dir, "core/alerts"), { recursive: true });
      fs.writeFileSync(
        path.join(dir, "core/alerts/index.js"),
        `const real = require(${JSON.stringify(path.join(ROOT, "core/alerts"))});\n` +
          `exports.MONITORING_FILE_NAMES = real.MONITORING_FILE_NAMES;\nexports.SECRET_PLACEHOLDERS = real.SECRET_PLACEHOLDERS;\n` +
          `exports.renderMonitoringFiles = (c, s, o) => { const f = real.renderMonitoringFiles(c, s, o);\n` +
          `  f[real.MONITORING_FILE_NAMES.prometheus] = f[real.MONITORING_FILE_NAMES.prometheus].replace(/scrape_interval: .*/, "scrape_interval: 5s5s"); return f; };\n`,
      );
      const r = verify(["--project-dir", dir, "--only", "promtool"]);
      assert.equal(r.status, 1, r.stdout + r.stderr);
      assert.match(r.stdout, /^✘ promtool .*promtool check config prometheus\.yml: /m);
      assert.match(r.stdout, /not a valid duration string: "5s5s"/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("no stack file at all is a failure, not an empty pass", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "verify-empty-"));
    try {
      const checks = verifyChecks(dir);
      assert.ok(checks.some((c) => c.id === "stack-files"));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("an unknown check name is a usage error (exit 2) listing the checks", function () {
    this.timeout(60_000);
    const r = verify(["--only", "typo"]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /unknown check "typo"; checks are: typecheck, tests, .*action-validator/);
  });

  it("the runner: unmet requirements and throwing checks fail; nothing run is not a pass", async () => {
    const checks: Check[] = [
      { id: "needs-tool", title: "t", requires: [{ tool: { name: "no-such-tool-here", install: "apt-get install -y no-such" } }], run: () => ({ status: "pass", detail: "" }) },
      { id: "throws", title: "t", requires: [], run: () => { throw new Error("boom"); } },
      { id: "ok", title: "t", requires: [], run: () => ({ status: "pass", detail: "fine" }) },
    ];
    const out = await runChecks(checks, { projectDir: ROOT, skipTests: true });
    assert.deepEqual(out.map((o) => o.status), ["fail", "fail", "pass"]);
    assert.match(out[0].detail, /no-such-tool-here not found; install with: apt-get install -y no-such/);
    assert.equal(out[1].detail, "boom");
    assert.equal(summarize(out).ok, false);
    assert.equal(summarize([]).ok, false);
    assert.match(unmet(ROOT, { module: { path: "core/stages", export: "nope", owner: "x" } }) ?? "", /core\/stages has no exported function nope/);
  });

  // Issue 13 §3 item 12: "npm run verify shows nothing for about 3 minutes during its test step".
  it("every check still running after a while shows progress lines, with what it has said so far, until it ends", async () => {
    const seen: CheckProgress[] = [];
    let release: () => void = () => {};
    const released = new Promise<void>((r) => (release = r));
    const safety = setTimeout(release, 10_000); // without progress lines the check ends anyway, and the asserts below fail
    const slow = (id: string): Check => ({
      id,
      title: `slow ${id}`,
      requires: [],
      run: async (ctx) => {
        ctx.progress?.(`${id} half way`);
        await released;
        return { status: "pass", detail: "done" };
      },
    });
    const out = await runChecks([slow("first")], { projectDir: ROOT, skipTests: true }, () => {}, {
      firstAfterMs: 1,
      everyMs: 1,
      onProgress: (p) => {
        seen.push(p);
        if (seen.length === 3) release();
      },
    });
    clearTimeout(safety);
    assert.equal(out[0].status, "pass");
    assert.ok(seen.length >= 3, `progress lines while it ran: ${seen.length}`);
    const after = seen.length;
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(seen.length, after, "no progress line once the check has ended");
    assert.ok(seen.every((p) => p.id === "first" && p.note === "first half way"));
    assert.match(formatProgress(seen[0]), /^… first {14}slow first: running for \d+ s \(first half way\)$/);
    assert.ok(PROGRESS.firstAfterMs <= 5_000, "the first line comes within a few seconds");
  });

  it("mocha's progress is counted from its output as it streams, split anywhere", () => {
    const text = "\n  suite\n    ✔ one\n    ✔ two (12ms)\n    1) three\n    - four\n    ✔ five\n";
    for (const cut of [1, 7, 13, text.length - 2]) {
      const p = mochaProgress();
      p.push(text.slice(0, cut));
      p.push(text.slice(cut));
      assert.equal(p.summary(), "3 passing, 1 failing, 1 pending so far", `cut at ${cut}`);
    }
  });

  it("npm run verify: while npm test runs, stderr shows the tests step's counts so far; stdout keeps one line per check", async function () {
    this.timeout(120_000);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "verify-progress-"));
    try {
      // A suite that reports two passes, then waits until the test has seen a progress line.
      fs.writeFileSync(
        path.join(dir, "fake-suite.js"),
        `process.stdout.write("\\n  suite\\n    ✔ one\\n    ✔ two\\n");\n` +
          `const fs = require("fs");\nconst t0 = Date.now();\n` +
          `const wait = () => { if (fs.existsSync("release")) { process.stdout.write("\\n  2 passing (1s)\\n"); return; } if (Date.now() - t0 > 90000) process.exit(1); setTimeout(wait, 50); };\nwait();\n`,
      );
      fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "fake", private: true, scripts: { test: "node fake-suite.js" } }));
      const child = spawn(TS_NODE, ["--transpile-only", path.join(ROOT, "cli/verify.ts"), "--project-dir", dir, "--only", "tests"], { cwd: ROOT, env: process.env });
      let out = "";
      let err = "";
      child.stdout.on("data", (d: Buffer) => (out += d.toString()));
      child.stderr.on("data", (d: Buffer) => {
        err += d.toString();
        if (/running for/.test(err)) fs.writeFileSync(path.join(dir, "release"), "");
      });
      const code = await new Promise<number | null>((r) => child.on("close", r));
      assert.equal(code, 0, out + err);
      assert.match(err, /^… tests {14}npm test: running for \d+ s \(2 passing, 0 failing so far\)$/m);
      assert.match(out, /^✔ tests {14}npm test: 2 passing \(/m);
      assert.doesNotMatch(out, /running for/, "progress stays off stdout");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
