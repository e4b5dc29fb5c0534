/**
 * Commands printed for people to paste into a shell (rollout advance's
 * `git commit -m <message>`) mean exactly their words: each hostile string,
 * quoted, is read back unchanged by a real POSIX shell, and nothing in it runs.
 */
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { commitCommands } from "../../cli/rollout";
import { shellQuote } from "../../core/shell";

const HOSTILE = [
  "plain", "", "two words", "it's", "'", "''", "\"", "$(touch pwned)", "`touch pwned`", "${HOME}", "$HOME", "a;touch pwned", "a && touch pwned",
  "a | touch pwned", "a\ntouch pwned", "a\r\nb", "back\\slash", "*", "?", "[a]", "~", "#x", "!x", "a\u0085b", "tab\there", "-n", "--", "%s",
];

describe("shell quoting of printed commands", () => {
  it("a POSIX shell reads every quoted word back exactly, and runs nothing in it", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "shell-quote-"));
    try {
      for (const s of HOSTILE) {
        // Deliberately through a shell: this is what a person pasting the printed command does.
        const out = execFileSync("sh", ["-c", `printf '%s' ${shellQuote(s)}`], { cwd: dir, encoding: "utf8" });
        assert.equal(out, s, JSON.stringify(s));
      }
      assert.deepEqual(fs.readdirSync(dir), [], "nothing ran");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("rollout's commit command quotes the message (which carries --reason)", () => {
    const cmd = commitCommands("prod", "Pulumi.prod.yaml", `rollout(prod): 10% -> 25% (forced: $(touch pwned) "x" it's)`, "rollout/prod-25").find((c) => c.includes("git commit"));
    assert.equal(cmd, `git add Pulumi.prod.yaml && git commit -m 'rollout(prod): 10% -> 25% (forced: $(touch pwned) "x" it'\\''s)' -- Pulumi.prod.yaml`);
  });
});
