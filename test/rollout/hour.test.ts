/**
 * One hour constant (core/gate.ts HOUR_MS): gateWindow computed its fallback
 * with a literal 3_600_000 beside the drill's own HOUR_MS; the CLI's status
 * line and the legacy gate had a third and fourth. The unit is checked once
 * here, through the one window function, and the literal may not come back
 * (checked on the parsed source: numeric literals, not text).
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import * as ts from "typescript";
import { HOUR_MS, gateWindow } from "../../core/gate";

const ROOT = path.resolve(__dirname, "../..");

/** Every numeric literal worth an hour in ms (3_600_000, 3600000, 36e5), by file:line. */
function hourLiterals(files: Map<string, string>): string[] {
  const out: string[] = [];
  for (const [file, text] of files) {
    const sf = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
    const visit = (n: ts.Node): void => {
      if (ts.isNumericLiteral(n) && Number(n.text.replace(/_/g, "")) === 3_600_000) out.push(`${file}:${sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1}`);
      ts.forEachChild(n, visit);
    };
    visit(sf);
  }
  return out.sort();
}

describe("one hour constant (core/gate.ts HOUR_MS)", () => {
  it("is an hour, and the gate window without a record is soakHours of them before asOf", () => {
    assert.equal(HOUR_MS, 60 * 60 * 1000);
    const asOf = new Date("2026-12-02T12:00:00Z");
    assert.equal(gateWindow(undefined, asOf, 2).since.toISOString(), "2026-12-02T10:00:00.000Z");
    const start = new Date("2026-12-01T00:00:00Z");
    assert.deepEqual(gateWindow(start, asOf, 2), { since: start, until: asOf });
  });

  it("is written once: no other module of the program, its tools or benchmarks spells the literal", () => {
    const files = new Map<string, string>();
    const walk = (rel: string) => {
      for (const e of fs.readdirSync(path.join(ROOT, rel), { withFileTypes: true })) {
        if (e.name.startsWith(".") || ["node_modules", "dist", "out", "test"].includes(e.name)) continue;
        const p = rel ? `${rel}/${e.name}` : e.name;
        if (e.isDirectory()) walk(p);
        else if (p.endsWith(".ts")) files.set(p, fs.readFileSync(path.join(ROOT, p), "utf8"));
      }
    };
    walk("");
    assert.ok(files.has("drill/drill.ts") && files.has("cli/rollout.ts"), "the walk read the drill and the CLI");
    const found = hourLiterals(files);
    assert.equal(found.length, 1, found.join(", "));
    assert.match(found[0], /^core\/gate\.ts:/);
  });

  it("the literal finder sees every spelling and ignores strings, comments and other numbers", () => {
    const files = new Map([["x.ts", 'const a = 3_600_000;\nconst b = 3600000;\nconst c = 36e5;\nconst d = "3600000"; // 3600000\nconst e = 360_000;\nconst f = 3_600_000n;\n']]);
    assert.deepEqual(hourLiterals(files), ["x.ts:1", "x.ts:2", "x.ts:3"]);
  });
});
