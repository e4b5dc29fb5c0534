/**
 * "Which files are read", against Pulumi's own loader (issue 21, finding 1):
 * tools/yamlcheck --dirs runs sdk/v3 workspace.DetectProjectPathFrom and
 * DetectProjectStackPath in each folder of test/support/projectDirs.ts
 * (every pairing of Pulumi.{yaml,yml,json} with Pulumi.prod.{yaml,yml,json},
 * beside the real pair and alone, and other Pulumi names). Whenever the
 * project accepts a folder (stack/stackFile.ts checkProjectDir, the one check
 * plan, verify, rollout and CI make), Pulumi must read exactly Pulumi.yaml
 * and Pulumi.<stack>.yaml there, with the same main: and runtime; and the
 * folders where Pulumi would read anything else must be refused.
 */
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { checkProjectDir, listStacks } from "../../stack/stackFile";
import { StackFileError } from "../../stack/stackFileError";
import { PROJECT_DIRS, writeProjectDirs } from "../support/projectDirs";
import { requireYamlcheck } from "../support/pulumiYaml";

interface DirReading {
  dir: string;
  ok: boolean;
  error?: string;
  project?: string;
  main?: string;
  runtime?: string;
  options?: Record<string, unknown>;
  stackConfigDir?: string;
  stacks: Record<string, string>;
}

describe("project and stack files: the project reads what Pulumi's loader reads, or refuses the folder (tools/yamlcheck --dirs)", () => {
  let bin: string;
  let root: string;
  let dirs: string[];
  let readings: DirReading[];
  before(function () {
    this.timeout(600_000);
    bin = requireYamlcheck(this);
    root = fs.mkdtempSync(path.join(os.tmpdir(), "project-dirs-"));
    dirs = writeProjectDirs(root);
    const out = execFileSync(bin, ["--dirs", "--stacks", "prod,staging"], { input: dirs.join("\n") + "\n", encoding: "utf8" });
    readings = out.split("\n").filter(Boolean).map((l) => JSON.parse(l) as DirReading);
    assert.equal(readings.length, dirs.length);
  });
  after(() => root && fs.rmSync(root, { recursive: true, force: true }));

  PROJECT_DIRS.forEach((d, i) => {
    it(`${d.name}: ${d.refused ? "refused" : "accepted, and Pulumi reads the same files"}`, () => {
      const theirs = readings[i];
      let ours: ReturnType<typeof checkProjectDir>;
      let stacks: string[] = [];
      try {
        ours = checkProjectDir(dirs[i]);
        stacks = listStacks(dirs[i]);
      } catch (e) {
        assert.ok(e instanceof StackFileError, String(e));
        assert.ok(d.refused, `refused unexpectedly: ${(e as Error).message}`);
        assert.match((e as Error).message, d.refused);
        return;
      }
      assert.equal(d.refused, undefined, `accepted, but expected a refusal matching ${d.refused}`);
      assert.ok(theirs.ok, `Pulumi could not read the folder: ${theirs.error}`);
      assert.equal(theirs.project, "Pulumi.yaml", "Pulumi reads the project file the project reads");
      assert.equal(theirs.stackConfigDir ?? "", "");
      assert.deepEqual(theirs.stacks, Object.fromEntries(stacks.map((s) => [s, `Pulumi.${s}.yaml`])), "Pulumi reads the stack files the project reads");
      assert.equal(theirs.runtime, "nodejs");
      assert.equal(theirs.main ?? undefined, ours?.main);
    });
  });

  it("the class: every folder where Pulumi would read a file other than Pulumi.yaml / Pulumi.<stack>.yaml is one the project refuses", () => {
    PROJECT_DIRS.forEach((d, i) => {
      const t = readings[i];
      const other = !t.ok || t.project !== "Pulumi.yaml" || Object.entries(t.stacks).some(([s, f]) => f !== `Pulumi.${s}.yaml`);
      if (other) assert.ok(d.refused, `${d.name}: Pulumi reads ${t.project} and ${JSON.stringify(t.stacks)}, and the project does not refuse it`);
    });
  });
});
