/**
 * docs/swarm.md's picture of where each part runs on a multi-node Swarm (issue 26) parses with the real
 * Mermaid parser (Debian's chromium, as README's diagrams) and puts the plain containers on the manager.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { closeSharedBrowser, mermaidBlocks, requireChromium, validateMermaid } from "../support/browser";

const DOC = fs.readFileSync(path.join(__dirname, "..", "..", "docs", "swarm.md"), "utf8");
const blocks = mermaidBlocks(DOC);

describe("docs/swarm.md: where each part runs on more than one node", function () {
  this.timeout(120_000);
  after(closeSharedBrowser);

  it("one picture: the manager holds the plain containers (dev PostgreSQL, edge proxy, monitoring) and a task; each worker a task", () => {
    assert.equal(blocks.length, 1);
    const manager = /subgraph m\[[^\]]*\]([\s\S]*?)\n {2}end/.exec(blocks[0])?.[1] ?? "";
    for (const part of ["dev PostgreSQL", "edge proxy", "Prometheus, Alertmanager, exporter", "app task"]) assert.ok(manager.includes(part), part);
    for (const w of ["w1", "w2"]) assert.match(blocks[0], new RegExp(`subgraph ${w}\\[[^\\]]*\\]\\s*\\n\\s*t\\d\\["app task"\\]`), w);
  });

  it("parses, and a broken copy is refused", async function () {
    requireChromium(this);
    const r = await validateMermaid(blocks[0]);
    assert.ok(r.ok, r.ok ? "" : r.error);
    assert.equal((await validateMermaid(blocks[0].replace("-->", "-->>>"))).ok, false);
  });
});
