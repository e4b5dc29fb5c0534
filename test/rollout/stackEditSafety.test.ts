/**
 * How `rollout advance` / `rollback` write a stack file (stack/stackEdit.ts):
 * through a symlink to its target, never over a read-only file, in the file's
 * own line ending (and the skip note read back from CRLF files), no text
 * written into a note can end its line or forge another, and a large file
 * costs a bounded diff computed before the write.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { RefusedError, forcedSkipReason, planAdvance, planRollback, skipNote } from "../../core/transitions";
import { lineDiff } from "../../stack/diff";
import { editStackText } from "../../stack/splice";
import { editStack } from "../../stack/stackEdit";
import { StackEditError } from "../../stack/stackEditError";
import { readStackFile } from "../../stack/stackFile";
import { rollout } from "./support";

const PROJECT_DIR = path.join(__dirname, "..", "..");
const PROD = fs.readFileSync(path.join(PROJECT_DIR, "Pulumi.prod.yaml"), "utf8");
const crlf = (s: string) => s.replace(/\r?\n/g, "\r\n");
/** A LF not preceded by CR. */
const BARE_LF = /(?<!\r)\n/;

/** Characters that must never reach a note line raw: line breaks, controls, format characters. */
const HOSTILE = ["\n", "\r", "\r\n", "\u0085", "\u2028", "\u2029", "\u000b", "\u000c", "\u0000", "\u001b", "\u007f", "\u0090", "\u200b", "\u202e", "\ufeff", "\t"];
const FORGED = "  # rollout advance --force 0 -> 100 on 2026-01-01 by ops: forged approval";

describe("stack-file edits: links, permissions, line ends, note texts, large files", () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "stack-edit-safety-"));
    fs.writeFileSync(path.join(dir, "Pulumi.prod.yaml"), PROD);
  });
  afterEach(() => {
    for (const f of fs.readdirSync(dir)) fs.chmodSync(path.join(dir, f), 0o644);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("a symlinked stack file: the target is edited, the link stays a link", () => {
    const real = path.join(dir, "shared");
    fs.mkdirSync(real);
    fs.renameSync(path.join(dir, "Pulumi.prod.yaml"), path.join(real, "Pulumi.prod.yaml"));
    fs.symlinkSync(path.join("shared", "Pulumi.prod.yaml"), path.join(dir, "Pulumi.prod.yaml"));
    const r = editStack(dir, "prod", (c) => planAdvance(c));
    assert.ok(fs.lstatSync(path.join(dir, "Pulumi.prod.yaml")).isSymbolicLink(), "still a link");
    assert.equal(fs.readFileSync(path.join(real, "Pulumi.prod.yaml"), "utf8"), r.after, "the target holds the edit");
    assert.equal(readStackFile(dir, "prod").raw.canaryPercentage, "10");
    assert.deepEqual(fs.readdirSync(real), ["Pulumi.prod.yaml"], "no temp file left next to the target");
  });

  for (const mode of [0o444, 0o400, 0o555]) {
    it(`a read-only stack file (mode ${mode.toString(8)}) is refused and left as it was`, () => {
      const file = path.join(dir, "Pulumi.prod.yaml");
      fs.chmodSync(file, mode);
      for (const plan of [(c: Parameters<typeof planAdvance>[0]) => planAdvance(c), (c: Parameters<typeof planAdvance>[0]) => planAdvance(c, { to: 50, force: true, reason: "why" })]) {
        assert.throws(() => editStack(dir, "prod", plan), (e: Error) => e instanceof StackEditError && /Pulumi\.prod\.yaml is read-only \(mode 0[0-7]{3}\); nothing written/.test(e.message));
      }
      assert.equal(fs.readFileSync(file, "utf8"), PROD);
      assert.equal(fs.statSync(file).mode & 0o777, mode);
      assert.equal(editStack(dir, "prod", (c) => planAdvance(c), { dryRun: true }).written, false, "a dry run still shows the change");
    });
  }

  it("a read-only target behind a symlink is refused too", () => {
    fs.renameSync(path.join(dir, "Pulumi.prod.yaml"), path.join(dir, "target.yaml"));
    fs.symlinkSync("target.yaml", path.join(dir, "Pulumi.prod.yaml"));
    fs.chmodSync(path.join(dir, "target.yaml"), 0o444);
    assert.throws(() => editStack(dir, "prod", (c) => planAdvance(c)), /Pulumi\.prod\.yaml \(a link to .*target\.yaml\) is read-only/);
    assert.equal(fs.readFileSync(path.join(dir, "target.yaml"), "utf8"), PROD);
  });

  it("a CRLF file keeps CRLF on every changed and inserted line; the skip note is read back", () => {
    fs.writeFileSync(path.join(dir, "Pulumi.prod.yaml"), crlf(PROD));
    const r = editStack(dir, "prod", (c) => planAdvance(c, { to: 25, force: true, reason: "hotfix verified", actor: "alice", date: "2026-01-10" }));
    assert.doesNotMatch(r.after, BARE_LF);
    assert.match(r.after, /# rollout advance --force 0 -> 25 on 2026-01-10 by alice: hotfix verified\r\n {2}valuecanvas:canaryPercentage: "25"\r\n/);
    assert.equal(forcedSkipReason(r.after, 25), "forced skip 0% -> 25%: hotfix verified");
    // Keys the file does not have yet: inserted lines, and a new config: block, in CRLF too.
    const mini = editStackText("x", "# m\r\nconfig:\r\n  valuecanvas:appImage: a/b:1\r\n", [{ key: "canaryPercentage", value: "10" }], "note");
    assert.equal(mini, '# m\r\nconfig:\r\n  valuecanvas:appImage: a/b:1\r\n  # note\r\n  valuecanvas:canaryPercentage: "10"\r\n');
    assert.equal(editStackText("x", "# only a comment\r\n", [{ key: "canaryPercentage", value: "10" }]), '# only a comment\r\nconfig:\r\n  valuecanvas:canaryPercentage: "10"\r\n');
    assert.equal(editStackText("x", "config:\r\n  a:b: 1", [{ key: "canaryPercentage", value: "10" }]), 'config:\r\n  a:b: 1\r\n  valuecanvas:canaryPercentage: "10"\r\n');
  });

  it("forcedSkipReason reads a hand-written note in LF and CRLF files alike", () => {
    const note = "# rollout advance --force 10 -> 50 on 2026-02-01 by bob: load test passed";
    for (const eol of ["\n", "\r\n"]) {
      assert.equal(forcedSkipReason(`config:${eol}  ${note}${eol}  valuecanvas:canaryPercentage: "50"${eol}`, 50), "forced skip 10% -> 50%: load test passed", JSON.stringify(eol));
    }
  });

  for (const c of HOSTILE) {
    const name = JSON.stringify(c);
    it(`GIT_AUTHOR_NAME with ${name} cannot forge a skip note: refused`, () => {
      for (const actor of [`alice${c}${FORGED}`, `alice${c}`]) {
        assert.throws(() => skipNote(0, 25, "why", { actor }), (e: Error) => e instanceof RefusedError && /the actor name .* \(GIT_AUTHOR_NAME, else git's user.name, else USER\) has U\+[0-9A-F]{4}/.test(e.message));
      }
    });
    it(`--reason with ${name}: refused, or written as one line that forges nothing`, () => {
      let note: string | undefined;
      try {
        note = skipNote(0, 25, `hotfix${c}${FORGED}`, { actor: "alice", date: "2026-01-10" });
      } catch (e) {
        assert.ok(e instanceof RefusedError && /--reason has U\+[0-9A-F]{4} .* at character 7/.test(e.message), (e as Error).message);
        return;
      }
      const after = editStackText("Pulumi.prod.yaml", PROD, [{ key: "canaryPercentage", value: "25" }], note);
      assert.equal(after.split("\n").length, PROD.split("\n").length + 1, "exactly one line added");
      assert.equal(forcedSkipReason(after, 100), undefined, "no forged note for 100 %");
      assert.match(forcedSkipReason(after, 25) ?? "", /^forced skip 0% -> 25%: hotfix /);
      readStackFile(writeTo(dir, after), "prod"); // the written file stays in the accepted subset
    });
  }

  it("an actor with the note's separators (: or #) is refused: it would shift where the reason starts", () => {
    for (const actor of ["alice: approved by the CTO", "alice # x", ""]) assert.throws(() => skipNote(0, 25, "why", { actor }), RefusedError);
    assert.match(skipNote(0, 25, "why", { actor: "José O'Brien <jose@example.org>" }), /by José O'Brien <jose@example.org>: why$/);
  });

  it("rollout advance refuses a GIT_AUTHOR_NAME with a newline before it reads any database", async () => {
    const saved = process.env.GIT_AUTHOR_NAME;
    process.env.GIT_AUTHOR_NAME = `alice\n${FORGED}`;
    try {
      const r = await rollout("advance", "--stack", "prod", "--project-dir", dir, "--to", "25", "--force", "--reason", "why", "--database-url", "postgres://nobody@127.0.0.1:1/none");
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /the actor name "alice\\u000a {2}# rollout advance.*" \(GIT_AUTHOR_NAME, else git's user.name, else USER\) has U\+000A LINE FEED at character 6/);
      const r2 = await rollout("advance", "--stack", "prod", "--project-dir", dir, "--to", "25", "--force", "--reason", "a\u0085b", "--database-url", "postgres://nobody@127.0.0.1:1/none");
      assert.equal(r2.code, 2, r2.stderr);
      assert.match(r2.stderr, /--reason has U\+0085 NEXT LINE \(NEL\) at character 2/);
    } finally {
      if (saved === undefined) delete process.env.GIT_AUTHOR_NAME;
      else process.env.GIT_AUTHOR_NAME = saved;
    }
    assert.equal(fs.readFileSync(path.join(dir, "Pulumi.prod.yaml"), "utf8"), PROD);
  });

  it("a 30,000-line stack file: rollback writes it and shows a one-hunk diff (bounded cost, computed before the write)", () => {
    const filler = Array.from({ length: 30_000 }, (_, i) => `# history line ${i}`).join("\n");
    const big = PROD.replace('valuecanvas:canaryPercentage: "0"', 'valuecanvas:canaryPercentage: "50"').replace('"false"', '"true"').replace('Parser: "false"', 'Parser: "true"') + filler + "\n";
    fs.writeFileSync(path.join(dir, "Pulumi.prod.yaml"), big);
    const r = editStack(dir, "prod", (c) => planRollback(c, false));
    assert.equal(fs.readFileSync(path.join(dir, "Pulumi.prod.yaml"), "utf8"), r.after);
    assert.deepEqual(r.diff.split("\n").filter((l) => /^[-+] /.test(l)), ['-  valuecanvas:canaryPercentage: "50"', '+  valuecanvas:canaryPercentage: "25"']);
    assert.equal(r.diff.split("\n").filter((l) => l.startsWith("@@")).length, 1);
  });

  it("lineDiff of two unrelated 30,000-line texts stops at its edit bound instead of growing with the file", () => {
    const a = Array.from({ length: 30_000 }, (_, i) => `a${i}`).join("\n");
    const b = Array.from({ length: 30_000 }, (_, i) => `b${i}`).join("\n");
    assert.match(lineDiff(a, b, "x.yaml"), /more than \d+ lines differ: not shown line by line/);
    assert.equal(lineDiff("a\r\nb\r\n", "a\r\nc\r\n", "x"), "--- a/x\n+++ b/x\n@@ line 1 @@\n a\n-b\n+c");
  });
});

function writeTo(dir: string, text: string): string {
  const d = fs.mkdtempSync(path.join(dir, "w-"));
  fs.writeFileSync(path.join(d, "Pulumi.prod.yaml"), text);
  return d;
}
