import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ConfigError } from "../../core/config";
import { RefusedError, forcedSkipReason, planAdvance, planRollback } from "../../core/transitions";
import { editStackText } from "../../stack/splice";
import { editStack } from "../../stack/stackEdit";
import { StackEditError } from "../../stack/stackEditError";
import { writeFileAtomic } from "../../stack/writeStack";
import { listStacks, loadStack, readStackFile } from "../../stack/stackFile";
import { StackFileError } from "../../stack/stackFileError";
import { STAGES, nextStage } from "../../core/stages";

const PROJECT_DIR = path.join(__dirname, "..", "..");

/** A temp folder with copies of every stack file in the repo. */
function copies(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rollout-edit-"));
  for (const s of listStacks(PROJECT_DIR)) fs.copyFileSync(path.join(PROJECT_DIR, `Pulumi.${s}.yaml`), path.join(dir, `Pulumi.${s}.yaml`));
  return dir;
}

const read = (dir: string, stack: string) => fs.readFileSync(path.join(dir, `Pulumi.${stack}.yaml`), "utf8");
const snapshot = (dir: string) => Object.fromEntries(fs.readdirSync(dir).sort().map((f) => [f, fs.readFileSync(path.join(dir, f))]));

/** Lines that differ between a and b (same line count expected). */
function changedLines(a: string, b: string): Array<[string, string]> {
  const x = a.split("\n");
  const y = b.split("\n");
  assert.equal(x.length, y.length, "same number of lines");
  return x.map((l, i) => [l, y[i]] as [string, string]).filter(([l, r]) => l !== r);
}

const QUOTED = /^( *valuecanvas:[A-Za-z]+: )"([^"]*)"$/;

describe("rollout advance/rollback stack-file edits", () => {
  let dir: string;
  beforeEach(() => {
    dir = copies();
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("advance walks prod through every stage; each step changes only the intended values, byte for byte", () => {
    let prev = read(dir, "prod");
    for (let i = 1; i < STAGES.length; i++) {
      const r = editStack(dir, "prod", (c) => planAdvance(c));
      const now = read(dir, "prod");
      assert.equal(now, r.after);
      const diff = changedLines(prev, now);
      // Only quoted values change; the key, quoting and indentation stay.
      for (const [a, b] of diff) {
        const ma = QUOTED.exec(a);
        const mb = QUOTED.exec(b);
        assert.ok(ma && mb && ma[1] === mb[1], `only a value changed: ${a} -> ${b}`);
      }
      // Leaving 0 turns both flags on with the percentage (the guide's week 2); later steps change the percentage only.
      assert.equal(diff.length, i === 1 ? 3 : 1, JSON.stringify(diff));
      const { cfg } = loadStack(dir, "prod");
      assert.equal(cfg.canaryPercentage, STAGES[i]);
      assert.equal(cfg.enableStatelessOrchestration && cfg.enableSafeJsonParser, true);
      prev = now;
    }
    assert.throws(() => editStack(dir, "prod", (c) => planAdvance(c)), RefusedError);
  });

  it("keeps comments, key order and secure: values", () => {
    const withSecret = read(dir, "prod").replace(
      "  valuecanvas:appReplicas",
      '  # rotated quarterly\n  valuecanvas:pagerdutyRoutingKey:\n    secure: AAABAMZ1Y2lwaGVydGV4dA==\n  valuecanvas:appReplicas',
    );
    fs.writeFileSync(path.join(dir, "Pulumi.prod.yaml"), withSecret);
    editStack(dir, "prod", (c) => planAdvance(c));
    const after = read(dir, "prod");
    assert.ok(after.includes("  # rotated quarterly\n  valuecanvas:pagerdutyRoutingKey:\n    secure: AAABAMZ1Y2lwaGVydGV4dA==\n"));
    assert.equal(after.split("\n").filter((l) => l.startsWith("#")).join("\n"), withSecret.split("\n").filter((l) => l.startsWith("#")).join("\n"));
    const keys = (t: string) => t.split("\n").filter((l) => /^ {2}\S+:/.test(l)).map((l) => l.split(":").slice(0, 2).join(":"));
    assert.deepEqual(keys(after), keys(withSecret));
    assert.equal(readStackFile(dir, "prod").secrets.find((s) => s.key === "pagerdutyRoutingKey")?.source, "secure");
  });

  it("refuses to skip a stage without --force and a reason; with them, records the reason", () => {
    const before = snapshot(dir);
    assert.throws(() => editStack(dir, "prod", (c) => planAdvance(c, { to: STAGES[2] })), (e: Error) => e instanceof RefusedError && /refusing to skip from 0% to 25%: the next stage is 10%/.test(e.message));
    assert.throws(() => editStack(dir, "prod", (c) => planAdvance(c, { to: STAGES[2], force: true })), RefusedError);
    assert.deepEqual(snapshot(dir), before);
    const r = editStack(dir, "prod", (c) => planAdvance(c, { to: STAGES[2], force: true, reason: "hotfix verified on staging", actor: "alice", date: "2026-01-10" }));
    assert.match(r.after, /# rollout advance --force 0 -> 25 on 2026-01-10 by alice: hotfix verified on staging\n {2}valuecanvas:canaryPercentage: "25"/);
    assert.equal(loadStack(dir, "prod").cfg.canaryPercentage, 25);
    // The program reads the reason back for the rollout record of that stage only.
    assert.equal(forcedSkipReason(r.after, 25), "forced skip 0% -> 25%: hotfix verified on staging");
    assert.equal(forcedSkipReason(r.after, 50), undefined);
    assert.equal(forcedSkipReason(read(PROJECT_DIR, "prod"), 0), undefined);
  });

  it("immediate rollback turns both flags off and keeps the percentage", () => {
    editStack(dir, "dev", (c) => planRollback(c, true));
    const { cfg } = loadStack(dir, "dev");
    assert.equal(cfg.enableStatelessOrchestration, false);
    assert.equal(cfg.enableSafeJsonParser, false);
    assert.equal(cfg.canaryPercentage, readStackFile(PROJECT_DIR, "dev").raw.canaryPercentage === undefined ? 0 : Number(readStackFile(PROJECT_DIR, "dev").raw.canaryPercentage));
    assert.throws(() => editStack(dir, "dev", (c) => planRollback(c, true)), /already off/);
  });

  it("gradual rollback steps back one stage at a time down to 0, then refuses", () => {
    const stack = "dev";
    let { cfg } = loadStack(dir, stack);
    let guard = 0;
    while (cfg.canaryPercentage > 0 && guard++ < STAGES.length) {
      const from = cfg.canaryPercentage;
      const before = read(dir, stack);
      editStack(dir, stack, (c) => planRollback(c, false));
      assert.equal(changedLines(before, read(dir, stack)).length, 1);
      cfg = loadStack(dir, stack).cfg;
      assert.equal(nextStage(cfg.canaryPercentage), from);
    }
    assert.equal(cfg.canaryPercentage, 0);
    assert.throws(() => editStack(dir, stack, (c) => planRollback(c, false)), /nothing to roll back/);
  });

  it("adds a key the file does not have as one line, where pulumi config set would", () => {
    const text = "# minimal\nconfig:\n  valuecanvas:appImage: example/app:1 # pinned later\n";
    fs.writeFileSync(path.join(dir, "Pulumi.mini.yaml"), text);
    const r = editStack(dir, "mini", (c) => planAdvance(c));
    assert.equal(
      r.after,
      text +
        '  valuecanvas:enableStatelessOrchestration: "true"\n  valuecanvas:enableSafeJsonParser: "true"\n  valuecanvas:canaryPercentage: "10"\n',
    );
    assert.equal(editStackText("x", "config:\n  a:b: 1", [{ key: "canaryPercentage", value: "10" }]), 'config:\n  a:b: 1\n  valuecanvas:canaryPercentage: "10"\n');
  });

  it("a dry run writes nothing", () => {
    const before = snapshot(dir);
    const r = editStack(dir, "prod", (c) => planAdvance(c), { dryRun: true });
    assert.equal(r.written, false);
    assert.match(r.diff, /^- {2}valuecanvas:canaryPercentage: "0"$/m);
    assert.match(r.diff, /^\+ {2}valuecanvas:canaryPercentage: "10"$/m);
    assert.deepEqual(snapshot(dir), before);
  });

  describe("bad input: a clear error and every file untouched", () => {
    it("an unknown stack", () => {
      const before = snapshot(dir);
      assert.throws(() => editStack(dir, "prdo", (c) => planAdvance(c)), (e: Error) => e instanceof StackFileError && /unknown stack "prdo": there is no Pulumi\.prdo\.yaml\. Stacks here: dev, prod, staging/.test(e.message));
      assert.deepEqual(snapshot(dir), before);
    });
    it("a corrupt YAML file", () => {
      fs.writeFileSync(path.join(dir, "Pulumi.prod.yaml"), read(dir, "prod").replace('canaryPercentage: "0"', 'canaryPercentage: "0\n  broken: [unclosed'));
      const before = snapshot(dir);
      assert.throws(() => editStack(dir, "prod", (c) => planAdvance(c)), (e: Error) => e instanceof StackFileError && /Pulumi\.prod\.yaml line 13, column 33: a double-quoted value must end on the same line/.test(e.message));
      assert.throws(() => editStack(dir, "prod", (c) => planRollback(c, true)), StackFileError);
      assert.deepEqual(snapshot(dir), before);
    });
    it("an invalid config value", () => {
      fs.writeFileSync(path.join(dir, "Pulumi.prod.yaml"), read(dir, "prod").replace('canaryPercentage: "0"', 'canaryPercentage: "33"'));
      const before = snapshot(dir);
      assert.throws(() => editStack(dir, "prod", (c) => planAdvance(c)), (e: Error) => e instanceof ConfigError && /valuecanvas:canaryPercentage = "33": expected one of the stages 0, 10, 25, 50, 75, 100/.test(e.message));
      assert.deepEqual(snapshot(dir), before);
    });
    it("leaves no temp file behind", () => {
      const names = fs.readdirSync(dir).sort();
      editStack(dir, "prod", (c) => planAdvance(c));
      assert.deepEqual(fs.readdirSync(dir).sort(), names);
    });
    it("refuses a file changed underneath (write-file-atomic's last hook before the rename): nothing written, no temp file", () => {
      const file = path.join(dir, "Pulumi.prod.yaml");
      const names = fs.readdirSync(dir).sort();
      const now = read(dir, "prod");
      fs.chmodSync(file, 0o640);
      assert.throws(() => writeFileAtomic(file, "new text\n", now + "# what the editor read\n"), (e: Error) => e instanceof StackEditError && /Pulumi\.prod\.yaml changed while it was being edited; nothing written/.test(e.message));
      assert.equal(read(dir, "prod"), now);
      assert.deepEqual(fs.readdirSync(dir).sort(), names);
      writeFileAtomic(file, "new text\n", now);
      assert.equal(read(dir, "prod"), "new text\n");
      assert.equal(fs.statSync(file).mode & 0o777, 0o640, "the mode is kept");
      assert.deepEqual(fs.readdirSync(dir).sort(), names);
    });
  });
});
