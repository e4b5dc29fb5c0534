/**
 * The pull-request gate judges with the base branch's stack config, on real
 * git history in a temporary repository: a pull request that raises the canary
 * and also loosens `gate.soakHours` or a threshold is judged with the base's
 * values; a new stack is judged with the defaults; a base that does not parse
 * falls back to the defaults too; the script writes the folder and outputs.
 */
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { GUIDE_SOAK_HOURS, GUIDE_THRESHOLDS } from "../../core/stages";
import { loadStack } from "../../stack/stackFile";
import { GitError } from "../../ci/git";
import { detectChanges } from "../../ci/detect";
import { withoutGateGroups, writeGateProjectDir } from "../../ci/gateConfig";
import { createGateConfigCli } from "../../cli/gate-config";
import { GIT_ENV, LOOSENED, gateStackFile, twoCommits } from "./gitFixture";

const git = (dir: string, ...args: string[]): string => execFileSync("git", args, { cwd: dir, env: GIT_ENV, encoding: "utf8" }).trim();

describe("CI: the pull-request gate judges with the base branch's stack config", () => {
  const dirs: string[] = [];
  after(() => {
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });
  const repo = (base: Record<string, string>, head: Record<string, string | null>) => {
    const r = twoCommits(base, head);
    dirs.push(r.dir);
    const out = path.join(r.dir, ".gate-config");
    return { ...r, out };
  };

  it("a raise that also lowers gate.soakHours and raises a threshold is judged with the base's values; the raise is still detected", () => {
    const r = repo({ "Pulumi.prod.yaml": gateStackFile(10) }, { "Pulumi.prod.yaml": gateStackFile(25, LOOSENED) });
    // The raise is decided on the head, as before.
    const prod = detectChanges(r.dir, r.base, r.head).stacks.find((s) => s.stack === "prod");
    assert.equal(prod?.canary.raised, true);
    // The gate's config is the base's.
    const choice = writeGateProjectDir(r.dir, "main", r.head, "prod", r.out);
    assert.equal(choice.source, "base");
    assert.deepEqual(choice.changedGroups, ["thresholds", "gate"]);
    assert.match(choice.note, /^Thresholds and gate settings are judged from the base branch \([0-9a-f]{12}\)'s Pulumi\.prod\.yaml, not this pull request's\./);
    assert.match(choice.note, /changes `thresholds` and `gate`: that takes effect only after it merges/);
    const { cfg } = loadStack(r.out, "prod");
    assert.equal(cfg.gate.soakHours, GUIDE_SOAK_HOURS);
    assert.equal(cfg.thresholds.errorRateWarningPct, GUIDE_THRESHOLDS.errorRateWarningPct);
    assert.equal(cfg.canaryPercentage, 10, "the base says what is deployed now");
    // The head itself would have been loosened: that is what this guards against.
    assert.equal(loadStackText(r.dir, gateStackFile(25, LOOSENED)).gate.soakHours, 1);
  });

  it("a base that tightened the gate keeps it tight for the pull request, even if the branch predates it", () => {
    const tight = ["  valuecanvas:gate:", '    soakHours: "72"'];
    const r = repo({ "Pulumi.prod.yaml": gateStackFile(10) }, { "Pulumi.prod.yaml": gateStackFile(25) });
    // main moves on after the branch was cut: a reviewed change makes prod's soak 72 hours.
    git(r.dir, "switch", "-q", "main");
    fs.writeFileSync(path.join(r.dir, "Pulumi.prod.yaml"), gateStackFile(10, tight));
    git(r.dir, "commit", "-q", "-am", "prod: soak 72 h");
    const choice = writeGateProjectDir(r.dir, "main", r.head, "prod", r.out);
    assert.equal(loadStack(r.out, "prod").cfg.gate.soakHours, 72);
    assert.deepEqual(choice.changedGroups, ["gate"]);
  });

  it("an unchanged gate config says only where it came from", () => {
    const r = repo({ "Pulumi.prod.yaml": gateStackFile(10, LOOSENED) }, { "Pulumi.prod.yaml": gateStackFile(25, LOOSENED) });
    const choice = writeGateProjectDir(r.dir, r.base, r.head, "prod", r.out);
    assert.deepEqual(choice.changedGroups, []);
    assert.doesNotMatch(choice.note, /takes effect/);
    assert.equal(loadStack(r.out, "prod").cfg.gate.soakHours, 1, "the base's own (reviewed) setting is used as is");
  });

  it("a stack new in the pull request is judged with the defaults: its own gate and thresholds groups are dropped, the rest kept", () => {
    const r = repo({}, { "Pulumi.prod.yaml": gateStackFile(25, LOOSENED) });
    const choice = writeGateProjectDir(r.dir, r.base, r.head, "prod", r.out);
    assert.equal(choice.source, "defaults");
    assert.match(choice.note, /^Pulumi\.prod\.yaml is new in this pull request: judged with the default thresholds and gate settings \(the guide's\); this pull request's `thresholds` and `gate` take effect only after it merges\.$/);
    const { cfg } = loadStack(r.out, "prod");
    assert.equal(cfg.gate.soakHours, GUIDE_SOAK_HOURS);
    assert.deepEqual({ ...cfg.thresholds }, { ...GUIDE_THRESHOLDS });
    assert.equal(cfg.canaryPercentage, 25);
    const written = fs.readFileSync(path.join(r.out, "Pulumi.prod.yaml"), "utf8");
    assert.match(written, /^# prod\n/, "comments are kept");
    assert.doesNotMatch(written, /soakHours|errorRateWarningPct/);
  });

  it("a base file that does not parse falls back to the defaults and says why", () => {
    const r = repo({ "Pulumi.prod.yaml": gateStackFile(10).replace('"10"', '"33"') }, { "Pulumi.prod.yaml": gateStackFile(25, LOOSENED) });
    const choice = writeGateProjectDir(r.dir, r.base, r.head, "prod", r.out);
    assert.equal(choice.source, "defaults");
    assert.match(choice.note, /does not parse at the base branch \([0-9a-f]{12}\) \(.*canaryPercentage.*\)/);
    assert.equal(loadStack(r.out, "prod").cfg.gate.soakHours, GUIDE_SOAK_HOURS);
  });

  it("flat `valuecanvas:gate.<key>` spellings are dropped too", () => {
    const text = withoutGateGroups("Pulumi.prod.yaml", gateStackFile(25, ['  valuecanvas:gate.soakHours: "1"', '  valuecanvas:gateway: "kept"']));
    assert.doesNotMatch(text, /gate\.soakHours/);
    assert.match(text, /valuecanvas:gateway: "kept"/);
  });

  it("bad input: an unknown commit, a stack without a file at head, a head that does not parse; nothing is written", () => {
    const r = repo({ "Pulumi.prod.yaml": gateStackFile(10) }, { "Pulumi.prod.yaml": gateStackFile(25).replace('"25"', '"30"') });
    assert.throws(() => writeGateProjectDir(r.dir, "no-such-branch", r.head, "prod", r.out), (e: Error) => e instanceof GitError && /"no-such-branch" is not in the repository/.test(e.message));
    assert.throws(() => writeGateProjectDir(r.dir, r.base, r.head, "staging", r.out), /Pulumi\.staging\.yaml does not exist at .*: no stack "staging" to gate/);
    assert.throws(() => writeGateProjectDir(r.dir, r.base, r.head, "prod", r.out), /canaryPercentage[\s\S]*30/);
    assert.equal(fs.existsSync(r.out), false);
  });

  it("cli/gate-config.ts writes the folder and the dir=, source=, note= outputs", () => {
    const r = repo({ "Pulumi.prod.yaml": gateStackFile(10) }, { "Pulumi.prod.yaml": gateStackFile(25, LOOSENED) });
    const ghOut = path.join(r.dir, "github-output");
    const write = process.stdout.write;
    let printed = "";
    process.stdout.write = ((s: string) => ((printed += s), true)) as typeof process.stdout.write;
    try {
      createGateConfigCli().parse(["--repo", r.dir, "--base", r.base, "--head", r.head, "--stack", "prod", "--out", r.out, "--github-output", ghOut], { from: "user" });
    } finally {
      process.stdout.write = write;
    }
    const out = fs.readFileSync(ghOut, "utf8");
    assert.match(out, new RegExp(`^dir=${r.out.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`, "m"));
    assert.match(out, /^source=base$/m);
    assert.match(out, /^note=Thresholds and gate settings are judged from the base branch/m);
    assert.match(printed, /judged from the base branch/);
    assert.equal(loadStack(r.out, "prod").cfg.gate.soakHours, GUIDE_SOAK_HOURS);
  });
});

/** The config a stack file's text gives, read the way the gate reads it. */
function loadStackText(dir: string, text: string) {
  const d = fs.mkdtempSync(path.join(dir, "head-"));
  fs.writeFileSync(path.join(d, "Pulumi.prod.yaml"), text);
  return loadStack(d, "prod").cfg;
}
