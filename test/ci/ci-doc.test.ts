/**
 * docs/ci.md's trust-boundary picture parses with the real Mermaid parser
 * (Debian's chromium, as README's diagrams) and shows each job with whose
 * code and which secret it runs.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { closeSharedBrowser, mermaidBlocks, requireChromium, validateMermaid } from "../support/browser";

const DOC = fs.readFileSync(path.join(__dirname, "..", "..", "docs", "ci.md"), "utf8");
const blocks = mermaidBlocks(DOC);

describe("docs/ci.md: the trust boundary picture", function () {
  this.timeout(120_000);
  after(closeSharedBrowser);

  it("names every job, whose code it runs and its secret", () => {
    assert.equal(blocks.length, 2, "the trust boundary, then the proposal loop");
    for (const part of ["pull_request_target", "BASE", "decide", "preview", "review", "PULUMI_PREVIEW_TOKEN", "MONITORING_DATABASE_URL", "PULUMI_ACCESS_TOKEN", "no secret"]) {
      assert.ok(blocks[0].includes(part), part);
    }
  });

  it("parses, and a broken copy is refused", async function () {
    requireChromium(this);
    const r = await validateMermaid(blocks[0]);
    assert.ok(r.ok, r.ok ? "" : r.error);
    assert.equal((await validateMermaid(blocks[0].replace("-->", "-->>>"))).ok, false);
  });
});

describe("docs/ci.md: the proposal loop picture (issue 25)", function () {
  this.timeout(120_000);
  after(closeSharedBrowser);

  it("shows the loop: metrics, gate, proposal PR, review, merge, pulumi up, back to the metrics; PAUSE and ROLLBACK propose nothing", () => {
    const loop = blocks[1];
    for (const part of ["metrics", "rollout gate", "proposal PR", "review", "merge", "pulumi up", "PROCEED", "PAUSE / ROLLBACK", "no proposal", "comment + label"]) assert.ok(loop.includes(part), part);
    const order = ["metrics[", "gate[", "pr[", "review[", "merge[", "up["].map((n) => loop.indexOf(n));
    assert.ok(order.every((i, k) => i >= 0 && (k === 0 || i > order[k - 1])), "the nodes in the loop's order");
    assert.match(loop, /up -->.*metrics/);
  });

  it("and the alert path: alert, Alertmanager, relay, rollback PR, (auto-)merge into the same merge and pulumi up", () => {
    const loop = blocks[1];
    const order = ["alert[", "am[", "relay[", "rpr["].map((n) => loop.indexOf(n));
    assert.ok(order.every((i, k) => i >= 0 && (k === 0 || i > order[k - 1])), "the alert path's nodes in order");
    for (const part of ["rollback --immediate", "rollback.autoMergeOnContamination", "bearer token", "no PR"]) assert.ok(loop.includes(part), part);
    assert.match(loop, /rpr -->.*merge/);
  });

  it("parses, and a broken copy is refused", async function () {
    requireChromium(this);
    const r = await validateMermaid(blocks[1]);
    assert.ok(r.ok, r.ok ? "" : r.error);
    assert.equal((await validateMermaid(blocks[1].replace("-->", "-->>>"))).ok, false);
  });
});
