import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { SQUAWK_DISABLED_RULES, findSquawk, runSquawk } from "../../tools/squawk";
import { copyMigrations } from "./dbHelpers";

describe("[pg] squawk lints every migration", function () {
  this.timeout(60_000);

  before(function () {
    if (!findSquawk()) {
      const msg = `no squawk binary for ${process.platform}-${process.arch} (optional dependency @squawk-cli/${process.platform}-${process.arch})`;
      if (process.env.CI === "true") throw new Error(`${msg} (CI=true: a missing tool is a failure)`);
      console.warn(`      skipped: ${msg}`);
      this.skip();
    }
  });

  it("every file in sql/ passes", () => {
    const r = runSquawk();
    assert.equal(r.status, "passed", r.summary);
    assert.ok(r.files.length >= 7);
  });

  it("every disabled rule has a written reason", () => {
    for (const [rule, reason] of Object.entries(SQUAWK_DISABLED_RULES)) {
      assert.match(rule, /^[a-z-]+$/);
      assert.ok(reason.length > 80, `${rule} needs a reason`);
    }
  });

  it("fails a migration that blocks writes, naming file, line and rule", () => {
    const dir = copyMigrations(1);
    fs.writeFileSync(path.join(dir, "0002_blocking_index.sql"), "-- no CONCURRENTLY\nCREATE INDEX agent_sessions_status_idx ON public.agent_sessions (status);\n");
    const r = runSquawk({ dir });
    assert.equal(r.status, "failed");
    const f = r.findings.find((x) => x.rule === "require-concurrent-index-creation");
    assert.ok(f, r.summary);
    assert.equal(f.file, "0002_blocking_index.sql");
    assert.equal(f.line, 2);
    assert.match(r.summary, /0002_blocking_index\.sql:2:\d+ require-concurrent-index-creation/);
  });

  it("reports a badly named migration file as a failure naming it", () => {
    const dir = copyMigrations(1);
    fs.writeFileSync(path.join(dir, "2_Bad.sql"), "SELECT 1;\n");
    const r = runSquawk({ dir });
    assert.equal(r.status, "failed");
    assert.match(r.summary, /2_Bad\.sql: name must match NNNN_description\.sql/);
  });
});
