/**
 * Issue 13 §3 item 3: every hint the CLI and the alert runbooks print follows docs/RUNBOOK.md's workflow
 * (a branch, a commit of the stack file, a push, a pull request; the merge runs pulumi up), and none tells
 * anyone to run pulumi up by hand.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { alertRules } from "../../core/alerts";
import { testConfig } from "../alerts/support";
import { rollout, stackCopies } from "./support";
import { RECOVERY_AFTER_ROLLBACK } from "../../core/rollout";
import { formatSwarm } from "../../cli/rolloutText";

const RUNBOOK = fs.readFileSync(path.join(__dirname, "..", "..", "docs", "RUNBOOK.md"), "utf8");

/** The steps of a command sequence, as the verbs the RUNBOOK uses, in order. */
function verbs(commands: string[]): string[] {
  const out: string[] = [];
  for (const c of commands) {
    for (const part of c.replace(/\s+#.*$/, "").split("&&").map((p) => p.trim())) {
      const m = /^(git switch -c|git push|git commit|gh pr create|npx rollout rollback|npx rollout advance|pulumi up|pulumi preview)/.exec(part);
      if (m) out.push(m[1]);
    }
  }
  return out;
}

/** The bash block of the RUNBOOK that follows `heading`. */
function runbookBlock(heading: string): string[] {
  const at = RUNBOOK.indexOf(heading);
  assert.ok(at >= 0, heading);
  const m = /```bash\n([\s\S]*?)```/.exec(RUNBOOK.slice(at));
  assert.ok(m, heading);
  return m[1].split("\n").filter(Boolean);
}

/** The indented lines after "next:" in the CLI's text. */
function nextLines(stdout: string): string[] {
  const at = stdout.indexOf("next:\n");
  assert.ok(at >= 0, stdout);
  return stdout.slice(at + 6).split("\n").filter((l) => l.startsWith("  ")).map((l) => l.trim());
}

describe("printed hints follow the RUNBOOK's workflow (issue 13 §3 item 3)", function () {
  this.timeout(30_000);
  let dir: string;
  beforeEach(() => (dir = stackCopies()));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("after Swarm rolled an update back: the RUNBOOK's recovery is to revert the config, then pulumi up --refresh, and rollout status says the same (issue 22, fact 4)", () => {
    const heading = "### When `pulumi up` failed: Swarm rolled the update back";
    const at = RUNBOOK.indexOf(heading);
    assert.ok(at >= 0, heading);
    const section = RUNBOOK.slice(at, RUNBOOK.indexOf("\n### ", at + heading.length));
    assert.ok(section.includes(`**${RECOVERY_AFTER_ROLLBACK}**`), "the recovery, in the words rollout status prints");
    assert.match(section, /`pulumi up --stack prod --refresh`/);
    const blocks = [...section.matchAll(/```bash\n([\s\S]*?)```/g)].map((m) => m[1].split("\n").filter(Boolean));
    assert.deepEqual(blocks[0], ["npx rollout status --stack prod"], "first see what runs");
    assert.deepEqual(verbs(blocks[1]), ["git switch -c", "git push", "gh pr create"]);
    assert.ok(blocks[1].some((l) => l.startsWith("git revert ")), "the config is reverted by a reviewed revert");
    const status = formatSwarm({
      engine: "unix:///var/run/docker.sock",
      services: [{ service: "app-1", images: [{ image: "app:1", tasks: 3 }], flags: [], updateState: "rollback_completed", updateMessage: "rollback completed", rolledBack: true }],
    });
    assert.match(status, /Swarm rolled back the last update/);
    assert.ok(status.includes(RECOVERY_AFTER_ROLLBACK), status);
    assert.match(status, /image app:1: 3 task\(s\) running/);
  });

  it("rollback --immediate prints the RUNBOOK's immediate rollback after the edit: branch, commit, push, pull request", async () => {
    const r = await rollout("rollback", "--stack", "dev", "--project-dir", dir, "--immediate", "--dry-run");
    assert.equal(r.code, 0, r.stderr);
    const next = nextLines(r.stdout);
    const book = verbs(runbookBlock("### Immediate rollback (critical issues)")).filter((v) => !v.startsWith("npx rollout"));
    assert.deepEqual(book, ["git switch -c", "git commit", "git push", "gh pr create"], "the RUNBOOK's own steps");
    assert.deepEqual(verbs(next), book);
    assert.ok(next.includes("git switch -c rollback/dev-immediate   # a branch of its own (skip if you are on one already)"), next.join("\n"));
    assert.ok(next.includes("git push -u origin rollback/dev-immediate"), next.join("\n"));
    assert.match(r.stdout, /the merge runs pulumi up/);
  });

  it("no command prints pulumi up or pulumi preview as a step to run (rollback, gradual and immediate, on every stack that can)", async () => {
    let checked = 0;
    for (const stack of ["dev", "prod", "staging"]) {
      for (const extra of [["--immediate"], []]) {
        const r = await rollout("rollback", "--stack", stack, "--project-dir", dir, "--dry-run", ...extra);
        if (r.code !== 0) continue; // nothing to roll back on this stack
        const v = verbs(nextLines(r.stdout));
        assert.ok(!v.includes("pulumi up") && !v.includes("pulumi preview"), `${stack} ${extra.join(" ")}: ${r.stdout}`);
        assert.deepEqual(v, ["git switch -c", "git commit", "git push", "gh pr create"], `${stack} ${extra.join(" ")}`);
        checked++;
      }
    }
    assert.ok(checked >= 2, "dev can roll back both ways");
  });

  it("the alerts' runbooks roll back through a pull request from main, never pulumi up by hand", () => {
    const book = verbs(runbookBlock("### Immediate rollback (critical issues)"));
    let seqs = 0;
    for (const rule of alertRules(testConfig(), { stack: "prod" })) {
      const rb = rule.annotations.runbook;
      if (!/rollback/.test(rb)) continue;
      assert.doesNotMatch(rb, /&& pulumi up/, rule.alert);
      for (const seq of rb.split(/: (?=git switch main)/).slice(1)) {
        const v = verbs([seq.split(" (")[0]]);
        assert.deepEqual(v.filter((x) => !x.startsWith("npx")), book.filter((x) => !x.startsWith("npx")), `${rule.alert}: ${seq}`);
        seqs++;
      }
    }
    assert.ok(seqs >= 3, `rollback sequences seen: ${seqs}`);
  });
});
