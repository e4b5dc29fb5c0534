import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { configKeyDocs } from "../lib/config";
import { REFERENCE_END, REFERENCE_START, configReferenceTable } from "../lib/configDocs";

const README = fs.readFileSync(path.join(__dirname, "..", "README.md"), "utf8");

describe("README", () => {
  it("documents every schema key, as the schema defines it", () => {
    const block = README.slice(README.indexOf(REFERENCE_START) + REFERENCE_START.length, README.indexOf(REFERENCE_END)).trim();
    for (const d of configKeyDocs()) assert.ok(block.includes(`\`valuecanvas:${d.path}\``), `valuecanvas:${d.path} is documented`);
    assert.equal(block + "\n", configReferenceTable(), "the reference is current: run npm run docs:config");
  });

  it("starts with the two commands a new user runs", () => {
    const firstBlock = /```bash\n([\s\S]*?)```/.exec(README)?.[1] ?? "";
    const lines = firstBlock.split("\n").filter(Boolean);
    assert.equal(lines.length, 2);
    assert.match(lines[0], /^npm ci && (npm run plan -- --stack prod|npx rollout drill)\b/);
    assert.match(lines[1], /^npm test\b/);
  });
});
