import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { configKeyDocs } from "../core/configIntrospect";
import { REFERENCE_END, REFERENCE_START, configReferenceTable } from "../tools/configDocs";
import { closeSharedBrowser, mermaidBlocks, requireChromium, validateMermaid } from "./support/browser";

const ROOT = path.join(__dirname, "..");
const README = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
const CONFIG_DOC = fs.readFileSync(path.join(ROOT, "docs", "config.md"), "utf8");

describe("README", () => {
  it("documents every schema key in docs/config.md, as the schema defines it", () => {
    const block = CONFIG_DOC.slice(CONFIG_DOC.indexOf(REFERENCE_START) + REFERENCE_START.length, CONFIG_DOC.indexOf(REFERENCE_END)).trim();
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

  it("fits in 300 lines, says what the guide is, and links every page in docs/", () => {
    assert.ok(README.split("\n").length <= 300, `README.md has ${README.split("\n").length} lines`);
    assert.match(README, /Phase 3\s+Deployment Guide, v1\.0/);
    for (const f of fs.readdirSync(path.join(ROOT, "docs")).filter((x) => x.endsWith(".md"))) {
      assert.ok(README.includes(`](docs/${f})`), `README links docs/${f}`);
    }
  });

  it("every relative link in the README and docs/ points at a file that exists", () => {
    const pages = ["README.md", ...fs.readdirSync(path.join(ROOT, "docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)];
    for (const page of pages) {
      const text = fs.readFileSync(path.join(ROOT, page), "utf8");
      for (const m of text.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)) {
        const target = m[1];
        if (/^[a-z]+:/.test(target)) continue; // https:, mailto:
        assert.ok(fs.existsSync(path.join(ROOT, path.dirname(page), target)), `${page}: link ${target} exists`);
      }
    }
  });

  describe("its diagrams parse with the real Mermaid parser (in Debian's chromium)", function () {
    this.timeout(120_000);
    before(function () {
      requireChromium(this);
    });
    after(closeSharedBrowser);

    it("has the stage ladder and the data flow", () => {
      const blocks = mermaidBlocks(README);
      assert.equal(blocks.length, 2);
      for (const stage of ["0 %", "10 %", "25 %", "50 %", "75 %", "100 %"]) assert.ok(blocks[0].includes(`"${stage}`), `the ladder shows ${stage}`);
      for (const part of ["edge proxy", "app replicas", "PostgreSQL", "monitoring views", "postgres exporter", "Prometheus", "Alertmanager"]) {
        assert.ok(blocks[1].includes(part), `the data flow shows ${part}`);
      }
    });

    it("each block parses, and a broken block is refused (so the check can fail)", async () => {
      for (const b of mermaidBlocks(README)) {
        const r = await validateMermaid(b);
        assert.ok(r.ok, `README diagram parses: ${r.ok ? "" : r.error}`);
      }
      const broken = await validateMermaid(mermaidBlocks(README)[0].replace("-->", "-->>>"));
      assert.equal(broken.ok, false);
    });
  });
});
