/**
 * Issue 21, finding 1: a pull request that adds Pulumi.json and
 * Pulumi.prod.json (canary 100 %) made changed-stacks say "no stack changed",
 * so preview and gate were skipped, while Pulumi would deploy that file.
 * Every reader (changed-stacks on a commit, plan / verify / rollout on a
 * folder) now refuses any Pulumi file but Pulumi.yaml and
 * Pulumi.<stack>.yaml, naming it; and changed-stacks derives program code
 * from what Pulumi.yaml's main: loads.
 */
import { strict as assert } from "node:assert";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { detectChanges } from "../../ci/detect";
import { COMPILED_MAIN, COMPILED_SOURCE, checkPulumiFileNames, checkProjectFile, programEntry, pulumiNameProblem } from "../../stack/projectFiles";
import { loadStack, readStackFile } from "../../stack/stackFile";
import { StackFileError } from "../../stack/stackFileError";
import { PROJECT_DIRS, PROJECT_YAML, STACK_AT, writeProjectDirs } from "../support/projectDirs";
import { GIT_ENV, gateStackFile, twoCommits } from "./gitFixture";
import { plan } from "../../cli/plan";

const ROOT = path.resolve(__dirname, "../..");

describe("project files: only Pulumi.yaml and Pulumi.<stack>.yaml, everywhere (issue 21, finding 1)", () => {
  it("names: each variant Pulumi's loader reads is refused with its name; the real pair and other files pass", () => {
    for (const n of ["Pulumi.json", "Pulumi.yml", "Pulumi.prod.json", "Pulumi.prod.yml", "PULUMI.YAML", "Pulumi.prod.deploy.yaml", "PulumiPolicy.yaml"]) {
      assert.ok(pulumiNameProblem(n), n);
      assert.throws(() => checkPulumiFileNames(["Pulumi.yaml", n], "here"), (e: Error) => e instanceof StackFileError && e.message.includes(`here: ${n} is not allowed`));
    }
    for (const n of ["Pulumi.yaml", "Pulumi.prod.yaml", "Pulumi.my-stack.yaml", "index.ts", "package.json"]) assert.equal(pulumiNameProblem(n), undefined, n);
  });

  it("changed-stacks refuses a head that adds Pulumi.json and Pulumi.prod.json (it said 'no stack changed' before)", () => {
    const { dir, base, head } = twoCommits(
      { "Pulumi.prod.yaml": STACK_AT(0) },
      { "Pulumi.json": JSON.stringify({ name: "valuecanvas", runtime: "nodejs" }), "Pulumi.prod.json": JSON.stringify({ config: { "valuecanvas:canaryPercentage": "100" } }) },
    );
    try {
      assert.throws(() => detectChanges(dir, base, head), (e: Error) => e instanceof StackFileError && /Pulumi\.json is not allowed: Pulumi's loader reads it as the project file before Pulumi\.yaml/.test(e.message) && /Pulumi\.prod\.json is not allowed/.test(e.message));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("changed-stacks, the script: exits 1 naming the file, writes no GitHub outputs", function () {
    this.timeout(60_000);
    const { dir, base, head } = twoCommits({ "Pulumi.prod.yaml": STACK_AT(0) }, { "Pulumi.prod.yml": STACK_AT(100) });
    const out = path.join(dir, ".github-output");
    fs.writeFileSync(out, "");
    try {
      const r = spawnSync(path.join(ROOT, "node_modules/.bin/ts-node"), ["--transpile-only", path.join(ROOT, "cli/changed-stacks.ts"), "--repo", dir, "--base", base, "--head", head, "--github-output", out], { cwd: ROOT, encoding: "utf8" });
      assert.equal(r.status, 1, r.stdout + r.stderr);
      assert.match(r.stderr, /Pulumi\.prod\.yml is not allowed/);
      assert.equal(fs.readFileSync(out, "utf8"), "");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("main: re-pointed makes what it loads program code (index.ts was assumed before)", () => {
    const { dir, base, head } = twoCommits(
      { "Pulumi.prod.yaml": gateStackFile(0), "index.ts": "export {};\n", "other.ts": "import './helper';\n", "helper.ts": "export const x = 1;\n" },
      { "Pulumi.yaml": PROJECT_YAML.replace("main: index.ts", "main: other.ts") },
    );
    try {
      const d1 = detectChanges(dir, base, head);
      assert.ok(d1.programFiles.includes("Pulumi.yaml"));
      // A later change to a module only other.ts loads is a program change for every stack.
      fs.writeFileSync(path.join(dir, "helper.ts"), "export const x = 2;\n");
      execFileSync("git", ["commit", "-qam", "helper"], { cwd: dir, env: GIT_ENV });
      const d2 = detectChanges(dir, head, "HEAD");
      assert.deepEqual(d2.programFiles, ["helper.ts"]);
      assert.deepEqual(d2.stacks.map((s) => s.stack), ["prod"]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("plan, verify and every rollout command refuse such a folder (readStackFile / loadStack / listStacks: the one check)", () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "project-files-"));
    try {
      const dirs = writeProjectDirs(root, PROJECT_DIRS);
      PROJECT_DIRS.forEach((d, i) => {
        if (!d.refused || !fs.existsSync(path.join(dirs[i], "Pulumi.prod.yaml"))) return;
        assert.throws(() => readStackFile(dirs[i], "prod"), (e: Error) => e instanceof StackFileError && d.refused!.test(e.message), d.name);
        assert.throws(() => loadStack(dirs[i], "prod"), (e: Error) => e instanceof StackFileError && d.refused!.test(e.message), d.name);
      });
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it("npm run plan names the file (plan(), what the script runs)", async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "project-files-plan-"));
    try {
      for (const f of ["Pulumi.yaml", "Pulumi.prod.yaml"]) fs.copyFileSync(path.join(ROOT, f), path.join(root, f));
      fs.writeFileSync(path.join(root, "Pulumi.prod.json"), "{}");
      await assert.rejects(plan({ stack: "prod", projectDir: root, set: [], json: false }), (e: Error) => e instanceof StackFileError && /Pulumi\.prod\.json is not allowed/.test(e.message));
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});

describe("the compiled program's main: (issue 22 with issue 21's project-file rule)", () => {
  const project = (main: string | undefined, typescript: boolean | undefined) =>
    ["name: valuecanvas", "runtime:", "  name: nodejs", ...(typescript === undefined ? [] : ["  options:", `    typescript: ${typescript}`]), ...(main === undefined ? [] : [`main: ${main}`]), ""].join("\n");

  it("the repository's Pulumi.yaml is accepted, and CI derives the program code from the source the shim runs", () => {
    const info = checkProjectFile("Pulumi.yaml", fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8"));
    assert.equal(info.main, COMPILED_MAIN);
    assert.equal(programEntry(info, undefined), COMPILED_SOURCE);
    assert.equal(programEntry(checkProjectFile("p", project("index.ts", true)), undefined), "index.ts");
  });

  it("typescript: false only with the shim, and the shim only with typescript: false; no other JavaScript main", () => {
    const refused: [string | undefined, boolean | undefined, RegExp][] = [
      ["index.ts", false, /typescript: false is accepted only with main: bin\/program\.cjs/],
      [undefined, false, /typescript: false is accepted only with main: bin\/program\.cjs/],
      [COMPILED_MAIN, true, /needs runtime\.options\.typescript: false/],
      [COMPILED_MAIN, undefined, /needs runtime\.options\.typescript: false/],
      ["bin/other.cjs", false, /main: "bin\/other\.cjs" is not accepted: allowed bin\/program\.cjs/],
      ["dist/index.js", false, /main: "dist\/index\.js" is not accepted/],
    ];
    for (const [main, ts, re] of refused) {
      assert.throws(() => checkProjectFile("Pulumi.yaml", project(main, ts)), (e: Error) => e instanceof StackFileError && re.test(e.message), `${main} / typescript ${ts}`);
    }
    assert.doesNotThrow(() => checkProjectFile("Pulumi.yaml", project(COMPILED_MAIN, false)));
  });

  it("a change to the shim or its build alone is a program change for every stack", () => {
    for (const f of ["bin/program.cjs", "bin/load.cjs", "tools/build.cjs", "tsconfig.build.json"]) {
      const { dir, base, head } = twoCommits({ "Pulumi.prod.yaml": gateStackFile(0), [f]: "// built\n" }, { [f]: "// built differently\n" });
      try {
        const d = detectChanges(dir, base, head);
        assert.deepEqual(d.programFiles, [f], f);
        assert.deepEqual(d.stacks.map((s) => s.stack), ["prod"], f);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }
  });
});
