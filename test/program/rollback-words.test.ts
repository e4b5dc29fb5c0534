/**
 * Issue 22 fact 5: a `pulumi up` whose update Swarm rolled back fails with the
 * provider's "service rollback completed: rollback completed" (Swarm's
 * UpdateStatus message once its rollback completed). "update rolled back due to
 * failure" is Swarm's message only while the rollback runs, so it is never
 * quoted as what `up` says. The [docker] Swarm suite pins the harness's failed
 * update to the same constant (test/stack/swarm-rollout.test.ts, the bad release).
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { ROLLBACK_UP_ERROR } from "../../core/swarm";
import { ServiceRollbackError } from "../support/service";

const ROOT = path.join(__dirname, "..", "..");
const WHILE_RUNNING = "update rolled back due to failure";

function filesUnder(dir: string, ext: RegExp): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
    const rel = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...filesUnder(rel, ext));
    else if (ext.test(e.name)) out.push(rel);
  }
  return out;
}

describe("the words of a failed `up` after Swarm's rollback", () => {
  it("are the provider's around Swarm's completed message", () => {
    assert.equal(ROLLBACK_UP_ERROR, "service rollback completed: rollback completed");
    assert.equal(new ServiceRollbackError("svc", "rollback_completed", "rollback completed").message, ROLLBACK_UP_ERROR);
  });

  it("docs/swarm.md quotes them, and no doc or program file quotes the in-progress message as what `up` says", () => {
    const swarmMd = fs.readFileSync(path.join(ROOT, "docs", "swarm.md"), "utf8").replace(/\s+/g, " ");
    assert.ok(swarmMd.includes(`"${ROLLBACK_UP_ERROR}"`), "docs/swarm.md quotes the failed up's words");
    const files = [...filesUnder("docs", /\.md$/), ...filesUnder("core", /\.ts$/), ...filesUnder("components", /\.ts$/), "README.md"];
    for (const f of files) {
      const text = fs.readFileSync(path.join(ROOT, f), "utf8").replace(/\s*\n\s*(\*\s*)?/g, " ");
      let at = text.indexOf(WHILE_RUNNING);
      while (at >= 0) {
        const sentence = text.slice(Math.max(0, at - 200), at + WHILE_RUNNING.length + 200);
        assert.match(sentence, /only while the rollback runs|While the rollback runs/i, `${f} quotes "${WHILE_RUNNING}" as if \`up\` said it: ${sentence}`);
        at = text.indexOf(WHILE_RUNNING, at + 1);
      }
    }
  });
});
