/**
 * The rollout CLI refuses every hostile stack file of the table
 * (test/support/hostileStacks.ts): each command that reads the stack file
 * exits 1 with the line, the column and what is wrong, before it connects to
 * a database, and writes nothing.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CLEAN, HOSTILE_PROJECT_FILES, HOSTILE_STACKS } from "../support/hostileStacks";
import { rollout, snapshot } from "./support";

// Nothing listens here: a command that got past the stack file would fail differently.
const NO_DB = ["--database-url", "postgres://nobody@127.0.0.1:1/none"];
const COMMANDS: string[][] = [
  ["rollback"],
  ["rollback", "--immediate"],
  ["advance", ...NO_DB],
  ["advance", "--to", "100", "--force", "--reason", "x", ...NO_DB],
  ["gate", ...NO_DB],
  ["status", ...NO_DB],
];

describe("rollout refuses hostile stack files", () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "rollout-hostile-"));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  for (const h of HOSTILE_STACKS) {
    it(`refuses ${h.name}`, async () => {
      fs.writeFileSync(path.join(dir, "Pulumi.prod.yaml"), h.text);
      const before = snapshot(dir);
      for (const cmd of COMMANDS) {
        const r = await rollout(...cmd, "--stack", "prod", "--project-dir", dir);
        assert.equal(r.code, 1, `${cmd.join(" ")}: exit 1 (${r.stderr})`);
        assert.match(r.stderr, new RegExp(`^rollout ${cmd[0]}: Pulumi\\.prod\\.yaml`), cmd.join(" "));
        assert.match(r.stderr, h.error, cmd.join(" "));
        assert.doesNotMatch(r.stderr, /ECONNREFUSED|database/i, `${cmd.join(" ")}: refused before any database`);
      }
      assert.deepEqual(snapshot(dir), before, "nothing written");
    });
  }

  for (const h of HOSTILE_PROJECT_FILES) {
    it(`refuses a Pulumi.yaml with ${h.name}`, async () => {
      fs.writeFileSync(path.join(dir, "Pulumi.prod.yaml"), CLEAN);
      fs.writeFileSync(path.join(dir, "Pulumi.yaml"), h.text);
      const before = snapshot(dir);
      for (const cmd of COMMANDS) {
        const r = await rollout(...cmd, "--stack", "prod", "--project-dir", dir);
        assert.equal(r.code, 1, `${cmd.join(" ")}: exit 1 (${r.stderr})`);
        assert.match(r.stderr, h.error, cmd.join(" "));
      }
      assert.deepEqual(snapshot(dir), before, "nothing written");
    });
  }
});
